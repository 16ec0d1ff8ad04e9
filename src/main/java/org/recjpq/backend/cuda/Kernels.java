package org.recjpq.backend.cuda;

import static org.recjpq.backend.cuda.Kernel.CType.CONST_FLOAT_PTR;
import static org.recjpq.backend.cuda.Kernel.CType.CONST_INT_PTR;
import static org.recjpq.backend.cuda.Kernel.CType.CONST_UCHAR_PTR;
import static org.recjpq.backend.cuda.Kernel.CType.DOUBLE;
import static org.recjpq.backend.cuda.Kernel.CType.DOUBLE_PTR;
import static org.recjpq.backend.cuda.Kernel.CType.FLOAT;
import static org.recjpq.backend.cuda.Kernel.CType.FLOAT_PTR;
import static org.recjpq.backend.cuda.Kernel.CType.INT;
import static org.recjpq.backend.cuda.Kernel.CType.INT_PTR;
import static org.recjpq.backend.cuda.Kernel.CType.LONG_LONG;
import static org.recjpq.backend.cuda.Kernel.CType.UNSIGNED_LONG_LONG;

import java.util.List;
import java.util.stream.Stream;

/**
 * The signature of every kernel in {@code cuda/*.cu}, in file and declaration order: the only way
 * the engine launches a kernel (see {@link Kernel}). Those of {@code full_ce.cu} are in {@link
 * FullCrossEntropyKernels}; {@link #ALL} lists them all. {@code KernelSignatureTest} parses the
 * sources and fails unless this list and the {@code extern "C" __global__} declarations agree
 * exactly.
 */
public final class Kernels {
  private Kernels() {}

  // ---- attention.cu
  // -----------------------------------------------------------------------------------
  static final Kernel ATTENTION_SOFTMAX =
      Kernel.of("attention_softmax_kernel", LONG_LONG, INT, INT, INT, FLOAT_PTR, CONST_INT_PTR);
  static final Kernel ATTENTION_SOFTMAX_BACKWARD =
      Kernel.of(
          "attention_softmax_backward_kernel",
          LONG_LONG,
          INT,
          INT,
          INT,
          FLOAT_PTR,
          CONST_FLOAT_PTR,
          CONST_INT_PTR);

