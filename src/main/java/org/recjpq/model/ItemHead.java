package org.recjpq.model;

import org.recjpq.backend.Buf;
import org.recjpq.backend.IntBuf;
import org.recjpq.backend.Ops;

/**
 * Scores items against a model's sequence representations h and turns them into a loss and its
 * gradient: exact full softmax CE over the catalogue, or a sampled loss over (positive, negatives)
 * columns. Item embeddings are the model's output items (tied input table, separate output table,
 * or RecJPQ codebooks); their gradients accumulate into the model's gradient buffer. With item
 * biases ({@link ModelConfig#itemBias}) every score is {@code h · e_i + b_i}.
 */
public final class ItemHead {
  private final SequenceModel model;
  private final Ops ops;
  private Buf gathered; // (rows, 1 + negatives) item biases of a sampled loss's columns

  public ItemHead(SequenceModel model) {
    this.model = model;
    this.ops = model.ops();
  }

  /**
   * Full softmax CE of rows (targets < 0 ignored): returns the mean loss, writes dH (overwrite),
   * accumulates the item gradient.
   */
  public double fullCrossEntropy(Buf h, IntBuf targets, int rows, Buf dH) {
    ModelConfig c = model.config();
    Buf bias = model.itemBias(false);
    Buf dBias = model.itemBias(true);
    if (c.isJpq()) {
      return ops.fullCrossEntropyJpq(
          dH,
          model.outputItems(true),
          dBias,
          h,
          targets,
          model.codes(),
          model.outputItems(false),
          bias,
          rows,
          c.numItems(),
          c.splits(),
          c.subDim());
    }
    return ops.fullCrossEntropyDense(
        dH,
        model.outputItems(true),
        dBias,
        h,
        targets,
        model.outputItems(false),
        bias,
        rows,
        c.numItems(),
        c.dim());
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
    ModelConfig c = model.config();
    int cols = 1 + negatives;
    if (c.isJpq()) {
      ops.sampledScoresJpq(
          scores,
          h,
          items,
          targets,
          model.codes(),
          model.outputItems(false),
          rows,
          cols,
          c.splits(),
          c.subDim());
    } else {
      ops.sampledScoresDense(
          scores, h, items, targets, model.outputItems(false), rows, cols, c.dim());
    }
    Buf bias = model.itemBias(false);
    long cells = (long) rows * cols;
    if (bias != null) { // scores += bias[items]: a one-column embedding look-up
      if (gathered == null || gathered.size() < cells) {
        gathered = ops.alloc(cells);
      }
      Buf g = gathered.slice(0, cells);
      ops.embeddingForward(g, items, bias, (int) cells, 1);
      ops.addInPlace(scores.slice(0, cells), g);
    }
    double loss =
        switch (kind) {
          case BCE, GBCE -> ops.bceLoss(dScores, scores, targets, rows, negatives, beta);
          case SAMPLED_SOFTMAX ->
              ops.sampledSoftmaxLoss(dScores, scores, logQ, targets, rows, negatives);
          case CE -> throw new IllegalArgumentException("CE is not a sampled loss");
        };
    if (c.isJpq()) {
      ops.sampledScoresJpqBackward(
          dH,
          model.outputItems(true),
          dScores,
          h,
          items,
          targets,
          model.codes(),
          model.outputItems(false),
          rows,
          cols,
          c.splits(),
          c.subDim());
    } else {
      ops.sampledScoresDenseBackward(
          dH,
          model.outputItems(true),
          dScores,
          h,
          items,
          targets,
          model.outputItems(false),
          rows,
          cols,
          c.dim());
    }
    if (bias != null) { // dBias[items] += dScores (ignored rows have dScores 0)
      ops.embeddingBackward(model.itemBias(true), dScores.slice(0, cells), items, (int) cells, 1);
    }
    return loss;
  }
}
