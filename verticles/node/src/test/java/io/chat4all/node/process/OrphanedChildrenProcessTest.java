package io.chat4all.node.process;

import static org.assertj.core.api.Assertions.assertThat;

import io.chat4all.testkit.Await;
import io.chat4all.testkit.NodeProcess;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A JVM that started backends or nodes through {@link NodeProcess} and is stopped with SIGTERM
 * before it closed them (a bench or a test run cut short) takes them with it: none is left running
 * with its ports, memory and data directory.
 */
@Tag("process")
class OrphanedChildrenProcessTest {

  /** The stopped JVM: starts a backends process, prints its pid, then waits to be stopped. */
  public static void main(String[] args) throws Exception {
    NodeProcess backends =
        NodeProcess.start(args[0], List.of("-Xmx256m"), List.of("backends", "--data-dir", args[1]));
    backends.awaitLine("CHAT4ALL BACKENDS READY", Duration.ofMinutes(2));
    System.out.println("CHILD " + backends.pid());
    System.out.flush();
    Thread.sleep(Long.MAX_VALUE);
  }

  @Test
  void aStoppedParentStopsItsChildren(@TempDir Path dir) throws Exception {
    Process parent =
        new ProcessBuilder(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx128m",
                "-cp",
                System.getProperty("java.class.path"),
                OrphanedChildrenProcessTest.class.getName(),
                NodeJvm.classPath(),
                dir.resolve("data").toString())
            .redirectErrorStream(true)
            .start();
    long child = -1;
    try {
      try (BufferedReader r =
          new BufferedReader(
              new InputStreamReader(parent.getInputStream(), StandardCharsets.UTF_8))) {
        String line;
        while ((line = r.readLine()) != null) {
          if (line.startsWith("CHILD ")) {
            child = Long.parseLong(line.substring(6).trim());
            break;
          }
        }
      }
      assertThat(child).as("the parent printed its child's pid").isPositive();
      Optional<ProcessHandle> handle = ProcessHandle.of(child);
      assertThat(handle).isPresent();
      assertThat(handle.get().isAlive()).isTrue();

      parent.toHandle().destroy(); // SIGTERM, as Ctrl-C or a container stop
      Await.until(
          "the child stopped with its parent",
          Duration.ofSeconds(60),
          () -> !handle.get().isAlive());
    } finally {
      parent.destroyForcibly();
      if (child > 0) {
        ProcessHandle.of(child).ifPresent(ProcessHandle::destroyForcibly);
      }
    }
  }
}
