package org.recjpq.data;

import java.util.Arrays;
import java.util.stream.Collectors;
import org.recjpq.UsageException;

/** The raw interaction-log formats recjpq reads, by their command-line names. */
public enum Format {
  /** {@code user item} per line, whitespace-separated integer ids; time order = line order. */
  SASREC_PAIRS("sasrec-pairs", "one 'user item' pair per line, in time order"),
  /** {@code user item1 item2 ...} per line, integer ids, items in time order. */
  USER_LINES("user-lines", "one user per line: 'user item1 item2 ...' in time order"),
  /** MovieLens {@code ratings.dat} ({@code user::item::rating::time}) or {@code u.data} (tabs). */
  MOVIELENS(
      "movielens", "MovieLens ratings.dat (user::item::rating::time) or u.data (tab-separated)"),
  /** CSV/TSV with a header; user, item and (optional) time columns named by options. */
  CSV(
      "csv",
      "CSV/TSV with a header row; columns named by --user-column/--item-column/--time-column"),
  /** Booking.com WSDM WebTour 2021: {@code utrip_id}, {@code city_id}, {@code checkin}. */
  BOOKING("booking", "Booking.com WSDM 2021 CSV (utrip_id, city_id, checkin)"),
  /** Gowalla SNAP check-ins: {@code user<TAB>ISO-time<TAB>lat<TAB>lon<TAB>location}. */
  GOWALLA("gowalla", "Gowalla SNAP check-ins: user<TAB>time<TAB>lat<TAB>lon<TAB>location");

  private final String cliName;
  private final String description;

  Format(String cliName, String description) {
    this.cliName = cliName;
    this.description = description;
  }

  /** The name used on the command line and in file headers. */
  public String cliName() {
    return cliName;
  }

  public String description() {
    return description;
  }

  /** Looks a format up by its command-line name. */
  public static Format fromCliName(String name) {
    for (Format f : values()) {
      if (f.cliName.equalsIgnoreCase(name)) {
        return f;
      }
    }
    throw new UsageException(
        "Unknown format '"
            + org.recjpq.util.Excerpt.of(name)
            + "'. Known formats: "
            + names()
            + ".");
  }

  /** All command-line names, comma-separated. */
  public static String names() {
    return Arrays.stream(values()).map(Format::cliName).collect(Collectors.joining(", "));
  }

  @Override
  public String toString() {
    return cliName;
  }
}
