package org.recjpq.checkpoint;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Path;
import java.time.Instant;
import org.recjpq.RecjpqException;
import org.recjpq.backend.Activation;
import org.recjpq.codes.ItemCodes;
import org.recjpq.data.Vocabulary;
import org.recjpq.io.SectionedFile;
import org.recjpq.model.ModelConfig;
import org.recjpq.model.ParameterLayout;

/**
 * A model checkpoint file: {@link SectionedFile} with magic {@code RJPQCKPT}. Header: the model
 * configuration, the parameter layout (names, shapes, offsets: checked on load), the item
 * vocabulary's fingerprint and id kind, the training configuration and state as JSON. Sections:
 * {@code item_ids}, {@code codes} (RecJPQ), {@code params}, and for resumable checkpoints {@code
 * adam_m}, {@code adam_v}.
 *
 * @param config the model
 * @param items the item vocabulary (external ids)
 * @param codes the codes (RecJPQ) or null
 * @param params the flat parameters
 * @param adamM Adam's first moments, or null (not resumable)
 * @param adamV Adam's second moments, or null
 * @param bestParams the best validated parameters so far, or null (resumable checkpoints)
 * @param state training state and provenance (step, epoch, seeds, metrics, ...), free-form JSON
 * @param itemCounts each item's count in the training interactions (what serving falls back to for
 *     an empty history), or null (checkpoints written before it was recorded)
 * @param iterate the optimizer's last parameters where they differ from {@code params} (a finished
 *     resumable run, whose {@code params} are its best validated ones): what a resumed run
 *     continues from; null otherwise (section {@code iterate})
 */
