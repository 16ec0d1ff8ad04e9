package org.recjpq.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.util.Iterator;
import java.util.Locale;
import java.util.Map;
import org.recjpq.RecjpqException;
import org.recjpq.UsageException;
import org.recjpq.backend.Activation;
import org.recjpq.model.LossKind;
import org.recjpq.model.ModelConfig;
import org.recjpq.train.TrainConfig;
import org.recjpq.util.Excerpt;
import picocli.CommandLine.Option;

/**
 * Every setting with its current value, each declared once: the field (its name is the JSON key of
 * config files and checkpoints; its type; its initial value is the default, under the presets), and
 * its flag and help ({@code @Option}, read by the commands through {@link TrainOptions}).
 */
final class Settings {
  @Option(names = "--model", paramLabel = "M", description = "sasrec, gru4rec or bert4rec.")
  String model = "sasrec";

  @Option(
      names = "--embedding",
      paramLabel = "E",
      description = "jpq (RecJPQ codes + codebooks) or dense.")
  String embedding = "jpq";

  @Option(
      names = "--codes",
      paramLabel = "C",
      description =
          "RecJPQ codes: svd, bpr, random, svd-pq (k-means product quantisation of a rank-8m SVD), cooc-pq (the same of a rank-16m SVD of the item co-occurrences in the training sequences), nsvd-pq (the same of a rank-8m SVD of the degree-normalised user x item matrix), dense-pq (k-means product quantisation of the item embeddings of a dense warm-up, --codes-warmup-epochs), or a codes FILE.")
  String codes = "svd";

  @Option(
      names = {"-m", "--splits"},
      paramLabel = "M",
      description = "RecJPQ code bytes per item.")
  Integer splits = 8;

  @Option(names = "--dim", paramLabel = "D", description = "Embedding size.")
  Integer dim = 64;

  @Option(names = "--blocks", paramLabel = "L", description = "Transformer blocks.")
  Integer blocks = 2;

  @Option(names = "--heads", paramLabel = "H", description = "Attention heads.")
  Integer heads = 1;

  @Option(names = "--max-len", paramLabel = "T", description = "Sequence length.")
  Integer maxLen = 200;

  @Option(names = "--dropout", paramLabel = "P", description = "Dropout rate.")
  Double dropout = 0.2;

  @Option(names = "--ffn-dim", paramLabel = "F", description = "Feed-forward hidden size.")
  Integer ffnDim = 64;

  @Option(names = "--activation", paramLabel = "A", description = "relu or gelu.")
  String activation = "relu";

  @Option(
      names = "--block",
      paramLabel = "B",
      description = "pre-ln (default) or sasrec (the original block).")
  String block = "pre-ln";

  @Option(
      names = "--untied",
      description =
          "Score items with their own weights: a separate output table (dense)"
              + " or separate output codebooks over the same codes (RecJPQ).")
  Boolean untied = false;

  @Option(
      names = "--head-transform",
      description =
          "bert4rec: BERT's output transform LN(act(h W + b)) between the"
              + " last block and the item scores, as in the original BERT4Rec.")
  Boolean headTransform = false;

  @Option(
      names = "--item-bias",
      description =
          "A learned score offset per item (N floats): each item's own"
              + " popularity, which RecJPQ's shared sub-item embeddings cannot hold.")
  Boolean itemBias = false;

  @Option(names = "--loss", paramLabel = "L", description = "ce, bce, gbce or sampled-softmax.")
  String loss = "ce";

  @Option(
      names = "--negatives",
      paramLabel = "N",
      description = "Negatives per position (bce 1, gbce 256).")
  Integer negatives;

  @Option(names = "--gbce-t", paramLabel = "T", description = "gBCE calibration (default 0.75).")
  Double gbceT = 0.75;

  @Option(names = "--batch-size", paramLabel = "B", description = "Sequences per step.")
  Integer batchSize = 128;

