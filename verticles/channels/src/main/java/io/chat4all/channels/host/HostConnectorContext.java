package io.chat4all.channels.host;

import io.chat4all.channel.spi.ConfigField;
import io.chat4all.channel.spi.ConnectorContext;
import io.chat4all.channel.spi.ConnectorDescriptor;
import io.chat4all.channel.spi.ConnectorMetrics;
import io.chat4all.codecs.HttpClientDefaults;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.json.JsonObject;
import java.time.Clock;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;

/**
 * What a started connector gets: the node's Vert.x, an HTTP client of its own (closed at stop), its
 * settings without the secrets, the secrets one by one, a clock, metrics tagged with the channel, a
 * logger named after it, and its webhook URL.
 */
final class HostConnectorContext implements ConnectorContext {
  private final Vertx vertx;
  private final String channel;
  private final JsonObject config;
  private final Map<String, String> secrets;
  private final Clock clock;
  private final ConnectorMetrics metrics;
  private final System.Logger logger;
  private final String webhookUrl;
  private HttpClient http;

  HostConnectorContext(
      Vertx vertx,
      ConnectorDescriptor descriptor,
      JsonObject block,
      String webhookUrl,
      Clock clock,
      MeterRegistry registry) {
    this.vertx = vertx;
    this.channel = descriptor.channel();
    this.clock = clock;
    this.webhookUrl = webhookUrl;
    this.logger = System.getLogger("chat4all.channel." + channel);
    this.metrics = new Metrics(registry, channel);
    JsonObject settings = new JsonObject();
    Map<String, String> secret = new HashMap<>();
    Map<String, ConfigField> fields = new HashMap<>();
    for (ConfigField f : descriptor.config()) {
      fields.put(f.name(), f);
      if (!f.secret() && f.defaultValue() != null) {
        settings.put(f.name(), f.defaultValue());
      }
    }
    for (String key : block.fieldNames()) {
      ConfigField f = fields.get(key);
      Object v = block.getValue(key);
      boolean isSecret = f != null ? f.secret() : looksSecret(key);
      if (!isSecret) {
        settings.put(key, f == null ? v : typed(f, v));
      } else if (v != null && !v.toString().isBlank()) {
        secret.put(key, v.toString());
      }
    }
    this.config = settings;
    this.secrets = Map.copyOf(secret);
  }

  /**
   * A key the connector does not declare, named like a credential, is treated as a secret all the
   * same: kept out of {@link #config()}, readable with {@link #secret}.
   */
  static boolean looksSecret(String key) {
    String k = key.toLowerCase(java.util.Locale.ROOT);
    return k.contains("secret")
        || k.contains("token")
        || k.contains("password")
        || k.contains("api_key")
        || k.endsWith("_key");
  }

  /** A value given as text (an environment variable) converted to the field's declared type. */
  static Object typed(ConfigField f, Object v) {
    if (!(v instanceof String s)) {
      return v;
    }
    String t = s.trim();
    try {
      return switch (f.type()) {
        case INTEGER, DURATION_MS -> Long.parseLong(t);
        case BOOLEAN ->
            t.equalsIgnoreCase("true") || t.equalsIgnoreCase("false")
                ? (Object) Boolean.parseBoolean(t)
                : v;
        default -> v;
      };
    } catch (NumberFormatException e) {
      return v;
    }
  }

  /** The names of the secrets set (never their values). */
  java.util.Set<String> secretNames() {
    return secrets.keySet();
  }

  @Override
  public Vertx vertx() {
    return vertx;
  }

  @Override
  public synchronized HttpClient httpClient() {
    if (http == null) {
      http =
          vertx.createHttpClient(
              new HttpClientOptions()
                  .setKeepAlive(true)
                  .setKeepAliveTimeout(HttpClientDefaults.KEEP_ALIVE_TIMEOUT_SECONDS)
                  .setConnectTimeout(10_000)
                  .setIdleTimeout(120)
                  .setTrustAll(false)
                  .setVerifyHost(true),
              new PoolOptions().setHttp1MaxSize(32));
    }
    return http;
  }

  /** Closes the HTTP client (after the connector's stop). */
  synchronized Future<Void> close() {
    HttpClient c = http;
    http = null;
    return c == null ? Future.succeededFuture() : c.close();
  }

  @Override
  public JsonObject config() {
    return config.copy();
  }

  @Override
  public String secret(String name) {
    return secrets.get(name);
  }

  @Override
  public Clock clock() {
    return clock;
  }

  @Override
  public ConnectorMetrics metrics() {
    return metrics;
  }

  @Override
  public System.Logger logger() {
    return logger;
  }

  @Override
  public String webhookUrl() {
    return webhookUrl;
  }

  @Override
  public String toString() {
    // never the secrets
    return "ConnectorContext[" + channel + ", secrets=" + secrets.keySet() + "]";
  }

  /**
   * Micrometer meters {@code chat4all.channel.<name>} tagged {@code channel} and the given tags.
   */
  private static final class Metrics implements ConnectorMetrics {
    private final MeterRegistry registry;
    private final String channel;

    Metrics(MeterRegistry registry, String channel) {
      this.registry = registry;
      this.channel = channel;
    }

    private Tags tags(String... tags) {
      Tags t = Tags.of("channel", channel);
      for (int i = 0; i + 1 < tags.length; i += 2) {
        if (!tags[i].equals("channel")) {
          t = t.and(tags[i], tags[i + 1]);
        }
      }
      return t;
    }

    @Override
    public void increment(String name, String... tags) {
      if (registry != null) {
        registry.counter("chat4all.channel." + name, tags(tags)).increment();
      }
    }

    @Override
    public void record(String name, Duration duration, String... tags) {
      if (registry != null) {
        registry.timer("chat4all.channel." + name, tags(tags)).record(duration);
      }
    }
  }
}
