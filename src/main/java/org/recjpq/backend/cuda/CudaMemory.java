package org.recjpq.backend.cuda;

import static jcuda.driver.JCudaDriver.cuMemcpyDtoD;
import static jcuda.driver.JCudaDriver.cuMemcpyDtoH;
import static jcuda.driver.JCudaDriver.cuMemcpyHtoD;
import static jcuda.driver.JCudaDriver.cuMemsetD32;
import static jcuda.driver.JCudaDriver.cuMemsetD8;

import java.lang.ref.PhantomReference;
import java.lang.ref.Reference;
import java.lang.ref.ReferenceQueue;
import java.util.HashSet;
import java.util.Set;
import jcuda.Pointer;
import jcuda.driver.CUdeviceptr;
import org.recjpq.backend.Buf;
import org.recjpq.backend.ByteBuf;
import org.recjpq.backend.IntBuf;

/**
 * The device memory of one {@link CudaDevice}: allocations kept alive by their views and freed once
 * collected, host/device copies, fills and the named workspaces.
 */
final class CudaMemory {
  private final CudaDevice ops;
  private final ReferenceQueue<Root> collected = new ReferenceQueue<>();
  private final Set<Allocation> live = new HashSet<>();

  /**
   * The token every view of one allocation holds; when it becomes unreachable the memory is freed.
   */
  static final class Root {
    final CudaDevice ops;
    final DeviceBuffer buffer;
    final long base;

    Root(CudaDevice ops, DeviceBuffer buffer) {
      this.ops = ops;
      this.buffer = buffer;
      this.base = buffer.address();
    }
  }

  private static final class Allocation extends PhantomReference<Root> {
    final DeviceBuffer buffer;

    Allocation(Root root, ReferenceQueue<Root> queue) {
      super(root, queue);
      this.buffer = root.buffer;
    }
  }

  CudaMemory(CudaDevice ops) {
    this.ops = ops;
  }

  private Root allocate(long bytes) {
    ops.bind();
    freeCollected();
    DeviceBuffer buffer = DeviceBuffer.allocate(Math.max(bytes, 4));
    buffer.fill32(0);
    Root root = new Root(ops, buffer);
    live.add(new Allocation(root, collected));
    return root;
  }

  private void freeCollected() {
    Reference<? extends Root> r;
    while ((r = collected.poll()) != null) {
      Allocation a = (Allocation) r;
      live.remove(a);
      a.buffer.close();
    }
  }

  /**
   * Frees every allocation (the context current), returning the first failure instead of throwing
   * it.
   */
  RuntimeException freeAll() {
    RuntimeException first = null;
    for (Allocation a : live) {
      try {
        a.buffer.close();
      } catch (RuntimeException e) {
        first = first == null ? e : first;
      }
    }
    live.clear();
    return first;
  }

  CudaBuf alloc(long n) {
    Root root = allocate(Math.multiplyExact(n, (long) Float.BYTES));
    return new CudaBuf(root, root.base, n);
  }

  CudaIntBuf allocInts(long n) {
    Root root = allocate(Math.multiplyExact(n, (long) Integer.BYTES));
    return new CudaIntBuf(root, root.base, n);
  }

  CudaByteBuf allocBytes(long n) {
    Root root = allocate(n);
    return new CudaByteBuf(root, root.base, n);
  }

  private static CUdeviceptr at(Root root, long address) {
    return (CUdeviceptr) root.buffer.pointer().withByteOffset(address - root.base);
  }

  /**
   * Host to device: {@code count} elements of {@code bytesEach} from {@code host} into the view at
   * {@code address}.
   */
  private static void toDevice(
      Root root, long address, long size, Pointer host, int count, int bytesEach, String what) {
    sizes(size, count, what);
    if (count > 0) {
      CudaException.check(
          cuMemcpyHtoD(at(root, address), host, (long) count * bytesEach),
          "cuMemcpyHtoD(" + count + " " + what + ")");
    }
  }

  /** Device to host, as {@link #toDevice}. */
  private static void toHost(
      Root root, long address, long size, Pointer host, int count, int bytesEach, String what) {
    sizes(size, count, what);
    if (count > 0) {
      CudaException.check(
          cuMemcpyDtoH(host, at(root, address), (long) count * bytesEach),
          "cuMemcpyDtoH(" + count + " " + what + ")");
    }
  }