  @Option(names = "--epochs", paramLabel = "E", description = "Maximum epochs.")
  Integer epochs = 200;

  @Option(names = "--lr", paramLabel = "LR", description = "Adam learning rate.")
  Double lr = 1e-3;

  @Option(
      names = "--weight-decay",
      paramLabel = "WD",
      description = "Decoupled weight decay (AdamW).")
  Double weightDecay = 0.0;

  @Option(
      names = "--codes-warmup-epochs",
      paramLabel = "E",
      description =
          "--codes dense-pq: epochs of the dense twin whose item embeddings give the codes and whose weights start the RecJPQ model (default 0: three quarters of --epochs); the twin stops early as training does, and takes at most three quarters of --max-minutes.")
  Integer codesWarmupEpochs = 0;

  @Option(
      names = "--item-lr-scale",
      paramLabel = "X",
      description =
          "The item side's learning rate (RecJPQ codebooks,"
              + " or the dense tables, and item biases) is X times the rest's (default 1).")
  Double itemLrScale = 1.0;

  @Option(
      names = "--item-weight-decay",
      paramLabel = "WD",
      description = "The item side's decoupled weight decay" + " (default: --weight-decay's).")
  Double itemWeightDecay;

  @Option(names = "--adam-beta1", paramLabel = "B", description = "Adam's β1 (default 0.9).")
  Double adamBeta1 = 0.9;

  @Option(names = "--adam-beta2", paramLabel = "B", description = "Adam's β2 (default 0.98).")
  Double adamBeta2 = 0.98;

  @Option(names = "--adam-eps", paramLabel = "E", description = "Adam's ε (default 1e-8).")
  Double adamEps = 1e-8;

  @Option(
      names = "--clip-norm",
      paramLabel = "C",
      description = "Clip the gradient norm (0 = off).")
  Double clipNorm = 5.0;

  @Option(names = "--warmup", paramLabel = "S", description = "Warm-up steps.")
  Integer warmup = 0;

  @Option(
      names = "--schedule",
      paramLabel = "S",
      description =
          "constant, linear or cosine. With --max-minutes, a decay ends at the epochs the time holds at the last epoch's pace (fitted from the second epoch on, refitted every epoch), when fewer than --epochs.")
  String schedule = "constant";

  @Option(names = "--seed", paramLabel = "S", description = "Seed of everything random.")
  Long seed = 42L;

  @Option(names = "--validate-every", paramLabel = "E", description = "Validate every E epochs.")
  Integer validateEvery = 1;

  @Option(
      names = "--patience",
      paramLabel = "P",
      description = "Stop after P validations without improvement.")
  Integer patience = 10;

  @Option(
      names = "--validation-users",
      paramLabel = "N|all",
      description = "Validation users (default: the dataset's).")
  String validationUsers;

  @Option(
      names = "--sliding-windows",
      description = "Also train on earlier windows of long sequences.")
  Boolean slidingWindows = false;

  @Option(
      names = "--max-minutes",
      paramLabel = "M",
      description =
          "Stop after M minutes of the whole command: codes and a dense-pq twin count (0 = no limit).")
  Double maxMinutes = 0.0;

  @Option(
      names = "--mask-prob",
      paramLabel = "P",
      description = "bert4rec: chance an item is masked (default 0.2).")
  Double maskProb = 0.2;

  @Option(
      names = "--mask-last",
      paramLabel = "P",
      description =
          "bert4rec: chance a training sequence's last item is"
              + " masked too, the position inference reads (default 0: plain masking).")
  Double maskLast = 0.0;

  @Option(
      names = "--length-buckets",
      description =
          "Batch examples of similar length together and run each batch"
              + " on the slots its longest example uses (much less work on short histories).")
  Boolean lengthBuckets = false;

