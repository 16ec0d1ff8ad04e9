package org.recjpq.data;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.DateTimeException;
import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import org.apache.commons.csv.CSVException;
import org.apache.commons.csv.CSVFormat;
import org.apache.commons.csv.CSVParser;
import org.apache.commons.csv.CSVRecord;
import org.recjpq.RecjpqException;
import org.recjpq.util.Excerpt;
import org.recjpq.util.Progress;

/**
 * Readers for every {@link Format}. Each returns an {@link InteractionLog} in file order, or fails
 * with {@code file:line: expected ..., found '...'} on the first malformed line. Blank lines are
 * skipped everywhere. A file that yields no interaction at all is an error.
 */
public final class InteractionReaders {
  private InteractionReaders() {}

  /** Reads {@code path} as {@code options} say. */
  public static InteractionLog read(Path path, ReadOptions options) {
    try (Progress progress = Progress.bar("read " + path.getFileName(), sizeOf(path), "B")) {
      InteractionLog log =
          switch (options.format()) {
            case SASREC_PAIRS -> readPairs(path, progress);
            case USER_LINES -> readUserLines(path, progress);
            case MOVIELENS -> readMovieLens(path, progress);
            case CSV -> readCsv(path, options, progress);
            case BOOKING ->
                readCsv(
                    path,
                    new ReadOptions(Format.BOOKING, "utrip_id", "city_id", "checkin", ','),
                    progress);
            case GOWALLA -> readGowalla(path, progress);
          };
      if (log.size() == 0) {
        throw new RecjpqException(
            path + " holds no interactions (expected " + options.format().description() + ").");
      }
      return log;
    }
  }

  private static long sizeOf(Path path) {
    try {
      return Files.size(path);
    } catch (IOException e) {
      return -1;
    }
  }

  /** {@code user item} per line. */
  static InteractionLog readPairs(Path path, Progress progress) {
    InteractionLog.Builder b =
        new InteractionLog.Builder(path, Format.SASREC_PAIRS, true, true, false);
    int[] starts = new int[3];
    int[] ends = new int[3];
    try (TextInput in = new TextInput(path, progress)) {
      for (String line = in.next(); line != null; line = in.next()) {
        int n = split(line, starts, ends);
        if (n == 0) {
          continue;
        }
        if (n != 2) {
          throw in.error("'user item' (two whitespace-separated integer ids)", line);
        }
        long u = parseId(in, line, starts[0], ends[0], "user id");
        long i = parseId(in, line, starts[1], ends[1], "item id");
        b.add(b.userCode(u), b.itemCode(i), 0);
      }
    }
    return b.build();
  }

  /** {@code user item1 item2 ...} per line. */
  static InteractionLog readUserLines(Path path, Progress progress) {
    InteractionLog.Builder b =
        new InteractionLog.Builder(path, Format.USER_LINES, true, true, false);
    try (TextInput in = new TextInput(path, progress)) {
      int[] starts = new int[64];
      int[] ends = new int[64];
      for (String line = in.next(); line != null; line = in.next()) {
        int n;
        while ((n = split(line, starts, ends)) > starts.length) {
          starts = new int[n * 2];
          ends = new int[n * 2];
        }
        if (n == 0) {
          continue;
        }
        if (n == 1) {
          throw in.error(
              "'user item1 item2 ...' (a user id followed by at least one item id)", line);
        }
        int u = b.userCode(parseId(in, line, starts[0], ends[0], "user id"));
        for (int k = 1; k < n; k++) {
          b.add(u, b.itemCode(parseId(in, line, starts[k], ends[k], "item id")), 0);
        }
      }
    }
    return b.build();
  }

  /** MovieLens ratings.dat ({@code ::}) or u.data (tabs): user, item, rating, unix time. */
  static InteractionLog readMovieLens(Path path, Progress progress) {
    InteractionLog.Builder b = new InteractionLog.Builder(path, Format.MOVIELENS, true, true, true);
    try (TextInput in = new TextInput(path, progress)) {
      for (String line = in.next(); line != null; line = in.next()) {
        if (line.isBlank()) {
          continue;
        }
        String[] f = line.contains("::") ? line.split("::", -1) : line.split("\t", -1);
        if (f.length != 4) {
          throw in.error(
              "'user::item::rating::timestamp' (ratings.dat) or 'user<TAB>item<TAB>rating<TAB>timestamp'"
                  + " (u.data), 4 fields",
              line);
        }
        long u = parseId(in, line, f[0].trim(), "user id");
        long i = parseId(in, line, f[1].trim(), "item id");
        long t = parseId(in, line, f[3].trim(), "unix timestamp");
        b.add(b.userCode(u), b.itemCode(i), t);
      }
    }
    return b.build();
  }

