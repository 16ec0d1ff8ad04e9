package org.recjpq;

/**
 * A command was asked for something impossible: options that contradict each other or an option
 * value out of range (the CLI's exit code 2, as for a malformed command line), as opposed to a
 * problem with an input file or the environment ({@link RecjpqException}, exit code 1).
 */
public class UsageException extends RecjpqException {
  private static final long serialVersionUID = 1L;

  public UsageException(String message) {
    super(message);
  }
}
