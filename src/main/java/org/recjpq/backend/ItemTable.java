package org.recjpq.backend;

/**
 * An item table of N items × d dims on one engine, whatever its kind: a dense table (N, d) or
 * RecJPQ codes (N, splits) + codebooks (splits, 256, subDim) with {@code d = splits·subDim}. It
 * owns the operations that read or train item embeddings: the look-up, its backward, the scores of
 * given items (and their backward) and the exact full-catalogue cross-entropy. Made by {@link
 * Ops#denseTable} or {@link Ops#jpqTable}, which fix its shape (and, for RecJPQ, its codes on the
 * engine).
 *
 * <p>Its parameters (the dense table, or the codebooks) and their gradients stay with the model
 * (views of its flat parameter and gradient buffers) and are passed to each call: {@code params} is
 * (N, d) for a dense table, (splits, 256, subDim) for RecJPQ, and {@code dParams} has the same
 * shape. The conventions of {@link Ops} hold: parameter gradients accumulate ({@code +=}), other
 * outputs are overwritten; an item id below 0 is PAD; a target below 0 marks a row to ignore.
 */
public interface ItemTable {

  /** N, the items of the catalogue (the full cross-entropy's softmax runs over all of them). */
  int numItems();

  /** d, the embedding size. */
  int dim();

  /**
   * Item embeddings: {@code out[r] = e(ids[r])}, zeros where {@code ids[r] < 0} (PAD). out (rows,
   * d). A dense table copies its row; RecJPQ concatenates over k {@code
   * codebooks[k][codes[ids[r]][k]]}.
   */
  void lookup(Buf out, IntBuf ids, Buf params, int rows);

  /**
   * Backward of {@link #lookup}: for non-PAD rows {@code dTable[ids[r]] += dOut[r]} (dense), or
   * {@code dCodebooks[k][codes[ids[r]][k]] += dOut[r][k·s:(k+1)·s]} (RecJPQ).
   */
  void lookupBackward(Buf dParams, Buf dOut, IntBuf ids, int rows);

  /**
   * Scores of given items: {@code scores[r][c] = h[r] · e(items[r·cols + c])}. Rows whose {@code
   * targets[r] < 0} get 0, and so do PAD items. h (rows, d); items, scores (rows, cols).
   */
  void sampledScores(
      Buf scores, Buf h, IntBuf items, IntBuf targets, Buf params, int rows, int cols);

  /**
   * Backward of {@link #sampledScores}: {@code dH = Σ_c dScores[r][c] e(item)} (overwrite), and
   * {@code dScores[r][c] h[r]} added ({@code +=}) into the parameters' gradient at the item's row
   * (dense) or sub-embeddings (RecJPQ).
   */
  void sampledScoresBackward(
      Buf dH,
      Buf dParams,
      Buf dScores,
      Buf h,
      IntBuf items,
      IntBuf targets,
      Buf params,
      int rows,
      int cols);

  /**
   * Exact softmax cross-entropy over all N items, streamed in tiles (never rows × N logits):
   * returns the mean loss over the rows with {@code targets[r] >= 0}, {@code dH} overwritten,
   * {@code dParams +=}. The engine picks the tile strategy.
   */
  default double fullCrossEntropy(
      Buf dH, Buf dParams, Buf h, IntBuf targets, Buf params, int rows) {
    return fullCrossEntropy(dH, dParams, null, h, targets, params, null, rows);
  }

  /**
   * As above with per-item score offsets (N): {@code score(r, i) = h[r] · e_i + bias[i]}, {@code
   * dBias +=} the column sums of the logits' gradient. {@code bias} and {@code dBias} are both null
   * (no offsets) or both given.
   */
  double fullCrossEntropy(
      Buf dH, Buf dParams, Buf dBias, Buf h, IntBuf targets, Buf params, Buf bias, int rows);
}
