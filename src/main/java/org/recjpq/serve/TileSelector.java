package org.recjpq.serve;

import java.util.Arrays;
import org.recjpq.backend.Buf;
import org.recjpq.backend.IntBuf;
import org.recjpq.backend.Ops;
import org.recjpq.backend.cuda.CudaOps;
import org.recjpq.backend.cuda.CudaTopK;

/**
 * One tile's candidate selection in {@link GpuBatchScorer}: the contract of {@code cuda/topk.cu}.
 * Given a tile's scores (rows × nt, row-major) of the items {@code i0 .. i0 + nt}:
 *
 * <ol>
 *   <li>select: for each row whose {@code kprime} k satisfies 1 ≤ k ≤ nt, {@code running[row]} is
 *       raised to the tile's k-th largest score when that is larger. Scores are ordered by their
 *       order-preserving 32-bit keys (so −0 ranks below +0); a row with k = 0 or k > nt is left as
 *       it is;
 *   <li>collect: for each row with k ≠ 0, every item whose score is at least {@code running[row] −
 *       window[row]} (with the running bound after step 1) adds 1 to {@code counts[row]} and, while
 *       the row's count was below {@code cap}, its id to the row's list {@code ids[row * cap ..]}.
 *       On the device the order within a row's list is unspecified.
 * </ol>
 */
interface TileSelector {
  void selectAndCollect(
      Buf scores,
      int rows,
      int nt,
      int i0,
      IntBuf kprime,
      Buf running,
      Buf window,
      IntBuf counts,
      IntBuf ids,
      int cap);

  /** The CUDA kernels of {@code cuda/topk.cu}. */
  static TileSelector cuda(CudaOps ops) {
    return (scores, rows, nt, i0, kprime, running, window, counts, ids, cap) ->
        CudaTopK.selectAndCollect(
            ops, scores, rows, nt, i0, kprime, running, window, counts, ids, cap);
  }

  /**
   * The specification, on the host, for buffers of any engine (copied down and back up): the CPU
   * twin the kernels are tested against, and the selector of the scorer's host-side tests. Items
   * are appended in tile order.
   */
  static TileSelector host(Ops ops) {
    return (scores, rows, nt, i0, kprime, running, window, counts, ids, cap) -> {
      if (rows == 0 || nt == 0) {
        return;
      }
      float[] s = new float[rows * nt];
      ops.download(s, scores);
      int[] kp = new int[rows];
      ops.download(kp, kprime);
      float[] run = new float[rows];
      ops.download(run, running);
      float[] win = new float[rows];
      ops.download(win, window);
      int[] count = new int[rows];
      ops.download(count, counts);
      int[] id = new int[(int) ids.size()];
      ops.download(id, ids);
      int[] keys = new int[nt];
      for (int r = 0; r < rows; r++) {
        int k = kp[r];
        if (k >= 1 && k <= nt) {
          for (int i = 0; i < nt; i++) {
            keys[i] = orderKey(s[r * nt + i]);
          }
          Arrays.sort(keys);
          float kth = fromOrderKey(keys[nt - k]);
          if (kth > run[r]) {
            run[r] = kth;
          }
        }
      }
      for (int r = 0; r < rows; r++) {
        if (kp[r] == 0) {
          continue;
        }
        float lim = run[r] - win[r];
        for (int i = 0; i < nt; i++) {
          if (s[r * nt + i] >= lim) {
            int slot = count[r]++;
            if (slot < cap) {
              id[r * cap + slot] = i0 + i;
            }
          }
        }
      }
      ops.upload(running, run);
      ops.upload(counts, count);
      ops.upload(ids, id);
    };
  }

  /**
   * The kernels' order-preserving key of a float, as a signed int (so that int order is score
   * order).
   */
  static int orderKey(float f) {
    int u = Float.floatToRawIntBits(f);
    int key = u < 0 ? ~u : u | 0x80000000; // the kernels' unsigned key
    return key ^ 0x80000000;
  }

  static float fromOrderKey(int signedKey) {
    int key = signedKey ^ 0x80000000;
    return Float.intBitsToFloat(key < 0 ? key & 0x7fffffff : ~key);
  }
}
