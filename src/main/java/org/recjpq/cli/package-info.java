/**
 * The {@code recjpq} command line: one picocli subcommand per task of docs/architecture.md §1. Only
 * this package turns exceptions into exit codes and messages; nothing else depends on it.
 *
 * <p>Exit codes: 0 success; 1 a problem with the input, a file or the environment (the message says
 * which, in one line); 2 a usage error (unknown option, bad value); 3 an internal error (a bug: the
 * message asks for {@code --verbose} to show the stack trace).
 */
package org.recjpq.cli;
