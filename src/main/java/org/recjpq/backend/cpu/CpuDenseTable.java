package org.recjpq.backend.cpu;

import static org.recjpq.backend.cpu.CpuBuf.of;

import org.recjpq.backend.Buf;
import org.recjpq.backend.IntBuf;
import org.recjpq.util.Parallel;

/** A dense item table (N, d) on the CPU engine. */
final class CpuDenseTable extends CpuItemTable {

  CpuDenseTable(CpuOps ops, int numItems, int dim) {
    super(ops, numItems, dim);
  }

  @Override
  CpuLosses.ItemTable with(CpuBuf table) {
    return CpuLosses.ItemTable.dense(table, dim);
  }

  @Override
  public void lookup(Buf out, IntBuf ids, Buf table, int rows) {
    CpuBuf o = of(out);
    CpuBuf t = of(table);
    CpuIntBuf id = CpuIntBuf.of(ids);
    Parallel.forRange(
        rows,
        ops.threads,
        (from, to) -> {
          for (int r = from; r < to; r++) {
            int item = id.get(r);
            int ob = o.offset + r * dim;
            if (item < 0) {
              for (int j = 0; j < dim; j++) {
                o.data.put(ob + j, 0f);
              }
            } else {
              int tb = t.offset + item * dim;
              for (int j = 0; j < dim; j++) {
                o.data.put(ob + j, t.data.get(tb + j));
              }
            }
          }
        });
  }

  @Override
  public void lookupBackward(Buf dTable, Buf dOut, IntBuf ids, int rows) {
    CpuBuf dt = of(dTable);
    CpuBuf d = of(dOut);
    CpuIntBuf id = CpuIntBuf.of(ids);
    // Serial scatter-add in row order: deterministic, and rows that share an item never race.
    for (int r = 0; r < rows; r++) {
      int item = id.get(r);
      if (item < 0) {
        continue;
      }
      int tb = dt.offset + item * dim;
      int db = d.offset + r * dim;
      for (int j = 0; j < dim; j++) {
        dt.data.put(tb + j, dt.data.get(tb + j) + d.data.get(db + j));
      }
    }
  }
}
