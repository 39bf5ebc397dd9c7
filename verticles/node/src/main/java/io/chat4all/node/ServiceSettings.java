package io.chat4all.node;

import io.chat4all.auth.AuthConfig;
import io.chat4all.channels.delivery.DeliveryConfig;
import io.chat4all.channels.host.HostConfig;
import io.chat4all.channels.identity.IdentityConfig;
import io.chat4all.channels.inbound.InboundConfig;
import io.chat4all.codecs.Settings;
import io.chat4all.conversations.ConversationsConfig;
import io.chat4all.embedded.PrivateFiles;
import io.chat4all.files.FilesConfig;
import io.chat4all.messaging.MessagingConfig;
import io.chat4all.node.config.ConfigException;
import io.chat4all.node.config.ConfigRanges;
import io.chat4all.node.config.NodeConfig;
import io.chat4all.realtime.RealtimeConfig;
import io.chat4all.webhooks.WebhooksConfig;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.Base64;

/**
 * The services' settings, read from the node's configuration and checked at start: a value out of
 * its range fails the start naming the key ({@link ConfigException}, exit 2). {@link Services}
 * builds the services from them.
 */
final class ServiceSettings {
  private ServiceSettings() {}

  /** The plugin host's settings ({@code channels.*}, {@code admin.usernames}). */
  static HostConfig hostConfig(NodeConfig config) {
    try {
      return HostConfig.from(config.raw().copy().put("data_dir", config.dataDir().toString()));
    } catch (HostConfig.Invalid e) {
      throw new ConfigException(e.key(), e.getMessage());
    }
  }

  static FilesConfig filesConfig(NodeConfig config) {
    NodeConfig.S3 s = config.s3();
    FilesConfig c;
    try {
      c =
          FilesConfig.from(
              Settings.section(config.raw(), null, "files"),
              new FilesConfig.S3(
                  s.endpoint(),
                  s.publicEndpoint(),
                  s.region(),
                  s.accessKey(),
                  s.secretKey(),
                  s.bucket(),
                  s.pathStyle(),
                  s.encryption(),
                  s.kmsKeyId()),
              config.kafka().topicPrefix());
    } catch (IllegalArgumentException e) {
      throw named(e, "files");
    }
    String[] problem = c.problem();
    if (problem != null) {
      throw new ConfigException(problem[0], problem[1]);
    }
    return c;
  }

  static WebhooksConfig webhooksConfig(NodeConfig config) {
    JsonObject raw = config.raw();
    WebhooksConfig c;
    try {
      c =
          WebhooksConfig.from(
              Settings.section(raw, null, "webhooks"),
              Settings.section(raw, null, "outbox"),
              Settings.section(raw, null, "admin"),
              config.kafka().topicPrefix(),
              config.kafka().bootstrapServers());
    } catch (IllegalArgumentException e) {
      String m = String.valueOf(e.getMessage());
      throw named(
          e, m.startsWith("outbox.") ? "outbox" : m.startsWith("admin.") ? "admin" : "webhooks");
    }
    String[] problem = c.problem();
    if (problem != null) {
      throw new ConfigException(problem[0], problem[1]);
    }
    return c;
  }

  /**
   * The {@code messaging} section, checked by {@link MessagingConfig#from}: a whole number out of
   * its range, a bad {@code consumer_group} or {@code idempotency_filter_bits} stops start-up
   * naming the key.
   */
  static MessagingConfig messagingConfig(NodeConfig config) {
    try {
      return MessagingConfig.from(
          Settings.section(config.raw(), null, "messaging"),
          config.kafka().topicPrefix(),
          config.kafka().bootstrapServers(),
          config.redis().keyPrefix());
    } catch (IllegalArgumentException e) {
      throw named(e, "messaging");
    }
  }

  /** A settings error whose message starts with its dotted key, as a {@link ConfigException}. */
  private static ConfigException named(IllegalArgumentException e, String section) {
    String m = String.valueOf(e.getMessage());
    int space = m.indexOf(' ');
    return m.startsWith(section + ".") && space > 0
        ? new ConfigException(m.substring(0, space), m.substring(space + 1))
        : new ConfigException(section, m);
  }

  /** The {@code channels} section's verification, outbound delivery and inbound settings. */
  record ChannelSettings(IdentityConfig identity, DeliveryConfig delivery, InboundConfig inbound) {}

  /**
   * The {@code channels} section's verification, delivery and inbound settings, each whole number
   * within its range, each name and section checked, or start-up fails naming the key.
   */
  static ChannelSettings channelSettings(NodeConfig config, int maxTextLength) {
    JsonObject channels = config.raw().getJsonObject("channels", new JsonObject());
    String topicPrefix = config.kafka().topicPrefix();
    String bootstrap = config.kafka().bootstrapServers();
    String redisPrefix = config.redis().keyPrefix();
    try {
      return new ChannelSettings(
          IdentityConfig.from(channels),
          DeliveryConfig.from(channels, topicPrefix, bootstrap, redisPrefix),
          InboundConfig.from(channels, maxTextLength, topicPrefix, bootstrap, redisPrefix));
    } catch (IllegalArgumentException e) {
      throw named(e, "channels");
    }
  }

