package io.chat4all.embedded;

import java.nio.file.Path;
import java.util.Objects;

/**
 * Where and how the embedded servers run. A port of 0 means "pick a free one". Every server keeps
 * its data under {@code dataDir}, so a restart with the same directory finds the same data.
 */
public record EmbeddedSettings(
    Path dataDir,
    String host,
    int kafkaPort,
    int kafkaControllerPort,
    int kafkaPartitions,
    int postgresPort,
    int mongoPort,
    int redisPort,
    int s3Port,
    String s3AccessKey,
    String s3SecretKey) {

  public EmbeddedSettings {
    Objects.requireNonNull(dataDir, "dataDir");
    Objects.requireNonNull(host, "host");
    Objects.requireNonNull(s3AccessKey, "s3AccessKey");
    Objects.requireNonNull(s3SecretKey, "s3SecretKey");
  }

  /** Loopback, free ports, development credentials. */
  public static EmbeddedSettings defaults(Path dataDir) {
    return new EmbeddedSettings(
        dataDir, "127.0.0.1", 0, 0, 12, 0, 0, 0, 0, "chat4all", "chat4all-secret");
  }
}
