package io.chat4all.embedded;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import redis.embedded.RedisServer;
import redis.embedded.core.ExecutableProvider;
import redis.embedded.model.OsArchitecture;

/**
 * redis-server (the binary shipped in embedded-redis) as a child process. The binary is unpacked
 * once into {@code <data>/redis/bin} (no temp folder is left behind, and a restart runs the same
 * file rather than rewriting it); data is kept with an append-only file under {@code <data>/redis}.
 * A stop is a shutdown (SIGTERM: Redis flushes its append-only file and exits), not a kill.
 */
final class RedisRunner implements EmbeddedServer {
  private static final Logger LOG = LoggerFactory.getLogger(RedisRunner.class);

  /** Start attempts: an exec can fail for a moment (see {@link #start()}). */
  static final int ATTEMPTS = 3;

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

  /**
   * The redis-server binary under {@code bin}, unpacked from the jar if it is not there yet (or not
   * complete): written to a temporary name and moved into place, so a half-written file is never
   * executed.
   */
  static Path binary(Path bin) throws IOException {
    String resource =
        ExecutableProvider.newProvidedVersionsMap().get(OsArchitecture.detectOSandArchitecture());
    if (resource == null) {
      throw new EmbeddedStartException(
          "embedded redis has no binary for this operating system and architecture");
    }
    Path target = bin.resolve(resource.substring(resource.lastIndexOf('/') + 1));
    try (InputStream in = RedisServer.class.getResourceAsStream(resource)) {
      if (in == null) {
        throw new EmbeddedStartException("the embedded redis binary " + resource + " is missing");
      }
      byte[] bytes = in.readAllBytes();
      if (Files.isRegularFile(target)
          && Files.size(target) == bytes.length
          && Files.isExecutable(target)) {
        return target;
      }
      Path tmp = Files.createTempFile(bin, "redis-server", ".part");
      try {
        Files.write(tmp, bytes);
        if (!tmp.toFile().setExecutable(true, true)) {
          throw new IOException("cannot make " + tmp + " executable");
        }
        Files.move(
            tmp, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
      } finally {
        Files.deleteIfExists(tmp);
      }
    }
    return target;
  }

  @Override
  public void start() throws Exception {
    Path bin = dataDir.resolve("bin");
    Files.createDirectories(bin);
    Path executable = binary(bin);
    Path pidFile = dataDir.resolve("redis.pid");
    StaleProcesses.stopIfRunning(pidFile, "redis-server");
    // Starting a file that was just written can fail with "Text file busy" while another thread's
    // freshly forked child still holds the write descriptor (the other servers start processes in
    // parallel); a server still releasing the port fails once too. Both pass: try again.
    IOException last = null;
    for (int attempt = 1; attempt <= ATTEMPTS; attempt++) {
      RedisServer s =
          RedisServer.newRedisServer()
              .executableProvider(executable::toFile)
              .bind(host)
              .port(port)
              .setting("dir " + dataDir.toAbsolutePath())
              .setting("pidfile " + pidFile.toAbsolutePath())
              .setting("appendonly yes")
              .setting("appendfsync everysec")
              .setting("save 60 1")
              .setting("protected-mode no")
              .setting("daemonize no")
              .onShutdownForceStop(false)
              .build();
      try {
        s.start();
        server = s;
        Ports.awaitListening("redis", host, port, Duration.ofSeconds(30));
        return;
      } catch (IOException e) {
        last = e;
        LOG.warn(
            "embedded redis did not start (attempt {} of {}): {}",
            attempt,
            ATTEMPTS,
            EmbeddedBackends.causes(e));
        Thread.sleep(500L * attempt);
      }
    }
    throw last;
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
