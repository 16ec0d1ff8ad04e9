/**
 * The CUDA engine's safe native layer (docs/architecture.md §6): the only package that imports
 * JCuda and Bytedeco CUDA classes.
 *
 * <ul>
 *   <li>{@link org.recjpq.backend.cuda.CudaAvailability}: whether a GPU, its driver and the kernels
 *       are there, and the exact reason when not; never throws, never hangs.
 *   <li>{@link org.recjpq.backend.cuda.CudaContext}: owns a retained <em>primary</em> context, so
 *       that kernels launched through JCuda's driver API and the runtime-API libraries (cuBLAS,
 *       cuDNN through Bytedeco) share one context.
 *   <li>{@link org.recjpq.backend.cuda.CudaModule}: the kernels' fatbin (built by CMake + nvcc,
 *       packaged as a classpath resource) loaded with {@code cuModuleLoadData}; launches of a
 *       {@link org.recjpq.backend.cuda.Kernel} signature (all of them in {@code Kernels}, checked
 *       against {@code cuda/*.cu}), arguments checked before the launch ({@link
 *       org.recjpq.backend.cuda.DevicePointer} for typed addresses).
 *   <li>{@link org.recjpq.backend.cuda.DeviceBuffer}: one device allocation, owned once.
 *   <li>{@link org.recjpq.backend.cuda.AddressBridge}: raw device addresses of JCuda pointers as
 *       Bytedeco pointers, with explicit byte offsets.
 *   <li>{@link org.recjpq.backend.cuda.CublasHandle}: a cuBLAS handle with row-major SGEMM.
 *   <li>{@link org.recjpq.backend.cuda.probe.DeviceCheck}: the toolchain probe run on a GPU
 *       machine.
 *   <li>{@link org.recjpq.backend.cuda.CudaEmulator}: loads the CUDA emulator ({@code
 *       cuda-emulator/}) in place of the driver and the CUDA libraries when selected with {@code
 *       -Drecjpq.cuda=emulator}, so that all of the above runs on the CPU for correctness tests.
 * </ul>
 *
 * <p>Every native handle is an {@link java.lang.AutoCloseable} owned exactly once; every CUDA,
 * cuBLAS and cuDNN status is checked and turned into a {@link
 * org.recjpq.backend.cuda.CudaException} naming the call. Setting the system property {@code
 * recjpq.cuda.sync=true} (or the environment variable {@code RECJPQ_CUDA_SYNC=1}) synchronises
 * after every kernel launch so an asynchronous fault is reported at the launch that caused it.
 *
 * <p>Why Bytedeco for cuBLAS/cuDNN and not JCublas: JCublas 12.6 links {@code libcublas.so.12} and
 * cannot load on a CUDA 13 system, while Bytedeco's {@code org.bytedeco:cuda} 13.x preset links
 * {@code libcublas.so.13}. JCuda's driver binding ({@code libJCudaDriver}) only needs {@code
 * libcuda.so.1}, which CUDA 13 drivers still provide with the entry points it uses.
 */
package org.recjpq.backend.cuda;
