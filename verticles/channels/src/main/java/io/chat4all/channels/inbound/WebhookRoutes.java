package io.chat4all.channels.inbound;

import io.chat4all.channel.spi.HandshakeResult;
import io.chat4all.channel.spi.InboundEvent;
import io.chat4all.channel.spi.WebhookRequest;
import io.chat4all.channels.ActiveConnector;
import io.chat4all.channels.ConnectorGoneException;
import io.chat4all.channels.ConnectorRegistry;
import io.chat4all.codecs.ErrorCode;
import io.chat4all.codecs.ServiceException;
import io.chat4all.codecs.Topics;
import io.chat4all.web.FormBodies;
import io.chat4all.web.RouteModule;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.Json;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.BodyHandler;
import io.vertx.kafka.client.producer.KafkaProducer;
import java.util.List;
import java.util.Optional;
import java.util.function.Function;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code /webhooks/{channel}} on the HTTP edge, outside {@code /v1} (no bearer token: the provider
 * authenticates each request itself). {@code GET} answers the provider's verification handshake;
 * {@code POST} hands the raw body to the connector's authentication before anything is parsed (a
 * refused request stores nothing: 401), then to its parser (400 for what is not a request of this
 * provider), and answers 200 once the events are durable in Kafka ({@code channel.inbound}); they
 * are processed after that. 404 for an unknown channel, 503 when no connector serves a known one
 * (the provider retries later), 413 above {@code channels.webhooks.max_body_bytes}.
 */
public final class WebhookRoutes implements RouteModule {
  private static final Logger LOG = LoggerFactory.getLogger(WebhookRoutes.class);
  private static final Pattern CHANNEL = Pattern.compile("[a-z][a-z0-9_-]{1,31}");

  private final ConnectorRegistry registry;
  private final InboundWriter writer;
  private final InboundConfig config;

  public WebhookRoutes(
      ConnectorRegistry registry, KafkaProducer<String, String> producer, InboundConfig config) {
    this.registry = registry;
    this.writer = new InboundWriter(producer, config.topicPrefix());
    this.config = config;
  }

  @Override
  public void mount(Router router) {
    // the raw body is what the provider signed: a form body is kept raw, not decoded
    router.route("/webhooks/*").handler(FormBodies.hide());
    router
        .route("/webhooks/*")
        .handler(BodyHandler.create(false).setBodyLimit(config.maxBodyBytes()));
    router.route("/webhooks/*").handler(FormBodies.restore());
    router.get("/webhooks/:channel").handler(this::handshake);
    router.post("/webhooks/:channel").handler(this::events);
  }

  /** The active connector of the path's channel; 404 unknown channel, 503 none active now. */
  private ActiveConnector connector(RoutingContext ctx) {
    String channel = ctx.pathParam("channel");
    if (channel == null || !CHANNEL.matcher(channel).matches()) {
      throw unknown(channel);
    }
    Optional<ActiveConnector> active = registry.active(channel);
    if (active.isPresent()) {
      return active.get();
    }
    if (Topics.CHANNELS.contains(channel) || config.configured(channel)) {
      throw new ServiceException(
          ErrorCode.UNAVAILABLE,
          "no connector serves channel " + channel + " right now; retry later",
          new JsonObject().put("channel", channel));
    }
    throw unknown(channel);
  }

  private static ServiceException unknown(String channel) {
    return new ServiceException(
        ErrorCode.NOT_FOUND,
        "unknown channel " + channel,
        new JsonObject().put("field", "channel"));
  }

  private static WebhookRequest request(RoutingContext ctx) {
    Buffer body = ctx.body() == null ? null : ctx.body().buffer();
    return new WebhookRequest(
        ctx.request().method().name(),
        ctx.queryParams(),
        ctx.request().headers(),
        body == null ? Buffer.buffer() : body);
  }

  /** A pure connector call, once more with the new connector if it was replaced meanwhile. */
  private <T> T callNow(
      RoutingContext ctx, Function<io.chat4all.channel.spi.ChannelConnector, T> fn) {
    try {
      return connector(ctx).callNow(fn);
    } catch (ConnectorGoneException gone) {
      return connector(ctx).callNow(fn);
    }
  }

  private void handshake(RoutingContext ctx) {
    try {
      WebhookRequest req = request(ctx);
      HandshakeResult r = callNow(ctx, c -> c.handshake(req));
      if (r.status() == 404) {
        throw new ServiceException(
            ErrorCode.NOT_FOUND, "channel " + ctx.pathParam("channel") + " has no GET handshake");
      }
      if (r.status() >= 400) {
        throw new ServiceException(ErrorCode.FORBIDDEN, "webhook verification refused");
      }
      ctx.response()
          .setStatusCode(r.status())
          .putHeader("content-type", "text/plain; charset=utf-8")
          .end(r.body() == null ? "" : r.body());
    } catch (RuntimeException e) {
      ctx.fail(e);
    }
  }

  private void events(RoutingContext ctx) {
    String channel = ctx.pathParam("channel");
    List<InboundEvent> events;
    try {
      WebhookRequest req = request(ctx);
      if (!callNow(ctx, c -> c.authenticate(req))) {
        throw new ServiceException(
            ErrorCode.UNAUTHENTICATED, "the webhook request is not signed by the provider");
      }
      try {
        events = callNow(ctx, c -> c.parse(req));
      } catch (IllegalArgumentException bad) {
        throw new ServiceException(
            isJson(req.rawBody()) ? ErrorCode.BAD_REQUEST : ErrorCode.MALFORMED_JSON,
            "not a " + channel + " webhook request: " + bad.getMessage());
      }
    } catch (RuntimeException e) {
      ctx.fail(e);
      return;
    }
    writer
        .write(channel, events)
        .onComplete(
            ar -> {
              if (ar.failed()) {
                LOG.warn(
                    "channel {}: inbound events not stored: {}", channel, ar.cause().toString());
                ctx.fail(
                    new ServiceException(
                        ErrorCode.UNAVAILABLE, "the events could not be stored; retry later"));
                return;
              }
              ctx.response()
                  .setStatusCode(200)
                  .putHeader("content-type", "application/json; charset=utf-8")
                  .end(new JsonObject().put("ok", true).put("accepted", ar.result()).toBuffer());
            });
  }

  private static boolean isJson(Buffer body) {
    try {
      Json.decodeValue(body);
      return true;
    } catch (RuntimeException e) {
      return false;
    }
  }
}