  /** Gowalla SNAP: user, ISO time, latitude, longitude, location id (tab-separated). */
  static InteractionLog readGowalla(Path path, Progress progress) {
    InteractionLog.Builder b = new InteractionLog.Builder(path, Format.GOWALLA, true, true, true);
    try (TextInput in = new TextInput(path, progress)) {
      for (String line = in.next(); line != null; line = in.next()) {
        if (line.isBlank()) {
          continue;
        }
        String[] f = line.split("\t", -1);
        if (f.length != 5) {
          throw in.error(
              "'user<TAB>ISO-time<TAB>latitude<TAB>longitude<TAB>location', 5 fields", line);
        }
        long u = parseId(in, line, f[0].trim(), "user id");
        long t = parseTime(f[1].trim());
        if (t == Long.MIN_VALUE) {
          throw in.error("an ISO-8601 check-in time such as 2010-10-19T23:55:27Z in field 2", line);
        }
        long loc = parseId(in, line, f[4].trim(), "location id");
        b.add(b.userCode(u), b.itemCode(loc), t);
      }
    }
    return b.build();
  }

  /** CSV/TSV with a header row; columns by name. Booking.com is this with fixed names. */
  static InteractionLog readCsv(Path path, ReadOptions o, Progress progress) {
    boolean timed = o.timeColumn() != null;
    InteractionLog.Builder b = new InteractionLog.Builder(path, o.format(), false, false, timed);
    try (TextInput in = new TextInput(path, progress)) {
      char delimiter = o.delimiter() != null ? o.delimiter() : guessDelimiter(path);
      CSVFormat format =
          CSVFormat.DEFAULT
              .builder()
              .setDelimiter(delimiter)
              .setHeader()
              .setSkipHeaderRecord(true)
              .setIgnoreEmptyLines(true)
              .setTrim(true)
              .get();
      try (CSVParser parser = CSVParser.builder().setReader(in.reader()).setFormat(format).get()) {
        Map<String, Integer> header = parser.getHeaderMap();
        if (header == null || header.isEmpty()) {
          throw new RecjpqException(
              path + ":1: expected a header row with column names, found none.");
        }
        int uc = column(path, header, o.userColumn(), "user", "--user-column");
        int ic = column(path, header, o.itemColumn(), "item", "--item-column");
        int tc = timed ? column(path, header, o.timeColumn(), "time", "--time-column") : -1;
        int needed = Math.max(uc, Math.max(ic, tc)) + 1;
        Iterator<CSVRecord> it = parser.iterator();
        long rows = 0;
        // a record starts on the line after the previous one ends (a quoted field may span lines,
        // so the record number is not the line number); hasNext() parses the record
        long line = parser.getCurrentLineNumber() + 1;
        while (it.hasNext()) {
          CSVRecord r = it.next();
          if (r.size() == 1
              && r.get(0).isEmpty()
              && needed > 1) { // a line of spaces: blank, skipped as everywhere
            line = parser.getCurrentLineNumber() + 1;
            continue;
          }
          if (r.size() < needed) {
            throw in.error(
                line,
                needed + " fields (columns " + Excerpt.of(header.keySet().toString(), 100) + ")",
                String.join(String.valueOf(delimiter), r.toList()));
          }
          String user = r.get(uc);
          String item = r.get(ic);
          if (user.isEmpty() || item.isEmpty()) {
            throw in.error(
                line,
                "non-empty " + (user.isEmpty() ? o.userColumn() : o.itemColumn()) + " value",
                String.join(String.valueOf(delimiter), r.toList()));
          }
          long t = 0;
          if (timed) {
            t = parseTime(r.get(tc));
            if (t == Long.MIN_VALUE) {
              throw in.error(
                  line,
                  "a time in column '"
                      + o.timeColumn()
                      + "' (an integer such as a unix timestamp, or an ISO-8601 date/time)",
                  r.get(tc));
            }
          }
          b.add(b.userCode(user), b.itemCode(item), t);
          if ((++rows & 0xffff) == 0) {
            in.reportProgress();
          }
          line = parser.getCurrentLineNumber() + 1;
        }
        in.reportProgress();
      } catch (UncheckedIOException e) {
        RecjpqException bad = TextInput.malformed(path, e);
        throw bad != null
            ? bad
            : new RecjpqException(path + ": malformed CSV: " + Excerpt.of(rootMessage(e)), e);
      } catch (IllegalStateException | IllegalArgumentException e) {
        throw new RecjpqException(path + ": malformed CSV: " + Excerpt.of(rootMessage(e)), e);
      } catch (CSVException e) { // a syntax error in the header: not a failure to read the file
        RecjpqException bad = TextInput.malformed(path, e);
        throw bad != null
            ? bad
            : new RecjpqException(path + ": malformed CSV: " + Excerpt.of(rootMessage(e)), e);
      } catch (IOException e) {
        throw TextInput.cannotRead(path, e);
      }
    }
    return b.build();
  }

