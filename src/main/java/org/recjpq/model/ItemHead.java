package org.recjpq.model;

import org.recjpq.backend.Buf;
import org.recjpq.backend.IntBuf;
import org.recjpq.backend.ItemTable;
import org.recjpq.backend.Ops;

/**
 * Scores items against a model's sequence representations h and turns them into a loss and its
 * gradient: exact full softmax CE over the catalogue, or a sampled loss over (positive, negatives)
 * columns. Item embeddings are the model's output items (tied input table, separate output table,
 * or RecJPQ codebooks), scored through the model's {@link ItemTable}; their gradients accumulate
 * into the model's gradient buffer. With item biases ({@link ModelConfig#itemBias}) every score is
 * {@code h · e_i + b_i}.
 */
public final class ItemHead {
  private final SequenceModel model;
  private final Ops ops;
  private final ItemTable table;
  private final ItemTable biasTable; // the item biases as a one-column table, or null
  private Buf gathered; // (rows, 1 + negatives) item biases of a sampled loss's columns

  public ItemHead(SequenceModel model) {
    this.model = model;
    this.ops = model.ops();
    this.table = model.itemTable();
    this.biasTable = model.config().itemBias() ? ops.denseTable(table.numItems(), 1) : null;
  }

  /**
   * Full softmax CE of rows (targets < 0 ignored): returns the mean loss, writes dH (overwrite),
   * accumulates the item gradient.
   */
  public double fullCrossEntropy(Buf h, IntBuf targets, int rows, Buf dH) {
    return table.fullCrossEntropy(
        dH,
        model.outputItems(true),
        model.itemBias(true),
        h,
        targets,
        model.outputItems(false),
        model.itemBias(false),
        rows);
  }

  /**
   * A sampled loss: {@code items} is (rows, 1 + negatives), column 0 the positive (= target);
   * {@code scores}/{@code dScores} are (rows, 1 + negatives) scratch; {@code logQ} (same shape) is
   * needed by sampled softmax only; {@code beta} by (g)BCE. Returns the mean loss, writes dH.
   */
  public double sampled(
      LossKind kind,
      Buf h,
      IntBuf targets,
      IntBuf items,
      int rows,
      int negatives,
      float beta,
      Buf logQ,
      Buf scores,
      Buf dScores,
      Buf dH) {
    int cols = 1 + negatives;
    table.sampledScores(scores, h, items, targets, model.outputItems(false), rows, cols);
    Buf bias = model.itemBias(false);
    long cells = (long) rows * cols;
    if (bias != null) { // scores += bias[items]: a one-column embedding look-up
      if (gathered == null || gathered.size() < cells) {
        gathered = ops.alloc(cells);
      }
      Buf g = gathered.slice(0, cells);
      biasTable.lookup(g, items, bias, (int) cells);
      ops.addInPlace(scores.slice(0, cells), g);
    }
    double loss =
        switch (kind) {
          case BCE, GBCE -> ops.bceLoss(dScores, scores, targets, rows, negatives, beta);
          case SAMPLED_SOFTMAX ->
              ops.sampledSoftmaxLoss(dScores, scores, logQ, targets, rows, negatives);
          case CE -> throw new IllegalArgumentException("CE is not a sampled loss");
        };
    table.sampledScoresBackward(
        dH,
        model.outputItems(true),
        dScores,
        h,
        items,
        targets,
        model.outputItems(false),
        rows,
        cols);
    if (bias != null) { // dBias[items] += dScores (ignored rows have dScores 0)
      biasTable.lookupBackward(model.itemBias(true), dScores.slice(0, cells), items, (int) cells);
    }
    return loss;
  }
}