  // ---- core.cu
  // ----------------------------------------------------------------------------------------
  static final Kernel SCALE = Kernel.of("scale_kernel", LONG_LONG, FLOAT, FLOAT_PTR);
  static final Kernel ADD =
      Kernel.of("add_kernel", LONG_LONG, FLOAT_PTR, CONST_FLOAT_PTR, CONST_FLOAT_PTR);
  static final Kernel ACTIVATION_FORWARD =
      Kernel.of("activation_forward_kernel", LONG_LONG, INT, FLOAT_PTR, CONST_FLOAT_PTR);
  static final Kernel ACTIVATION_BACKWARD =
      Kernel.of(
          "activation_backward_kernel",
          LONG_LONG,
          INT,
          FLOAT_PTR,
          CONST_FLOAT_PTR,
          CONST_FLOAT_PTR);
  static final Kernel SUM_SQUARES =
      Kernel.of("sum_squares_kernel", LONG_LONG, INT, CONST_FLOAT_PTR, DOUBLE_PTR);
  static final Kernel NON_FINITE =
      Kernel.of("non_finite_kernel", LONG_LONG, CONST_FLOAT_PTR, INT_PTR);
  static final Kernel EMBEDDING_FORWARD =
      Kernel.of("embedding_forward_kernel", INT, INT, FLOAT_PTR, CONST_INT_PTR, CONST_FLOAT_PTR);
  static final Kernel EMBEDDING_BACKWARD_ATOMIC =
      Kernel.of(
          "embedding_backward_atomic_kernel", INT, INT, FLOAT_PTR, CONST_FLOAT_PTR, CONST_INT_PTR);
  static final Kernel EMBEDDING_BACKWARD_ORDERED =
      Kernel.of(
          "embedding_backward_ordered_kernel", INT, INT, FLOAT_PTR, CONST_FLOAT_PTR, CONST_INT_PTR);
  static final Kernel JPQ_EMBEDDING_FORWARD =
      Kernel.of(
          "jpq_embedding_forward_kernel",
          INT,
          INT,
          INT,
          FLOAT_PTR,
          CONST_INT_PTR,
          CONST_UCHAR_PTR,
          CONST_FLOAT_PTR);
  static final Kernel JPQ_EMBEDDING_BACKWARD_ATOMIC =
      Kernel.of(
          "jpq_embedding_backward_atomic_kernel",
          INT,
          INT,
          INT,
          FLOAT_PTR,
          CONST_FLOAT_PTR,
          CONST_INT_PTR,
          CONST_UCHAR_PTR);
  static final Kernel JPQ_EMBEDDING_BACKWARD_ORDERED =
      Kernel.of(
          "jpq_embedding_backward_ordered_kernel",
          INT,
          INT,
          INT,
          FLOAT_PTR,
          CONST_FLOAT_PTR,
          CONST_INT_PTR,
          CONST_UCHAR_PTR);
  static final Kernel POSITIONS_FORWARD =
      Kernel.of(
          "positions_forward_kernel",
          INT,
          INT,
          INT,
          FLOAT,
          FLOAT_PTR,
          CONST_FLOAT_PTR,
          CONST_INT_PTR,
          CONST_FLOAT_PTR);
  static final Kernel POSITIONS_BACKWARD_INPUT =
      Kernel.of(
          "positions_backward_input_kernel",
          INT,
          INT,
          INT,
          FLOAT,
          FLOAT_PTR,
          CONST_FLOAT_PTR,
          CONST_INT_PTR);
  static final Kernel POSITIONS_BACKWARD_TABLE =
      Kernel.of(
          "positions_backward_table_kernel",
          INT,
          INT,
          INT,
          FLOAT_PTR,
          CONST_FLOAT_PTR,
          CONST_INT_PTR);
  static final Kernel MAP_IDS = Kernel.of("map_ids_kernel", INT, INT, INT, INT_PTR, CONST_INT_PTR);
  static final Kernel ADD_TOKEN_VECTOR =
      Kernel.of(
          "add_token_vector_kernel", INT, INT, INT, FLOAT_PTR, CONST_INT_PTR, CONST_FLOAT_PTR);
  static final Kernel ADD_TOKEN_VECTOR_BACKWARD =
      Kernel.of(
          "add_token_vector_backward_kernel",
          INT,
          INT,
          INT,
          FLOAT_PTR,
          CONST_FLOAT_PTR,
          CONST_INT_PTR);
  static final Kernel MASK_PAD_ROWS =
      Kernel.of("mask_pad_rows_kernel", INT, INT, FLOAT_PTR, CONST_INT_PTR);
  static final Kernel LAYER_NORM_FORWARD =
      Kernel.of(
          "layer_norm_forward_kernel",
          INT,
          INT,
          FLOAT,
          FLOAT_PTR,
          FLOAT_PTR,
          FLOAT_PTR,
          CONST_FLOAT_PTR,
          CONST_FLOAT_PTR,
          CONST_FLOAT_PTR);
  static final Kernel LAYER_NORM_BACKWARD_INPUT =
      Kernel.of(
          "layer_norm_backward_input_kernel",
          INT,
          INT,
          FLOAT_PTR,
          CONST_FLOAT_PTR,
          CONST_FLOAT_PTR,
          CONST_FLOAT_PTR,
          CONST_FLOAT_PTR,
          CONST_FLOAT_PTR);
  static final Kernel LAYER_NORM_BACKWARD_PARTIALS =
      Kernel.of(
          "layer_norm_backward_partials_kernel",
          INT,
          INT,
          INT,
          FLOAT_PTR,
          CONST_FLOAT_PTR,
          CONST_FLOAT_PTR,
          CONST_FLOAT_PTR,
          CONST_FLOAT_PTR);
  static final Kernel LAYER_NORM_BACKWARD_FINISH =
      Kernel.of(
          "layer_norm_backward_finish_kernel", INT, INT, FLOAT_PTR, FLOAT_PTR, CONST_FLOAT_PTR);
  static final Kernel BROADCAST_ROWS =
      Kernel.of("broadcast_rows_kernel", INT, INT, FLOAT_PTR, CONST_FLOAT_PTR);
  static final Kernel COLUMN_SUMS_PARTIALS =
      Kernel.of("column_sums_partials_kernel", INT, INT, INT, FLOAT_PTR, CONST_FLOAT_PTR);
  static final Kernel COLUMN_SUMS_FINISH =
      Kernel.of("column_sums_finish_kernel", INT, INT, FLOAT_PTR, CONST_FLOAT_PTR);
  static final Kernel DROPOUT =
      Kernel.of(
          "dropout_kernel",
          LONG_LONG,
          UNSIGNED_LONG_LONG,
          LONG_LONG,
          FLOAT,
          FLOAT_PTR,
          CONST_FLOAT_PTR);
  static final Kernel ADAM =
      Kernel.of(
          "adam_kernel",
          LONG_LONG,
          FLOAT,
          FLOAT,
          FLOAT,
          FLOAT,
          FLOAT,
          DOUBLE,
          DOUBLE,
          FLOAT_PTR,
          CONST_FLOAT_PTR,
          FLOAT_PTR,
          FLOAT_PTR);

