package io.chat4all.realtime;

import io.chat4all.codecs.Addresses;
import io.chat4all.codecs.Envelopes;
import io.chat4all.codecs.ErrorCode;
import io.chat4all.codecs.ServiceBus;
import io.chat4all.codecs.ServiceException;
import io.chat4all.codecs.Wire;
import io.chat4all.messaging.MessageActions;
import io.chat4all.messaging.MessageRoutes;
import io.chat4all.messaging.MessagingConfig;
import io.chat4all.web.Bodies;
import io.chat4all.web.Principal;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.time.Instant;

/**
 * What a real-time client may do, for both the WebSocket protocol and the SockJS bridge: send, mark
 * delivered/read, signal typing, sync. Every action runs as the verified {@link Principal}; the
 * services check membership.
 */
public final class ClientActions {
  private final Vertx vertx;
  private final MessagingConfig messaging;

  private java.util.function.Predicate<String> typingAllowed = user -> true;
  private io.chat4all.messaging.FeedStore feed;

  public ClientActions(Vertx vertx, MessagingConfig messaging) {
    this.vertx = vertx;
    this.messaging = messaging;
  }

  /**
   * Asks {@code allowed(user id)} before each typing signal (the runtime feature flag {@code
   * typing_indicators}); a refused one fails with {@code feature_disabled} and publishes nothing.
   */
  public ClientActions withTypingGate(java.util.function.Predicate<String> allowed) {
    this.typingAllowed = java.util.Objects.requireNonNull(allowed, "allowed");
    return this;
  }

  /**
   * Reads feed positions from {@code feed} directly ({@link #positions}); without it they are read
   * through the messaging service, messages filled in.
   */
  public ClientActions withFeed(io.chat4all.messaging.FeedStore feed) {
    this.feed = java.util.Objects.requireNonNull(feed, "feed");
    return this;
  }

  /**
   * Sends a message (same fields as {@code POST /v1/messages}); the reply is the accepted message.
   */
  public Future<JsonObject> send(Principal p, JsonObject body) {
    JsonObject req;
    try {
      req = validateSend(body);
    } catch (ServiceException e) {
      return Future.failedFuture(e);
    }
    return ServiceBus.request(
        vertx, Addresses.MESSAGES, MessageActions.SEND, req.put("user_id", p.userId()));
  }

  /** Marks a message {@code delivered} or {@code read} for the caller. */
  public Future<JsonObject> mark(Principal p, JsonObject body, String status) {
    String messageId;
    try {
      messageId = Bodies.uuid(body, "message_id");
    } catch (ServiceException e) {
      return Future.failedFuture(e);
    }
    return ServiceBus.request(
        vertx,
        Addresses.MESSAGES,
        MessageActions.MARK,
        new JsonObject()
            .put("user_id", p.userId())
            .put("message_id", messageId)
            .put("status", status));
  }

  /** One page of the caller's change feed after {@code cursor}. */
  public Future<JsonObject> sync(String userId, String cursor, int limit) {
    JsonObject req = new JsonObject().put("user_id", userId).put("limit", limit);
    if (cursor != null) {
      req.put("cursor", cursor);
    }
    return ServiceBus.request(vertx, Addresses.MESSAGES, MessageActions.SYNC, req);
  }

  /**
   * One page of the caller's change feed after {@code cursor} as stored: a message envelope names
   * its message ({@code message_ref}) instead of holding it. For ordering live envelopes, so it
   * reads Redis once and nothing else.
   */
  public Future<JsonObject> positions(String userId, String cursor, int limit) {
    if (feed == null) {
      return sync(userId, cursor, limit);
    }
    try {
      return feed.since(userId, cursor, limit);
    } catch (ServiceException e) {
      return Future.failedFuture(e);
    }
  }

  /**
   * Publishes {@code {type:"typing", conversation_id, user_id, at}} to the other members (the
   * conversation service answers only members, so this is the membership check); ephemeral.
   */
  public Future<JsonObject> typing(Principal p, String conversationId) {
    if (!typingAllowed.test(p.userId())) {
      return Future.failedFuture(
          new ServiceException(
              ErrorCode.FEATURE_DISABLED,
              "typing indicators are turned off",
              new JsonObject().put("feature", "typing_indicators")));
    }
    return ServiceBus.request(
            vertx,
            Addresses.CONVERSATIONS,
            "get",
            new JsonObject().put("user_id", p.userId()).put("conversation_id", conversationId))
        .map(
            conv -> {
              JsonObject event =
                  new JsonObject()
                      .put(Envelopes.TYPE, Envelopes.TYPING)
                      .put("conversation_id", conversationId)
                      .put("user_id", p.userId())
                      .put("at", Wire.timestamp(Instant.now()));
              for (Object o : conv.getJsonArray("members", new JsonArray())) {
                String member =
                    o instanceof JsonObject m ? m.getString("user_id") : String.valueOf(o);
                if (member != null && !member.equals(p.userId())) {
                  vertx.eventBus().publish(Addresses.user(member), event);
                }
              }
              return event;
            });
  }

  /** The typing request's conversation id (validated). */
  static String conversationId(JsonObject body) {
    return Bodies.uuid(body, "conversation_id");
  }

  /** The same checks as the REST send (the frame's own fields aside); the normalised request. */
  JsonObject validateSend(JsonObject body) {
    JsonObject fields = body.copy();
    fields.remove("type");
    fields.remove("request_id");
    return MessageRoutes.validateSend(fields, messaging);
  }

  static ServiceException invalid(String message) {
    return new ServiceException(ErrorCode.BAD_REQUEST, message);
  }
}