  private static String rootMessage(Throwable e) {
    Throwable t = e;
    while (t.getCause() != null && t.getCause() != t) {
      t = t.getCause();
    }
    return t.getMessage();
  }

  private static int column(
      Path path, Map<String, Integer> header, String name, String what, String option) {
    Integer c = header.get(name);
    if (c == null) {
      for (Map.Entry<String, Integer> e : header.entrySet()) {
        if (e.getKey().equalsIgnoreCase(name)) {
          c = e.getValue();
        }
      }
    }
    if (c == null) {
      List<String> names = List.copyOf(header.keySet());
      throw new RecjpqException(
          path
              + ":1: no "
              + what
              + " column named '"
              + Excerpt.of(name)
              + "'; the header has "
              + Excerpt.of(names.toString())
              + ". Name the right one with "
              + option
              + ".");
    }
    return c;
  }

  private static char guessDelimiter(Path path) {
    String name = path.getFileName().toString().toLowerCase();
    if (name.endsWith(".tsv") || name.endsWith(".tab")) {
      return '\t';
    }
    try (var lines = Files.lines(path)) {
      String first = lines.findFirst().orElse("");
      return first.indexOf('\t') >= 0 && first.indexOf(',') < 0 ? '\t' : ',';
    } catch (IOException | UncheckedIOException e) {
      return ',';
    }
  }

  /**
   * Splits {@code line} on runs of spaces/tabs into token bounds; returns the token count (which
   * may exceed the arrays' length, in which case only the first tokens are recorded).
   */
  static int split(String line, int[] starts, int[] ends) {
    int n = 0;
    int len = line.length();
    int i = 0;
    while (i < len) {
      while (i < len && isSpace(line.charAt(i))) {
        i++;
      }
      if (i == len) {
        break;
      }
      int s = i;
      while (i < len && !isSpace(line.charAt(i))) {
        i++;
      }
      if (n < starts.length) {
        starts[n] = s;
        ends[n] = i;
      }
      n++;
    }
    return n;
  }

  private static boolean isSpace(char c) {
    return c == ' ' || c == '\t' || c == '\r' || c == '\f';
  }

  private static long parseId(TextInput in, String line, int start, int end, String what) {
    try {
      return Long.parseLong(line, start, end, 10);
    } catch (NumberFormatException e) {
      throw badId(in, line, line.substring(start, end), what);
    }
  }

  private static long parseId(TextInput in, String line, String token, String what) {
    try {
      return Long.parseLong(token);
    } catch (NumberFormatException e) {
      throw badId(in, line, token, what);
    }
  }

  /**
   * A malformed id: the message quotes the id and, when the two together are no longer than one
   * excerpt, the line around it (never more than {@value Excerpt#MAX} characters of input in all).
   */
  private static RecjpqException badId(TextInput in, String line, String token, String what) {
    String context =
        line.length() <= Excerpt.MAX / 2 && !line.equals(token)
            ? " in line '" + Excerpt.of(line) + "'"
            : "";
    return in.error("an integer " + what + " (this format needs integer ids)" + context, token);
  }

  /**
   * Parses a time: an integer (taken as is, e.g. unix seconds) or ISO-8601 (instant, offset or
   * local date-time with 'T' or a space, or a date), as epoch seconds (UTC for local times).
   * Returns {@link Long#MIN_VALUE} when the text is neither.
   */
  static long parseTime(String s) {
    if (s.isEmpty()) {
      return Long.MIN_VALUE;
    }
    char c0 = s.charAt(0);
    if ((c0 >= '0' && c0 <= '9') || c0 == '-') {
      try {
        return Long.parseLong(s);
      } catch (NumberFormatException ignored) {
        // not an integer: try ISO forms below
      }
    }
    try {
      return Instant.parse(s).getEpochSecond();
    } catch (DateTimeException ignored) {
      // next form
    }
    try {
      return OffsetDateTime.parse(s).toEpochSecond();
    } catch (DateTimeException ignored) {
      // next form
    }
    try {
      return LocalDateTime.parse(s.replace(' ', 'T')).toEpochSecond(ZoneOffset.UTC);
    } catch (DateTimeException ignored) {
      // next form
    }
    try {
      return LocalDate.parse(s).toEpochDay() * 86_400L;
    } catch (DateTimeException ignored) {
      return Long.MIN_VALUE;
    }
  }
}
