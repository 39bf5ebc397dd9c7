package io.chat4all.channels.delivery;

import io.chat4all.channel.spi.Capabilities;
import io.chat4all.channel.spi.ConnectorException;
import io.chat4all.channel.spi.ErrorClass;
import io.chat4all.channel.spi.OutboundMedia;
import io.chat4all.channel.spi.OutboundMessage;
import io.chat4all.channel.spi.SendResult;
import io.chat4all.channels.ActiveConnector;
import io.chat4all.channels.ConnectorGoneException;
import io.chat4all.channels.ConnectorRegistry;
import io.vertx.circuitbreaker.CircuitBreaker;
import io.vertx.circuitbreaker.CircuitBreakerState;
import io.vertx.circuitbreaker.OpenCircuitException;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeoutException;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One attempt at delivering an {@link Item}: claim it (a redelivered record that already succeeded
 * or failed is not sent again; its status is recorded again), check it against the channel
 * (disabled, text length, media limits), resolve the media and the quoted message, call the active
 * connector through the channel's circuit breaker, and record the outcome. The answer tells the
 * lane what to do next.
 */
final class Sender {
  private static final Logger LOG = LoggerFactory.getLogger(Sender.class);

  /** What happens to the lane's head after an attempt. */
  enum Next {
    /** Finished (sent, failed for good, or nothing to do): the offset may be committed. */
    DONE,
    /** Try again after {@link Result#delayMs()}. */
    RETRY,
    /** No connector serves the channel: wait until one does. */
    WAIT_CONNECTOR,
    /** The breaker refused the call: wait until it lets calls through. */
    WAIT_BREAKER,
    /** The connector was replaced under the call: try again now with the new one. */
    AGAIN
  }

  record Result(Next next, long delayMs) {
    static final Result DONE = new Result(Next.DONE, 0);
    static final Result WAIT_CONNECTOR = new Result(Next.WAIT_CONNECTOR, 0);
    static final Result WAIT_BREAKER = new Result(Next.WAIT_BREAKER, 0);
    static final Result AGAIN = new Result(Next.AGAIN, 0);

    static Result retry(long ms) {
      return new Result(Next.RETRY, ms);
    }
  }

  private final DeliveryConfig config;
  private final ConnectorRegistry registry;
  private final DeliveryStore store;
  private final StatusRecords status;
  private final MediaSource media;
  private final RecipientLinks links;
  private final String owner;
  private final DeliveryMetrics metrics;
  private final java.util.function.BiPredicate<String, String> allowed;

  Sender(
      DeliveryConfig config,
      ConnectorRegistry registry,
      DeliveryStore store,
      StatusRecords status,
      MediaSource media,
      RecipientLinks links,
      String owner,
      DeliveryMetrics metrics,
      java.util.function.BiPredicate<String, String> allowed) {
    this.allowed = allowed;
    this.config = config;
    this.registry = registry;
    this.store = store;
    this.status = status;
    this.media = media;
    this.links = links;
    this.owner = owner;
    this.metrics = metrics;
  }

  Future<Result> attempt(Item item, CircuitBreaker breaker) {
    if (item.sentIds != null) {
      return recordSent(item, item.sentIds).map(Result.DONE).recover(this::storageTrouble);
    }
    if (config.disabled().contains(item.channel)) {
      return fail(item, "channel_not_configured", null, null, "the channel is disabled", 0);
    }
    if (!allowed.test(item.channel, item.message.getString("from_user_id"))) {
      return fail(
          item,
          "channel_disabled",
          null,
          null,
          "outbound delivery on this channel is turned off (feature flag)",
          0);
    }
    Optional<ActiveConnector> active = registry.active(item.channel);
    if (active.isEmpty()) {
      return Future.succeededFuture(Result.WAIT_CONNECTOR);
    }
    return store
        .claim(item.storeKey(), fields(item), owner, config.leaseMs())
        .compose(
            claim ->
                switch (claim.kind()) {
                  case DONE -> replay(item, claim.doc());
                  case BUSY -> Future.succeededFuture(Result.retry(claim.retryInMs()));
                  case OWNED -> prepareAndSend(item, active.get(), breaker, claim.attempts());
                })
        .recover(this::storageTrouble);
  }

  /** A backend (MongoDB, Kafka, the files service) failed: retry later, nothing is counted. */
  private Future<Result> storageTrouble(Throwable err) {
    LOG.warn("delivery step failed, retrying: {}", err.toString());
    return Future.succeededFuture(Result.retry(config.backoffBaseMs() * 2));
  }

