package org.recjpq.data;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Path;
import java.time.Instant;
import org.recjpq.RecjpqException;
import org.recjpq.io.SectionedFile;

/**
 * The binary dataset cache written by {@code recjpq prepare} (docs/architecture.md §8): a {@link
 * SectionedFile} with magic {@code RJPQDATA}, a JSON header (sizes, provenance, filters, default
 * split, the command that made it) and sections {@code offsets}, {@code items}, {@code user_ids},
 * {@code item_ids}. Reading validates every checksum and the internal consistency of the arrays.
 */
public final class DatasetFile {
  public static final String MAGIC = "RJPQDATA";
  public static final int VERSION = 1;

  /** Conventional file extension. */
  public static final String EXTENSION = ".rjd";

  private static final String HINT =
      "Re-create it with 'recjpq prepare --input RAW --format FORMAT --output FILE'.";

  private DatasetFile() {}

  /**
   * Writes {@code ds} to {@code path} atomically.
   *
   * @param commandLine how the dataset was made, recorded in the header (may be null)
   */
  public static void write(SequenceDataset ds, Path path, String commandLine) {
    ObjectNode h = SectionedFile.newHeader();
    h.put("kind", "recjpq dataset");
    h.put("users", ds.numUsers());
    h.put("items", ds.numItems());
    h.put("interactions", ds.numInteractions());
    h.put("userIds", ds.users().isNumeric() ? "numeric" : "text");
    h.put("itemIds", ds.items().isNumeric() ? "numeric" : "text");
    DatasetInfo info = ds.info();
    h.put("source", info.source());
    h.put("format", info.format());
    h.put("minUserInteractions", info.filter().minUserInteractions());
    h.put("minItemInteractions", info.filter().minItemInteractions());
    h.put("rawUsers", info.rawUsers());
    h.put("rawItems", info.rawItems());
    h.put("rawInteractions", info.rawInteractions());
    h.put("validationUsers", info.validationUsers());
    h.put("splitSeed", info.splitSeed());
    h.put("created", Instant.now().toString());
    if (commandLine != null) {
      h.put("command", commandLine);
    }
    try (SectionedFile.Writer w = new SectionedFile.Writer(path, MAGIC, VERSION, h)) {
      w.ints("offsets", ds.offsets());
      w.ints("items", ds.flatItems());
      writeVocabulary(w, "user_ids", ds.users());
      writeVocabulary(w, "item_ids", ds.items());
      w.commit();
    }
  }

  private static void writeVocabulary(SectionedFile.Writer w, String name, Vocabulary v) {
    if (v instanceof Vocabulary.Numeric n) {
      w.longs(name, n.ids());
    } else {
      w.strings(name, ((Vocabulary.Text) v).ids());
    }
  }

  /** Reads and validates a dataset file. */
  public static SequenceDataset read(Path path) {
    try (SectionedFile.Reader r =
        new SectionedFile.Reader(path, MAGIC, VERSION, "a recjpq dataset file", HINT)) {
      JsonNode h = r.header();
      int users = requireInt(r, h, "users");
      int items = requireInt(r, h, "items");
      int[] offsets = r.ints("offsets");
      int[] flat = r.ints("items");
      if (offsets.length != users + 1) {
        throw r.damaged(
            "it lists " + users + " users but has " + (offsets.length - 1) + " offsets");
      }
      Vocabulary userVocab = readVocabulary(r, h, "user_ids", "userIds", users);
      Vocabulary itemVocab = readVocabulary(r, h, "item_ids", "itemIds", items);
      DatasetInfo info =
          new DatasetInfo(
              h.path("source").asText("?"),
              h.path("format").asText("?"),
              new FilterOptions(
                  Math.max(1, h.path("minUserInteractions").asInt(1)),
                  Math.max(0, h.path("minItemInteractions").asInt(0))),
              h.path("rawUsers").asInt(),
              h.path("rawItems").asInt(),
              h.path("rawInteractions").asLong(),
              h.path("validationUsers").asInt(LeaveOneOut.DEFAULT_VALIDATION_USERS),
              h.path("splitSeed").asLong(DatasetInfo.DEFAULT_SEED));
      try {
        return new SequenceDataset(userVocab, itemVocab, offsets, flat, info);
      } catch (IllegalArgumentException e) {
        throw r.damaged("its arrays are inconsistent (" + e.getMessage() + ")");
      }
    }
  }

  /** The header alone (cheap: no section is read). */
  public static JsonNode header(Path path) {
    try (SectionedFile.Reader r =
        new SectionedFile.Reader(path, MAGIC, VERSION, "a recjpq dataset file", HINT)) {
      return r.header();
    }
  }

  private static int requireInt(SectionedFile.Reader r, JsonNode h, String field) {
    JsonNode v = h.get(field);
    if (v == null || !v.canConvertToInt() || v.asInt() < 0) {
      throw r.damaged("its header has no valid '" + field + "'");
    }
    return v.asInt();
  }

  private static Vocabulary readVocabulary(
      SectionedFile.Reader r, JsonNode h, String section, String kindField, int size) {
    String kind = h.path(kindField).asText("");
    try {
      if (kind.equals("numeric")) {
        long[] ids = r.longs(section);
        if (ids.length != size) {
          throw r.damaged("section '" + section + "' has " + ids.length + " ids, expected " + size);
        }
        return new Vocabulary.Numeric(ids);
      } else if (kind.equals("text")) {
        return new Vocabulary.Text(r.strings(section, size));
      }
    } catch (IllegalArgumentException e) {
      throw r.damaged("section '" + section + "' is not sorted (" + e.getMessage() + ")");
    }
    throw r.damaged(
        "its header field '" + kindField + "' is '" + kind + "', expected numeric or text");
  }

  /** Whether {@code path} starts with this format's magic (for commands that take either kind). */
  public static boolean looksLikeDatasetFile(Path path) {
    try (var in = java.nio.file.Files.newInputStream(path)) {
      byte[] m = in.readNBytes(MAGIC.length());
      return new String(m, java.nio.charset.StandardCharsets.ISO_8859_1).equals(MAGIC);
    } catch (java.io.IOException e) {
      return false;
    }
  }

  /** Reads a dataset from either a prepared file or a raw log. */
  public static SequenceDataset load(Path path, ReadOptions raw, FilterOptions filter) {
    if (looksLikeDatasetFile(path)) {
      return read(path);
    }
    if (raw == null) {
      throw new RecjpqException(
          path + " is not a prepared dataset file; give --format to read it as a raw log.");
    }
    return DatasetBuilder.build(InteractionReaders.read(path, raw), filter);
  }
}
