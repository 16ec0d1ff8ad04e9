package org.recjpq.data;

import java.nio.file.Path;
import java.util.Arrays;

/**
 * Raw interactions as read from a file, before filtering and ordering: parallel primitive arrays of
 * user code, item code and time, where codes number distinct external ids in order of first
 * appearance. Time is absent for formats whose order is the line order (then file order is time).
 */
public final class InteractionLog {
  final IdTable users;
  final IdTable items;
  final int[] user;
  final int[] item;
  final long[] time; // null: file order is time order
  final int size;
  private final Path source;
  private final Format format;

  private InteractionLog(Builder b) {
    this.users = b.users;
    this.items = b.items;
    this.user = b.user;
    this.item = b.item;
    this.time = b.time;
    this.size = b.size;
    this.source = b.source;
    this.format = b.format;
  }

  /** Number of interactions read. */
  public int size() {
    return size;
  }

  /** Number of distinct users read. */
  public int numUsers() {
    return users.size();
  }

  /** Number of distinct items read. */
  public int numItems() {
    return items.size();
  }

  /** Whether interactions carry timestamps (otherwise file order is time order). */
  public boolean timed() {
    return time != null;
  }

  public Path source() {
    return source;
  }

  public Format format() {
    return format;
  }

  /** Collects interactions; readers call {@link #add} once per interaction in file order. */
  public static final class Builder {
    private final IdTable users;
    private final IdTable items;
    private final Path source;
    private final Format format;
    private int[] user = new int[1 << 12];
    private int[] item = new int[1 << 12];
    private long[] time;
    private int size;

    /**
     * @param numericUsers user ids are integers (validated by the reader)
     * @param numericItems item ids are integers (validated by the reader)
     * @param timed whether {@link #add} receives real timestamps
     */
    public Builder(
        Path source, Format format, boolean numericUsers, boolean numericItems, boolean timed) {
      this.source = source;
      this.format = format;
      this.users = numericUsers ? new IdTable.Numeric() : new IdTable.Text();
      this.items = numericItems ? new IdTable.Numeric() : new IdTable.Text();
      this.time = timed ? new long[1 << 12] : null;
    }

    public int userCode(long id) {
      return users.code(id);
    }

    public int userCode(String id) {
      return users.code(id);
    }

    public int itemCode(long id) {
      return items.code(id);
    }

    public int itemCode(String id) {
      return items.code(id);
    }

    /** Adds one interaction; {@code t} is ignored for untimed logs. */
    public void add(int userCode, int itemCode, long t) {
      if (size == user.length) {
        if (size == Integer.MAX_VALUE - 8) {
          throw new org.recjpq.RecjpqException(
              source + " has more than " + size + " interactions, more than one dataset can hold.");
        }
        int n = (int) Math.min(Integer.MAX_VALUE - 8L, size * 2L);
        user = Arrays.copyOf(user, n);
        item = Arrays.copyOf(item, n);
        if (time != null) {
          time = Arrays.copyOf(time, n);
        }
      }
      user[size] = userCode;
      item[size] = itemCode;
      if (time != null) {
        time[size] = t;
      }
      size++;
    }

    public int size() {
      return size;
    }

    public InteractionLog build() {
      return new InteractionLog(this);
    }
  }
}
