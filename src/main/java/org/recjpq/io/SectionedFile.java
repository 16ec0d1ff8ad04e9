package org.recjpq.io;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.BufferedOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.zip.CRC32;
import org.recjpq.RecjpqException;
import org.recjpq.util.Excerpt;

/**
 * The container format of every binary file recjpq writes (dataset cache, codes, checkpoints).
 *
 * <pre>
 * magic          8 bytes ASCII, names the kind of file ("RJPQDATA", "RJPQCODE", ...)
 * version        int32     format version of that kind
 * header length  int32     then the header: UTF-8 JSON (config, sizes, provenance)
 * header crc32   int32
 * sections       repeated until end of file:
 *   name length  int16, name UTF-8
 *   byte length  int64, then the bytes (numbers little-endian)
 *   crc32        int32 of the bytes
 * </pre>
 *
 * <p>Frame integers are big-endian (DataOutputStream); section payloads are little-endian so they
 * map straight onto x86 memory. Writes go to a temporary file in the target directory and are
 * renamed over the target only by {@link Writer#commit()}: a failed or interrupted write never
 * leaves a half-written file under the real name. Reading validates magic, version, every length
 * and every checksum, and says what is wrong and what to do.
 */
public final class SectionedFile {
  private static final ObjectMapper JSON = new ObjectMapper();
  static final int MAGIC_LENGTH = 8;

  private SectionedFile() {}

  /** Writes a file section by section into a temporary file; {@link #commit()} publishes it. */
  public static final class Writer implements AutoCloseable {
    private final Path target;
    private final Path temp;
    private final DataOutputStream out;
    private boolean committed;

    public Writer(Path target, String magic, int version, JsonNode header) {
      checkMagic(magic);
      this.target = target.toAbsolutePath();
      Path dir = this.target.getParent();
      try {
        this.temp = AtomicFiles.newTemp(this.target);
        this.out =
            new DataOutputStream(new BufferedOutputStream(Files.newOutputStream(temp), 1 << 20));
        out.write(magic.getBytes(StandardCharsets.US_ASCII));
        out.writeInt(version);
        byte[] json = JSON.writeValueAsBytes(header);
        out.writeInt(json.length);
        out.write(json);
        out.writeInt(crc(json, 0, json.length));
      } catch (IOException e) {
        throw new RecjpqException("Cannot write " + target + ": " + e.getMessage(), e);
      }
    }

    /** Writes a section of raw bytes. */
    public void bytes(String name, byte[] data) {
      begin(name, data.length);
      try {
        out.write(data);
        out.writeInt(crc(data, 0, data.length));
      } catch (IOException e) {
        throw failure(e);
      }
    }

    /** Writes a section of little-endian int32 values. */
    public void ints(String name, int[] values) {
      ints(name, values, 0, values.length);
    }

    /** Writes {@code count} little-endian int32 values starting at {@code from}. */
    public void ints(String name, int[] values, int from, int count) {
      begin(name, 4L * count);
      ByteBuffer buf = ByteBuffer.allocate(1 << 16).order(ByteOrder.LITTLE_ENDIAN);
      CRC32 crc = new CRC32();
      for (int i = from; i < from + count; ) {
        buf.clear();
        while (buf.remaining() >= 4 && i < from + count) {
          buf.putInt(values[i++]);
        }
        flush(buf, crc);
      }
      finishCrc(crc);
    }

    /** Writes a section of little-endian int64 values. */
    public void longs(String name, long[] values) {
      begin(name, 8L * values.length);
      ByteBuffer buf = ByteBuffer.allocate(1 << 16).order(ByteOrder.LITTLE_ENDIAN);
      CRC32 crc = new CRC32();
      for (int i = 0; i < values.length; ) {
        buf.clear();
        while (buf.remaining() >= 8 && i < values.length) {
          buf.putLong(values[i++]);
        }
        flush(buf, crc);
      }
      finishCrc(crc);
    }

    /** Writes a section of little-endian float32 values. */
    public void floats(String name, float[] values) {
      begin(name, 4L * values.length);
      ByteBuffer buf = ByteBuffer.allocate(1 << 16).order(ByteOrder.LITTLE_ENDIAN);
      CRC32 crc = new CRC32();
      for (int i = 0; i < values.length; ) {
        buf.clear();
        while (buf.remaining() >= 4 && i < values.length) {
          buf.putFloat(values[i++]);
        }
        flush(buf, crc);
      }
      finishCrc(crc);
    }

    /** Writes a section of strings: each an int32 byte length then its UTF-8 bytes. */
    public void strings(String name, String[] values) {
      byte[][] encoded = new byte[values.length][];
      long length = 0;
      for (int i = 0; i < values.length; i++) {
        encoded[i] = values[i].getBytes(StandardCharsets.UTF_8);
        length += 4 + encoded[i].length;
      }
      begin(name, length);
      CRC32 crc = new CRC32();
      ByteBuffer len = ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN);
      try {
        for (byte[] e : encoded) {
          len.clear();
          len.putInt(e.length);
          out.write(len.array());
          crc.update(len.array());
          out.write(e);
          crc.update(e);
        }
      } catch (IOException e) {
        throw failure(e);
      }
      finishCrc(crc);
    }

