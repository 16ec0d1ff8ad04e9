package org.recjpq;

/**
 * A failure the user can fix: malformed input, a wrong or damaged file, an impossible option.
 *
 * <p>The message is one or more full sentences that say what was expected, what was found and,
 * where it helps, what to do. The CLI prints the message alone (a stack trace only with {@code
 * --verbose}) and exits non-zero; library callers catch it like any runtime exception.
 */
public class RecjpqException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  public RecjpqException(String message) {
    super(message);
  }

  public RecjpqException(String message, Throwable cause) {
    super(message, cause);
  }
}
