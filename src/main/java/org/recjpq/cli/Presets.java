package org.recjpq.cli;

import java.util.Locale;
import org.recjpq.UsageException;
import org.recjpq.util.Excerpt;

/** The presets: named starting values of the {@link Settings}, under config files and flags. */
final class Presets {
  private Presets() {}

  /** The preset's values. */
  static Settings of(String name) {
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
}
