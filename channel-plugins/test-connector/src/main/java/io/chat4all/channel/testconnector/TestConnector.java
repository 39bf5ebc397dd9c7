package io.chat4all.channel.testconnector;

import io.chat4all.channel.spi.Capabilities;
import io.chat4all.channel.spi.ChannelConnector;
import io.chat4all.channel.spi.ConfigField;
import io.chat4all.channel.spi.ConnectorContext;
import io.chat4all.channel.spi.ConnectorDescriptor;
import io.chat4all.channel.spi.Health;
import io.chat4all.channel.spi.InboundEvent;
import io.chat4all.channel.spi.MediaKind;
import io.chat4all.channel.spi.OutboundMessage;
import io.chat4all.channel.spi.SendResult;
import io.chat4all.channel.spi.Signatures;
import io.chat4all.channel.spi.Spi;
import io.chat4all.channel.spi.WebhookRequest;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A connector for tests of the plugin host and of delivery. It talks to no provider: a send
 * succeeds (after {@code send_delay_ms}) with the provider id {@code <version>:<message id>}.
 *
 * <p>Its channel and version are those of the descriptor of the jar it was loaded from (tests make
 * variants by rewriting that descriptor), so {@link #descriptor()} agrees with the jar unless the
 * descriptor's extra field {@code test_claims_version} says otherwise.
 *
 * <p>Settings ({@code channels.<channel>.*}): {@code fail_start_versions} and {@code
 * unhealthy_versions} (lists or comma-separated text of versions whose start fails or that report
 * unhealthy), {@code start_delay_ms}, {@code send_delay_ms}, secret {@code webhook_secret}.
 *
 * <p>On the event bus it publishes {@value #LIFECYCLE} {@code {event: started|stopped, channel,
 * version, config, has_webhook_secret}} and {@value #SENT} {@code {channel, version, message_id,
 * recipient, provider_message_id}} for each send.
 */
public class TestConnector implements ChannelConnector {
  public static final String LIFECYCLE = "test.connector.lifecycle";
  public static final String SENT = "test.connector.sent";

  private final JsonObject jarDescriptor = readDescriptor();
  private final String channel = jarDescriptor.getString("channel");
  private final String version = jarDescriptor.getString("version");
  private final AtomicLong sends = new AtomicLong();
  private ConnectorContext context;
  private long sendDelayMs;

