package io.chat4all.codecs;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.reflect.Proxy;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.slf4j.Logger;

class ThrottledLogTest {
  /** A logger that keeps each warn call's format and arguments. */
  static Logger recording(List<String> lines) {
    return (Logger)
        Proxy.newProxyInstance(
            Logger.class.getClassLoader(),
            new Class<?>[] {Logger.class},
            (proxy, method, args) -> {
              if (method.getName().equals("warn")) {
                lines.add(
                    args[0]
                        + " "
                        + (args.length > 1 && args[1] instanceof Object[] a
                            ? Arrays.toString(a)
                            : Arrays.toString(Arrays.copyOfRange(args, 1, args.length))));
              }
              return method.getReturnType() == boolean.class ? Boolean.TRUE : null;
            });
  }

  @Test
  void aFloodIsOneLinePerIntervalAndTheNextLineCountsWhatWasLeftOut() {
    List<String> lines = new ArrayList<>();
    AtomicLong now = new AtomicLong(1_000_000);
    ThrottledLog log = new ThrottledLog(recording(lines), 10_000, now::get);
    for (int i = 0; i < 5000; i++) {
      log.warn("unmark failed for {}: {}", "u" + i, "closed");
    }
    assertThat(lines).containsExactly("unmark failed for {}: {} [u0, closed]");
    assertThat(log.suppressed()).isEqualTo(4999);

    now.addAndGet(9_999);
    log.warn("unmark failed for {}: {}", "late", "closed");
    assertThat(lines).hasSize(1);

    now.addAndGet(1);
    log.warn("unmark failed for {}: {}", "next", "closed");
    assertThat(lines)
        .hasSize(2)
        .last()
        .isEqualTo(
            "unmark failed for {}: {} (and {} more like it not logged) [next, closed, 5000]");
    assertThat(log.suppressed()).isZero();
  }
}
