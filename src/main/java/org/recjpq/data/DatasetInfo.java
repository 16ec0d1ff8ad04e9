package org.recjpq.data;

/**
 * Provenance of a dataset: where it was read from, what filtering did, and the default split.
 *
 * @param source the raw file's path as given
 * @param format the raw format's command-line name
 * @param filter the filters applied
 * @param rawUsers distinct users read
 * @param rawItems distinct items read
 * @param rawInteractions interactions read
 * @param validationUsers default number of validation users (-1 = all)
 * @param splitSeed seed of the validation-user sample
 */
public record DatasetInfo(
    String source,
    String format,
    FilterOptions filter,
    int rawUsers,
    int rawItems,
    long rawInteractions,
    int validationUsers,
    long splitSeed) {

  /** Default seed of the validation-user sample. */
  public static final long DEFAULT_SEED = 42;

  public DatasetInfo(
      String source,
      String format,
      FilterOptions filter,
      int rawUsers,
      int rawItems,
      long rawInteractions) {
    this(
        source,
        format,
        filter,
        rawUsers,
        rawItems,
        rawInteractions,
        LeaveOneOut.DEFAULT_VALIDATION_USERS,
        DEFAULT_SEED);
  }

  /** The same provenance with another default split. */
  public DatasetInfo withSplit(int validationUsers, long splitSeed) {
    return new DatasetInfo(
        source, format, filter, rawUsers, rawItems, rawInteractions, validationUsers, splitSeed);
  }
}
