package io.chat4all.testkit;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A Chat4All JVM ({@code io.chat4all.node.Main}) started as a child process, its output captured,
 * so tests can wait for its ready line, stop it gracefully (SIGTERM) or kill it (SIGKILL).
 */
public final class NodeProcess implements AutoCloseable {
  private static final String MAIN = "io.chat4all.node.Main";
  private final Process process;
  private final List<String> lines = new CopyOnWriteArrayList<>();
  private final Thread pump;

  /**
   * Stops the child when this JVM is stopped (SIGTERM, Ctrl-C) before {@link #close()}: a bench or
   * test run cut short would otherwise leave its backends and nodes running, holding ports, memory
   * and data directories.
   */
  private final Thread reaper;

  private NodeProcess(Process process) {
    this.process = process;
    this.reaper = new Thread(() -> process.toHandle().destroy(), "node-process-reaper");
    Runtime.getRuntime().addShutdownHook(reaper);
    this.pump =
        new Thread(
            () -> {
              try (BufferedReader r =
                  new BufferedReader(
                      new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
                String line;
                while ((line = r.readLine()) != null) {
                  lines.add(line);
                }
              } catch (IOException ignored) {
                // process gone
              }
            },
            "node-process-output");
    pump.setDaemon(true);
    pump.start();
  }

  /**
   * Starts {@code java [jvmArgs] -cp classPath io.chat4all.node.Main args…} with stderr merged into
   * stdout.
   */
  public static NodeProcess start(String classPath, List<String> jvmArgs, List<String> args) {
    List<String> command = new ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    command.addAll(jvmArgs);
    command.add("-cp");
    command.add(classPath);
    command.add(MAIN);
    command.addAll(args);
    ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true);
    pb.environment().keySet().removeIf(k -> k.startsWith("CHAT4ALL_"));
    try {
      return new NodeProcess(pb.start());
    } catch (IOException e) {
      throw new IllegalStateException("cannot start " + command, e);
    }
  }

  /** Waits for a line matching {@code regex}; returns its match (groups available). */
  public Matcher awaitLine(String regex, Duration timeout) {
    Pattern pattern = Pattern.compile(regex);
    long deadline = System.nanoTime() + timeout.toNanos();
    int seen = 0;
    while (System.nanoTime() < deadline) {
      List<String> snapshot = List.copyOf(lines);
      for (int i = seen; i < snapshot.size(); i++) {
        Matcher m = pattern.matcher(snapshot.get(i));
        if (m.find()) {
          return m;
        }
      }
      seen = snapshot.size();
      if (!process.isAlive() && !pump.isAlive()) {
        throw new AssertionError(
            "process exited ("
                + process.exitValue()
                + ") before printing /"
                + regex
                + "/:\n"
                + output());
      }
      try {
        Thread.sleep(50);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new AssertionError(e);
      }
    }
    throw new AssertionError("no line /" + regex + "/ within " + timeout + ":\n" + output());
  }

  public long pid() {
    return process.pid();
  }

  public boolean isAlive() {
    return process.isAlive();
  }

  public String output() {
    return String.join("\n", lines);
  }

  /** Waits for the process to exit and returns its exit code. */
  public int awaitExit(Duration timeout) {
    try {
      if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
        throw new AssertionError("process did not exit within " + timeout + ":\n" + output());
      }
      pump.join(timeout.toMillis());
      return process.exitValue();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError(e);
    }
  }

  /** Writes {@code line} and a newline to the process' standard input. */
  public void sendLine(String line) {
    try {
      var in = process.getOutputStream();
      in.write((line + "\n").getBytes(StandardCharsets.UTF_8));
      in.flush();
    } catch (IOException e) {
      throw new java.io.UncheckedIOException("cannot write to the process' input", e);
    }
  }

  /** SIGTERM, as Ctrl-C or a container stop would send. */
  public void terminate() {
    // Process.destroy() would also close our end of its output; signal through the handle instead
    process.toHandle().destroy();
  }

  /** SIGKILL: no shutdown hook runs. */
  public void kill() {
    process.toHandle().destroyForcibly();
  }

  /** Processes still alive whose command line mentions {@code marker} (e.g. a data directory). */
  public static List<ProcessHandle> processesMentioning(String marker) {
    List<ProcessHandle> found = new ArrayList<>();
    ProcessHandle.allProcesses()
        .forEach(
            p -> {
              Optional<String> cmd = p.info().commandLine();
              if (p.isAlive()
                  && cmd.isPresent()
                  && cmd.get().contains(marker)
                  && p.pid() != ProcessHandle.current().pid()) {
                found.add(p);
              }
            });
    return found;
  }

  @Override
  public void close() {
    try {
      Runtime.getRuntime().removeShutdownHook(reaper);
    } catch (IllegalStateException shuttingDown) {
      // the hook is running or about to: it stops the child
    }
    if (process.isAlive()) {
      process.destroy();
      try {
        if (!process.waitFor(30, TimeUnit.SECONDS)) {
          process.destroyForcibly();
          process.waitFor(10, TimeUnit.SECONDS);
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        process.destroyForcibly();
      }
    }
  }
}
