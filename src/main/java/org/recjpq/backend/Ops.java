package org.recjpq.backend;

/**
 * Every numeric operation the models need, as forward/backward pairs: the contract that the CPU
 * engine ({@code backend.cpu}, the specification) and the CUDA engine ({@code backend.cuda})
 * implement, and that one abstract test suite checks on both. What reads or trains item embeddings
 * (look-ups, scores of given items, the full-catalogue cross-entropy) belongs to an {@link
 * ItemTable}, dense or RecJPQ, which {@link #denseTable} and {@link #jpqTable} make.
 *
 * <h2>Conventions</h2>
 *
 * <ul>
 *   <li><b>Argument order.</b> Forward: outputs, saved-for-backward, inputs, weights, sizes.
 *       Backward: input gradients, weight gradients, upstream gradient, saved, inputs, weights,
 *       sizes.
 *   <li><b>Accumulation.</b> Parameter gradients ACCUMULATE ({@code +=}), so one zero-fill of the
 *       flat gradient buffer starts a step. Activation gradients OVERWRITE, except along the
 *       residual stream: {@link #layerNormBackward} adds into {@code dIn}, because its input is the
 *       residual stream, which also receives the gradient of the skip connection.
 *   <li><b>Layout.</b> Row-major. Weight matrices multiply as {@code x @ W} ({@code W[in][out]}).
 *       Sequences are (batch, length, dim). Codebooks are (m, 256, s) with {@code d = m·s}; codes
 *       are (N, m) bytes; item {@code i}'s embedding is the concatenation over k of {@code
 *       codebooks[k][codes[i][k]]}.
 *   <li><b>PAD and ignored rows.</b> An item id below 0 is PAD: embeds to zeros, receives no
 *       gradient, is masked as an attention key, and its query row of attention outputs zeros. A
 *       target below 0 marks a row that a loss ignores (no loss, zero gradient).
 *   <li><b>Losses</b> return the mean loss over non-ignored rows (as a double on the host), and
 *       their gradients already carry that 1/rows factor.
 *   <li><b>Randomness</b> (dropout, negatives) comes from {@link CounterRng}: identical on every
 *       engine.
 *   <li><b>Aliasing.</b> Outputs may not alias inputs unless a method says so.
 * </ul>
 */
public interface Ops extends AutoCloseable {

  /** Engine name, e.g. "cpu". */
  String name();

  // ---- memory ----------------------------------------------------------------------------

  /** A zero-filled float buffer of {@code n} elements. */
  Buf alloc(long n);

  /** A zero-filled int buffer. */
  IntBuf allocInts(long n);

  /** A zero-filled byte buffer. */
  ByteBuf allocBytes(long n);

  void upload(Buf dst, float[] src);

  void download(float[] dst, Buf src);

  /**
   * Copies {@code length} floats of {@code src} from {@code srcOffset} into {@code dst} from {@code
   * dstOffset}: one row of a table, without a view or a copy of the whole.
   */
  default void download(float[] dst, int dstOffset, Buf src, long srcOffset, int length) {
    float[] part = new float[length];
    download(part, src.slice(srcOffset, length));
    System.arraycopy(part, 0, dst, dstOffset, length);
  }

  /** The whole of {@code src} in a new array. */
  default float[] toArray(Buf src) {
    float[] a = new float[Math.toIntExact(src.size())];
    download(a, src);
    return a;
  }

  void upload(IntBuf dst, int[] src);

  void download(int[] dst, IntBuf src);

  void upload(ByteBuf dst, byte[] src);

  /** Sets every element to {@code value}. */
  void fill(Buf x, float value);

  /** {@code dst = src} (same size). */
  void copy(Buf dst, Buf src);

  /** {@code x *= alpha}. */
  void scale(Buf x, float alpha);

  /** Σ x², in double. */
  double sumOfSquares(Buf x);

  /** Whether any element is NaN or infinite. */
  boolean hasNonFinite(Buf x);

  // ---- item tables, positions, special tokens --------------------------------------------

  /**
   * A dense item table of {@code numItems} rows × {@code dim}: its parameters are a (numItems, dim)
   * buffer, passed to each call.
   */
  ItemTable denseTable(int numItems, int dim);

  /**
   * A RecJPQ item table over {@code codes} (numItems, splits), kept by the table; its parameters
   * are codebooks (splits, 256, subDim), passed to each call. Item embeddings have {@code
   * splits·subDim} dims.
   */
  ItemTable jpqTable(ByteBuf codes, int numItems, int splits, int subDim);

