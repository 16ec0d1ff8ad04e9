package org.recjpq.model;

import org.recjpq.UsageException;
import org.recjpq.backend.Activation;

/**
 * The shape of a sequential model: the backbone and its sizes, and how items are embedded.
 *
 * @param backbone SASRec, BERT4Rec or GRU4Rec
 * @param numItems catalogue size N (internal ids 0..N-1; PAD is -1)
 * @param dim embedding size d
 * @param blocks Transformer blocks L (GRU4Rec: GRU layers)
 * @param heads attention heads h (d divisible by h)
 * @param maxLen sequence length T (learned positions)
 * @param dropout dropout rate of the embeddings, the attention output and the feed-forward layers
 * @param ffnDim hidden size of the point-wise feed-forward layers (SASRec: d)
 * @param activation ReLU (SASRec) or GELU
 * @param embedding dense item table or RecJPQ codebooks
 * @param splits m, RecJPQ code bytes per item (d divisible by m); ignored for dense
 * @param tiedOutput score items with the input table or codebooks (true: SASRec and RecJPQ) or with
 *     a separate output table (dense) or separate output codebooks over the same codes (RecJPQ)
 * @param blockStyle PRE_LN (default) or the original SASRec block
 * @param layerNormEps epsilon inside the layer norms' square root (SASRec: 1e-8)
 * @param headTransform BERT4Rec only: BERT's output transform {@code h = LN(act(x W + b))} between
 *     the last block and the item scores (the original BERT4Rec code's prediction head); off by
 *     default
 * @param itemBias a learned score offset per item, {@code score(h, i) = h · e_i + b_i} (N floats,
 *     no N × d tensor): lets each item of a RecJPQ catalogue carry its own popularity, which its
 *     shared sub-item embeddings cannot; off by default
 */
public record ModelConfig(
    Backbone backbone,
    int numItems,
    int dim,
    int blocks,
    int heads,
    int maxLen,
    float dropout,
    int ffnDim,
    Activation activation,
    EmbeddingKind embedding,
    int splits,
    boolean tiedOutput,
    BlockStyle blockStyle,
    float layerNormEps,
    boolean headTransform,
    boolean itemBias) {

  /** A configuration without item biases. */
  /**
   * The largest embedding size, feed-forward size, block count and sequence length a model may
   * have.
   */
  public static final int MAX_DIM = 1 << 16;

  public static final int MAX_FFN = 1 << 20;
  public static final int MAX_BLOCKS = 256;
  public static final int MAX_LEN = 1 << 20;

  public ModelConfig(
      Backbone backbone,
      int numItems,
      int dim,
      int blocks,
      int heads,
      int maxLen,
      float dropout,
      int ffnDim,
      Activation activation,
      EmbeddingKind embedding,
      int splits,
      boolean tiedOutput,
      BlockStyle blockStyle,
      float layerNormEps,
      boolean headTransform) {
    this(
        backbone,
        numItems,
        dim,
        blocks,
        heads,
        maxLen,
        dropout,
        ffnDim,
        activation,
        embedding,
        splits,
        tiedOutput,
        blockStyle,
        layerNormEps,
        headTransform,
        false);
  }

  /** A configuration without the output transform. */
  public ModelConfig(
      Backbone backbone,
      int numItems,
      int dim,
      int blocks,
      int heads,
      int maxLen,
      float dropout,
      int ffnDim,
      Activation activation,
      EmbeddingKind embedding,
      int splits,
      boolean tiedOutput,
      BlockStyle blockStyle,
      float layerNormEps) {
    this(
        backbone,
        numItems,
        dim,
        blocks,
        heads,
        maxLen,
        dropout,
        ffnDim,
        activation,
        embedding,
        splits,
        tiedOutput,
        blockStyle,
        layerNormEps,
        false,
        false);
  }

  /** The sequence encoder. */
  public enum Backbone {
    /** Causal Transformer, next item at every position (Kang & McAuley 2018). */
    SASREC,
    /** Bidirectional Transformer trained on masked items (Sun et al. 2019). */
    BERT4REC,
    /** Recurrent GRU layers, next item at every position (Hidasi et al. 2016). */
    GRU4REC
  }

  /** How items are embedded. */
  public enum EmbeddingKind {
    /** One learned d-vector per item. */
    DENSE,
    /** RecJPQ: m codebooks of 256 sub-item embeddings, items as fixed codes. */
    JPQ
  }

  /**
   * The Transformer block.
   *
   * <ul>
   *   <li>PRE_LN (default): {@code x += Attn(LN(x)); x += FFN(LN(x))}; queries, keys and values all
   *       from LN(x), an identity path along the residual stream. The standard, stable form.
   *   <li>SASREC: the original TF1 block: queries from LN(x), keys and values from x itself, and
   *       the residual adds the normalised queries ({@code x = LN(x) + Attn}, then {@code x = LN(x)
   *       + FFN(LN(x))}).
   * </ul>
   */
  public enum BlockStyle {
    PRE_LN,
    SASREC
  }

  public ModelConfig {
    if (numItems < 1) {
      throw new UsageException("The model needs at least one item, found " + numItems + ".");
    }
    if (dim < 1 || blocks < 0 || heads < 1 || maxLen < 1 || ffnDim < 1) {
      throw new UsageException(
          "SASRec sizes must be positive: d = "
              + dim
              + ", blocks = "
              + blocks
              + ", heads = "
              + heads
              + ", length = "
              + maxLen
              + ", ffn = "
              + ffnDim
              + ".");
    }
    if (dim > MAX_DIM
        || ffnDim > MAX_FFN
        || blocks > MAX_BLOCKS
        || maxLen > MAX_LEN
        || heads > dim) {
      throw new UsageException(
          "Model sizes out of range: d = "
              + dim
              + " (at most "
              + MAX_DIM
              + "), ffn = "
              + ffnDim
              + " (at most "
              + MAX_FFN
              + "), blocks = "
              + blocks
              + " (at most "
              + MAX_BLOCKS
              + "), length = "
              + maxLen
              + " (at most "
              + MAX_LEN
              + "), heads = "
              + heads
              + " (at most d).");
    }
    if (dim % heads != 0) {
      throw new UsageException(
          "The embedding size d = "
              + dim
              + " is not divisible by the number of heads "
              + heads
              + ".");
    }
    if (!(dropout >= 0f && dropout < 1f)) {
      throw new UsageException("The dropout rate must be in [0, 1), found " + dropout + ".");
    }
    if (embedding == EmbeddingKind.JPQ) {
      org.recjpq.codes.ItemCodes.checkDivides(splits, dim);
    }
    if (headTransform && backbone != Backbone.BERT4REC) {
      throw new UsageException(
          "The output transform (--head-transform) is part of BERT4Rec only, not "
              + backbone
              + ".");
    }
    if (activation == null) {
      activation = Activation.RELU;
    }
    if (blockStyle == null) {
      blockStyle = BlockStyle.PRE_LN;
    }
  }

  /** RecJPQ sub-embedding size s = d / m. */
  public int subDim() {
    return dim / splits;
  }

  public boolean isJpq() {
    return embedding == EmbeddingKind.JPQ;
  }
}
