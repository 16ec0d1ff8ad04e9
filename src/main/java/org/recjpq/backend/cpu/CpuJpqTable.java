package org.recjpq.backend.cpu;

import static org.recjpq.backend.cpu.CpuBuf.of;

import org.recjpq.backend.Buf;
import org.recjpq.backend.IntBuf;
import org.recjpq.util.Parallel;

/**
 * A RecJPQ item table on the CPU engine: codes (N, splits) fixed when it is made, codebooks
 * (splits, 256, subDim) passed to each call.
 */
final class CpuJpqTable extends CpuItemTable {
  private final CpuByteBuf codes;
  private final int splits;
  private final int subDim;

  CpuJpqTable(CpuOps ops, CpuByteBuf codes, int numItems, int splits, int subDim) {
    super(ops, numItems, splits * subDim);
    this.codes = codes;
    this.splits = splits;
    this.subDim = subDim;
  }

  @Override
  CpuLosses.ItemTable with(CpuBuf codebooks) {
    return CpuLosses.ItemTable.jpq(codes, codebooks, splits, subDim);
  }

  @Override
  public void lookup(Buf out, IntBuf ids, Buf codebooks, int rows) {
    CpuBuf o = of(out);
    CpuBuf cb = of(codebooks);
    CpuIntBuf id = CpuIntBuf.of(ids);
    byte[] code = codes.data;
    Parallel.forRange(
        rows,
        ops.threads,
        (from, to) -> {
          for (int r = from; r < to; r++) {
            int item = id.get(r);
            int ob = o.offset + r * dim;
            for (int k = 0; k < splits; k++) {
              if (item < 0) {
                for (int j = 0; j < subDim; j++) {
                  o.data.put(ob + k * subDim + j, 0f);
                }
              } else {
                int sub = code[item * splits + k] & 0xff;
                int cbase = cb.offset + (k * 256 + sub) * subDim;
                for (int j = 0; j < subDim; j++) {
                  o.data.put(ob + k * subDim + j, cb.data.get(cbase + j));
                }
              }
            }
          }
        });
  }

  @Override
  public void lookupBackward(Buf dCodebooks, Buf dOut, IntBuf ids, int rows) {
    CpuBuf dc = of(dCodebooks);
    CpuBuf d = of(dOut);
    CpuIntBuf id = CpuIntBuf.of(ids);
    byte[] code = codes.data;
    // Parallel over splits: split k only writes codebook k, so threads never share a row; rows
    // are added in order, so the sums are deterministic.
    Parallel.forRange(
        splits,
        ops.threads,
        1,
        (from, to) -> {
          for (int k = from; k < to; k++) {
            for (int r = 0; r < rows; r++) {
              int item = id.get(r);
              if (item < 0) {
                continue;
              }
              int sub = code[item * splits + k] & 0xff;
              int cbase = dc.offset + (k * 256 + sub) * subDim;
              int db = d.offset + r * dim + k * subDim;
              for (int j = 0; j < subDim; j++) {
                dc.data.put(cbase + j, dc.data.get(cbase + j) + d.data.get(db + j));
              }
            }
          }
        });
  }
}