  /** Settings with every value unset (null): what no layer has set yet. */
  static Settings unset() {
    Settings s = new Settings();
    for (Field f : Settings.class.getDeclaredFields()) {
      if (!Modifier.isStatic(f.getModifiers())) {
        try {
          f.set(s, null);
        } catch (IllegalAccessException e) {
          throw new IllegalStateException(e);
        }
      }
    }
    return s;
  }

  /** A copy of {@code other}. */
  static Settings copyOf(Settings other) {
    Settings s = new Settings();
    s.apply(other.toJson(), "settings");
    return s;
  }

  /** Overrides values from a JSON object (unknown keys are an error). */
  void apply(JsonNode json, String source) {
    Iterator<Map.Entry<String, JsonNode>> it = json.fields();
    while (it.hasNext()) {
      Map.Entry<String, JsonNode> e = it.next();
      Field f;
      try {
        f = Settings.class.getDeclaredField(e.getKey());
      } catch (NoSuchFieldException ex) {
        f = null;
      }
      if (f == null || Modifier.isStatic(f.getModifiers())) {
        throw new RecjpqException(
            source
                + ": unknown setting '"
                + Excerpt.of(e.getKey(), 40)
                + "'. Known settings: "
                + String.join(", ", names())
                + ".");
      }
      try {
        f.set(this, convert(f, e.getValue(), source, e.getKey()));
      } catch (IllegalAccessException ex) {
        throw new IllegalStateException(ex);
      }
    }
  }

  /** The defaults: a setting whose default is null may be set to null (unset) in a config file. */
  private static final Settings UNSET = new Settings();

  /**
   * A setting's value from JSON, of the setting's type: a string (or a number, as text), true or
   * false, an integer that fits (64 or 64.0, not 6.4 or 2^32), a finite number; null only for a
   * setting that may be unset. Anything else is an error naming the file and the setting.
   */
  private static Object convert(Field f, JsonNode v, String source, String key)
      throws IllegalAccessException {
    Class<?> type = f.getType();
    if (v.isNull()) {
      if (f.get(UNSET) != null) {
        throw new RecjpqException(source + ": setting '" + key + "' needs a value, found null.");
      }
      return null;
    }
    Object value = null;
    if (type == String.class) {
      value = v.isTextual() || v.isNumber() ? v.asText() : null;
    } else if (type == Boolean.class) {
      value = v.isBoolean() ? v.asBoolean() : null;
    } else if (type == Double.class) {
      value = v.isNumber() && Double.isFinite(v.asDouble()) ? v.asDouble() : null;
    } else if (v.isNumber()
        && Double.isFinite(v.asDouble())) { // Integer or Long: a whole number that fits
      java.math.BigDecimal d = v.decimalValue();
      try {
        value = type == Integer.class ? (Object) d.intValueExact() : (Object) d.longValueExact();
      } catch (ArithmeticException notWholeOrTooLarge) {
        value = null;
      }
    }
    if (value == null) {
      String expected =
          type == String.class
              ? "a string"
              : type == Boolean.class
                  ? "true or false"
                  : type == Double.class
                      ? "a finite number"
                      : type == Integer.class
                          ? "an integer from " + Integer.MIN_VALUE + " to " + Integer.MAX_VALUE
                          : "an integer from " + Long.MIN_VALUE + " to " + Long.MAX_VALUE;
      throw new RecjpqException(
          source
              + ": setting '"
              + key
              + "' must be "
              + expected
              + ", found "
              + Excerpt.of(v.toString())
              + ".");
    }
    return value;
  }

  static java.util.List<String> names() {
    return java.util.Arrays.stream(Settings.class.getDeclaredFields())
        .filter(f -> !Modifier.isStatic(f.getModifiers()))
        .map(Field::getName)
        .toList();
  }

