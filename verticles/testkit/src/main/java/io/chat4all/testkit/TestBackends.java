package io.chat4all.testkit;

import io.chat4all.embedded.EmbeddedBackends;
import io.chat4all.embedded.EmbeddedSettings;
import io.chat4all.embedded.Endpoints;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;

/**
 * The embedded backends of a test JVM: started on first use, shared by every test class of the JVM,
 * stopped (and their data deleted) when the JVM exits. Each test class takes an {@link Isolation}
 * of its own so that classes never see each other's rows, documents, keys, records or objects.
 */
public final class TestBackends {
  private static final AtomicInteger COUNTER = new AtomicInteger();
  private static final String JWT_SECRET = randomSecret();

  private static String randomSecret() {
    byte[] key = new byte[48];
    new java.security.SecureRandom().nextBytes(key);
    return java.util.Base64.getEncoder().encodeToString(key);
  }

  private static EmbeddedBackends backends;
  private static Path dataDir;

  private TestBackends() {}

  /** The running servers, starting them on first call. */
  public static synchronized Endpoints endpoints() {
    if (backends == null) {
      String root = System.getProperty("chat4all.test.root", "target/test-data");
      dataDir = Path.of(root, "backends-" + ProcessHandle.current().pid()).toAbsolutePath();
      deleteTree(dataDir);
      backends = EmbeddedBackends.start(EmbeddedSettings.defaults(dataDir));
      Runtime.getRuntime().addShutdownHook(new Thread(TestBackends::stop, "test-backends-stop"));
    }
    return backends.endpoints();
  }

  /** The shared servers' data directory (each server's files under its own subdirectory). */
  public static synchronized Path dataDir() {
    endpoints();
    return dataDir;
  }

  private static synchronized void stop() {
    if (backends != null) {
      backends.close();
      backends = null;
      deleteTree(dataDir);
    }
  }

  /** Fresh, unique names for one test class (or one test). */
  public static Isolation isolate(String label) {
    endpoints();
    String clean = label.toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9]", "");
    if (clean.length() > 24) {
      clean = clean.substring(0, 24);
    }
    String base =
        "t"
            + COUNTER.incrementAndGet()
            + "_"
            + clean
            + "_"
            + Long.toString(ProcessHandle.current().pid(), 36);
    return new Isolation(base, endpoints());
  }

  /**
   * Names of one test's slice of the shared servers: a PostgreSQL schema, a Kafka topic prefix, an
   * S3 bucket, a Redis key prefix and a MongoDB database.
   */
  public record Isolation(String base, Endpoints endpoints) {
    public String postgresSchema() {
      return base;
    }

    public String topicPrefix() {
      return base + ".";
    }

    public String bucket() {
      return base.replace('_', '-');
    }

    public String redisKeyPrefix() {
      return base + ":";
    }

    public String mongoDatabase() {
      return base;
    }

    /**
     * A node configuration overlay (keys of {@code config/default.yaml}) that points a node at the
     * shared servers with this isolation's names, on free HTTP and gRPC ports.
     */
    public JsonObject nodeConfig() {
      JsonObject c = new JsonObject(endpoints.asConfig());
      c.put("backends", new JsonObject().put("mode", "external"));
      c.put("http", new JsonObject().put("port", 0).put("host", "127.0.0.1"));
      c.put("grpc", new JsonObject().put("port", 0).put("host", "127.0.0.1"));
      c.getJsonObject("postgres").put("schema", postgresSchema());
      c.getJsonObject("kafka").put("topic_prefix", topicPrefix()).put("partitions", 4);
      c.getJsonObject("s3").put("bucket", bucket());
      c.getJsonObject("redis").put("key_prefix", redisKeyPrefix());
      c.getJsonObject("mongo").put("database", mongoDatabase());
      // plugin folders of this isolation (not the shared ./data of the working directory)
      Path plugins =
          Path.of(System.getProperty("chat4all.test.root", "target/test-data"), base)
              .toAbsolutePath();
      c.put(
          "channels",
          new JsonObject()
              .put("plugins_dir", plugins.resolve("plugins").toString())
              .put("store_dir", plugins.resolve("plugin-store").toString()));
      // a shared signing key (as a cluster has) and a cheap password hash for fast tests
      c.put(
          "auth", new JsonObject().put("jwt_secret", JWT_SECRET).put("password_iterations", 1000));
      return c;
    }
  }

  static void deleteTree(Path dir) {
    if (dir == null || !Files.exists(dir)) {
      return;
    }
    try (Stream<Path> paths = Files.walk(dir)) {
      paths.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
