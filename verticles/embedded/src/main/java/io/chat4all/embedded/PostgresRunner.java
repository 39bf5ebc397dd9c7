package io.chat4all.embedded;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

/** PostgreSQL 17 (zonky binaries) as a child process, cluster under {@code <data>/postgres}. */
final class PostgresRunner implements EmbeddedServer {
  static final String USER = "postgres";
  static final String DATABASE = "postgres";
  private final int port;
  private final Path dataDir;
  private EmbeddedPostgres postgres;

  PostgresRunner(int port, Path dataDir) {
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
    postgres =
        EmbeddedPostgres.builder()
            .setDataDirectory(dataDir)
            .setCleanDataDirectory(false)
            .setRegisterShutdownHook(false)
            .setPort(port)
            .setPGStartupWait(Duration.ofSeconds(60))
            .setServerConfig("listen_addresses", "127.0.0.1")
            .setServerConfig("max_connections", "200")
            .setServerConfig("fsync", "on")
            .start();
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