    private void begin(String name, long byteLength) {
      byte[] n = name.getBytes(StandardCharsets.UTF_8);
      try {
        out.writeShort(n.length);
        out.write(n);
        out.writeLong(byteLength);
      } catch (IOException e) {
        throw failure(e);
      }
    }

    private void flush(ByteBuffer buf, CRC32 crc) {
      try {
        out.write(buf.array(), 0, buf.position());
      } catch (IOException e) {
        throw failure(e);
      }
      crc.update(buf.array(), 0, buf.position());
    }

    private void finishCrc(CRC32 crc) {
      try {
        out.writeInt((int) crc.getValue());
      } catch (IOException e) {
        throw failure(e);
      }
    }

    private RecjpqException failure(IOException e) {
      return new RecjpqException("Cannot write " + target + ": " + e.getMessage(), e);
    }

    /** Flushes, forces to disk and atomically renames the temporary file onto the target. */
    public void commit() {
      try {
        out.close();
        try (FileChannel ch = FileChannel.open(temp, StandardOpenOption.WRITE)) {
          ch.force(true);
        }
        AtomicFiles.moveAtomically(temp, target);
        committed = true;
      } catch (IOException e) {
        throw failure(e);
      }
    }

    /** Discards the temporary file unless {@link #commit()} succeeded. */
    @Override
    public void close() {
      if (!committed) {
        try {
          out.close();
        } catch (IOException ignored) {
          // the write already failed; the temporary file is removed below
        }
        AtomicFiles.deleteQuietly(temp);
      }
    }
  }

  /** Reads and validates a file; sections are checked against their CRC32 when read. */
  public static final class Reader implements AutoCloseable {
    private final Path path;
    private final String what;
    private final FileChannel channel;
    private final int version;
    private final JsonNode header;
    private final String hint;
    private final Map<String, long[]> sections =
        new LinkedHashMap<>(); // name -> {offset, length, crc}

    /**
     * Opens {@code path}, checks the magic and that the version is in [1, maxVersion].
     *
     * @param what what the file should be, for messages ("a recjpq dataset file")
     * @param hint what to do when the file is unusable ("re-create it with 'recjpq prepare'")
     */
    public Reader(Path path, String magic, int maxVersion, String what, String hint) {
      checkMagic(magic);
      this.path = path;
      this.what = what;
      this.hint = hint;
      try {
        this.channel = FileChannel.open(path, StandardOpenOption.READ);
      } catch (NoSuchFileException e) {
        throw new RecjpqException("Cannot read " + path + ": no such file.");
      } catch (IOException e) {
        throw new RecjpqException("Cannot read " + path + ": " + e.getMessage(), e);
      }
      try {
        long size = channel.size();
        ByteBuffer head = read(0, Math.min(size, MAGIC_LENGTH + 8));
        if (size < MAGIC_LENGTH + 8) {
          throw damaged("it is only " + size + " bytes long, too short for " + what, hint);
        }
        byte[] m = new byte[MAGIC_LENGTH];
        head.get(m);
        String found = new String(m, StandardCharsets.ISO_8859_1);
        if (!found.equals(magic)) {
          throw new RecjpqException(
              path
                  + " is not "
                  + what
                  + " (it starts with "
                  + printable(found)
                  + ", expected "
                  + magic
                  + "). "
                  + hint);
        }
        version = head.getInt();
        if (version < 1 || version > maxVersion) {
          throw new RecjpqException(
              path
                  + " has format version "
                  + version
                  + " but this recjpq reads versions 1 to "
                  + maxVersion
                  + ". Use a recjpq that matches the file, or "
                  + hint);
        }
        int headerLength = head.getInt();
        long pos = MAGIC_LENGTH + 8;
        if (headerLength < 0 || pos + headerLength + 4 > size) {
          throw damaged("it is truncated inside its header", hint);
        }
        ByteBuffer hb = read(pos, headerLength + 4);
        byte[] json = new byte[headerLength];
        hb.get(json);
        if (crc(json, 0, json.length) != hb.getInt()) {
          throw damaged("its header checksum does not match", hint);
        }
        header = JSON.readTree(json);
        pos += headerLength + 4;
        while (pos < size) {
          if (pos + 2 > size) {
            throw damaged("it is truncated after offset " + pos, hint);
          }
          int nameLength = Short.toUnsignedInt(read(pos, 2).getShort());
          if (pos + 2 + nameLength + 8 > size) {
            throw damaged("it is truncated inside a section header at offset " + pos, hint);
          }
          ByteBuffer sh = read(pos + 2, nameLength + 8);
          byte[] nb = new byte[nameLength];
          sh.get(nb);
          String name = new String(nb, StandardCharsets.UTF_8);
          long length = sh.getLong();
          long dataStart = pos + 2 + nameLength + 8;
          if (length < 0
              || length > size - dataStart - 4) { // not dataStart + length: a huge length overflows
            throw damaged(
                "it is truncated: section '"
                    + Excerpt.of(name)
                    + "' needs "
                    + length
                    + " bytes but only "
                    + Math.max(0, size - dataStart - 4)
                    + " remain",
                hint);
          }
          int storedCrc = read(dataStart + length, 4).getInt();
          sections.put(name, new long[] {dataStart, length, storedCrc & 0xffffffffL});
          pos = dataStart + length + 4;
        }
      } catch (IOException e) {
        closeQuietly();
        throw new RecjpqException("Cannot read " + path + ": " + e.getMessage(), e);
      } catch (RuntimeException e) {
        closeQuietly();
        throw e;
      }
    }

    public int version() {
      return version;
    }

    public JsonNode header() {
      return header;
    }

    public boolean has(String name) {
      return sections.containsKey(name);
    }

    /** The checked bytes of a section, little-endian. */
    public ByteBuffer section(String name) {
      long[] s = sections.get(name);
      if (s == null) {
        throw damaged("it has no section '" + name + "'", hint);
      }
      if (s[1] > Integer.MAX_VALUE - 8) {
        throw new RecjpqException(
            "Section '"
                + name
                + "' of "
                + path
                + " is "
                + s[1]
                + " bytes, larger than one buffer.");
      }
      ByteBuffer data;
      try {
        MappedByteBuffer mapped = channel.map(FileChannel.MapMode.READ_ONLY, s[0], s[1]);
        data = mapped;
      } catch (IOException e) {
        throw new RecjpqException("Cannot read " + path + ": " + e.getMessage(), e);
      }
      CRC32 crc = new CRC32();
      crc.update(data.duplicate());
      if (crc.getValue() != s[2]) {
        throw damaged("the checksum of section '" + name + "' does not match", hint);
      }
      return data.order(ByteOrder.LITTLE_ENDIAN);
    }

    public int[] ints(String name) {
      ByteBuffer b = section(name);
      int[] v = new int[checkedCount(name, b, 4)];
      b.asIntBuffer().get(v);
      return v;
    }

    public long[] longs(String name) {
      ByteBuffer b = section(name);
      long[] v = new long[checkedCount(name, b, 8)];
      b.asLongBuffer().get(v);
      return v;
    }

    public float[] floats(String name) {
      ByteBuffer b = section(name);
      float[] v = new float[checkedCount(name, b, 4)];
      b.asFloatBuffer().get(v);
      return v;
    }

    public byte[] bytes(String name) {
      ByteBuffer b = section(name);
      byte[] v = new byte[b.remaining()];
      b.get(v);
      return v;
    }

    public String[] strings(String name, int count) {
      ByteBuffer b = section(name);
      String[] v = new String[count];
      for (int i = 0; i < count; i++) {
        if (b.remaining() < 4) {
          throw damaged("section '" + name + "' holds fewer than " + count + " strings", hint);
        }
        int n = b.getInt();
        if (n < 0 || n > b.remaining()) {
          throw damaged("section '" + name + "' has a bad string length at entry " + i, hint);
        }
        byte[] s = new byte[n];
        b.get(s);
        v[i] = new String(s, StandardCharsets.UTF_8);
      }
      if (b.hasRemaining()) {
        throw damaged("section '" + name + "' holds more than " + count + " strings", hint);
      }
      return v;
    }

    private int checkedCount(String name, ByteBuffer b, int width) {
      if (b.remaining() % width != 0) {
        throw damaged(
            "section '" + name + "' has a length that is not a multiple of " + width, hint);
      }
      return b.remaining() / width;
    }

    /** An error saying the file is damaged, with the hint on what to do. */
    public RecjpqException damaged(String why) {
      return damaged(why, hint);
    }

    private RecjpqException damaged(String why, String hint) {
      return new RecjpqException(path + " is damaged or is not " + what + ": " + why + ". " + hint);
    }

    private ByteBuffer read(long pos, long length) throws IOException {
      ByteBuffer b = ByteBuffer.allocate((int) length);
      while (b.hasRemaining()) {
        if (channel.read(b, pos + b.position()) < 0) {
          break;
        }
      }
      b.flip();
      return b;
    }

    private void closeQuietly() {
      try {
        channel.close();
      } catch (IOException ignored) {
        // reporting the original failure matters more
      }
    }

    @Override
    public void close() {
      closeQuietly();
    }
  }

  private static String printable(String s) {
    StringBuilder b = new StringBuilder("\"");
    for (char c : s.toCharArray()) {
      b.append(c >= 32 && c < 127 ? String.valueOf(c) : String.format("\\x%02x", (int) c));
    }
    return b.append('"').toString();
  }

  private static void checkMagic(String magic) {
    if (magic.length() != MAGIC_LENGTH) {
      throw new IllegalArgumentException("magic must be " + MAGIC_LENGTH + " characters: " + magic);
    }
  }

  private static int crc(byte[] b, int off, int len) {
    CRC32 c = new CRC32();
    c.update(b, off, len);
    return (int) c.getValue();
  }

  /** A fresh JSON object for headers. */
  public static ObjectNode newHeader() {
    return JSON.createObjectNode();
  }
}
