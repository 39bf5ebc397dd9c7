package io.chat4all.node.config;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The validated, typed node configuration. {@link #from(JsonObject)} checks every value and fails
 * with a {@link ConfigException} naming the first bad key.
 */
public record NodeConfig(
    JsonObject raw,
    Path dataDir,
    Node node,
    Listen http,
    int maxBodyBytes,
    Limits httpLimits,
    Listen grpc,
    Limits grpcLimits,
    boolean embeddedBackends,
    Embedded embedded,
    Cluster cluster,
    Kafka kafka,
    Postgres postgres,
    Mongo mongo,
    Redis redis,
    S3 s3) {

  public record Node(String id, int shutdownGraceSeconds) {}

  public record Listen(String host, int port) {}

  /**
   * How a server cuts off slow and too many clients.
   *
   * @param headerTimeoutSeconds a new connection must have sent a complete request head (request
   *     line and headers, or the first HTTP/2 stream's headers) within this
   * @param bodyTimeoutSeconds a request body the edge reads whole must have arrived within this
   *     after its head (0: the server reads no body whole)
   * @param idleTimeoutSeconds a connection without a byte in either direction for this long is
   *     closed, as is one that has had no request in progress for this long
   * @param maxConnectionsPerIp open connections one client IP may hold; further ones are closed at
   *     once (0 = unlimited)
   */
  public record Limits(
      int headerTimeoutSeconds,
      int bodyTimeoutSeconds,
      int idleTimeoutSeconds,
      int maxConnectionsPerIp) {}

  public record Embedded(
      String host,
      int kafkaPort,
      int kafkaControllerPort,
      int postgresPort,
      int mongoPort,
      int redisPort,
      int s3Port) {}

  /**
   * Hazelcast clustering.
   *
   * @param discovery how members find each other: the TCP member list or Kubernetes discovery
   * @param kubernetes the Kubernetes discovery settings (used with {@link Discovery#KUBERNETES})
   */
  public record Cluster(
      boolean enabled,
      String host,
      int port,
      int busPort,
      List<String> members,
      String name,
      Discovery discovery,
      Kubernetes kubernetes) {}

  /** How a node finds the other members of its cluster ({@code cluster.discovery}). */
  public enum Discovery {
    /** The explicit member list {@code cluster.members}. */
    TCP,
    /** Hazelcast's Kubernetes API discovery: the endpoints of a (headless) Service. */
    KUBERNETES
  }

  /**
   * @param serviceName the Service whose endpoints are the members
   * @param namespace its namespace; empty = the pod's own namespace
   */
  public record Kubernetes(String serviceName, String namespace) {}

  public record Kafka(
      String bootstrapServers, String topicPrefix, int partitions, short replicationFactor) {}

  public record Postgres(
      String host,
      int port,
      String database,
      String user,
      String password,
      String schema,
      int poolSize) {}

  public record Mongo(String connectionString, String database) {}

  public record Redis(String connectionString, String keyPrefix, int poolSize) {}

  public record S3(
      String endpoint,
      String publicEndpoint,
      String region,
      String accessKey,
      String secretKey,
      String bucket,
      boolean pathStyle,
      String encryption,
      String kmsKeyId) {}

  public static NodeConfig from(JsonObject c) {
    String dataDir = str(c, "data_dir");
    if (dataDir.isBlank()) {
      throw new ConfigException("data_dir", "must not be empty");
    }
    JsonObject node = section(c, "node");
    JsonObject http = section(c, "http");
    JsonObject grpc = section(c, "grpc");
    JsonObject backends = section(c, "backends");
    JsonObject emb = section(c, "embedded");
    JsonObject cl = section(c, "cluster");
    JsonObject kf = section(c, "kafka");
    JsonObject pg = section(c, "postgres");
    JsonObject mg = section(c, "mongo");
    JsonObject rd = section(c, "redis");
    JsonObject s3 = section(c, "s3");

    String mode = str(backends, "backends.mode", "mode").toLowerCase(Locale.ROOT);
    if (!mode.equals("embedded") && !mode.equals("external")) {
      throw new ConfigException(
          "backends.mode", "must be embedded or external, got \"" + mode + "\"");
    }
    boolean embedded = mode.equals("embedded");

    List<String> members = new ArrayList<>();
    List<String> rawMembers;
    try {
      rawMembers = io.chat4all.codecs.Settings.texts(cl, "cluster", "members", List.of());
    } catch (IllegalArgumentException e) {
      throw new ConfigException("cluster.members", "must be a list of host:port");
    }
    for (String member : rawMembers) {
      int colon = member.lastIndexOf(':');
      if (colon <= 0 || colon == member.length() - 1) {
        throw new ConfigException(
            "cluster.members", "each member must be host:port, got \"" + member + "\"");
      }
      port("cluster.members", member.substring(colon + 1));
      members.add(member);
    }

    Kafka kafka =
        new Kafka(
            str(kf, "kafka.bootstrap_servers", "bootstrap_servers"),
            topicPrefix(str(kf, "kafka.topic_prefix", "topic_prefix")),
            range(kf, "kafka.partitions", "partitions", 1, 1000),
            (short) range(kf, "kafka.replication_factor", "replication_factor", 1, 10));
    Mongo mongo =
        new Mongo(
            str(mg, "mongo.connection_string", "connection_string"),
            name(mg, "mongo.database", "database"));
    Redis redis =
        new Redis(
            str(rd, "redis.connection_string", "connection_string"),
            str(rd, "redis.key_prefix", "key_prefix"),
            range(rd, "redis.pool_size", "pool_size", 1, 1000));
    S3 s3c =
        new S3(
            str(s3, "s3.endpoint", "endpoint"),
            str(s3, "s3.public_endpoint", "public_endpoint"),
            str(s3, "s3.region", "region"),
            str(s3, "s3.access_key", "access_key"),
            str(s3, "s3.secret_key", "secret_key"),
            bucket(str(s3, "s3.bucket", "bucket")),
            bool(s3, "s3.path_style", "path_style"),
            encryption(str(s3, "s3.encryption", "encryption")),
            str(s3, "s3.kms_key_id", "kms_key_id"));
    if (s3c.encryption().equals("sse-kms")) {
      require("s3.kms_key_id", s3c.kmsKeyId());
    }
    if (!embedded) {
      require("kafka.bootstrap_servers", kafka.bootstrapServers());
      require("mongo.connection_string", mongo.connectionString());
      require("redis.connection_string", redis.connectionString());
      require("s3.endpoint", s3c.endpoint());
      require("s3.access_key", s3c.accessKey());
      require("s3.secret_key", s3c.secretKey());
    }

    return new NodeConfig(
        c,
        Path.of(dataDir),
        new Node(
            str(node, "node.id", "id"),
            range(node, "node.shutdown_grace_seconds", "shutdown_grace_seconds", 0, 3600)),
        new Listen(str(http, "http.host", "host"), port(http, "http.port", "port")),
        range(http, "http.max_body_bytes", "max_body_bytes", 1024, Integer.MAX_VALUE),
        limits(http, "http", true),
        new Listen(str(grpc, "grpc.host", "host"), port(grpc, "grpc.port", "port")),
        limits(grpc, "grpc", false),
        embedded,
        new Embedded(
            str(emb, "embedded.host", "host"),
            port(emb, "embedded.kafka_port", "kafka_port"),
            port(emb, "embedded.kafka_controller_port", "kafka_controller_port"),
            port(emb, "embedded.postgres_port", "postgres_port"),
            port(emb, "embedded.mongo_port", "mongo_port"),
            port(emb, "embedded.redis_port", "redis_port"),
            port(emb, "embedded.s3_port", "s3_port")),
        cluster(cl, members),
        kafka,
        new Postgres(
            str(pg, "postgres.host", "host"),
            port(pg, "postgres.port", "port"),
            str(pg, "postgres.database", "database"),
            str(pg, "postgres.user", "user"),
            str(pg, "postgres.password", "password"),
            name(pg, "postgres.schema", "schema"),
            range(pg, "postgres.pool_size", "pool_size", 1, 1000)),
        mongo,
        redis,
        s3c);
  }

  private static Cluster cluster(JsonObject cl, List<String> members) {
    boolean enabled = bool(cl, "cluster.enabled", "enabled");
    int port = port(cl, "cluster.port", "port");
    String rawDiscovery = str(cl, "cluster.discovery", "discovery").trim();
    Discovery discovery =
        switch (rawDiscovery.toLowerCase(Locale.ROOT)) {
          case "tcp" -> Discovery.TCP;
          case "kubernetes" -> Discovery.KUBERNETES;
          default ->
              throw new ConfigException(
                  "cluster.discovery", "must be tcp or kubernetes, got \"" + rawDiscovery + "\"");
        };
    Object k8sSection = cl.containsKey("kubernetes") ? cl.getValue("kubernetes") : new JsonObject();
    if (!(k8sSection instanceof JsonObject k8s)) {
      throw new ConfigException("cluster.kubernetes", "must be a section");
    }
    String serviceName = str(k8s, "cluster.kubernetes.service_name", "service_name").trim();
    String namespace = str(k8s, "cluster.kubernetes.namespace", "namespace").trim();
    if (!serviceName.isEmpty() && !serviceName.matches(DNS_LABEL)) {
      throw new ConfigException(
          "cluster.kubernetes.service_name",
          "must be a Kubernetes Service name (lowercase letters, digits and '-', starting with a"
              + " letter, at most 63), got \""
              + serviceName
              + "\"");
    }
    if (!namespace.isEmpty() && !namespace.matches(DNS_LABEL_1123)) {
      throw new ConfigException(
          "cluster.kubernetes.namespace",
          "must be a Kubernetes namespace name (lowercase letters, digits and '-', at most 63), got"
              + " \""
              + namespace
              + "\"");
    }
    if (enabled && discovery == Discovery.KUBERNETES) {
      if (serviceName.isEmpty()) {
        throw new ConfigException(
            "cluster.kubernetes.service_name", "must be set when cluster.discovery is kubernetes");
      }
      if (port == 0) {
        throw new ConfigException(
            "cluster.port",
            "must be a fixed port (1-65535) when cluster.discovery is kubernetes: the members are"
                + " found at it on every pod");
      }
    }
    return new Cluster(
        enabled,
        str(cl, "cluster.host", "host"),
        port,
        port(cl, "cluster.bus_port", "bus_port"),
        List.copyOf(members),
        str(cl, "cluster.name", "name"),
        discovery,
        new Kubernetes(serviceName, namespace));
  }

  /** A DNS-1035 label: what a Kubernetes Service name must be. */
  private static final String DNS_LABEL = "[a-z]([-a-z0-9]{0,61}[a-z0-9])?";

  /** A DNS-1123 label: what a namespace name must be. */
  private static final String DNS_LABEL_1123 = "[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?";

  private static Limits limits(JsonObject s, String name, boolean bufferedBodies) {
    return new Limits(
        range(
            s, name + ".request_header_timeout_seconds", "request_header_timeout_seconds", 1, 3600),
        bufferedBodies
            ? range(
                s, name + ".request_body_timeout_seconds", "request_body_timeout_seconds", 1, 86400)
            : 0,
        range(s, name + ".idle_timeout_seconds", "idle_timeout_seconds", 1, 86400),
        range(s, name + ".max_connections_per_ip", "max_connections_per_ip", 0, 1_000_000));
  }

  private static JsonObject section(JsonObject c, String key) {
    Object v = c.getValue(key);
    if (!(v instanceof JsonObject o)) {
      throw new ConfigException(key, "must be a section");
    }
    return o;
  }

  private static String str(JsonObject c, String key) {
    return str(c, key, key);
  }

  private static String str(JsonObject c, String dotted, String key) {
    Object v = c.getValue(key);
    if (v == null) {
      return "";
    }
    if (v instanceof JsonObject || v instanceof JsonArray) {
      throw new ConfigException(dotted, "must be a single value");
    }
    return v.toString();
  }

  private static boolean bool(JsonObject c, String dotted, String key) {
    Object v = c.getValue(key);
    if (v instanceof Boolean b) {
      return b;
    }
    throw new ConfigException(dotted, "must be true or false, got \"" + v + "\"");
  }

  private static int range(JsonObject c, String dotted, String key, int min, int max) {
    long value = ConfigRanges.whole(dotted, c.getValue(key));
    if (value < min || value > max) {
      throw new ConfigException(dotted, "must be from " + min + " to " + max + ", got " + value);
    }
    return (int) value;
  }

  private static int port(JsonObject c, String dotted, String key) {
    return range(c, dotted, key, 0, 65535);
  }

  private static int port(String dotted, String raw) {
    try {
      int p = Integer.parseInt(raw);
      if (p < 1 || p > 65535) {
        throw new NumberFormatException();
      }
      return p;
    } catch (NumberFormatException e) {
      throw new ConfigException(dotted, "port must be from 1 to 65535, got \"" + raw + "\"");
    }
  }

  private static void require(String key, String value) {
    if (value == null || value.isBlank()) {
      throw new ConfigException(key, "must be set when backends.mode is external");
    }
  }

  private static String name(JsonObject c, String dotted, String key) {
    String v = str(c, dotted, key);
    if (!v.matches("[a-z_][a-z0-9_]{0,62}")) {
      throw new ConfigException(
          dotted, "must be a lowercase identifier ([a-z_][a-z0-9_]*), got \"" + v + "\"");
    }
    return v;
  }

  private static String topicPrefix(String v) {
    if (!v.matches("[A-Za-z0-9._-]{0,100}")) {
      throw new ConfigException(
          "kafka.topic_prefix", "may only hold letters, digits, '.', '_' and '-'");
    }
    return v;
  }

  private static String encryption(String v) {
    String e = v.trim().toLowerCase(Locale.ROOT);
    if (!List.of("sse-s3", "sse-kms", "store", "none").contains(e)) {
      throw new ConfigException(
          "s3.encryption", "must be sse-s3, sse-kms, store or none, got \"" + v + "\"");
    }
    return e;
  }

  private static String bucket(String v) {
    if (!v.matches("[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")) {
      throw new ConfigException("s3.bucket", "must be a valid S3 bucket name, got \"" + v + "\"");
    }
    return v;
  }
}
