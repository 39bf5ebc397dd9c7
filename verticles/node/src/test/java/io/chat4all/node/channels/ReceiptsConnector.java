package io.chat4all.node.channels;

import io.chat4all.channel.spi.Capabilities;
import io.chat4all.channel.spi.ChannelConnector;
import io.chat4all.channel.spi.ConnectorContext;
import io.chat4all.channel.spi.ConnectorDescriptor;
import io.chat4all.channel.spi.Health;
import io.chat4all.channel.spi.InboundEvent;
import io.chat4all.channel.spi.OutboundMessage;
import io.chat4all.channel.spi.SendResult;
import io.chat4all.channel.spi.Spi;
import io.chat4all.channel.spi.WebhookRequest;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A connector for the receipt paths Telegram does not have (delivery and read receipts, read
 * watermarks), on the {@code messenger} channel: sends succeed with ids {@code mid.<n>}; a webhook
 * body {@code {"receipts":[{"id","status"}], "watermarks":[{"user","status","at"}]}} with the
 * header {@code X-Test-Secret: ok} becomes receipt and watermark events. It runs as a plugin: the
 * tests put this class file into a jar for the plugin host.
 */
public final class ReceiptsConnector implements ChannelConnector {
  static final String VERSION = "0.0.1-test";
  private final AtomicInteger ids = new AtomicInteger();

  public ReceiptsConnector() {}

  @Override
  public ConnectorDescriptor descriptor() {
    return new ConnectorDescriptor(
        "messenger",
        VERSION,
        Spi.VERSION,
        List.of(),
        new Capabilities(
            2000,
            Map.of(),
            Map.of(),
            Capabilities.MediaTransfer.LINK,
            Set.of(
                Capabilities.ReceiptKind.DELIVERED,
                Capabilities.ReceiptKind.READ,
                Capabilities.ReceiptKind.READ_WATERMARK),
            Capabilities.MessagingWindow.NONE,
            Set.of(Capabilities.InboundMode.WEBHOOK),
            false));
  }

  @Override
  public Future<Void> start(ConnectorContext context) {
    return Future.succeededFuture();
  }

  @Override
  public Future<Void> stop() {
    return Future.succeededFuture();
  }

  @Override
  public Future<Health> health() {
    return Future.succeededFuture(Health.up("test"));
  }

  @Override
  public Future<SendResult> send(OutboundMessage message) {
    return Future.succeededFuture(SendResult.of("mid." + ids.incrementAndGet()));
  }

  @Override
  public boolean authenticate(WebhookRequest request) {
    return "ok".equals(request.headers().get("X-Test-Secret"));
  }

  @Override
  public List<InboundEvent> parse(WebhookRequest request) {
    JsonObject body = new JsonObject(request.rawBody());
    List<InboundEvent> out = new ArrayList<>();
    body.getJsonArray("receipts", new io.vertx.core.json.JsonArray())
        .forEach(
            o -> {
              JsonObject r = (JsonObject) o;
              out.add(
                  new InboundEvent.Receipt(
                      "r:" + r.getString("id") + ":" + r.getString("status"),
                      r.getString("id"),
                      InboundEvent.Status.valueOf(r.getString("status").toUpperCase()),
                      null,
                      null,
                      null,
                      Instant.now()));
            });
    body.getJsonArray("watermarks", new io.vertx.core.json.JsonArray())
        .forEach(
            o -> {
              JsonObject w = (JsonObject) o;
              out.add(
                  new InboundEvent.Watermark(
                      "w:" + w.getString("user") + ":" + w.getString("at"),
                      w.getString("user"),
                      InboundEvent.Status.valueOf(w.getString("status").toUpperCase()),
                      Instant.parse(w.getString("at"))));
            });
    return out;
  }
}