  /**
   * {@code out[b][t] = inScale · in[b][t] + positions[t]} for non-PAD positions, 0 at PAD ({@code
   * ids[b·len + t] < 0}). out, in (batch, len, dim); positions (len, dim). out may alias in.
   */
  void positionsForward(
      Buf out, Buf in, IntBuf ids, Buf positions, float inScale, int batch, int len, int dim);

  /**
   * {@code dIn = inScale · dOut} (0 at PAD), {@code dPositions[t] += Σ_b dOut[b][t]} over non-PAD.
   */
  void positionsBackward(
      Buf dIn, Buf dPositions, Buf dOut, IntBuf ids, float inScale, int batch, int len, int dim);

  /** {@code out[r] = in[r] == from ? to : in[r]} over rows ids (out may alias in). */
  void mapIds(IntBuf out, IntBuf in, int rows, int from, int to);

  /**
   * {@code x[r] += vector} at the rows where {@code ids[r] == token} (a special token's own
   * vector). x (rows, dim).
   */
  void addTokenVector(Buf x, IntBuf ids, int token, Buf vector, int rows, int dim);

  /**
   * Backward of {@link #addTokenVector}: {@code dVector += Σ_{r: ids[r] == token} dx[r]}, rows in
   * order.
   */
  void addTokenVectorBackward(Buf dVector, Buf dx, IntBuf ids, int token, int rows, int dim);

  /** Zeroes the rows where {@code ids[r] < 0} (PAD), in place. x (rows, dim). */
  void maskPadRows(Buf x, IntBuf ids, int rows, int dim);

  // ---- normalisation, dense layers, activations --------------------------------------------

  /**
   * Layer norm over the last dimension: {@code out = (in - mean) · rstd · gamma + beta} with the
   * biased variance and {@code rstd = 1 / sqrt(var + eps)}. Saves mean and rstd (rows).
   */
  void layerNormForward(
      Buf out, Buf mean, Buf rstd, Buf in, Buf gamma, Buf beta, int rows, int dim, float eps);

  /**
   * Backward of {@link #layerNormForward}; {@code dIn +=} (residual stream), dGamma/dBeta {@code
   * +=}.
   */
  void layerNormBackward(
      Buf dIn,
      Buf dGamma,
      Buf dBeta,
      Buf dOut,
      Buf in,
      Buf mean,
      Buf rstd,
      Buf gamma,
      int rows,
      int dim);

  /**
   * {@code out = in @ weight + bias} (bias may be null). in (rows, inDim), weight (inDim, outDim).
   */
  void linearForward(Buf out, Buf in, Buf weight, Buf bias, int rows, int inDim, int outDim);

  /**
   * Backward of {@link #linearForward}: {@code dIn = dOut @ weightᵀ} (overwrite; skipped when dIn
   * is null), {@code dWeight += inᵀ @ dOut}, {@code dBias += Σ_rows dOut} (skipped when null).
   */
  void linearBackward(
      Buf dIn,
      Buf dWeight,
      Buf dBias,
      Buf dOut,
      Buf in,
      Buf weight,
      int rows,
      int inDim,
      int outDim);

  /**
   * {@code out (rows, n) = a (rows, k) · bᵀ} with b (n, k): e.g. scores of a tile of item
   * embeddings.
   */
  void matmulTransposed(Buf out, Buf a, Buf b, int rows, int n, int k);

  /** {@code out = act(in)} elementwise; out may alias in only for RELU. */
  void activationForward(Buf out, Buf in, Activation act);

  /** {@code dIn = dOut · act'(in)} elementwise (overwrite). */
  void activationBackward(Buf dIn, Buf dOut, Buf in, Activation act);

  /** {@code out = a + b}; out may alias a or b. */
  void add(Buf out, Buf a, Buf b);

  /** {@code y += x}. */
  void addInPlace(Buf y, Buf x);

  // ---- attention ---------------------------------------------------------------------------

  /**
   * Multi-head scaled dot-product attention on projected q, k, v (batch, len, dim), heads splitting
   * dim into {@code dim/heads} columns: {@code probs = softmax(q kᵀ / sqrt(dim/heads))} with keys
   * masked where {@code ids < 0} (PAD) and, when causal, where key position > query position;
   * {@code out = probs v}. PAD query rows give zero outputs and zero probabilities. Saves probs
   * (batch, heads, len, len).
   */
  void attentionForward(
      Buf out,
      Buf probs,
      Buf q,
      Buf k,
      Buf v,
      IntBuf ids,
      int batch,
      int len,
      int dim,
      int heads,
      boolean causal);