  private static JsonObject fields(Item item) {
    return new JsonObject()
        .put("channel", item.channel)
        .put("direction", "out")
        .put("message_id", item.messageId())
        .put("conversation_id", item.message.getString("conversation_id"))
        .put("sequence_number", item.message.getLong("sequence_number"))
        .put("recipient_user_id", item.recipient)
        .put("channel_user_id", item.channelUserId);
  }

  /** The send finished before (a redelivery): its status again (applying it twice is harmless). */
  private Future<Result> replay(Item item, JsonObject doc) {
    metrics.skipped(item.channel);
    if (DeliveryStore.SENT.equals(doc.getString("state"))) {
      JsonArray ids = doc.getJsonArray("provider_message_ids", new JsonArray());
      return status
          .sent(
              item.message,
              item.recipient,
              item.channel,
              ids.getList(),
              Instant.parse(doc.getString("sent_at")))
          .map(Result.DONE);
    }
    JsonObject failure = doc.getJsonObject("failure", new JsonObject());
    return status
        .failed(item.message, item.recipient, item.channel, failure, Instant.now())
        .map(Result.DONE);
  }

  private Future<Result> prepareAndSend(
      Item item, ActiveConnector connector, CircuitBreaker breaker, int attempts) {
    Capabilities caps = connector.descriptor().capabilities();
    JsonObject payload = item.message.getJsonObject("payload", new JsonObject());
    String text = payload.getString("text");
    if (text != null && text.length() > caps.maxTextLength()) {
      return fail(
          item,
          "text_too_long",
          null,
          null,
          "the text has "
              + text.length()
              + " characters; the channel takes "
              + caps.maxTextLength(),
          attempts);
    }
    String replyTo = item.message.getString("reply_to_message_id");
    String from = item.message.getString("from_user_id");
    return links
        .lookup(item.channel, item.recipient, item.channelUserId, from)
        .compose(
            link ->
                link.verified()
                    ? send(item, connector, breaker, attempts, caps, payload, text, replyTo, link)
                    // unlinked, re-linked elsewhere or never verified since the message was routed
                    : fail(
                        item,
                        NOT_VERIFIED,
                        null,
                        null,
                        "the recipient has no verified "
                            + item.channel
                            + " link to "
                            + item.channelUserId,
                        attempts));
  }

  /** The failure reason of a send to a link that is not (or no longer) verified. */
  static final String NOT_VERIFIED = "channel_not_verified";

  private Future<Result> send(
      Item item,
      ActiveConnector connector,
      CircuitBreaker breaker,
      int attempts,
      Capabilities caps,
      JsonObject payload,
      String text,
      String replyTo,
      RecipientLinks.Link link) {
    Future<String> quoted =
        replyTo == null || !caps.replies()
            ? Future.succeededFuture()
            : store.providerId(item.channel, replyTo, item.recipient);
    return Future.all(media.resolve(item.message, item.recipient, caps), quoted)
        .transform(
            ar -> {
              if (ar.failed()) {
                return ar.cause() instanceof DeliveryFailure df
                    ? fail(item, df.reason(), null, null, df.getMessage(), attempts)
                    : Future.failedFuture(ar.cause());
              }
              OutboundMedia file = ar.result().resultAt(0);
              String replyProviderId = ar.result().resultAt(1);
              OutboundMessage om =
                  new OutboundMessage(
                      item.messageId(),
                      item.message.getString("conversation_id"),
                      item.message.getString("from_user_id"),
                      link.senderName(),
                      item.recipient,
                      item.channelUserId,
                      text,
                      file,
                      replyProviderId,
                      payload.getJsonObject("metadata"),
                      link.lastInboundAt(),
                      attempts + 1);
              return call(item, connector, breaker, om, attempts);
            });
  }

  private Future<Result> call(
      Item item,
      ActiveConnector connector,
      CircuitBreaker breaker,
      OutboundMessage om,
      int attempts) {
    long started = System.nanoTime();
    Function<io.chat4all.channel.spi.ChannelConnector, Future<SendResult>> send = c -> c.send(om);
    return DeliveryTracing.connectorCall(
            item, () -> breaker.<SendResult>execute(() -> connector.call(send)))
        .transform(
            ar -> {
              metrics.call(item.channel, started, ar.succeeded() ? null : ar.cause());
              if (ar.succeeded()) {
                item.sentIds = ar.result().providerMessageIds();
                return recordSent(item, item.sentIds).map(Result.DONE);
              }
              return failedCall(item, breaker, ar.cause(), attempts);
            });
  }

