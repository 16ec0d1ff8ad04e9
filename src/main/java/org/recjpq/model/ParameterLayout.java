package org.recjpq.model;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.IntFunction;
import java.util.function.Supplier;
import org.recjpq.backend.Buf;

/**
 * The table of a flat parameter buffer (docs/architecture.md §4): every tensor's name, shape and
 * offset, in order, tiling {@code [0, size())} exactly. Parameters, gradients and Adam's two
 * moments are four buffers of the same layout, so the optimizer is one call, zero-grad one fill,
 * and a checkpoint is a header plus buffers.
 *
 * <p>A model declares each of its tensors once, with {@link #add}, and keeps the returned entry as
 * the tensor's handle: its views of the parameter and gradient buffers, its checkpoint section and
 * its initialisation all follow from the entry.
 */
public final class ParameterLayout {
  /** One tensor of the layout: the {@code index}-th added. */
  public record Entry(String name, int[] shape, long offset, long size, int index) {
    @Override
    public String toString() {
      return name + Arrays.toString(shape) + "@" + offset;
    }
  }

  private final List<Entry> entries = new ArrayList<>();
  private final Map<String, Entry> byName = new LinkedHashMap<>();
  private long size;
  private String prefix = "";

  /**
   * Runs {@code declare} with every name it {@link #add}s prefixed by {@code prefix} (a block's
   * tensors: "block0." + "ln1.gamma"), and returns what it returns.
   */
  public <T> T scoped(String prefix, Supplier<T> declare) {
    String outer = this.prefix;
    this.prefix = outer + prefix;
    try {
      return declare.get();
    } finally {
      this.prefix = outer;
    }
  }

  /**
   * {@code n} repeats of {@code declare}, the l-th {@link #scoped} under {@code prefix + l + "."}
   * ("block0.", "block1.", ...).
   */
  public <T> T[] repeated(int n, String prefix, Supplier<T> declare, IntFunction<T[]> array) {
    T[] out = array.apply(n);
    for (int l = 0; l < n; l++) {
      out[l] = scoped(prefix + l + ".", declare);
    }
    return out;
  }

  /** Appends a tensor (its name under the current {@link #scoped} prefix) and returns its entry. */
  public Entry add(String localName, int... shape) {
    String name = prefix + localName;
    if (byName.containsKey(name)) {
      throw new IllegalArgumentException("duplicate parameter " + name);
    }
    long n = 1;
    for (int d : shape) {
      if (d <= 0) {
        throw new IllegalArgumentException(
            name + " has a non-positive dimension: " + Arrays.toString(shape));
      }
      n = Math.multiplyExact(n, d);
    }
    Entry e = new Entry(name, shape.clone(), size, n, entries.size());
    entries.add(e);
    byName.put(name, e);
    size += n;
    return e;
  }

  /** Total number of floats. */
  public long size() {
    return size;
  }

  public List<Entry> entries() {
    return Collections.unmodifiableList(entries);
  }

  public Entry entry(String name) {
    Entry e = byName.get(name);
    if (e == null) {
      throw new IllegalArgumentException("no parameter " + name + " in " + byName.keySet());
    }
    return e;
  }

  /** The tensor {@code name}, or null where the layout has none. */
  public Entry find(String name) {
    return byName.get(name);
  }

  /** The tensor {@code name} as a view of {@code flat} (a buffer of this layout). */
  public Buf view(Buf flat, String name) {
    return view(flat, entry(name));
  }

  /** The tensor {@code e} as a view of {@code flat}. */
  public static Buf view(Buf flat, Entry e) {
    return flat.slice(e.offset(), e.size());
  }

  /** Largest single tensor, in floats. */
  public long largestTensor() {
    return entries.stream().mapToLong(Entry::size).max().orElse(0);
  }
}