  // ---- gru.cu
  // -----------------------------------------------------------------------------------------
  static final Kernel GRU_FORWARD_STEP =
      Kernel.of(
          "gru_forward_step_kernel",
          INT,
          INT,
          INT,
          INT,
          CONST_FLOAT_PTR,
          CONST_FLOAT_PTR,
          CONST_FLOAT_PTR,
          CONST_FLOAT_PTR,
          CONST_INT_PTR,
          FLOAT_PTR,
          FLOAT_PTR);
  static final Kernel GRU_BACKWARD_STEP =
      Kernel.of(
          "gru_backward_step_kernel",
          INT,
          INT,
          INT,
          INT,
          CONST_FLOAT_PTR,
          CONST_FLOAT_PTR,
          CONST_FLOAT_PTR,
          CONST_INT_PTR,
          FLOAT_PTR,
          FLOAT_PTR,
          FLOAT_PTR,
          FLOAT_PTR);

  // ---- losses.cu
  // --------------------------------------------------------------------------------------
  static final Kernel LOSS_SAMPLED_SCORES =
      Kernel.of(
          "loss_sampled_scores_kernel",
          INT,
          INT,
          INT,
          INT,
          INT,
          FLOAT_PTR,
          CONST_FLOAT_PTR,
          CONST_INT_PTR,
          CONST_INT_PTR,
          CONST_FLOAT_PTR,
          CONST_UCHAR_PTR);
  static final Kernel LOSS_SAMPLED_SCORES_DH =
      Kernel.of(
          "loss_sampled_scores_dh_kernel",
          INT,
          INT,
          INT,
          INT,
          INT,
          FLOAT_PTR,
          CONST_FLOAT_PTR,
          CONST_INT_PTR,
          CONST_INT_PTR,
          CONST_FLOAT_PTR,
          CONST_UCHAR_PTR);
  static final Kernel LOSS_SAMPLED_SCORES_DTABLE_ATOMIC =
      Kernel.of(
          "loss_sampled_scores_dtable_atomic_kernel",
          INT,
          INT,
          INT,
          INT,
          INT,
          FLOAT_PTR,
          CONST_FLOAT_PTR,
          CONST_FLOAT_PTR,
          CONST_INT_PTR,
          CONST_INT_PTR,
          CONST_UCHAR_PTR);
  static final Kernel LOSS_SAMPLED_SCORES_DTABLE_ORDERED =
      Kernel.of(
          "loss_sampled_scores_dtable_ordered_kernel",
          INT,
          INT,
          INT,
          INT,
          INT,
          INT,
          FLOAT_PTR,
          CONST_FLOAT_PTR,
          CONST_FLOAT_PTR,
          CONST_INT_PTR,
          CONST_INT_PTR,
          CONST_UCHAR_PTR);
  static final Kernel LOSS_BCE =
      Kernel.of(
          "loss_bce_kernel",
          INT,
          INT,
          FLOAT,
          DOUBLE,
          FLOAT_PTR,
          DOUBLE_PTR,
          CONST_FLOAT_PTR,
          CONST_INT_PTR);
  static final Kernel LOSS_SAMPLED_SOFTMAX =
      Kernel.of(
          "loss_sampled_softmax_kernel",
          INT,
          INT,
          DOUBLE,
          FLOAT_PTR,
          DOUBLE_PTR,
          CONST_FLOAT_PTR,
          CONST_FLOAT_PTR,
          CONST_INT_PTR);