  private Future<Void> recordSent(Item item, List<String> ids) {
    Instant at = Instant.now();
    JsonObject target =
        new JsonObject()
            .put("message_id", item.messageId())
            .put("conversation_id", item.message.getString("conversation_id"))
            .put("sequence_number", item.message.getLong("sequence_number"))
            .put("user_id", item.recipient)
            .put("direction", "out");
    return store
        .markSent(item.storeKey(), fields(item), item.channel, target, ids, at)
        .compose(v -> status.sent(item.message, item.recipient, item.channel, ids, at))
        .onSuccess(
            v -> {
              metrics.sent(item.channel);
              DeliveryTracing.delivered(item, at);
            });
  }

  private Future<Result> failedCall(
      Item item, CircuitBreaker breaker, Throwable err, int attempts) {
    if (err instanceof ConnectorGoneException) {
      return store.release(item.storeKey(), fields(item), false, null).map(Result.AGAIN);
    }
    if (err instanceof OpenCircuitException) {
      return store.release(item.storeKey(), fields(item), false, null).map(Result.WAIT_BREAKER);
    }
    ConnectorException ce =
        err instanceof ConnectorException c
            ? c
            : ConnectorException.of(
                ErrorClass.RETRYABLE,
                null,
                err instanceof TimeoutException
                    ? "no answer within " + config.sendTimeoutMs() + " ms"
                    : String.valueOf(err.getMessage()));
    if (!ce.errorClass().retryable()) {
      return fail(
          item,
          ce.errorClass().reason(),
          ce.errorClass(),
          ce.providerCode(),
          ce.getMessage(),
          attempts + 1);
    }
    // a channel-wide outage (breaker no longer closed) or an explicit wait from the provider does
    // not use up the message's attempts: it waits for the provider to come back
    boolean throttledWithWait = ce.errorClass() == ErrorClass.THROTTLED && ce.retryAfter() != null;
    boolean counted = !throttledWithWait && breaker.state() == CircuitBreakerState.CLOSED;
    int used = attempts + (counted ? 1 : 0);
    if (counted && used >= config.maxAttempts()) {
      return fail(
          item,
          ce.errorClass().reason(),
          ce.errorClass(),
          ce.providerCode(),
          ce.getMessage(),
          used);
    }
    long delay = delay(Math.max(1, used), ce.retryAfter());
    metrics.retried(item.channel);
    return store
        .release(item.storeKey(), fields(item), counted, ce.getMessage())
        .map(Result.retry(delay));
  }

  /** Exponential backoff with jitter; never sooner than the provider's retry-after. */
  long delay(int failures, java.time.Duration retryAfter) {
    long exp =
        Math.min(config.backoffMaxMs(), config.backoffBaseMs() << Math.min(20, failures - 1));
    long jittered = exp / 2 + ThreadLocalRandom.current().nextLong(exp / 2 + 1);
    if (retryAfter != null) {
      return retryAfter.toMillis()
          + ThreadLocalRandom.current().nextLong(Math.min(1000, config.backoffBaseMs()) + 1);
    }
    return jittered;
  }

  /** Gives the send up: dead letter, the failure remembered, {@code failed} with the reason. */
  private Future<Result> fail(
      Item item,
      String reason,
      ErrorClass errorClass,
      String providerCode,
      String error,
      int attempts) {
    JsonObject failure =
        new JsonObject()
            .put("reason", reason)
            .put("error_class", errorClass == null ? null : errorClass.name().toLowerCase())
            .put("provider_code", providerCode)
            .put("error", error)
            .put("attempts", attempts)
            .put("at", Instant.now().toString());
    Instant at = Instant.now();
    return status
        .deadLetter(item.channel, item.recordKey, item.record, failure)
        .compose(v -> store.markFailed(item.storeKey(), fields(item), failure, at))
        .compose(v -> status.failed(item.message, item.recipient, item.channel, failure, at))
        .onSuccess(
            v -> {
              metrics.failed(item.channel, reason);
              io.chat4all.web.obs.Meters.failed(item.channel, "delivery");
            })
        .map(Result.DONE);
  }
}
