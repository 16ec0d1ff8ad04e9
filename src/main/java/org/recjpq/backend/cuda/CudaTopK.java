package org.recjpq.backend.cuda;

import org.recjpq.backend.Buf;
import org.recjpq.backend.IntBuf;

/**
 * Candidate selection for exact batched top-K on the device ({@code cuda/topk.cu}): after a tile's
 * scores (rows × nt, row-major) are formed, {@link #selectAndCollect} raises each row's running
 * bound to the tile's k'-th largest score and appends the tile's items scoring at least {@code
 * running − window} to the row's candidate list. The caller (the serving package's GPU batch
 * scorer) re-scores the candidates canonically on the host.
 */
public final class CudaTopK {
  private static final int THREADS = 256;

  private CudaTopK() {}

  /**
   * One tile of {@code nt} items starting at item {@code i0}: {@code scores} (rows × nt), {@code
   * kprime}, {@code running}, {@code window}, {@code counts} (rows each), {@code ids} (rows × cap).
   * {@code running} is max-updated, {@code counts} incremented and {@code ids} appended to (up to
   * {@code cap} per row; {@code counts} keeps counting past it). Rows with {@code kprime} 0 are
   * left alone (running, counts and ids untouched).
   */
  public static void selectAndCollect(
      CudaOps ops,
      Buf scores,
      int rows,
      int nt,
      int i0,
      IntBuf kprime,
      Buf running,
      Buf window,
      IntBuf counts,
      IntBuf ids,
      int cap) {
    if (rows == 0 || nt == 0) {
      return;
    }
    CudaModule module = ops.module();
    module.launch(
        Kernels.TOPK_SELECT,
        rows,
        THREADS,
        0,
        rows,
        nt,
        CudaBuf.of(scores),
        CudaIntBuf.of(kprime),
        CudaBuf.of(running));
    module.launch(
        Kernels.TOPK_COLLECT,
        new int[] {(nt + THREADS - 1) / THREADS, rows, 1},
        new int[] {THREADS, 1, 1},
        0,
        rows,
        nt,
        i0,
        CudaBuf.of(scores),
        CudaIntBuf.of(kprime),
        CudaBuf.of(running),
        CudaBuf.of(window),
        cap,
        CudaIntBuf.of(counts),
        CudaIntBuf.of(ids));
  }
}
