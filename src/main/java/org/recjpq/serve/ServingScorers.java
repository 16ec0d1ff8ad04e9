package org.recjpq.serve;

import java.nio.file.Path;
import java.util.Locale;
import org.recjpq.RecjpqException;
import org.recjpq.backend.Ops;
import org.recjpq.checkpoint.Checkpoint;
import org.recjpq.model.ModelConfig;
import org.recjpq.model.SequenceModel;
import org.recjpq.serve.Recommender.Scoring;

/**
 * The scorers of a {@link Recommender}: its serving head, the single-request scorer the {@link
 * Scoring} asks for, and the batch scorer (on the GPU when asked).
 */
record ServingScorers(ServingHead head, TopKScorer scorer, BatchScorer batchScorer) {
  /** The head and scorers of a model whose parameters {@code single} holds. */
  static ServingScorers choose(
      Path source,
      ModelConfig config,
      Checkpoint ck,
      SequenceModel model,
      Ops single,
      Scoring scoring,
      int threads,
      boolean gpuBatches) {
    int d = config.dim();
    int n = config.numItems();
    ServingHead head;
    TopKScorer scorer;
    BatchScorer batchScorer;
    float[] bias = model.itemBias() != null ? single.toArray(model.itemBias()) : null;
    if (config.isJpq()) {
      float[] cb = single.toArray(model.layout().view(model.params(), model.outputCodebooksName()));
      JpqHead jpq = new JpqHead(ck.codes(), cb, config.subDim(), bias);
      head = jpq;
      scorer =
          switch (scoring) {
            case AUTO, PRUNED -> new PrunedScorer(jpq);
            case PQTOPK -> new PqTopKScorer(jpq);
            case DENSE -> new DenseScorer(jpq, DenseScorer.predecode(jpq));
          };
      TopKScorer perUser = scoring == Scoring.DENSE ? new PqTopKScorer(jpq) : scorer;
      batchScorer =
          new BatchScorer(jpq, perUser, threads, gpuBatches ? gpuScorer(jpq, perUser) : null);
    } else {
      if (scoring == Scoring.PQTOPK || scoring == Scoring.PRUNED) {
        throw new RecjpqException(
            source
                + " is a dense SASRec: scoring '"
                + scoring.name().toLowerCase(Locale.ROOT)
                + "' needs RecJPQ item embeddings; use auto or dense.");
      }
      org.recjpq.backend.Buf table = model.outputTable();
      DenseHead dense =
          new DenseHead(n, d, (i, out) -> single.download(out, 0, table, (long) i * d, d), bias);
      head = dense;
      scorer = new DenseScorer(dense, dense);
      batchScorer =
          new BatchScorer(dense, scorer, threads, gpuBatches ? gpuScorer(dense, scorer) : null);
    }
    return new ServingScorers(head, scorer, batchScorer);
  }

  private static GpuBatchScorer gpuScorer(ServingHead h, TopKScorer fallback) {
    return GpuBatchScorer.open(h, fallback, "GPU batch scoring was asked for");
  }
}
