package org.recjpq.serve;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.recjpq.RecjpqException;
import org.recjpq.backend.cpu.CpuOps;
import org.recjpq.checkpoint.Checkpoint;
import org.recjpq.model.ParameterLayout;
import org.recjpq.model.SequenceModel;

/**
 * A checkpoint whose weights are not finite is refused on load, naming the tensor, instead of
 * serving garbage.
 */
class CheckpointWeightsTest {
  @TempDir Path dir;

  @Test
  void nonFiniteWeightsAreRefusedNamingTheTensor() {
    Checkpoint good = RecommenderTest.checkpoint(true, 4);
    ParameterLayout layout =
        SequenceModel.create(good.config(), new CpuOps(1), good.codes()).layout();
    ParameterLayout.Entry entry = layout.entries().get(layout.entries().size() - 1);
    for (float bad : new float[] {Float.NaN, Float.POSITIVE_INFINITY}) {
      float[] params = good.params().clone();
      params[(int) entry.offset() + 1] = bad;
      Checkpoint broken =
          new Checkpoint(
              good.config(),
              good.items(),
              good.codes(),
              params,
              null,
              null,
              null,
              good.state(),
              good.itemCounts());
      Path file = dir.resolve("broken.ckpt");
      broken.write(file, layout);
      RecjpqException e = assertThrows(RecjpqException.class, () -> Checkpoint.read(file));
      assertTrue(
          e.getMessage()
              .contains(
                  "section 'params' holds "
                      + bad
                      + " in tensor '"
                      + entry.name()
                      + "' (element 1 of "),
          e.getMessage());
      assertThrows(RecjpqException.class, () -> Recommender.load(file));
    }
  }
}
