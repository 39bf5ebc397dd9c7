package io.chat4all.embedded;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import redis.embedded.RedisServer;
import redis.embedded.core.ExecutableProvider;

/**
 * redis-server (the binary shipped in embedded-redis) as a child process. The binary is unpacked
 * into {@code <data>/redis/bin} (no temp folder is left behind); data is kept with an append-only
 * file under {@code <data>/redis}.
 */
final class RedisRunner implements EmbeddedServer {
  private final String host;
  private final int port;
  private final Path dataDir;
  private RedisServer server;

  RedisRunner(String host, int port, Path dataDir) {
    this.host = host;
    this.port = port;
    this.dataDir = dataDir;
  }

  @Override
  public String name() {
    return "redis";
  }

  String connectionString() {
    return "redis://" + host + ":" + port;
  }

  @Override
  public void start() throws Exception {
    Path bin = dataDir.resolve("bin");
    Files.createDirectories(bin);
    Path pidFile = dataDir.resolve("redis.pid");
    StaleProcesses.stopIfRunning(pidFile, "redis-server");
    server =
        RedisServer.newRedisServer()
            .executableProvider(ExecutableProvider.newJarResourceProvider(bin.toFile()))
            .bind(host)
            .port(port)
            .setting("dir " + dataDir.toAbsolutePath())
            .setting("pidfile " + pidFile.toAbsolutePath())
            .setting("appendonly yes")
            .setting("appendfsync everysec")
            .setting("save 60 1")
            .setting("protected-mode no")
            .setting("daemonize no")
            .onShutdownForceStop(true)
            .build();
    server.start();
    Ports.awaitListening("redis", host, port, Duration.ofSeconds(30));
  }

  @Override
  public void stop() {
    RedisServer s = server;
    server = null;
    if (s != null) {
      try {
        s.stop();
      } catch (IOException e) {
        throw new IllegalStateException("stopping the embedded redis failed", e);
      }
    }
  }
}
