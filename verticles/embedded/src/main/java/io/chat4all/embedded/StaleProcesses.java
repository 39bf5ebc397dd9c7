package io.chat4all.embedded;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Cleans up server processes left running by a crashed node (a postmaster or redis-server whose JVM
 * was killed). Called while holding the data-directory lock, so whatever the pid file names is not
 * owned by a live Chat4All process.
 */
final class StaleProcesses {
  private static final Logger LOG = LoggerFactory.getLogger(StaleProcesses.class);

  private StaleProcesses() {}

  /**
   * Reads the pid on the first line of {@code pidFile}; if that process is alive and its command
   * contains {@code commandMarker}, stops it (TERM, then KILL after a grace period).
   */
  static void stopIfRunning(Path pidFile, String commandMarker) {
    if (!Files.isRegularFile(pidFile)) {
      return;
    }
    long pid;
    try {
      List<String> lines = Files.readAllLines(pidFile);
      if (lines.isEmpty()) {
        return;
      }
      pid = Long.parseLong(lines.get(0).trim());
    } catch (IOException | NumberFormatException e) {
      return;
    }
    Optional<ProcessHandle> handle = ProcessHandle.of(pid);
    if (handle.isEmpty() || !handle.get().isAlive()) {
      return;
    }
    String command =
        handle.get().info().commandLine().orElse(handle.get().info().command().orElse(""));
    if (!command.contains(commandMarker)) {
      return;
    }
    LOG.warn(
        "stopping stale {} process {} left by an earlier run ({})", commandMarker, pid, pidFile);
    handle.get().destroy();
    try {
      handle.get().onExit().get(10, TimeUnit.SECONDS);
    } catch (Exception e) {
      handle.get().destroyForcibly();
      try {
        handle.get().onExit().get(5, TimeUnit.SECONDS);
      } catch (Exception ignored) {
        throw new EmbeddedStartException(
            "a stale "
                + commandMarker
                + " process (pid "
                + pid
                + ") could not be stopped; stop it by hand");
      }
    }
  }
}
