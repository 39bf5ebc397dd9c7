package io.chat4all.codecs;

import java.util.Arrays;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;
import org.slf4j.Logger;

/**
 * A warning that may come from thousands of connections at once (a backend gone while every socket
 * closes, as at shutdown) is logged at most once per interval; the next one logged says how many
 * like it were left out. Each throttled line stands for one kind of warning.
 */
public final class ThrottledLog {
  private final Logger log;
  private final long intervalMs;
  private final LongSupplier clock;
  private final AtomicLong next = new AtomicLong(Long.MIN_VALUE);
  private final AtomicLong suppressed = new AtomicLong();

  public ThrottledLog(Logger log, long intervalMs) {
    this(log, intervalMs, System::currentTimeMillis);
  }

  ThrottledLog(Logger log, long intervalMs, LongSupplier clock) {
    if (intervalMs <= 0) {
      throw new IllegalArgumentException("intervalMs must be positive");
    }
    this.log = log;
    this.intervalMs = intervalMs;
    this.clock = clock;
  }

  /** Logs {@code format} with {@code args} at WARN unless one was logged within the interval. */
  public void warn(String format, Object... args) {
    long now = clock.getAsLong();
    long due = next.get();
    if (now < due || !next.compareAndSet(due, now + intervalMs)) {
      suppressed.incrementAndGet();
      return;
    }
    long left = suppressed.getAndSet(0);
    if (left == 0) {
      log.warn(format, args);
    } else {
      Object[] more = Arrays.copyOf(args, args.length + 1);
      more[args.length] = left;
      log.warn(format + " (and {} more like it not logged)", more);
    }
  }

  /** How many warnings were left out since the last one logged. */
  long suppressed() {
    return suppressed.get();
  }
}
