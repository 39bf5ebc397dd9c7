package io.chat4all.embedded;

import static org.junit.jupiter.api.Assertions.assertNotNull;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class EmbeddedBackendsSmokeTest {
  @Test
  void startsAndStops(@TempDir Path dir) {
    long t0 = System.nanoTime();
    try (EmbeddedBackends b = EmbeddedBackends.start(EmbeddedSettings.defaults(dir))) {
      System.out.println(
          "started in " + (System.nanoTime() - t0) / 1_000_000 + " ms: " + b.endpoints());
      assertNotNull(b.endpoints());
    }
  }
}