  void upload(Buf dst, float[] src) {
    ops.bind();
    CudaBuf d = CudaBuf.of(dst);
    toDevice(d.root, d.address, d.size, Pointer.to(src), src.length, Float.BYTES, "floats");
  }

  void download(float[] dst, Buf src) {
    ops.bind();
    CudaBuf s = CudaBuf.of(src);
    toHost(s.root, s.address, s.size, Pointer.to(dst), dst.length, Float.BYTES, "floats");
  }

  void upload(IntBuf dst, int[] src) {
    ops.bind();
    CudaIntBuf d = CudaIntBuf.of(dst);
    toDevice(d.root, d.address, d.size, Pointer.to(src), src.length, Integer.BYTES, "ints");
  }

  void download(int[] dst, IntBuf src) {
    ops.bind();
    CudaIntBuf s = CudaIntBuf.of(src);
    toHost(s.root, s.address, s.size, Pointer.to(dst), dst.length, Integer.BYTES, "ints");
  }

  void upload(ByteBuf dst, byte[] src) {
    ops.bind();
    CudaByteBuf d = CudaByteBuf.of(dst);
    toDevice(d.root, d.address, d.size, Pointer.to(src), src.length, 1, "bytes");
  }

  void download(byte[] dst, ByteBuf src) {
    ops.bind();
    CudaByteBuf s = CudaByteBuf.of(src);
    toHost(s.root, s.address, s.size, Pointer.to(dst), dst.length, 1, "bytes");
  }

  void fill(Buf x, float value) {
    ops.bind();
    CudaBuf b = CudaBuf.of(x);
    if (b.size > 0) {
      CudaException.check(
          cuMemsetD32(at(b.root, b.address), Float.floatToRawIntBits(value), b.size),
          "cuMemsetD32(" + b.size + " floats)");
    }
  }

  /** Sets {@code n} bytes at {@code x} to zero (helpers' scratch). */
  void zeroBytes(CudaByteBuf x) {
    ops.bind();
    if (x.size > 0) {
      CudaException.check(
          cuMemsetD8(at(x.root, x.address), (byte) 0, x.size), "cuMemsetD8(" + x.size + " bytes)");
    }
  }

  /** Sets every int of {@code x} to {@code value}. */
  void fillInts(CudaIntBuf x, int value) {
    ops.bind();
    if (x.size > 0) {
      CudaException.check(
          cuMemsetD32(at(x.root, x.address), value, x.size), "cuMemsetD32(" + x.size + " ints)");
    }
  }

  void copy(Buf dst, Buf src) {
    ops.bind();
    CudaBuf d = CudaBuf.of(dst);
    CudaBuf s = CudaBuf.of(src);
    CudaBuf.sameSize(d, s);
    if (d.size > 0) {
      CudaException.check(
          cuMemcpyDtoD(at(d.root, d.address), at(s.root, s.address), d.size * 4),
          "cuMemcpyDtoD(" + d.size + " floats)");
    }
  }

  // ---- workspaces ----------------------------------------------------------------------------

  private final java.util.Map<String, CudaBuf> floatWorkspaces = new java.util.HashMap<>();
  private final java.util.Map<String, CudaIntBuf> intWorkspaces = new java.util.HashMap<>();

  /**
   * The float workspace {@code name}, at least {@code n} elements, kept between calls and grown
   * when too small (contents are not preserved when it grows). Each op family uses its own names,
   * so one op's workspace is never another's; all work is on one stream, so reuse across calls is
   * safe.
   */
  CudaBuf workspace(String name, long n) {
    CudaBuf b = floatWorkspaces.get(name);
    if (b == null || b.size < n) {
      b = alloc(Math.max(n, 1024));
      floatWorkspaces.put(name, b);
    }
    return b.slice(0, n);
  }

  /** The int workspace {@code name}, as {@link #workspace}. */
  CudaIntBuf workspaceInts(String name, long n) {
    CudaIntBuf b = intWorkspaces.get(name);
    if (b == null || b.size < n) {
      b = allocInts(Math.max(n, 1024));
      intWorkspaces.put(name, b);
    }
    return b.slice(0, n);
  }

  private static void sizes(long bufSize, int arrayLength, String what) {
    if (bufSize != arrayLength) {
      throw new IllegalArgumentException(
          "expected " + bufSize + " " + what + ", got " + arrayLength);
    }
  }
}
