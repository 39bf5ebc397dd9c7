package io.chat4all.embedded;

import java.util.LinkedHashMap;
import java.util.Map;

/** How to reach each running embedded server. */
public record Endpoints(
    String kafkaBootstrapServers,
    String postgresHost,
    int postgresPort,
    String postgresDatabase,
    String postgresUser,
    String postgresPassword,
    String mongoConnectionString,
    String redisConnectionString,
    String s3Endpoint,
    String s3Region,
    String s3AccessKey,
    String s3SecretKey) {

  /**
   * The endpoints as a configuration overlay (mutable maps; the same keys as {@code
   * config/default.yaml}), so a node started with {@code --config <this file>} uses these servers.
   */
  public Map<String, Object> asConfig() {
    Map<String, Object> root = new LinkedHashMap<>();
    root.put("kafka", new LinkedHashMap<>(Map.of("bootstrap_servers", kafkaBootstrapServers)));
    root.put(
        "postgres",
        new LinkedHashMap<>(
            Map.of(
                "host", postgresHost,
                "port", postgresPort,
                "database", postgresDatabase,
                "user", postgresUser,
                "password", postgresPassword)));
    root.put("mongo", new LinkedHashMap<>(Map.of("connection_string", mongoConnectionString)));
    root.put("redis", new LinkedHashMap<>(Map.of("connection_string", redisConnectionString)));
    root.put(
        "s3",
        new LinkedHashMap<>(
            Map.of(
                "endpoint", s3Endpoint,
                "public_endpoint", s3Endpoint,
                "region", s3Region,
                "access_key", s3AccessKey,
                "secret_key", s3SecretKey,
                "path_style", true,
                // the embedded store encrypts every object itself (see S3Runner)
                "encryption", "store")));
    return root;
  }
}
