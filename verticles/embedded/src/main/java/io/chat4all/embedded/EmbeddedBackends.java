package io.chat4all.embedded;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Starts the five real backing servers of embedded mode — Kafka (KRaft), PostgreSQL, a MongoDB-wire
 * server, Redis and S3 — with all their data under one directory, and stops them cleanly. One
 * process at a time owns a data directory (a file lock); a server left running by a crashed owner
 * is stopped at the next start.
 *
 * <p>Blocking: call {@link #start} and {@link #close} from a plain thread, never an event loop.
 */
public final class EmbeddedBackends implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(EmbeddedBackends.class);

  private final EmbeddedSettings settings;
  private final List<EmbeddedServer> started = new ArrayList<>();
  private final Map<String, EmbeddedServer> byName = new LinkedHashMap<>();
  private FileChannel lockChannel;
  private FileLock lock;
  private Endpoints endpoints;

  private EmbeddedBackends(EmbeddedSettings settings) {
    this.settings = settings;
  }

  /** Starts every server; on any failure stops what started and throws. */
  public static EmbeddedBackends start(EmbeddedSettings settings) {
    EmbeddedBackends backends = new EmbeddedBackends(settings);
    try {
      backends.doStart();
      return backends;
    } catch (RuntimeException e) {
      backends.close();
      throw e;
    } catch (Exception e) {
      backends.close();
      throw new EmbeddedStartException("embedded backends failed to start: " + e.getMessage(), e);
    }
  }

  public Endpoints endpoints() {
    return endpoints;
  }

  public Path dataDir() {
    return settings.dataDir();
  }

  /** The messages of {@code t} and its causes, so a wrapped failure still says what happened. */
  static String causes(Throwable t) {
    StringBuilder out = new StringBuilder(String.valueOf(t));
    java.util.Set<Throwable> seen = new java.util.HashSet<>();
    seen.add(t);
    for (Throwable c = t.getCause(); c != null && seen.add(c); c = c.getCause()) {
      out.append(" <- ").append(c);
    }
    return out.toString();
  }

  private void doStart() throws Exception {
    // every server's data and the secrets live here: owner only
    Path data = PrivateFiles.directory(settings.dataDir());
    acquireLock(data);
    String host = settings.host();

    KafkaServerRunner kafka;
    PostgresRunner postgres;
    MongoRunner mongo;
    RedisRunner redis;
    S3Runner s3;
    try (Ports.Reservation ports = new Ports.Reservation()) {
      kafka =
          new KafkaServerRunner(
              host,
              ports.choose("kafka", "embedded.kafka_port", host, settings.kafkaPort()),
              ports.choose(
                  "kafka controller",
                  "embedded.kafka_controller_port",
                  host,
                  settings.kafkaControllerPort()),
              settings.kafkaPartitions(),
              data.resolve("kafka"));
      postgres =
          new PostgresRunner(
              host,
              ports.choose("postgres", "embedded.postgres_port", host, settings.postgresPort()),
              data.resolve("postgres"));
      mongo =
          new MongoRunner(
              host,
              ports.choose("mongo", "embedded.mongo_port", host, settings.mongoPort()),
              data.resolve("mongo"));
      redis =
          new RedisRunner(
              host,
              ports.choose("redis", "embedded.redis_port", host, settings.redisPort()),
              data.resolve("redis"));
      s3 =
          new S3Runner(
              host,
              ports.choose("s3", "embedded.s3_port", host, settings.s3Port()),
              data.resolve("s3"),
              settings.s3AccessKey(),
              settings.s3SecretKey());
    }
    List<EmbeddedServer> all = List.of(postgres, kafka, mongo, redis, s3);
    all.forEach(server -> byName.put(server.name(), server));
    ExecutorService pool =
        Executors.newFixedThreadPool(
            all.size(),
            r -> {
              Thread t = new Thread(r, "embedded-start");
              t.setDaemon(true);
              return t;
            });
    try {
      List<Future<?>> futures = new ArrayList<>();
      for (EmbeddedServer server : all) {
        futures.add(
            pool.submit(
                () -> {
                  long t0 = System.nanoTime();
                  server.start();
                  synchronized (started) {
                    started.add(server);
                  }
                  LOG.info(
                      "embedded {} started in {} ms",
                      server.name(),
                      (System.nanoTime() - t0) / 1_000_000);
                  return null;
                }));
      }
      Exception failure = null;
      for (int i = 0; i < futures.size(); i++) {
        try {
          futures.get(i).get();
        } catch (ExecutionException e) {
          Throwable cause = e.getCause();
          String message =
              cause instanceof EmbeddedStartException
                  ? cause.getMessage()
                  : "embedded " + all.get(i).name() + " failed to start: " + causes(cause);
          if (failure == null) {
            failure = new EmbeddedStartException(message, cause);
          } else {
            failure.addSuppressed(cause);
          }
        }
      }
      if (failure != null) {
        throw failure;
      }
    } finally {
      pool.shutdownNow();
    }

    endpoints =
        new Endpoints(
            kafka.bootstrapServers(),
            host,
            postgres.port(),
            PostgresRunner.DATABASE,
            PostgresRunner.USER,
            "postgres",
            mongo.connectionString(),
            redis.connectionString(),
            s3.endpoint(),
            S3Runner.REGION,
            settings.s3AccessKey(),
            settings.s3SecretKey());
  }

  /** The servers {@link #stopServer} and {@link #startServer} can stop and start alone. */
  public static final Set<String> RESTARTABLE = Set.of("postgres", "redis");

  /**
   * Stops one server ({@link #RESTARTABLE}), its data kept, while the others keep running: for
   * outage drills. Blocking. Stopping a stopped server does nothing.
   */
  public synchronized void stopServer(String name) {
    EmbeddedServer server = restartable(name);
    boolean wasRunning;
    synchronized (started) {
      wasRunning = started.remove(server);
    }
    if (wasRunning) {
      server.stop();
      LOG.info("embedded {} stopped (the others keep running)", name);
    }
  }

  /**
   * Starts a server stopped by {@link #stopServer} again, on the same port and data. Blocking;
   * returns once it accepts connections. Starting a running server does nothing.
   */
  public synchronized void startServer(String name) throws Exception {
    EmbeddedServer server = restartable(name);
    synchronized (started) {
      if (started.contains(server)) {
        return;
      }
    }
    long t0 = System.nanoTime();
    server.start();
    synchronized (started) {
      started.add(server);
    }
    LOG.info("embedded {} started again in {} ms", name, (System.nanoTime() - t0) / 1_000_000);
  }

  private EmbeddedServer restartable(String name) {
    EmbeddedServer server = byName.get(name);
    if (server == null || !RESTARTABLE.contains(name)) {
      throw new IllegalArgumentException(
          "only "
              + String.join(" and ", new java.util.TreeSet<>(RESTARTABLE))
              + " can be stopped and started alone, not '"
              + name
              + "'");
    }
    return server;
  }

  private void acquireLock(Path data) throws IOException {
    Path lockFile = data.resolve(".lock");
    lockChannel =
        FileChannel.open(
            lockFile, StandardOpenOption.CREATE, StandardOpenOption.WRITE, StandardOpenOption.READ);
    lock = lockChannel.tryLock();
    if (lock == null) {
      String owner = "";
      try {
        owner = " (pid " + Files.readString(data.resolve(".pid")).trim() + ")";
      } catch (IOException ignored) {
        // unknown owner
      }
      lockChannel.close();
      lockChannel = null;
      throw new EmbeddedStartException(
          "data directory "
              + data
              + " is in use by another Chat4All process"
              + owner
              + "; stop it or choose another --data-dir");
    }
    Files.writeString(
        data.resolve(".pid"), Long.toString(ProcessHandle.current().pid()), StandardCharsets.UTF_8);
  }

  /** Stops every server (reverse start order) and releases the data directory. */
  @Override
  public synchronized void close() {
    List<EmbeddedServer> toStop;
    synchronized (started) {
      toStop = new ArrayList<>(started);
      started.clear();
    }
    for (int i = toStop.size() - 1; i >= 0; i--) {
      EmbeddedServer server = toStop.get(i);
      try {
        server.stop();
        LOG.info("embedded {} stopped", server.name());
      } catch (RuntimeException e) {
        LOG.warn("stopping embedded {} failed", server.name(), e);
      }
    }
    try {
      if (lock != null) {
        lock.release();
        lock = null;
      }
      if (lockChannel != null) {
        lockChannel.close();
        lockChannel = null;
        Files.deleteIfExists(settings.dataDir().toAbsolutePath().resolve(".pid"));
      }
    } catch (IOException e) {
      LOG.warn("releasing the data directory lock failed", e);
    }
  }
}