  // ---- probe.cu
  // ---------------------------------------------------------------------------------------
  public static final Kernel SAXPY_PROBE =
      Kernel.of("saxpy_probe_kernel", INT, FLOAT, CONST_FLOAT_PTR, FLOAT_PTR);

  // ---- topk.cu
  // ----------------------------------------------------------------------------------------
  static final Kernel TOPK_SELECT =
      Kernel.of("topk_select_kernel", INT, INT, CONST_FLOAT_PTR, CONST_INT_PTR, FLOAT_PTR);
  static final Kernel TOPK_COLLECT =
      Kernel.of(
          "topk_collect_kernel",
          INT,
          INT,
          INT,
          CONST_FLOAT_PTR,
          CONST_INT_PTR,
          CONST_FLOAT_PTR,
          CONST_FLOAT_PTR,
          INT,
          INT_PTR,
          INT_PTR);

  /** Every kernel above, in order. */
  static final List<Kernel> ALL =
      Stream.of(
              List.of(
                  ATTENTION_SOFTMAX,
                  ATTENTION_SOFTMAX_BACKWARD,
                  SCALE,
                  ADD,
                  ACTIVATION_FORWARD,
                  ACTIVATION_BACKWARD,
                  SUM_SQUARES,
                  NON_FINITE,
                  EMBEDDING_FORWARD,
                  EMBEDDING_BACKWARD_ATOMIC,
                  EMBEDDING_BACKWARD_ORDERED,
                  JPQ_EMBEDDING_FORWARD,
                  JPQ_EMBEDDING_BACKWARD_ATOMIC,
                  JPQ_EMBEDDING_BACKWARD_ORDERED,
                  POSITIONS_FORWARD,
                  POSITIONS_BACKWARD_INPUT,
                  POSITIONS_BACKWARD_TABLE,
                  MAP_IDS,
                  ADD_TOKEN_VECTOR,
                  ADD_TOKEN_VECTOR_BACKWARD,
                  MASK_PAD_ROWS,
                  LAYER_NORM_FORWARD,
                  LAYER_NORM_BACKWARD_INPUT,
                  LAYER_NORM_BACKWARD_PARTIALS,
                  LAYER_NORM_BACKWARD_FINISH,
                  BROADCAST_ROWS,
                  COLUMN_SUMS_PARTIALS,
                  COLUMN_SUMS_FINISH,
                  DROPOUT,
                  ADAM),
              FullCrossEntropyKernels.ALL,
              List.of(
                  GRU_FORWARD_STEP,
                  GRU_BACKWARD_STEP,
                  LOSS_SAMPLED_SCORES,
                  LOSS_SAMPLED_SCORES_DH,
                  LOSS_SAMPLED_SCORES_DTABLE_ATOMIC,
                  LOSS_SAMPLED_SCORES_DTABLE_ORDERED,
                  LOSS_BCE,
                  LOSS_SAMPLED_SOFTMAX,
                  SAXPY_PROBE,
                  TOPK_SELECT,
                  TOPK_COLLECT))
          .flatMap(List::stream)
          .toList();
}
