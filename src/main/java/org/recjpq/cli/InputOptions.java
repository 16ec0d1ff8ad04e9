package org.recjpq.cli;

import java.nio.file.Path;
import org.recjpq.RecjpqException;
import org.recjpq.data.DatasetFile;
import org.recjpq.data.FilterOptions;
import org.recjpq.data.Format;
import org.recjpq.data.ReadOptions;
import org.recjpq.data.SequenceDataset;
import picocli.CommandLine.Option;

/** Options that say which data to read and how to filter it (shared by several commands). */
final class InputOptions {
  @Option(
      names = {"-i", "--input"},
      required = true,
      paramLabel = "FILE",
      description = "Raw interaction log, or a dataset file made by 'recjpq prepare'.")
  Path input;

  @Option(
      names = {"-f", "--format"},
      paramLabel = "FORMAT",
      converter = FormatConverter.class,
      description =
          "Format of a raw log: sasrec-pairs, user-lines, movielens, csv, booking, gowalla.")
  Format format;

  @Option(
      names = "--user-column",
      paramLabel = "NAME",
      defaultValue = "user_id",
      description = "csv: user column (default: ${DEFAULT-VALUE}).")
  String userColumn;

  @Option(
      names = "--item-column",
      paramLabel = "NAME",
      defaultValue = "item_id",
      description = "csv: item column (default: ${DEFAULT-VALUE}).")
  String itemColumn;

  @Option(
      names = "--time-column",
      paramLabel = "NAME",
      description = "csv: time column (integer or ISO-8601); without it, file order is time order.")
  String timeColumn;

  @Option(
      names = "--delimiter",
      paramLabel = "CHAR",
      description = "csv: field delimiter, e.g. ',' or 'tab' (default: guessed from the file).")
  String delimiter;

  @Option(
      names = "--min-user-interactions",
      paramLabel = "N",
      defaultValue = "5",
      description = "Drop users with fewer interactions (default: ${DEFAULT-VALUE}).")
  int minUserInteractions;

  @Option(
      names = "--min-item-interactions",
      paramLabel = "N",
      defaultValue = "0",
      description =
          "Drop items with fewer interactions, repeating both filters until they hold"
              + " (default: ${DEFAULT-VALUE}, no item filter).")
  int minItemInteractions;

  /** Read options for a raw log; fails when no format was given. */
  ReadOptions readOptions() {
    if (format == null) {
      throw new RecjpqException(
          input
              + " is not a prepared dataset file, so give its format with --format (one of "
              + Format.names()
              + ").");
    }
    return new ReadOptions(format, userColumn, itemColumn, timeColumn, delimiterChar());
  }

  FilterOptions filterOptions() {
    return new FilterOptions(minUserInteractions, minItemInteractions);
  }

  /** The dataset: read from a prepared file, or read, filtered and ordered from a raw log. */
  SequenceDataset load() {
    if (DatasetFile.looksLikeDatasetFile(input)) {
      return DatasetFile.read(input);
    }
    return DatasetFile.load(input, readOptions(), filterOptions());
  }

  private Character delimiterChar() {
    if (delimiter == null) {
      return null;
    }
    String d = delimiter.equalsIgnoreCase("tab") || delimiter.equals("\\t") ? "\t" : delimiter;
    if (d.length() != 1) {
      throw new RecjpqException(
          "The delimiter must be one character (or 'tab'), found '"
              + org.recjpq.util.Excerpt.of(delimiter)
              + "'.");
    }
    return d.charAt(0);
  }

  /** Converts format names, as a usage error when unknown. */
  static final class FormatConverter implements picocli.CommandLine.ITypeConverter<Format> {
    @Override
    public Format convert(String value) {
      try {
        return Format.fromCliName(value);
      } catch (RecjpqException e) {
        throw new picocli.CommandLine.TypeConversionException(e.getMessage());
      }
    }
  }
}