  private static JsonObject readDescriptor() {
    try (InputStream in =
        TestConnector.class.getClassLoader().getResourceAsStream(Spi.DESCRIPTOR_RESOURCE)) {
      if (in == null) {
        throw new IllegalStateException("no " + Spi.DESCRIPTOR_RESOURCE);
      }
      return new JsonObject(new String(in.readAllBytes(), StandardCharsets.UTF_8));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  @Override
  public ConnectorDescriptor descriptor() {
    return new ConnectorDescriptor(
        channel,
        jarDescriptor.getString("test_claims_version", version),
        Spi.VERSION,
        List.of(
            ConfigField.string("mode", false, "ok", "unused; shows a default"),
            ConfigField.integer("send_delay_ms", 0, "how long a send takes"),
            ConfigField.integer("start_delay_ms", 0, "how long start takes"),
            ConfigField.secret("webhook_secret", false, "the X-Test-Secret of webhook calls")),
        new Capabilities(
            4096,
            Map.of(MediaKind.IMAGE, 5_000_000L, MediaKind.DOCUMENT, 20_000_000L),
            Map.of(MediaKind.DOCUMENT, 50_000_000L),
            Capabilities.MediaTransfer.LINK,
            Set.of(Capabilities.ReceiptKind.SENT),
            Capabilities.MessagingWindow.NONE,
            Set.of(Capabilities.InboundMode.WEBHOOK),
            true));
  }

  @Override
  public Future<Void> start(ConnectorContext context) {
    this.context = context;
    JsonObject config = context.config();
    sendDelayMs = config.getLong("send_delay_ms", 0L);
    long startDelay = config.getLong("start_delay_ms", 0L);
    Promise<Void> started = Promise.promise();
    Runnable finish =
        () -> {
          if (listed(config.getValue("fail_start_versions"))) {
            started.fail("start refused by configuration (fail_start_versions)");
            return;
          }
          context
              .vertx()
              .eventBus()
              .publish(
                  LIFECYCLE,
                  new JsonObject()
                      .put("event", "started")
                      .put("channel", channel)
                      .put("version", version)
                      .put("config", config)
                      .put("has_webhook_secret", context.secret("webhook_secret") != null)
                      .put("webhook_url", context.webhookUrl()));
          context.logger().log(System.Logger.Level.INFO, "test connector {0} started", version);
          started.complete();
        };
    if (startDelay > 0) {
      context.vertx().setTimer(startDelay, t -> finish.run());
    } else {
      finish.run();
    }
    return started.future();
  }

  private boolean listed(Object versions) {
    if (versions instanceof JsonArray a) {
      return a.contains(version);
    }
    if (versions instanceof String s) {
      for (String v : s.split(",")) {
        if (v.trim().equals(version)) {
          return true;
        }
      }
    }
    return false;
  }

  @Override
  public Future<Void> stop() {
    if (context != null) {
      context
          .vertx()
          .eventBus()
          .publish(
              LIFECYCLE,
              new JsonObject()
                  .put("event", "stopped")
                  .put("channel", channel)
                  .put("version", version)
                  .put("sends", sends.get()));
    }
    context = null;
    return Future.succeededFuture();
  }

  @Override
  public Future<Health> health() {
    if (context != null && listed(context.config().getValue("unhealthy_versions"))) {
      return Future.succeededFuture(Health.down("unhealthy by configuration"));
    }
    return Future.succeededFuture(Health.up("test connector " + version));
  }

  @Override
  public Future<SendResult> send(OutboundMessage message) {
    ConnectorContext ctx = context;
    if (ctx == null) {
      return Future.failedFuture(new IllegalStateException("not started"));
    }
    Promise<SendResult> done = Promise.promise();
    Runnable finish =
        () -> {
          String id = version + ":" + message.messageId();
          sends.incrementAndGet();
          ctx.metrics().increment("test.sends", "version", version);
          ctx.vertx()
              .eventBus()
              .publish(
                  SENT,
                  new JsonObject()
                      .put("channel", channel)
                      .put("version", version)
                      .put("message_id", message.messageId())
                      .put("recipient", message.recipientChannelId())
                      .put("recipient_user_id", message.recipientUserId())
                      .put("sender_user_id", message.senderUserId())
                      .put("sender_name", message.senderName())
                      .put("text", message.text())
                      .put("metadata", message.metadata())
                      .put(
                          "last_inbound_at",
                          message.lastInboundAt() == null
                              ? null
                              : message.lastInboundAt().toString())
                      .put("provider_message_id", id));
          done.complete(SendResult.of(id));
        };
    if (sendDelayMs > 0) {
      ctx.vertx().setTimer(sendDelayMs, t -> finish.run());
    } else {
      finish.run();
    }
    return done.future();
  }

  @Override
  public boolean authenticate(WebhookRequest request) {
    String secret = context == null ? null : context.secret("webhook_secret");
    return secret != null
        && Signatures.constantTimeEquals(secret, request.headers().get("X-Test-Secret"));
  }

  /**
   * Body {@code {"id","from","text","name","sent_at"}} → one inbound message ({@code sent_at}
   * ISO-8601, default now); {@code {"kind":"receipt","id","message_id","status","error_class",
   * "provider_code","from"}} → a receipt for a provider id this connector returned; {@code
   * {"kind":"deleted","id","message_id","from"}} → the contact deleted their message {@code
   * message_id}. {@code id} is the event's dedup key.
   */
  @Override
  public List<InboundEvent> parse(WebhookRequest request) {
    JsonObject body;
    try {
      body = request.rawBody().toJsonObject();
    } catch (RuntimeException e) {
      throw new IllegalArgumentException("not a JSON object");
    }
    String id = body.getString("id");
    String from = body.getString("from");
    String kind = body.getString("kind", "message");
    if (id == null) {
      throw new IllegalArgumentException("id is required");
    }
    switch (kind) {
      case "receipt":
        return List.of(
            new InboundEvent.Receipt(
                id,
                required(body, "message_id"),
                InboundEvent.Status.valueOf(required(body, "status").toUpperCase()),
                from,
                body.getString("error_class") == null
                    ? null
                    : io.chat4all.channel.spi.ErrorClass.valueOf(
                        body.getString("error_class").toUpperCase()),
                body.getString("provider_code"),
                Instant.now()));
      case "deleted":
        return List.of(
            new InboundEvent.Deleted(id, required(body, "message_id"), from, Instant.now()));
      case "message":
        break;
      default:
        throw new IllegalArgumentException("unknown kind " + kind);
    }
    if (from == null) {
      throw new IllegalArgumentException("id and from are required");
    }
    String sentAt = body.getString("sent_at");
    return List.of(
        new InboundEvent.Message(
            id,
            id,
            from,
            from,
            body.getString("name"),
            null,
            body.getString("text"),
            List.of(),
            null,
            sentAt == null ? Instant.now() : instant(sentAt),
            null));
  }

  private static Instant instant(String s) {
    try {
      return Instant.parse(s);
    } catch (java.time.DateTimeException e) {
      throw new IllegalArgumentException("sent_at is not an ISO-8601 instant");
    }
  }

  private static String required(JsonObject body, String field) {
    String v = body.getString(field);
    if (v == null) {
      throw new IllegalArgumentException(field + " is required");
    }
    return v;
  }
}