  /**
   * One GRU layer with PyTorch's {@code nn.GRU} equations and weight layout, h₀ = 0, over x (batch,
   * len, in) giving y (batch, len, hidden). Gate order r, z, n: {@code r = σ(W_ir x + b_ir + W_hr h
   * + b_hr)}, {@code z = σ(W_iz x + b_iz + W_hz h + b_hz)}, {@code n = tanh(W_in x + b_in + r ⊙
   * (W_hn h + b_hn))}, {@code h' = (1 − z) ⊙ n + z ⊙ h}. {@code wIh} (3·hidden, in), {@code wHh}
   * (3·hidden, hidden), {@code bIh}, {@code bHh} (3·hidden). With {@code ids} not null, a PAD step
   * ({@code ids < 0}) outputs 0 and the next step starts again from h = 0, so a left-padded
   * sequence is the same as its unpadded self; with {@code ids} null no step is masked. Saves
   * {@code gates} (batch, len, 4·hidden): r, z, n and {@code W_hn h + b_hn}.
   */
  void gruForward(
      Buf y,
      Buf gates,
      Buf x,
      Buf wIh,
      Buf wHh,
      Buf bIh,
      Buf bHh,
      IntBuf ids,
      int batch,
      int len,
      int in,
      int hidden);

  /**
   * Backward of {@link #gruForward} (through time): dx overwritten, the four parameter gradients
   * accumulated; dy is not modified. Nothing flows through masked steps.
   */
  void gruBackward(
      Buf dx,
      Buf dWih,
      Buf dWhh,
      Buf dBih,
      Buf dBhh,
      Buf dy,
      Buf x,
      Buf y,
      Buf gates,
      Buf wIh,
      Buf wHh,
      IntBuf ids,
      int batch,
      int len,
      int in,
      int hidden);

  /**
   * Backward of {@link #attentionForward}: dq, dk, dv overwritten; nothing flows from PAD query
   * rows.
   */
  void attentionBackward(
      Buf dq,
      Buf dk,
      Buf dv,
      Buf dOut,
      Buf probs,
      Buf q,
      Buf k,
      Buf v,
      IntBuf ids,
      int batch,
      int len,
      int dim,
      int heads,
      boolean causal);

  // ---- dropout -----------------------------------------------------------------------------

  /**
   * Inverted dropout: element i is kept when {@code CounterRng.uniform(seed, stream, i) >= p},
   * {@code out = keep ? in / (1 - p) : 0}. {@code p = 0} copies. out may alias in.
   */
  void dropoutForward(Buf out, Buf in, float p, long seed, long stream);

  /** {@code dIn = keep ? dOut / (1 - p) : 0} with the same mask (recomputed, not stored). */
  void dropoutBackward(Buf dIn, Buf dOut, float p, long seed, long stream);

  // ---- sampled losses (scores from an ItemTable) -----------------------------------------

  /**
   * gBCE over scores (rows, 1 + n): column 0 is the positive, columns 1..n the negatives. {@code
   * row_loss = (beta·softplus(-s_pos) + Σ softplus(s_neg)) / (n + 1)}; beta = 1 is BCE. Returns the
   * mean over rows with {@code targets[r] >= 0} and writes dScores (overwrite).
   */
  double bceLoss(Buf dScores, Buf scores, IntBuf targets, int rows, int negatives, float beta);

  /**
   * Sampled softmax: logits = scores - logQ (same shape (rows, 1 + n)), row_loss =
   * logsumexp(logits) - logits[0]; mean over non-ignored rows; dScores overwritten.
   */
  double sampledSoftmaxLoss(
      Buf dScores, Buf scores, Buf logQ, IntBuf targets, int rows, int negatives);

  // ---- optimizer ---------------------------------------------------------------------------

  /**
   * One Adam(W) step over flat buffers, t = step (1-based): {@code m = β1 m + (1-β1) g}, {@code v =
   * β2 v + (1-β2) g²}, {@code p -= lr·wd·p + lr·m̂/(sqrt(v̂) + eps)} with bias-corrected m̂, v̂ (wd
   * = 0 is Adam; decoupled decay otherwise).
   */
  void adamStep(
      Buf params,
      Buf grads,
      Buf m,
      Buf v,
      float lr,
      float beta1,
      float beta2,
      float eps,
      float weightDecay,
      int step);

  @Override
  void close();
}
