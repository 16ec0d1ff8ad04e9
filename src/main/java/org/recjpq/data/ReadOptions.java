package org.recjpq.data;

import org.recjpq.UsageException;

/**
 * How to read a raw interaction log.
 *
 * @param format the file format
 * @param userColumn user column name (csv only; default "user_id")
 * @param itemColumn item column name (csv only; default "item_id")
 * @param timeColumn time column name (csv only; null = file order is time order)
 * @param delimiter field delimiter (csv only; null = ',' unless the file ends in .tsv or its header
 *     has tabs and no commas)
 */
public record ReadOptions(
    Format format, String userColumn, String itemColumn, String timeColumn, Character delimiter) {

  public ReadOptions {
    if (format == null) {
      throw new UsageException("A format is required. Known formats: " + Format.names() + ".");
    }
    if (userColumn == null || userColumn.isBlank()) {
      userColumn = "user_id";
    }
    if (itemColumn == null || itemColumn.isBlank()) {
      itemColumn = "item_id";
    }
    if (timeColumn != null && timeColumn.isBlank()) {
      timeColumn = null;
    }
  }

  /** Options for a format with default column names. */
  public static ReadOptions of(Format format) {
    return new ReadOptions(format, null, null, null, null);
  }
}
