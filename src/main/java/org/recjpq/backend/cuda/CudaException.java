package org.recjpq.backend.cuda;

import jcuda.driver.CUresult;
import jcuda.driver.JCudaDriver;

/**
 * A CUDA, cuBLAS or cuDNN call returned an error status. The message names the call (with its
 * shapes where they matter), the status's symbolic name and number, and the library's own text.
 */
public final class CudaException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  private final String call;
  private final int status;

  /**
   * Creates an exception for a failed call.
   *
   * @param call the call as written in code, with its key arguments, e.g. {@code cuMemAlloc(4096
   *     bytes)}
   * @param status the numeric status the call returned
   * @param statusText the status's symbolic name and description
   */
  public CudaException(String call, int status, String statusText) {
    super(call + " failed with " + statusText + ".");
    this.call = call;
    this.status = status;
  }

  /** The call that failed, with its key arguments. */
  public String call() {
    return call;
  }

  /** The numeric status (a {@code CUresult}, {@code cublasStatus_t} or {@code cudnnStatus_t}). */
  public int status() {
    return status;
  }

  /** Throws unless {@code result} is {@code CUDA_SUCCESS}. */
  static void check(int result, String call) {
    if (result != CUresult.CUDA_SUCCESS) {
      throw new CudaException(call, result, driverErrorText(result));
    }
  }

  /** "CUDA_ERROR_NO_DEVICE (100: no CUDA-capable device is detected)", robust to any failure. */
  static String driverErrorText(int result) {
    String name;
    try {
      name = CUresult.stringFor(result);
    } catch (RuntimeException e) {
      name = "CUresult";
    }
    String description = null;
    try {
      String[] text = new String[1];
      if (JCudaDriver.cuGetErrorString(result, text) == CUresult.CUDA_SUCCESS) {
        description = text[0];
      }
    } catch (RuntimeException | LinkageError e) {
      description = null;
    }
    return name + " (" + result + (description == null ? "" : ": " + description) + ")";
  }
}