  /** The settings as JSON (recorded in checkpoints and reports). */
  ObjectNode toJson() {
    ObjectNode o = new ObjectMapper().createObjectNode();
    for (Field f : Settings.class.getDeclaredFields()) {
      if (Modifier.isStatic(f.getModifiers())) {
        continue;
      }
      try {
        Object v = f.get(this);
        if (v == null) {
          o.putNull(f.getName());
        } else if (v instanceof Number || v instanceof Boolean) {
          o.set(f.getName(), new ObjectMapper().valueToTree(v));
        } else {
          o.put(f.getName(), v.toString());
        }
      } catch (IllegalAccessException e) {
        throw new IllegalStateException(e);
      }
    }
    return o;
  }

  int negativesOrDefault() {
    if (negatives != null) {
      return negatives;
    }
    return switch (LossKind.fromCliName(loss)) {
      case BCE -> 1;
      case GBCE, SAMPLED_SOFTMAX -> 256;
      case CE -> 0;
    };
  }

  ModelConfig modelConfig(int numItems) {
    ModelConfig.EmbeddingKind kind =
        switch (embedding.toLowerCase(Locale.ROOT)) {
          case "jpq" -> ModelConfig.EmbeddingKind.JPQ;
          case "dense" -> ModelConfig.EmbeddingKind.DENSE;
          default ->
              throw new UsageException(
                  "--embedding must be jpq or dense, found '" + Excerpt.of(embedding) + "'.");
        };
    ModelConfig.BlockStyle style =
        switch (block.toLowerCase(Locale.ROOT)) {
          case "pre-ln" -> ModelConfig.BlockStyle.PRE_LN;
          case "sasrec" -> ModelConfig.BlockStyle.SASREC;
          default ->
              throw new UsageException(
                  "--block must be pre-ln or sasrec, found '" + Excerpt.of(block) + "'.");
        };
    Activation act =
        switch (activation.toLowerCase(Locale.ROOT)) {
          case "relu" -> Activation.RELU;
          case "gelu" -> Activation.GELU;
          default ->
              throw new UsageException(
                  "--activation must be relu or gelu, found '" + Excerpt.of(activation) + "'.");
        };
    return new ModelConfig(
        backbone(),
        numItems,
        dim,
        blocks,
        heads,
        maxLen,
        dropout.floatValue(),
        ffnDim,
        act,
        kind,
        splits,
        !untied,
        style,
        1e-8f,
        headTransform,
        itemBias);
  }

  ModelConfig.Backbone backbone() {
    return switch (model.toLowerCase(Locale.ROOT)) {
      case "sasrec" -> ModelConfig.Backbone.SASREC;
      case "gru4rec" -> ModelConfig.Backbone.GRU4REC;
      case "bert4rec" -> ModelConfig.Backbone.BERT4REC;
      default ->
          throw new UsageException(
              "--model must be sasrec, gru4rec or bert4rec, found '" + Excerpt.of(model) + "'.");
    };
  }

  TrainConfig trainConfig() {
    TrainConfig.Schedule sch =
        switch (schedule.toLowerCase(Locale.ROOT)) {
          case "constant" -> TrainConfig.Schedule.CONSTANT;
          case "linear" -> TrainConfig.Schedule.LINEAR;
          case "cosine" -> TrainConfig.Schedule.COSINE;
          default ->
              throw new UsageException(
                  "--schedule must be constant, linear or cosine, found '"
                      + Excerpt.of(schedule)
                      + "'.");
        };
    return new TrainConfig(
        LossKind.fromCliName(loss),
        negativesOrDefault(),
        gbceT,
        batchSize,
        epochs,
        lr.floatValue(),
        adamBeta1.floatValue(),
        adamBeta2.floatValue(),
        adamEps.floatValue(),
        weightDecay.floatValue(),
        clipNorm.floatValue(),
        warmup,
        sch,
        seed,
        validateEvery,
        patience,
        slidingWindows,
        maxMinutes * 60,
        maskProb,
        maskLast,
        lengthBuckets,
        itemLrScale.floatValue(),
        itemWeightDecay == null ? -1f : itemWeightDecay.floatValue());
  }
}
