package org.recjpq.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.recjpq.backend.Activation;
import org.recjpq.backend.cpu.CpuOps;
import org.recjpq.codes.ItemCodes;
import org.recjpq.model.ModelConfig.BlockStyle;
import org.recjpq.model.ModelConfig.EmbeddingKind;

class ParameterLayoutTest {

  static ModelConfig config(int items, EmbeddingKind kind, boolean tied) {
    return new ModelConfig(
        ModelConfig.Backbone.SASREC,
        items,
        64,
        2,
        2,
        200,
        0.2f,
        64,
        Activation.RELU,
        kind,
        8,
        tied,
        BlockStyle.PRE_LN,
        1e-8f);
  }

  static void assertTiles(ParameterLayout layout) {
    long next = 0;
    for (ParameterLayout.Entry e : layout.entries()) {
      assertEquals(next, e.offset(), e.name() + " starts where the previous tensor ends");
      assertEquals(
          Arrays.stream(e.shape()).asLongStream().reduce(1, (a, b) -> a * b), e.size(), e.name());
      next += e.size();
    }
    assertEquals(next, layout.size(), "the tensors tile the buffer exactly");
  }

  @Test
  void denseAndJpqLayoutsTileTheirBuffers() {
    CpuOps ops = new CpuOps(1);
    for (ModelConfig c :
        new ModelConfig[] {
          config(100, EmbeddingKind.DENSE, true),
          config(100, EmbeddingKind.DENSE, false),
          config(100, EmbeddingKind.JPQ, true)
        }) {
      SasRec m = new SasRec(c, ops, c.isJpq() ? new ItemCodes(100, 8, new byte[800]) : null);
      assertTiles(m.layout());
      assertEquals(m.layout().size(), m.params().size());
      assertEquals(m.layout().size(), m.grads().size());
    }
  }

  @Test
  void aRecJpqModelOfAMillionItemsHoldsNoItemsByDimTable() {
    int n = 1_000_000;
    ModelConfig c = config(n, EmbeddingKind.JPQ, true);
    SasRec m = new SasRec(c, new CpuOps(1), new ItemCodes(n, 8, new byte[n * 8]));
    for (ParameterLayout.Entry e : m.layout().entries()) {
      assertFalse(Arrays.stream(e.shape()).anyMatch(x -> x == n), e + " has an items dimension");
    }
    assertTrue(m.layout().size() < (long) n * c.dim() / 10, "parameters " + m.layout().size());
    assertEquals(
        8L * 256 * 8, m.layout().entry("item.codebooks").size(), "item parameters are b·d floats");
    // the same model over 10x more items has exactly as many parameters
    ModelConfig small = config(1000, EmbeddingKind.JPQ, true);
    assertEquals(
        new SasRec(small, new CpuOps(1), new ItemCodes(1000, 8, new byte[8000])).layout().size(),
        m.layout().size());
  }

  @Test
  void duplicateNamesAndBadShapesAreRefused() {
    ParameterLayout l = new ParameterLayout();
    l.add("a", 2, 3);
    assertThrows(IllegalArgumentException.class, () -> l.add("a", 1));
    assertThrows(IllegalArgumentException.class, () -> l.add("b", 0));
    assertEquals(6, l.largestTensor());
  }

  @Test
  void scopedDeclarationsArePrefixedAndIndexedInOrder() {
    ParameterLayout layout = new ParameterLayout();
    ParameterLayout.Entry first = layout.add("positions", 4, 2);
    record Pair(ParameterLayout.Entry a, ParameterLayout.Entry b) {}
    Pair[] blocks =
        layout.repeated(
            2, "block", () -> new Pair(layout.add("w", 2, 2), layout.add("b", 2)), Pair[]::new);
    ParameterLayout.Entry last = layout.add("final", 3);
    assertEquals("block1.w", blocks[1].a().name());
    assertEquals("block0.b", blocks[0].b().name());
    assertEquals("final", last.name(), "the prefix ends with its scope");
    int i = 0;
    for (ParameterLayout.Entry e : layout.entries()) {
      assertEquals(i++, e.index(), e.name());
    }
    assertEquals(0, first.index());
    assertEquals(5, last.index());
    assertTiles(layout);
    assertThrows(
        IllegalArgumentException.class, () -> layout.scoped("block0.", () -> layout.add("w", 1)));
  }
}
