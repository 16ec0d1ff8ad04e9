package org.recjpq.data.synth;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.recjpq.RecjpqException;

class SynthConfigTest {

  private static SynthConfig with(
      int clusterSize, int fanOut, double decay, double stay, double jump, double zipf) {
    return new SynthConfig(10, 100, 1000, 1, clusterSize, fanOut, decay, stay, jump, zipf, 5, 1.0);
  }

  private static void assertMessage(Executable bad, String... fragments) {
    RecjpqException e = assertThrows(RecjpqException.class, bad);
    for (String fragment : fragments) {
      assertTrue(
          e.getMessage().contains(fragment),
          "message '" + e.getMessage() + "' should contain '" + fragment + "'");
    }
    assertTrue(e.getMessage().endsWith("."), "a full sentence: " + e.getMessage());
  }

  @Test
  void defaultsAreTheDocumentedValues() {
    SynthConfig c = SynthConfig.defaults(1000, 10_000, 50_000, 7);
    assertEquals(50, c.clusterSize());
    assertEquals(4, c.fanOut());
    assertEquals(0.5, c.successorDecay());
    assertEquals(0.6, c.stayProbability());
    assertEquals(0.02, c.jumpProbability());
    assertEquals(1.0, c.zipfExponent());
    assertEquals(5, c.minLength());
    assertEquals(1.0, c.lengthSpread());
    assertEquals(200, c.clusters());
    assertEquals(8, c.withSeed(8).seed());
    assertEquals(c, c.withSeed(8).withSeed(7));
  }

  @Test
  void clustersAtLeastOne() {
    assertEquals(1, SynthConfig.defaults(1, 3, 5, 1).clusters());
    assertEquals(2, SynthConfig.defaults(1, 100, 5, 1).clusters());
    assertEquals(2, SynthConfig.defaults(1, 149, 5, 1).clusters());
  }

  @Test
  void tooFewInteractionsSaysWhatIsNeeded() {
    assertMessage(
        () -> SynthConfig.defaults(1000, 100, 4999, 1),
        "4999",
        "1000 users",
        "at least 5 interactions",
        "5000");
    SynthConfig.defaults(1000, 100, 5000, 1); // exactly enough
  }

  @Test
  void localityRadiusIsChecked() {
    assertMessage(
        () -> new SynthConfig(10, 10_000, 1000, 1, 50, 4, 0.5, 0.6, 0.02, 1.0, 5, 1.0, -1),
        "locality radius",
        "-1");
    assertMessage(
        () -> new SynthConfig(10, 10_000, 1000, 1, 50, 5, 0.5, 0.6, 0.02, 1.0, 5, 1.0, 2),
        "radius 2",
        "4 successor clusters",
        "fan-out 5",
        "at least 3");
    assertEquals(
        3,
        new SynthConfig(10, 10_000, 1000, 1, 50, 5, 0.5, 0.6, 0.02, 1.0, 5, 1.0, 3)
            .successorRadius());
    assertEquals(0, SynthConfig.defaults(10, 10_000, 1000, 1).successorRadius());
  }

  @Test
  void sizesAreChecked() {
    assertMessage(() -> SynthConfig.defaults(0, 100, 1000, 1), "users", "0");
    assertMessage(() -> SynthConfig.defaults(10, 1, 1000, 1), "items", "at least 2", "1");
    assertMessage(() -> SynthConfig.defaults(10, 600_000_000, 1000, 1), "at most", "600000000");
    assertMessage(
        () -> new SynthConfig(10, 100, 1000, 1, 50, 4, 0.5, 0.6, 0.02, 1.0, 0, 1.0),
        "minimum user length");
  }

  @Test
  void tunablesAreChecked() {
    assertMessage(() -> with(1, 4, 0.5, 0.6, 0.02, 1.0), "cluster size", "1");
    assertMessage(() -> with(50, 0, 0.5, 0.6, 0.02, 1.0), "fan-out", "0");
    assertMessage(() -> with(50, 65, 0.5, 0.6, 0.02, 1.0), "fan-out", "65");
    assertMessage(() -> with(50, 4, 0.0, 0.6, 0.02, 1.0), "successor decay");
    assertMessage(() -> with(50, 4, 1.5, 0.6, 0.02, 1.0), "successor decay");
    assertMessage(() -> with(50, 4, 0.5, 1.0, 0.0, 1.0), "stay probability");
    assertMessage(() -> with(50, 4, 0.5, -0.1, 0.02, 1.0), "stay probability");
    assertMessage(() -> with(50, 4, 0.5, 0.6, 1.2, 1.0), "jump probability");
    assertMessage(() -> with(50, 4, 0.5, 0.6, 0.5, 1.0), "sum to at most 1");
    assertMessage(() -> with(50, 4, 0.5, 0.6, 0.02, Double.NaN), "Zipf exponent", "NaN");
    assertMessage(() -> with(50, 4, 0.5, 0.6, 0.02, -1), "Zipf exponent");
    assertMessage(
        () -> new SynthConfig(10, 100, 1000, 1, 50, 4, 0.5, 0.6, 0.02, 1.0, 5, 5.0), "spread");
    assertMessage(
        () -> new SynthConfig(10, 100, 1000, 1, 50, 4, 0.5, 0.6, 0.02, 1.0, 5, Double.NaN),
        "spread");
    // Edge values that are allowed.
    with(2, 64, 1.0, 0.0, 1.0, 0.0);
    with(50, 1, 0.01, 0.99, 0.01, 10.0);
  }
}
