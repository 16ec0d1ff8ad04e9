package org.recjpq.cli;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.lang.reflect.Field;
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
import picocli.CommandLine.Mixin;
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

  /**
   * The settings given as flags: every field starts unset (null), so what the command line set is
   * what is not null. Each setting's flag, help and type are declared once, on its {@link Settings}
   * field.
   */
  @Mixin Settings flags = Settings.unset();

  /** The resolved settings: preset, then config file, then flags. */
  Settings resolve() {
    Settings s = Presets.of(preset);
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
    for (String name : Settings.names()) {
      Object v = get(flags, name);
      if (v != null) {
        given.put(name, v);
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
      Settings p = Presets.of(preset);
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