  /**
   * The {@code realtime} section, checked: {@code feed_check_ms} is 0 (off) or 100 to 600000, the
   * timing rules are {@link #validate(RealtimeConfig, NodeConfig.Limits, NodeConfig.Limits)}'s.
   */
  static RealtimeConfig realtimeConfig(NodeConfig config) {
    JsonObject section;
    try {
      section = Settings.section(config.raw(), null, "realtime").copy();
    } catch (IllegalArgumentException e) {
      throw named(e, "realtime");
    }
    // read for every subscriber this often: not more than ten times a second
    section.put(
        "feed_check_ms",
        ConfigRanges.offOrWithin(config.raw(), "realtime.feed_check_ms", 5_000, 100, 600_000));
    ConfigRanges.within(section, "realtime", "gap_grace_ms", 0, 60_000);
    RealtimeConfig c;
    try {
      c = RealtimeConfig.from(section);
    } catch (IllegalArgumentException e) {
      throw named(e, "realtime");
    }
    validate(c, config.httpLimits(), config.grpcLimits());
    return c;
  }

  /**
   * WebSockets are HTTP connections and Subscribe streams gRPC ones: the server's pings and
   * heartbeats must keep both within their idle timeouts; and a client that only answers the pings
   * (a listening browser) must not look idle to the socket's own idle timeout.
   */
  private static void validate(RealtimeConfig c, NodeConfig.Limits http, NodeConfig.Limits grpc) {
    long idleMs = http.idleTimeoutSeconds() * 1000L;
    if (c.pingIntervalMs() < 100 || c.pingIntervalMs() >= idleMs) {
      throw new ConfigException(
          "realtime.ping_interval_ms",
          "must be at least 100 and below http.idle_timeout_seconds (" + idleMs + " ms)");
    }
    long grpcIdleMs = grpc.idleTimeoutSeconds() * 1000L;
    if (c.pingIntervalMs() >= grpcIdleMs) {
      throw new ConfigException(
          "realtime.ping_interval_ms",
          "must be below grpc.idle_timeout_seconds (" + grpcIdleMs + " ms)");
    }
    if (c.idleTimeoutMs() < 2 * c.pingIntervalMs()) {
      throw new ConfigException(
          "realtime.idle_timeout_ms",
          "must be at least twice realtime.ping_interval_ms ("
              + c.pingIntervalMs()
              + " ms): a client that only answers the server's pings is heard from once per ping");
    }
  }

  /** The {@code auth} section, checked ({@link #validate(AuthConfig)}), with its signing key. */
  static AuthConfig authConfig(NodeConfig config, String jwtSecret) {
    AuthConfig c;
    try {
      c = AuthConfig.from(Settings.section(config.raw(), null, "auth"), jwtSecret);
    } catch (IllegalArgumentException e) {
      throw named(e, "auth");
    }
    validate(c);
    return c;
  }

  /** The {@code conversations} section; a value that is not a whole number is named. */
  static ConversationsConfig conversationsConfig(NodeConfig config) {
    try {
      return ConversationsConfig.from(Settings.section(config.raw(), null, "conversations"));
    } catch (IllegalArgumentException e) {
      throw named(e, "conversations");
    }
  }

  static void validate(AuthConfig c) {
    positive("auth.access_token_ttl_seconds", c.accessTokenTtlSeconds());
    positive("auth.refresh_token_ttl_seconds", c.refreshTokenTtlSeconds());
    positive("auth.login_max_failures", c.loginMaxFailures());
    positive("auth.login_failure_window_seconds", c.loginFailureWindowSeconds());
    if (c.passwordIterations() < 1000) {
      throw new ConfigException("auth.password_iterations", "must be at least 1000");
    }
  }

  private static void positive(String key, int value) {
    if (value <= 0) {
      throw new ConfigException(key, "must be positive");
    }
  }

  /**
   * The access-token signing key: {@code auth.jwt_secret} when set (base64, at least 32 bytes);
   * otherwise, in embedded mode, a key generated once into {@code <data_dir>/jwt-secret}; in
   * cluster mode there is no safe default, so the node refuses to start.
   */
  static String jwtSecret(NodeConfig config) {
    String configured = config.raw().getJsonObject("auth").getString("jwt_secret", "");
    if (!configured.isBlank()) {
      checkSecret(configured);
      return configured;
    }
    if (!config.embeddedBackends()) {
      throw new ConfigException(
          "auth.jwt_secret",
          "must be set when backends are external (every node of a cluster must sign tokens with the same"
              + " key), e.g. CHAT4ALL_AUTH_JWT_SECRET=$(head -c 48 /dev/urandom | base64)");
    }
    return readOrCreateSecret(config.dataDir().resolve("jwt-secret"));
  }

  /**
   * Reads the key file, creating it with 48 random bytes when missing; the file is mode 600 and its
   * directory 700 ({@link PrivateFiles}), an existing looser one is tightened.
   */
  public static String readOrCreateSecret(Path file) {
    try {
      if (Files.exists(file)) {
        PrivateFiles.directory(file.toAbsolutePath().getParent());
        String s = PrivateFiles.read(file).trim();
        checkSecret(s);
        return s;
      }
      byte[] key = new byte[48];
      new SecureRandom().nextBytes(key);
      String s = Base64.getEncoder().encodeToString(key);
      PrivateFiles.write(file, s + "\n");
      return s;
    } catch (IOException e) {
      throw new ConfigException(
          "auth.jwt_secret", "cannot read or create " + file + ": " + e.getMessage(), e);
    }
  }

  private static void checkSecret(String s) {
    try {
      if (Base64.getDecoder().decode(s.trim()).length < 32) {
        throw new ConfigException("auth.jwt_secret", "must decode to at least 32 bytes");
      }
    } catch (IllegalArgumentException e) {
      throw new ConfigException("auth.jwt_secret", "must be base64");
    }
  }
}