public record Checkpoint(
    ModelConfig config,
    Vocabulary items,
    ItemCodes codes,
    float[] params,
    float[] adamM,
    float[] adamV,
    float[] bestParams,
    ObjectNode state,
    int[] itemCounts,
    float[] iterate) {

  /** A checkpoint whose parameters are the optimizer's last ones (no separate iterate). */
  public Checkpoint(
      ModelConfig config,
      Vocabulary items,
      ItemCodes codes,
      float[] params,
      float[] adamM,
      float[] adamV,
      float[] bestParams,
      ObjectNode state,
      int[] itemCounts) {
    this(config, items, codes, params, adamM, adamV, bestParams, state, itemCounts, null);
  }

  public static final String MAGIC = "RJPQCKPT";
  public static final int VERSION = 1;
  private static final String HINT = "Train it again with 'recjpq train ... --output FILE'.";
  private static final ObjectMapper JSON = new ObjectMapper();

  /** Whether the checkpoint holds what resuming needs. */
  public boolean resumable() {
    return adamM != null && adamV != null;
  }

  /** Writes the checkpoint atomically; {@code layout} must be the model's. */
  public void write(Path path, ParameterLayout layout) {
    if (config.isJpq() != (codes != null)) {
      throw new IllegalArgumentException(
          config.isJpq() ? "a RecJPQ checkpoint needs its codes" : "a dense model has no codes");
    }
    if (itemCounts != null && itemCounts.length != items.size()) {
      throw new IllegalArgumentException(
          "item counts for " + itemCounts.length + " items, vocabulary " + items.size());
    }
    if (params.length != layout.size()) {
      throw new IllegalArgumentException(
          "params hold " + params.length + " floats, layout " + layout.size());
    }
    ObjectNode h = SectionedFile.newHeader();
    h.put("kind", "recjpq checkpoint");
    h.put("model", config.backbone().name().toLowerCase(java.util.Locale.ROOT));
    h.set("config", configJson(config));
    var entries = h.putArray("layout");
    for (ParameterLayout.Entry e : layout.entries()) {
      ObjectNode o = entries.addObject();
      o.put("name", e.name());
      var shape = o.putArray("shape");
      for (int d : e.shape()) {
        shape.add(d);
      }
      o.put("offset", e.offset());
    }
    h.put("items", items.size());
    h.put("itemIds", items.isNumeric() ? "numeric" : "text");
    h.put("itemVocabulary", items.fingerprint());
    h.put("resumable", resumable());
    h.set("state", state);
    h.put("created", Instant.now().toString());
    try (SectionedFile.Writer w = new SectionedFile.Writer(path, MAGIC, VERSION, h)) {
      if (items instanceof Vocabulary.Numeric n) {
        w.longs("item_ids", n.ids());
      } else {
        w.strings("item_ids", ((Vocabulary.Text) items).ids());
      }
      if (codes != null) {
        w.bytes("codes", codes.raw());
      }
      w.floats("params", params);
      if (resumable()) {
        w.floats("adam_m", adamM);
        w.floats("adam_v", adamV);
      }
      if (bestParams != null) {
        w.floats("best_params", bestParams);
      }
      if (iterate != null && resumable()) {
        w.floats("iterate", iterate);
      }
      if (itemCounts != null) {
        w.ints("item_counts", itemCounts);
      }
      w.commit();
    }
  }

  /** Reads and checks a checkpoint (checksums, sizes, layout against the configuration). */
  public static Checkpoint read(Path path) {
    try (SectionedFile.Reader r =
        new SectionedFile.Reader(path, MAGIC, VERSION, "a recjpq checkpoint", HINT)) {
      JsonNode h = r.header();
      ModelConfig config;
      try {
        config = configFromJson(h.path("config"));
      } catch (RuntimeException e) {
        throw r.damaged("its model configuration is invalid (" + e.getMessage() + ")");
      }
      int n = h.path("items").asInt(-1);
      Vocabulary items;
      try {
        items =
            "numeric".equals(h.path("itemIds").asText())
                ? new Vocabulary.Numeric(r.longs("item_ids"))
                : new Vocabulary.Text(r.strings("item_ids", n));
      } catch (IllegalArgumentException e) {
        throw r.damaged("its item ids are not sorted");
      }
      if (items.size() != n || n != config.numItems()) {
        throw r.damaged(
            "it lists "
                + n
                + " items but holds "
                + items.size()
                + " ids for a model of "
                + config.numItems());
      }
      ItemCodes codes = null;
      if (config.isJpq()) {
        byte[] raw = r.bytes("codes");
        if (raw.length != (long) n * config.splits()) {
          throw r.damaged(
              "section 'codes' has "
                  + raw.length
                  + " bytes, expected "
                  + n
                  + " x "
                  + config.splits());
        }
        codes = new ItemCodes(n, config.splits(), raw);
      }
      float[] params = r.floats("params");
      float[] m = r.has("adam_m") ? r.floats("adam_m") : null;
      float[] v = r.has("adam_v") ? r.floats("adam_v") : null;
      float[] best = r.has("best_params") ? r.floats("best_params") : null;
      float[] iterate = r.has("iterate") ? r.floats("iterate") : null;
      if ((m != null && m.length != params.length)
          || (v != null && v.length != params.length)
          || (best != null && best.length != params.length)
          || (iterate != null && iterate.length != params.length)) {
        throw r.damaged("its optimizer state does not match its parameters");
      }
      checkFinite(r, "params", params, h.path("layout"));
      if (best != null) {
        checkFinite(r, "best_params", best, h.path("layout"));
      }
      if (iterate != null) {
        checkFinite(r, "iterate", iterate, h.path("layout"));
      }
      if (m != null && v != null) {
        checkFinite(r, "adam_m", m, h.path("layout"));
        checkFinite(r, "adam_v", v, h.path("layout"));
      }
      int[] counts = r.has("item_counts") ? r.ints("item_counts") : null;
      if (counts != null && counts.length != n) {
        throw r.damaged(
            "section 'item_counts' has " + counts.length + " entries for " + n + " items");
      }
      JsonNode state = h.path("state");
      return new Checkpoint(
          config,
          items,
          codes,
          params,
          m,
          v,
          best,
          state.isObject() ? (ObjectNode) state : JSON.createObjectNode(),
          counts,
          iterate);
    }
  }

  /**
   * Refuses weights that are not finite (a diverged run, or a damaged file whose checksums were
   * rewritten): the error names the section, the tensor (from the header's layout) and the element.
   */
  private static void checkFinite(
      SectionedFile.Reader r, String section, float[] values, JsonNode layout) {
    for (int i = 0; i < values.length; i++) {
      float x = values[i];
      if (!Float.isFinite(x)) {
        String where = "element " + i;
        for (JsonNode e : layout) {
          long offset = e.path("offset").asLong(-1);
          long size = 1;
          for (JsonNode d : e.path("shape")) {
            size *= d.asLong();
          }
          if (offset >= 0 && i >= offset && i < offset + size) {
            where =
                "tensor '"
                    + e.path("name").asText()
                    + "' (element "
                    + (i - offset)
                    + " of "
                    + size
                    + ")";
            break;
          }
        }
        throw r.damaged(
            "section '"
                + section
                + "' holds "
                + x
                + " in "
                + where
                + ": a model with non-finite weights "
                + "cannot score anything");
      }
    }
  }

  static ObjectNode configJson(ModelConfig c) {
    ObjectNode o = JSON.createObjectNode();
    o.put("backbone", c.backbone().name());
    o.put("numItems", c.numItems());
    o.put("dim", c.dim());
    o.put("blocks", c.blocks());
    o.put("heads", c.heads());
    o.put("maxLen", c.maxLen());
    o.put("dropout", c.dropout());
    o.put("ffnDim", c.ffnDim());
    o.put("activation", c.activation().name());
    o.put("embedding", c.embedding().name());
    o.put("splits", c.splits());
    o.put("tiedOutput", c.tiedOutput());
    o.put("blockStyle", c.blockStyle().name());
    o.put("layerNormEps", c.layerNormEps());
    o.put("headTransform", c.headTransform());
    o.put("itemBias", c.itemBias());
    return o;
  }

  static ModelConfig configFromJson(JsonNode o) {
    return new ModelConfig(
        ModelConfig.Backbone.valueOf(o.path("backbone").asText("SASREC")),
        o.path("numItems").asInt(),
        o.path("dim").asInt(),
        o.path("blocks").asInt(),
        o.path("heads").asInt(),
        o.path("maxLen").asInt(),
        (float) o.path("dropout").asDouble(),
        o.path("ffnDim").asInt(),
        Activation.valueOf(o.path("activation").asText("RELU")),
        ModelConfig.EmbeddingKind.valueOf(o.path("embedding").asText("DENSE")),
        o.path("splits").asInt(),
        o.path("tiedOutput").asBoolean(true),
        ModelConfig.BlockStyle.valueOf(o.path("blockStyle").asText("PRE_LN")),
        (float) o.path("layerNormEps").asDouble(1e-8),
        o.path("headTransform").asBoolean(false),
        o.path("itemBias").asBoolean(false));
  }

  /** Checks the checkpoint's item vocabulary is the dataset's. */
  public void checkItems(Path path, Vocabulary datasetItems) {
    if (items.size() != datasetItems.size()
        || !items.fingerprint().equals(datasetItems.fingerprint())) {
      throw new RecjpqException(
          path
              + " was trained on another item vocabulary ("
              + items.size()
              + " items) than this dataset's ("
              + datasetItems.size()
              + " items); evaluate it on the data it was trained"
              + " on.");
    }
  }
}
