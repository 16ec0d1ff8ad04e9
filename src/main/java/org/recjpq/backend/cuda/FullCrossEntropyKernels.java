package org.recjpq.backend.cuda;

import static org.recjpq.backend.cuda.Kernel.CType.CONST_DOUBLE_PTR;
import static org.recjpq.backend.cuda.Kernel.CType.CONST_FLOAT_PTR;
import static org.recjpq.backend.cuda.Kernel.CType.CONST_INT_PTR;
import static org.recjpq.backend.cuda.Kernel.CType.CONST_UCHAR_PTR;
import static org.recjpq.backend.cuda.Kernel.CType.DOUBLE;
import static org.recjpq.backend.cuda.Kernel.CType.DOUBLE_PTR;
import static org.recjpq.backend.cuda.Kernel.CType.FLOAT_PTR;
import static org.recjpq.backend.cuda.Kernel.CType.INT;

import java.util.List;

/**
 * The signatures of the full cross-entropy kernels of {@code cuda/full_ce.cu}, in declaration
 * order; {@link Kernels#ALL} lists them in their place among all kernels.
 */
final class FullCrossEntropyKernels {
  private FullCrossEntropyKernels() {}

  // ---- full_ce.cu
  // -------------------------------------------------------------------------------------
  static final Kernel FULL_CE_GATHER_ROWS =
      Kernel.of("full_ce_gather_rows_kernel", INT, INT, FLOAT_PTR, CONST_FLOAT_PTR, CONST_INT_PTR);
  static final Kernel FULL_CE_SPREAD_ROWS =
      Kernel.of("full_ce_spread_rows_kernel", INT, INT, FLOAT_PTR, CONST_FLOAT_PTR, CONST_INT_PTR);
  static final Kernel FULL_CE_FINISH =
      Kernel.of(
          "full_ce_finish_kernel",
          INT,
          INT,
          CONST_FLOAT_PTR,
          CONST_DOUBLE_PTR,
          CONST_FLOAT_PTR,
          FLOAT_PTR,
          DOUBLE_PTR);
  static final Kernel FULL_CE_DECODE =
      Kernel.of(
          "full_ce_decode_kernel", INT, INT, INT, INT, FLOAT_PTR, CONST_UCHAR_PTR, CONST_FLOAT_PTR);
  static final Kernel FULL_CE_TILE_LSE =
      Kernel.of(
          "full_ce_tile_lse_kernel",
          INT,
          INT,
          INT,
          CONST_FLOAT_PTR,
          CONST_INT_PTR,
          FLOAT_PTR,
          DOUBLE_PTR,
          FLOAT_PTR);
  static final Kernel FULL_CE_TILE_GRAD =
      Kernel.of(
          "full_ce_tile_grad_kernel",
          INT,
          INT,
          INT,
          DOUBLE,
          FLOAT_PTR,
          CONST_INT_PTR,
          CONST_FLOAT_PTR);
  static final Kernel FULL_CE_ROW_SOFTMAX =
      Kernel.of(
          "full_ce_row_softmax_kernel",
          INT,
          INT,
          DOUBLE,
          FLOAT_PTR,
          CONST_INT_PTR,
          FLOAT_PTR,
          DOUBLE_PTR,
          FLOAT_PTR);
  static final Kernel FULL_CE_SCATTER_ATOMIC =
      Kernel.of(
          "full_ce_scatter_atomic_kernel",
          INT,
          INT,
          INT,
          INT,
          FLOAT_PTR,
          CONST_FLOAT_PTR,
          CONST_UCHAR_PTR);
  static final Kernel FULL_CE_SCATTER_ORDERED =
      Kernel.of(
          "full_ce_scatter_ordered_kernel",
          INT,
          INT,
          INT,
          INT,
          INT,
          FLOAT_PTR,
          CONST_FLOAT_PTR,
          CONST_UCHAR_PTR);
  static final Kernel FULL_CE_LOOKUP_LSE =
      Kernel.of(
          "full_ce_lookup_lse_kernel",
          INT,
          INT,
          INT,
          INT,
          INT,
          CONST_FLOAT_PTR,
          CONST_UCHAR_PTR,
          CONST_INT_PTR,
          FLOAT_PTR,
          DOUBLE_PTR,
          FLOAT_PTR);
  static final Kernel FULL_CE_LOOKUP_GRAD_ATOMIC =
      Kernel.of(
          "full_ce_lookup_grad_atomic_kernel",
          INT,
          INT,
          INT,
          INT,
          INT,
          DOUBLE,
          CONST_FLOAT_PTR,
          CONST_UCHAR_PTR,
          CONST_INT_PTR,
          CONST_FLOAT_PTR,
          FLOAT_PTR);
  static final Kernel FULL_CE_LOOKUP_GRAD_FIXED =
      Kernel.of(
          "full_ce_lookup_grad_fixed_kernel",
          INT,
          INT,
          INT,
          INT,
          INT,
          DOUBLE,
          CONST_FLOAT_PTR,
          CONST_UCHAR_PTR,
          CONST_INT_PTR,
          CONST_FLOAT_PTR,
          FLOAT_PTR);
  static final Kernel FULL_CE_LOOKUP_MERGE =
      Kernel.of("full_ce_lookup_merge_kernel", INT, INT, INT, DOUBLE, CONST_FLOAT_PTR, FLOAT_PTR);

  /** Every kernel above, in order. */
  static final List<Kernel> ALL =
      List.of(
          FULL_CE_GATHER_ROWS,
          FULL_CE_SPREAD_ROWS,
          FULL_CE_FINISH,
          FULL_CE_DECODE,
          FULL_CE_TILE_LSE,
          FULL_CE_TILE_GRAD,
          FULL_CE_ROW_SOFTMAX,
          FULL_CE_SCATTER_ATOMIC,
          FULL_CE_SCATTER_ORDERED,
          FULL_CE_LOOKUP_LSE,
          FULL_CE_LOOKUP_GRAD_ATOMIC,
          FULL_CE_LOOKUP_GRAD_FIXED,
          FULL_CE_LOOKUP_MERGE);
}
