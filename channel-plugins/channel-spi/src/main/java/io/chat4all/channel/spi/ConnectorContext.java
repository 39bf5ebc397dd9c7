package io.chat4all.channel.spi;

import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClient;
import io.vertx.core.json.JsonObject;
import java.time.Clock;

/** What the host gives a connector at {@link ChannelConnector#start}. */
public interface ConnectorContext {

  /** The node's Vert.x; the connector runs on the event loop of its own deployment. */
  Vertx vertx();

  /**
   * An HTTP client for the provider (TLS, pooled, with the host's timeouts), closed by the host at
   * stop.
   */
  HttpClient httpClient();

  /**
   * The connector's non-secret settings ({@code channels.<channel>.*} with the defaults of its
   * {@link ConnectorDescriptor#config()} applied; secrets removed).
   */
  JsonObject config();

  /** A secret setting ({@link ConfigField#secret()}), or null when not configured. */
  String secret(String name);

  /** The clock to read time from (tests may move it). */
  Clock clock();

  /** Counters and timers tagged with the channel. */
  ConnectorMetrics metrics();

  /** A logger named after the channel; never pass credentials to it. */
  System.Logger logger();

  /**
   * The public URL under which the node receives this channel's webhooks ({@code
   * <public_base_url>/webhooks/<channel>}), for connectors that register it with the provider (e.g.
   * Telegram {@code setWebhook}); null when not configured.
   */
  String webhookUrl();
}
