package org.recjpq.util;

import me.tongfei.progressbar.ConsoleProgressBarConsumer;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;

/**
 * Progress of a long piece of work (reading a file, generating data, evaluating users).
 *
 * <p>Library code reports progress through this interface and never prints by itself: bars are off
 * unless the application switches them on with {@link #setEnabled(boolean)} (the CLI does, unless
 * {@code --quiet}). Bars go to standard error so standard output stays machine-readable (e.g.
 * {@code --json}).
 */
public interface Progress extends AutoCloseable {

  /** Adds {@code n} units of work done. */
  void step(long n);

  /** Sets the total when it becomes known late (e.g. after counting lines); -1 = unknown. */
  default void setTotal(long total) {}

  /** Sets a short text shown after the bar (e.g. the current loss). */
  default void setExtra(String text) {}

  @Override
  void close();

  /** A progress that shows nothing. */
  static Progress none() {
    return Silent.INSTANCE;
  }

  /** Switches console bars on or off for this JVM (off by default). */
  static void setEnabled(boolean enabled) {
    Console.enabled = enabled;
  }

  /** Whether {@link #bar} shows anything. */
  static boolean isEnabled() {
    return Console.enabled;
  }

  /**
   * A console bar when bars are enabled, otherwise {@link #none()}.
   *
   * @param task short name shown before the bar
   * @param total total units, or -1 when unknown
   * @param unit unit name shown with the counts (e.g. "lines", "users")
   */
  static Progress bar(String task, long total, String unit) {
    if (!Console.enabled) {
      return none();
    }
    ProgressBar bar =
        new ProgressBarBuilder()
            .setTaskName(task)
            .setInitialMax(total)
            .setUnit(" " + unit, 1)
            .setStyle(ProgressBarStyle.ASCII)
            .setUpdateIntervalMillis(250)
            .setMaxRenderedLength(100)
            .showSpeed()
            .setConsumer(new ConsoleProgressBarConsumer(System.err))
            .setSpeedUnit(java.time.temporal.ChronoUnit.SECONDS)
            .continuousUpdate()
            .build();
    return new Console(bar);
  }

  /** No output at all. */
  final class Silent implements Progress {
    static final Silent INSTANCE = new Silent();

    private Silent() {}

    @Override
    public void step(long n) {}

    @Override
    public void close() {}
  }

  /** A me.tongfei progress bar on standard error. */
  final class Console implements Progress {
    static volatile boolean enabled;
    private final ProgressBar bar;

    Console(ProgressBar bar) {
      this.bar = bar;
    }

    @Override
    public void step(long n) {
      bar.stepBy(n);
    }

    @Override
    public void setTotal(long total) {
      bar.maxHint(total);
    }

    @Override
    public void setExtra(String text) {
      bar.setExtraMessage(text);
    }

    @Override
    public void close() {
      bar.close();
    }
  }
}
