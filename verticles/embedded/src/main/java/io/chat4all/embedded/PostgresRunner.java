package io.chat4all.embedded;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

/** PostgreSQL 17 (zonky binaries) as a child process, cluster under {@code <data>/postgres}. */
final class PostgresRunner implements EmbeddedServer {
  static final String USER = "postgres";
  static final String DATABASE = "postgres";
  private final String host;
  private final int port;
  private final Path dataDir;
  private EmbeddedPostgres postgres;

  PostgresRunner(String host, int port, Path dataDir) {
    this.host = host;
    this.port = port;
    this.dataDir = dataDir;
  }

  @Override
  public String name() {
    return "postgres";
  }

  int port() {
    return port;
  }

  @Override
  public void start() throws Exception {
    Files.createDirectories(dataDir);
    StaleProcesses.stopIfRunning(dataDir.resolve("postmaster.pid"), "postgres");
    Path log = dataDir.getParent().resolve("postgres.log");
    try {
      postgres = build(log);
    } catch (java.io.IOException e) {
      throw new EmbeddedStartException(
          "embedded postgres failed to start: "
              + e.getMessage()
              + "; last lines of "
              + log
              + ":\n"
              + tail(log),
          e);
    }
  }

  private EmbeddedPostgres build(Path log) throws java.io.IOException {
    return EmbeddedPostgres.builder()
        .setDataDirectory(dataDir)
        .setCleanDataDirectory(false)
        .setRegisterShutdownHook(false)
        .setPort(port)
        .setPGStartupWait(Duration.ofSeconds(60))
        .setServerConfig("listen_addresses", host)
        // zonky starts postgres with fsync off; acknowledged writes must survive a crash
        .setServerConfig("fsync", "on")
        // and commits with it: zonky's default synchronous_commit=off acknowledges a COMMIT before
        // its WAL is flushed, so a crash of the server could lose it
        .setServerConfig("synchronous_commit", "on")
        .setServerConfig("max_connections", "200")
        .setOutputRedirector(ProcessBuilder.Redirect.appendTo(log.toFile()))
        .setErrorRedirector(ProcessBuilder.Redirect.appendTo(log.toFile()))
        .start();
  }

  private static String tail(Path log) {
    try {
      java.util.List<String> lines = Files.readAllLines(log);
      return String.join("\n", lines.subList(Math.max(0, lines.size() - 15), lines.size()));
    } catch (java.io.IOException e) {
      return "(no log)";
    }
  }

  @Override
  public void stop() {
    EmbeddedPostgres p = postgres;
    postgres = null;
    if (p != null) {
      try {
        p.close();
      } catch (Exception e) {
        throw new IllegalStateException("stopping the embedded postgres failed", e);
      }
    }
  }
}
