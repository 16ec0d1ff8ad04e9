package org.recjpq.codes;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Path;
import java.time.Instant;
import org.recjpq.RecjpqException;
import org.recjpq.data.SequenceDataset;
import org.recjpq.data.Vocabulary;
import org.recjpq.io.SectionedFile;

/**
 * The codes file written by {@code recjpq assign-codes} (docs/architecture.md §8): a {@link
 * SectionedFile} with magic {@code RJPQCODE}, a JSON header (strategy, seed, m, b, N, the item
 * vocabulary's fingerprint, the options, the diagnostics, the dataset it came from and the command)
 * and one section {@code codes} of N × m bytes. {@link #readFor} refuses codes made for another
 * item vocabulary.
 */
public final class CodesFile {
  public static final String MAGIC = "RJPQCODE";
  public static final int VERSION = 1;

  private static final String HINT =
      "Re-create it with 'recjpq assign-codes --input DATASET --output FILE'.";

  private CodesFile() {}

  /** Codes read back with their header. */
  public record Loaded(ItemCodes codes, JsonNode header) {
    public String strategy() {
      return header.path("strategy").asText();
    }

    public long seed() {
      return header.path("seed").asLong();
    }
  }

  /** Writes codes for {@code ds} atomically. */
  public static void write(
      Path path,
      ItemCodes codes,
      SequenceDataset ds,
      CodeOptions options,
      CodeDiagnostics diagnostics,
      String commandLine) {
    if (codes.numItems() != ds.numItems()) {
      throw new IllegalArgumentException(
          "codes for " + codes.numItems() + " items, dataset has " + ds.numItems());
    }
    ObjectNode h = SectionedFile.newHeader();
    h.put("kind", "recjpq item codes");
    h.put("strategy", options.strategy().cliName());
    h.put("seed", options.seed());
    h.put("splits", codes.splits());
    h.put("subIds", ItemCodes.SUB_IDS);
    h.put("items", codes.numItems());
    h.put("itemVocabulary", ds.items().fingerprint());
    h.put("itemIds", ds.items().isNumeric() ? "numeric" : "text");
    if (options.dim() > 0) {
      h.put("dim", options.dim());
    }
    ObjectNode opts = h.putObject("options");
    switch (options.strategy()) {
      case SVD, SVD_PQ, COOC_PQ, NSVD_PQ -> {
        opts.put("oversampling", options.oversampling());
        opts.put("powerIterations", options.powerIterations());
      }
      case BPR -> {
        opts.put("epochs", options.epochs());
        opts.put("learningRate", options.learningRate());
        opts.put("regularization", options.regularization());
        opts.put("threads", options.threads());
      }
      case RANDOM, MODEL_PQ -> {}
    }
    h.set("diagnostics", diagnostics.toJson());
    h.put("dataset", ds.info().source());
    h.put("created", Instant.now().toString());
    if (commandLine != null) {
      h.put("command", commandLine);
    }
    try (SectionedFile.Writer w = new SectionedFile.Writer(path, MAGIC, VERSION, h)) {
      w.bytes("codes", codes.raw());
      w.commit();
    }
  }

  /** Reads and checks a codes file (checksums, sizes), whatever dataset it belongs to. */
  public static Loaded read(Path path) {
    try (SectionedFile.Reader r =
        new SectionedFile.Reader(path, MAGIC, VERSION, "a recjpq codes file", HINT)) {
      JsonNode h = r.header();
      int items = h.path("items").asInt(-1);
      int splits = h.path("splits").asInt(-1);
      if (items < 0 || splits < 1 || splits > ItemCodes.MAX_SPLITS) {
        throw r.damaged("its header has no valid 'items' and 'splits'");
      }
      if (h.path("subIds").asInt() != ItemCodes.SUB_IDS) {
        throw r.damaged(
            "its codes have "
                + h.path("subIds").asInt()
                + " sub-ids per split, this recjpq uses "
                + ItemCodes.SUB_IDS);
      }
      byte[] raw = r.bytes("codes");
      if (raw.length != (long) items * splits) {
        throw r.damaged(
            "section 'codes' has " + raw.length + " bytes, expected " + items + " x " + splits);
      }
      return new Loaded(new ItemCodes(items, splits, raw), h);
    }
  }

  /** Reads a codes file and checks it was made for {@code ds}'s item vocabulary. */
  public static Loaded readFor(Path path, SequenceDataset ds) {
    Loaded loaded = read(path);
    Vocabulary items = ds.items();
    String expected = loaded.header().path("itemVocabulary").asText();
    if (loaded.codes().numItems() != items.size() || !expected.equals(items.fingerprint())) {
      throw new RecjpqException(
          path
              + " holds codes for another item vocabulary ("
              + loaded.codes().numItems()
              + " items, fingerprint "
              + expected
              + ", made from "
              + loaded.header().path("dataset").asText("?")
              + ") but this dataset has "
              + items.size()
              + " items (fingerprint "
              + items.fingerprint()
              + "). Assign codes for this dataset: recjpq assign-codes --input DATASET --output FILE.");
    }
    return loaded;
  }
}
