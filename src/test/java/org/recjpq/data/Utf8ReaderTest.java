package org.recjpq.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/**
 * Strict UTF-8 decoding: valid text round-trips, every kind of bad byte is an error with its line
 * and offset.
 */
class Utf8ReaderTest {
  private static String decode(byte[] bytes, int chunk) throws IOException {
    StringBuilder b = new StringBuilder();
    try (Reader r = new Utf8Reader(new ByteArrayInputStream(bytes))) {
      char[] buf = new char[chunk];
      int n;
      while ((n = r.read(buf, 0, buf.length)) > 0) {
        b.append(buf, 0, n);
      }
    }
    return b.toString();
  }

  @Test
  void validTextRoundTripsInAnyReadSize() throws IOException {
    String text = "plain ascii\nÿ é 中文 𝄞 emoji 😀\n";
    byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
    for (int chunk : new int[] {1, 2, 3, 7, 1 << 16}) {
      assertEquals(text, decode(bytes, chunk), "read " + chunk + " chars at a time");
    }
    byte[] bom = new byte[bytes.length + 3];
    bom[0] = (byte) 0xef;
    bom[1] = (byte) 0xbb;
    bom[2] = (byte) 0xbf;
    System.arraycopy(bytes, 0, bom, 3, bytes.length);
    assertEquals(text, decode(bom, 5), "a byte-order mark is skipped");
  }

  @Test
  void everyMalformedSequenceIsAnErrorWithLineAndOffset() {
    Object[][] cases = {
      {new byte[] {'a', '\n', 'b', (byte) 0xff}, 2L, 3L, "cannot start"},
      {new byte[] {(byte) 0xc0, (byte) 0x80}, 1L, 0L, "cannot start"}, // overlong NUL
      {new byte[] {(byte) 0xe0, (byte) 0x80, (byte) 0x80}, 1L, 0L, "overlong"},
      {new byte[] {(byte) 0xed, (byte) 0xa0, (byte) 0x80}, 1L, 0L, "surrogate"},
      {new byte[] {(byte) 0xf4, (byte) 0x90, (byte) 0x80, (byte) 0x80}, 1L, 0L, "past U+10FFFF"},
      {new byte[] {'x', (byte) 0xc3}, 1L, 1L, "ends inside"},
      {new byte[] {'\n', '\n', (byte) 0xc3, 'a'}, 3L, 2L, "not a continuation"},
    };
    for (Object[] c : cases) {
      Utf8Reader.Malformed e =
          assertThrows(Utf8Reader.Malformed.class, () -> decode((byte[]) c[0], 16));
      assertEquals(c[1], e.line, e.getMessage());
      assertEquals(c[2], e.byteOffset, e.getMessage());
      assertTrue(e.getMessage().contains((String) c[3]), e.getMessage());
    }
  }
}
