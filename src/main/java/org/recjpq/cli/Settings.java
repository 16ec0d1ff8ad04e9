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

/** Every setting with its current value; field names are the JSON keys. */
final class Settings {
  String model = "sasrec";
  String embedding = "jpq";
  String codes = "svd";
  Integer splits = 8;
  Integer dim = 64;
  Integer blocks = 2;
  Integer heads = 1;
  Integer maxLen = 200;
  Double dropout = 0.2;
  Integer ffnDim = 64;
  String activation = "relu";
  String block = "pre-ln";
  Boolean untied = false;
  Boolean headTransform = false;
  Boolean itemBias = false;
  String loss = "ce";
  Integer negatives;
  Double gbceT = 0.75;
  Integer batchSize = 128;
  Integer epochs = 200;
  Double lr = 1e-3;
  Double weightDecay = 0.0;
  Integer codesWarmupEpochs = 0;
  Double itemLrScale = 1.0;
  Double itemWeightDecay;
  Double adamBeta1 = 0.9;
  Double adamBeta2 = 0.98;
  Double adamEps = 1e-8;
  Double clipNorm = 5.0;
  Integer warmup = 0;
  String schedule = "constant";
  Long seed = 42L;
  Integer validateEvery = 1;
  Integer patience = 10;
  String validationUsers;
  Boolean slidingWindows = false;
  Double maxMinutes = 0.0;
  Double maskProb = 0.2;
  Double maskLast = 0.0;
  Boolean lengthBuckets = false;

  /** The preset's values. */
  static Settings preset(String name) {
    Settings s = new Settings();
    switch (name.toLowerCase(Locale.ROOT)) {
      case "cpu" -> { // sized for a 2-core CPU: the defaults above, with the schedule that won on
        // ML-1M and Beauty (benchmarks/train-quality.md, benchmarks/recjpq-60m.md)
        s.lr = 3e-3;
        s.warmup = 100;
        s.schedule = "cosine";
      }
      case "paper" -> {
        s.dim = 512;
        s.ffnDim = 512;
        s.dropout = 0.5;
        s.loss = "bce";
        s.negatives = 1;
      }
      case "paper-bert4rec" -> { // the RecJPQ paper's BERT4Rec
        s.model = "bert4rec";
        s.dim = 512;
        s.blocks = 3;
        s.heads = 2;
        s.ffnDim = 3072;
        s.activation = "gelu";
        s.batchSize = 8;
        s.lr = 1e-4;
      }
      case "cpu-bert4rec" -> { // BERT4Rec sized for a 2-core CPU
        s.model = "bert4rec";
        s.heads = 2;
        s.ffnDim = 256;
        s.activation = "gelu";
      }
      default ->
          throw new UsageException(
              "Unknown preset '"
                  + Excerpt.of(name)
                  + "'. Known presets: cpu, paper, paper-bert4rec,"
                  + " cpu-bert4rec.");
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
