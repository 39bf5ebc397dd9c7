package io.chat4all.bench;

import io.vertx.core.Future;
import java.util.concurrent.TimeUnit;

/** What every benchmark's main does: its options, waiting for a future, a progress line. */
final class BenchSupport {
  private BenchSupport() {}

  static int intArg(String[] args, String name, int def) {
    for (int i = 0; i < args.length - 1; i++) {
      if (args[i].equals(name)) {
        return Integer.parseInt(args[i + 1]);
      }
    }
    return def;
  }

  static <T> T await(Future<T> f) throws Exception {
    return f.toCompletionStage().toCompletableFuture().get(300, TimeUnit.SECONDS);
  }

  static void log(String s) {
    System.err.println(java.time.LocalTime.now() + " bench: " + s);
  }
}
