package org.recjpq.cli;

import java.util.ArrayList;
import java.util.List;

/** A plain-text table with aligned columns (numbers right-aligned), for terminal output. */
final class TextTable {
  private final List<String[]> rows = new ArrayList<>();
  private final String[] header;

  TextTable(String... header) {
    this.header = header;
  }

  TextTable row(Object... cells) {
    String[] r = new String[header.length];
    for (int i = 0; i < r.length; i++) {
      Object c = i < cells.length ? cells[i] : "";
      r[i] = c instanceof Double d ? String.format("%.4f", d) : String.valueOf(c);
    }
    rows.add(r);
    return this;
  }

  @Override
  public String toString() {
    int[] w = new int[header.length];
    for (int i = 0; i < w.length; i++) {
      w[i] = header[i].length();
      for (String[] r : rows) {
        w[i] = Math.max(w[i], r[i].length());
      }
    }
    StringBuilder b = new StringBuilder();
    if (java.util.Arrays.stream(header).anyMatch(h -> !h.isEmpty())) { // no header: key-value lines
      line(b, header, w, false);
      for (int i = 0; i < w.length; i++) {
        b.append(i == 0 ? "" : "  ").append("-".repeat(w[i]));
      }
      b.append('\n');
    }
    for (String[] r : rows) {
      line(b, r, w, true);
    }
    return b.toString();
  }

  private static void line(StringBuilder b, String[] cells, int[] w, boolean alignNumbers) {
    for (int i = 0; i < w.length; i++) {
      String c = cells[i];
      boolean right = alignNumbers && i > 0 && c.matches("[-+0-9.,eE%]+");
      String pad = " ".repeat(w[i] - c.length());
      b.append(i == 0 ? "" : "  ").append(right ? pad + c : (i == w.length - 1 ? c : c + pad));
    }
    b.append('\n');
  }
}
