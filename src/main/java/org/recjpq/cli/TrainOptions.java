package org.recjpq.cli;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import org.recjpq.RecjpqException;
import org.recjpq.UsageException;
import org.recjpq.model.ModelConfig;
import org.recjpq.util.Excerpt;
import picocli.CommandLine.Option;

/**
 * Model and training options shared by {@code train} and {@code bench train}. Values resolve in
 * three layers: the preset ({@code --preset cpu|paper}), then a JSON config file ({@code --config},
 * keys named like the options in camelCase, e.g. {@code {"dim": 128, "lr": 0.0005}}), then the
 * flags given on the command line.
 */
final class TrainOptions {
  /**
   * Strict: duplicate keys make a config file malformed (and so does data after the object: see
   * resolve).
   */
  private static final ObjectMapper CONFIG_JSON =
      new ObjectMapper().enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION);

  @Option(
      names = "--preset",
      paramLabel = "P",
      defaultValue = "cpu",
      description =
          "cpu (d 64, 2 blocks, 1 head, length 200, batch 128, m 8, full CE, lr 3e-3, cosine after"
              + " 100 warm-up steps), paper (the RecJPQ"
              + " paper's SASRec: d 512, dropout 0.5, BCE with 1 negative), paper-bert4rec (d 512, 3 layers, 2 heads,"
              + " FFN 3072, GELU, batch 8, lr 1e-4) or cpu-bert4rec (cpu with 2 heads, FFN 256, GELU, constant lr 1e-3)"
              + " (default: ${DEFAULT-VALUE}).")
  String preset;

  @Option(
      names = "--config",
      paramLabel = "FILE",
      description = "JSON file of settings over the preset.")
  Path config;

  @Option(names = "--model", paramLabel = "M", description = "sasrec, gru4rec or bert4rec.")
  String model;

  @Option(
      names = "--embedding",
      paramLabel = "E",
      description = "jpq (RecJPQ codes + codebooks) or dense.")
  String embedding;

  @Option(
      names = "--codes",
      paramLabel = "C",
      description =
          "RecJPQ codes: svd, bpr, random, svd-pq (k-means product quantisation of a rank-8m SVD), cooc-pq (the same of a rank-16m SVD of the item co-occurrences in the training sequences), nsvd-pq (the same of a rank-8m SVD of the degree-normalised user x item matrix), dense-pq (k-means product quantisation of the item embeddings of a dense warm-up, --codes-warmup-epochs), or a codes FILE.")
  String codes;

  @Option(
      names = {"-m", "--splits"},
      paramLabel = "M",
      description = "RecJPQ code bytes per item.")
  Integer splits;

  @Option(names = "--dim", paramLabel = "D", description = "Embedding size.")
  Integer dim;

  @Option(names = "--blocks", paramLabel = "L", description = "Transformer blocks.")
  Integer blocks;

  @Option(names = "--heads", paramLabel = "H", description = "Attention heads.")
  Integer heads;

  @Option(names = "--max-len", paramLabel = "T", description = "Sequence length.")
  Integer maxLen;

  @Option(names = "--dropout", paramLabel = "P", description = "Dropout rate.")
  Double dropout;

  @Option(names = "--ffn-dim", paramLabel = "F", description = "Feed-forward hidden size.")
  Integer ffnDim;

  @Option(names = "--activation", paramLabel = "A", description = "relu or gelu.")
  String activation;

  @Option(
      names = "--block",
      paramLabel = "B",
      description = "pre-ln (default) or sasrec (the original block).")
  String block;

  @Option(
      names = "--untied",
      description =
          "Score items with their own weights: a separate output table (dense)"
              + " or separate output codebooks over the same codes (RecJPQ).")
  Boolean untied;

  @Option(
      names = "--head-transform",
      description =
          "bert4rec: BERT's output transform LN(act(h W + b)) between the"
              + " last block and the item scores, as in the original BERT4Rec.")
  Boolean headTransform;

  @Option(
      names = "--item-bias",
      description =
          "A learned score offset per item (N floats): each item's own"
              + " popularity, which RecJPQ's shared sub-item embeddings cannot hold.")
  Boolean itemBias;

  @Option(names = "--loss", paramLabel = "L", description = "ce, bce, gbce or sampled-softmax.")
  String loss;

  @Option(
      names = "--negatives",
      paramLabel = "N",
      description = "Negatives per position (bce 1, gbce 256).")
  Integer negatives;

  @Option(names = "--gbce-t", paramLabel = "T", description = "gBCE calibration (default 0.75).")
  Double gbceT;

  @Option(names = "--batch-size", paramLabel = "B", description = "Sequences per step.")
  Integer batchSize;

  @Option(names = "--epochs", paramLabel = "E", description = "Maximum epochs.")
  Integer epochs;

  @Option(names = "--lr", paramLabel = "LR", description = "Adam learning rate.")
  Double lr;

  @Option(
      names = "--weight-decay",
      paramLabel = "WD",
      description = "Decoupled weight decay (AdamW).")
  Double weightDecay;

  @Option(
      names = "--codes-warmup-epochs",
      paramLabel = "E",
      description =
          "--codes dense-pq: epochs of the dense twin whose item embeddings give the codes and whose weights start the RecJPQ model (default 0: three quarters of --epochs); the twin stops early as training does, and takes at most three quarters of --max-minutes.")
  Integer codesWarmupEpochs;

  @Option(
      names = "--item-lr-scale",
      paramLabel = "X",
      description =
          "The item side's learning rate (RecJPQ codebooks,"
              + " or the dense tables, and item biases) is X times the rest's (default 1).")
  Double itemLrScale;

  @Option(
      names = "--item-weight-decay",
      paramLabel = "WD",
      description = "The item side's decoupled weight decay" + " (default: --weight-decay's).")
  Double itemWeightDecay;

  @Option(names = "--adam-beta1", paramLabel = "B", description = "Adam's β1 (default 0.9).")
  Double adamBeta1;

  @Option(names = "--adam-beta2", paramLabel = "B", description = "Adam's β2 (default 0.98).")
  Double adamBeta2;

  @Option(names = "--adam-eps", paramLabel = "E", description = "Adam's ε (default 1e-8).")
  Double adamEps;

  @Option(
      names = "--clip-norm",
      paramLabel = "C",
      description = "Clip the gradient norm (0 = off).")
  Double clipNorm;

  @Option(names = "--warmup", paramLabel = "S", description = "Warm-up steps.")
  Integer warmup;

  @Option(
      names = "--schedule",
      paramLabel = "S",
      description =
          "constant, linear or cosine. With --max-minutes, a decay ends at the epochs the time holds at the last epoch's pace (refitted every epoch), when fewer than --epochs.")
  String schedule;

  @Option(names = "--seed", paramLabel = "S", description = "Seed of everything random.")
  Long seed;

  @Option(names = "--validate-every", paramLabel = "E", description = "Validate every E epochs.")
  Integer validateEvery;

  @Option(
      names = "--patience",
      paramLabel = "P",
      description = "Stop after P validations without improvement.")
  Integer patience;

  @Option(
      names = "--validation-users",
      paramLabel = "N|all",
      description = "Validation users (default: the dataset's).")
  String validationUsers;

  @Option(
      names = "--sliding-windows",
      description = "Also train on earlier windows of long sequences.")
  Boolean slidingWindows;

  @Option(
      names = "--max-minutes",
      paramLabel = "M",
      description =
          "Stop after M minutes of the whole command: codes and a dense-pq twin count (0 = no limit).")
  Double maxMinutes;

  @Option(
      names = "--mask-prob",
      paramLabel = "P",
      description = "bert4rec: chance an item is masked (default 0.2).")
  Double maskProb;

  @Option(
      names = "--mask-last",
      paramLabel = "P",
      description =
          "bert4rec: chance a training sequence's last item is"
              + " masked too, the position inference reads (default 0: plain masking).")
  Double maskLast;

  @Option(
      names = "--length-buckets",
      description =
          "Batch examples of similar length together and run each batch"
              + " on the slots its longest example uses (much less work on short histories).")
  Boolean lengthBuckets;

  /** The resolved settings: preset, then config file, then flags. */
  Settings resolve() {
    Settings s = Settings.preset(preset);
    if (config != null) {
      s.apply(readConfig(), config.toString());
    }
    for (Map.Entry<String, Object> e : flags().entrySet()) {
      set(s, e.getKey(), e.getValue());
    }
    checkLoss(s);
    return s;
  }

  private static void checkLoss(Settings s) {
    if (s.backbone() == ModelConfig.Backbone.BERT4REC && !s.loss.equalsIgnoreCase("ce")) {
      throw new UsageException(
          "--model bert4rec trains with the full softmax CE at masked positions (--loss ce).");
    }
  }

  /** The settings given as flags on the command line, by setting name, in declaration order. */
  private Map<String, Object> flags() {
    Map<String, Object> given = new LinkedHashMap<>();
    for (Field flag : TrainOptions.class.getDeclaredFields()) {
      if (Modifier.isStatic(flag.getModifiers())
          || Modifier.isTransient(flag.getModifiers())
          || flag.getName().equals("preset")
          || flag.getName().equals("config")) {
        continue;
      }
      try {
        Object v = flag.get(this);
        if (v != null) {
          given.put(flag.getName(), v);
        }
      } catch (IllegalAccessException e) {
        throw new IllegalStateException(e);
      }
    }
    return given;
  }

  private static Field setting(String name) {
    try {
      return Settings.class.getDeclaredField(name);
    } catch (NoSuchFieldException e) {
      throw new IllegalStateException("option " + name + " has no setting", e);
    }
  }

  private static void set(Settings s, String name, Object v) {
    try {
      setting(name).set(s, v);
    } catch (IllegalAccessException e) {
      throw new IllegalStateException(e);
    }
  }

  private static Object get(Settings s, String name) {
    try {
      return setting(name).get(s);
    } catch (IllegalAccessException e) {
      throw new IllegalStateException(e);
    }
  }

  /** The settings given explicitly: as flags, or as keys of the config file. */
  Set<String> explicit() {
    Set<String> names = new java.util.HashSet<>(flags().keySet());
    if (config != null) {
      readConfig().fieldNames().forEachRemaining(names::add);
    }
    return names;
  }

  /**
   * Settings that shape the model, which a resumed run takes from its checkpoint whatever is given.
   */
  private static final Set<String> SHAPE =
      Set.of(
          "model",
          "embedding",
          "codes",
          "splits",
          "dim",
          "blocks",
          "heads",
          "maxLen",
          "ffnDim",
          "activation",
          "block",
          "untied",
          "headTransform",
          "itemBias");

  /** Settings that only say when to stop, which a resumed run may change (each change reported). */
  private static final Set<String> STOPPING = Set.of("epochs", "maxMinutes", "patience");

  /**
   * The settings of a resumed run: those saved in its checkpoint. A setting given again (a flag, a
   * config file's key) with the saved value is fine; {@code --preset} must name the saved preset
   * (or, for a checkpoint that did not record it, each of the preset's values counts as given);
   * with another value it is a usage error, unless it only says when to stop ({@code epochs},
   * {@code maxMinutes}, {@code patience}) or {@code override} is set and it does not shape the
   * model; each value replaced is added to {@code notes}.
   */
  Settings resume(
      JsonNode saved,
      String savedPreset,
      boolean presetGiven,
      boolean override,
      List<String> notes) {
    Settings s = new Settings();
    s.apply(saved, "the settings saved in the checkpoint");
    Map<String, Object> given = new LinkedHashMap<>();
    Set<String> fromPreset = new java.util.HashSet<>();
    if (presetGiven && savedPreset != null && !savedPreset.equalsIgnoreCase(preset)) {
      throw new UsageException(
          "--preset "
              + Excerpt.of(preset)
              + " (saved: "
              + Excerpt.of(savedPreset)
              + "): a resumed"
              + " run keeps the preset it started with; drop --preset, or start a new run.");
    }
    if (presetGiven
        && savedPreset
            == null) { // a checkpoint that did not record its preset: its values count as typed
      Settings p = Settings.preset(preset);
      for (String name : Settings.names()) {
        given.put(name, get(p, name));
        fromPreset.add(name);
      }
    }
    if (config != null) {
      JsonNode json = readConfig();
      Settings fromFile = new Settings();
      fromFile.apply(json, config.toString());
      json.fieldNames()
          .forEachRemaining(
              k -> {
                given.put(k, get(fromFile, k));
                fromPreset.remove(k);
              });
    }
    Map<String, Object> flags = flags();
    given.putAll(flags);
    fromPreset.removeAll(flags.keySet());
    for (Map.Entry<String, Object> e : given.entrySet()) {
      String name = e.getKey();
      Object value = e.getValue();
      Object before = get(s, name);
      if (same(value, before)) {
        continue;
      }
      String flag = "--" + name.replaceAll("([A-Z])", "-$1").toLowerCase(Locale.ROOT);
      String change =
          flag
              + " "
              + Excerpt.of(String.valueOf(value))
              + (fromPreset.contains(name) ? " (from --preset " + Excerpt.of(preset) + ")" : "")
              + " (saved: "
              + Excerpt.of(String.valueOf(before))
              + ")";
      if (SHAPE.contains(name)) {
        throw new UsageException(
            change
                + ": the model's shape comes from the checkpoint being resumed; start a new"
                + " run to change it.");
      }
      if (!STOPPING.contains(name) && !override) {
        throw new UsageException(
            change
                + " conflicts with the checkpoint's settings, which a resumed run keeps;"
                + " drop the flag, or add --override to replace the saved value.");
      }
      notes.add(change + " replaces the saved value");
      set(s, name, value);
    }
    checkLoss(s);
    return s;
  }

  private static boolean same(Object a, Object b) {
    if (a == null || b == null) {
      return a == b;
    }
    if (a instanceof Number x && b instanceof Number y) {
      return x.doubleValue() == y.doubleValue();
    }
    if (a instanceof String x && b instanceof String y) {
      return x.equalsIgnoreCase(y);
    }
    return a.equals(b);
  }

  /**
   * The config file's one JSON object, read strictly (trailing data, duplicate keys and bad numbers
   * are errors).
   */
  private JsonNode readConfig() {
    if (configJson == null) {
      configJson = parseConfig();
    }
    return configJson;
  }

  /** The config file, once read (transient: not a flag). */
  private transient JsonNode configJson;

  private JsonNode parseConfig() {
    JsonNode json;
    try (JsonParser p = CONFIG_JSON.createParser(config.toFile())) {
      json = CONFIG_JSON.readTree(p);
      if (json != null && p.nextToken() != null) {
        JsonLocation at = p.currentTokenLocation();
        throw new RecjpqException(
            config
                + ":"
                + at.getLineNr()
                + ":"
                + at.getColumnNr()
                + ": malformed JSON: more data after the object of settings. The config file must hold one JSON object.");
      }
    } catch (JsonProcessingException e) {
      JsonLocation at = e.getLocation();
      throw new RecjpqException(
          config
              + (at != null && at.getLineNr() > 0
                  ? ":" + at.getLineNr() + ":" + at.getColumnNr()
                  : "")
              + ": malformed JSON: "
              + Excerpt.of(e.getOriginalMessage().replaceAll("\\[Source: [^;\\]]*; ", "["))
              + ". The config file must hold one JSON object of settings, e.g. {\"dim\": 128, \"lr\": 0.0005}.",
          e);
    } catch (IOException e) {
      throw new RecjpqException(
          "Cannot read the config file " + config + ": " + Excerpt.of(e.getMessage()), e);
    }
    if (json == null || !json.isObject()) {
      throw new RecjpqException(config + " must hold one JSON object of settings.");
    }
    return json;
  }
}
