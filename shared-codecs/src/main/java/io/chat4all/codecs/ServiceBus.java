package io.chat4all.codecs;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.Message;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.json.JsonObject;
import java.util.Map;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Request/reply services on the event bus: an address, an {@code action} header naming the
 * operation, a JSON request and a JSON reply. Failures travel as {@link ServiceException} (error
 * code, message, details), so every edge maps them the same way, on any node of the cluster.
 */
public final class ServiceBus {
  private static final Logger LOG = LoggerFactory.getLogger(ServiceBus.class);
  public static final long DEFAULT_TIMEOUT_MS = 15_000;

  private ServiceBus() {}

  static final String REQUEST_ID_HEADER = "chat4all-request-id";
  static final String USER_ID_HEADER = "chat4all-user-id";

  /** An operation of a service. */
  @FunctionalInterface
  public interface Action extends Function<JsonObject, Future<JsonObject>> {}

  /** Serves {@code actions} on {@code address}; returns the consumer (await its completion). */
  public static MessageConsumer<JsonObject> bind(
      Vertx vertx, String address, Map<String, Action> actions) {
    Map<String, Action> table = Map.copyOf(actions);
    return vertx
        .eventBus()
        .consumer(
            address,
            (Message<JsonObject> msg) -> {
              String action = msg.headers().get(Addresses.ACTION_HEADER);
              LogContext.requestId(msg.headers().get(REQUEST_ID_HEADER));
              LogContext.userId(msg.headers().get(USER_ID_HEADER));
              Action handler = action == null ? null : table.get(action);
              if (handler == null) {
                new ServiceException(
                        ErrorCode.BAD_REQUEST, "unknown action '" + action + "' on " + address)
                    .fail(msg);
                return;
              }
              Future<JsonObject> result;
              try {
                result = handler.apply(msg.body() == null ? new JsonObject() : msg.body());
              } catch (RuntimeException e) {
                result = Future.failedFuture(e);
              }
              result.onComplete(
                  r -> {
                    if (r.succeeded()) {
                      msg.reply(r.result());
                    } else {
                      ServiceException se = ServiceException.from(r.cause());
                      if (se.code() == ErrorCode.INTERNAL) {
                        LOG.error("{} {} failed", address, action, r.cause());
                      }
                      se.fail(msg);
                    }
                  });
            });
  }

  /** Calls {@code action} on {@code address}; fails with a {@link ServiceException}. */
  public static Future<JsonObject> request(
      Vertx vertx, String address, String action, JsonObject body) {
    DeliveryOptions options =
        new DeliveryOptions()
            .addHeader(Addresses.ACTION_HEADER, action)
            .setSendTimeout(DEFAULT_TIMEOUT_MS)
            // every node runs every service: serve locally, never wait on another node
            .setLocalOnly(true);
    // the caller's request id and user follow it into the service's log lines
    String requestId = LogContext.requestId();
    if (requestId != null) {
      options.addHeader(REQUEST_ID_HEADER, requestId);
    }
    String userId = LogContext.userId();
    if (userId != null) {
      options.addHeader(USER_ID_HEADER, userId);
    }
    return vertx
        .eventBus()
        .<JsonObject>request(address, body, options)
        .map(Message::body)
        .recover(err -> Future.failedFuture(ServiceException.from(err)));
  }
}
