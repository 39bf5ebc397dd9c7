package io.chat4all.realtime;

import io.chat4all.codecs.Addresses;
import io.chat4all.web.Authn;
import io.chat4all.web.Principal;
import io.chat4all.web.TokenVerifier;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.bridge.BridgeEventType;
import io.vertx.ext.bridge.PermittedOptions;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.handler.sockjs.BridgeEvent;
import io.vertx.ext.web.handler.sockjs.SockJSBridgeOptions;
import io.vertx.ext.web.handler.sockjs.SockJSHandler;
import io.vertx.ext.web.handler.sockjs.SockJSHandlerOptions;
import io.vertx.ext.web.handler.sockjs.SockJSSocket;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The SockJS event-bus bridge. Outbound only from {@code chat4all.user.<id>}, and a REGISTER is
 * allowed only on the caller's own address; inbound only to the client addresses ({@link
 * ClientAddresses}), by SEND. Every REGISTER and SEND frame must carry {@code headers:
 * {Authorization: "Bearer <access token>"}}; the token is verified here and again by the consumer.
 * A socket whose token has expired is closed when the next event reaches it.
 */
final class EventBusBridge {
  private EventBusBridge() {}

  /** A bridge socket that registered its own address: its user, token expiry and presence. */
  private static final class Session {
    final String userId;
    final long expiresAt;
    final String presenceId;
    long renewTimer = -1;

    Session(String userId, long expiresAt, String presenceId) {
      this.userId = userId;
      this.expiresAt = expiresAt;
      this.presenceId = presenceId;
    }
  }

  static Router router(Vertx vertx, TokenVerifier verifier, RealtimeConfig config) {
    return router(vertx, verifier, config, null);
  }

  static Router router(
      Vertx vertx, TokenVerifier verifier, RealtimeConfig config, Presence presence) {
    SockJSBridgeOptions options =
        new SockJSBridgeOptions()
            .addOutboundPermitted(new PermittedOptions().setAddressRegex("chat4all\\.user\\..+"))
            .setMaxHandlersPerSocket(8)
            .setMaxAddressLength(128)
            .setPingTimeout(Math.max(10_000L, config.idleTimeoutMs()));
    for (String address : ClientAddresses.ALL) {
      options.addInboundPermitted(new PermittedOptions().setAddress(address));
    }
    Map<SockJSSocket, Session> sessions = new ConcurrentHashMap<>();
    return SockJSHandler.create(vertx, new SockJSHandlerOptions().setRegisterWriteHandler(false))
        .bridge(options, event -> handle(vertx, event, verifier, sessions, presence));
  }

  private static final Set<BridgeEventType> ALWAYS =
      Set.of(
          BridgeEventType.SOCKET_CREATED,
          BridgeEventType.SOCKET_IDLE,
          BridgeEventType.SOCKET_PING,
          BridgeEventType.UNREGISTER);

  private static void handle(
      Vertx vertx,
      BridgeEvent event,
      TokenVerifier verifier,
      Map<SockJSSocket, Session> sessions,
      Presence presence) {
    BridgeEventType type = event.type();
    if (type == BridgeEventType.SOCKET_CLOSED) {
      Session gone = sessions.remove(event.socket());
      if (gone != null && presence != null) {
        vertx.cancelTimer(gone.renewTimer);
        presence.unmark(gone.userId, gone.presenceId);
      }
      event.complete(true);
      return;
    }
    if (ALWAYS.contains(type)) {
      event.complete(true);
      return;
    }
    if (type == BridgeEventType.RECEIVE) {
      Session session = sessions.get(event.socket());
      Long exp = session == null ? null : session.expiresAt;
      if (exp != null && exp > 0 && exp * 1000 < System.currentTimeMillis()) {
        event.complete(false);
        event.socket().close(4001, "token_expired");
        return;
      }
      event.complete(true);
      return;
    }
    JsonObject raw = event.getRawMessage();
    String address = raw == null ? null : raw.getString("address");
    if (address == null) {
      event.complete(false);
      return;
    }
    if (type == BridgeEventType.REGISTER) {
      verify(verifier, raw)
          .onComplete(
              ar -> {
                if (ar.succeeded() && address.equals(Addresses.user(ar.result().userId()))) {
                  String userId = ar.result().userId();
                  Session existing = sessions.get(event.socket());
                  if (existing == null) {
                    Session session =
                        new Session(
                            userId,
                            ar.result().expiresAt(),
                            presence == null ? null : presence.connectionId());
                    sessions.put(event.socket(), session);
                    if (presence != null) {
                      // a bridge socket counts for presence like a WebSocket: marked, renewed by
                      // the node
                      presence.mark(userId, session.presenceId);
                      long every = Math.max(1000L, presence.ttlSeconds() * 1000L / 3);
                      session.renewTimer =
                          vertx.setPeriodic(every, t -> presence.mark(userId, session.presenceId));
                    }
                  }
                  event.complete(true);
                } else {
                  event.complete(false);
                }
              });
      return;
    }
    if (type == BridgeEventType.SEND && ClientAddresses.ALL.contains(address)) {
      verify(verifier, raw).onComplete(ar -> event.complete(ar.succeeded()));
      return;
    }
    // PUBLISH and anything else: refused
    event.complete(false);
  }

  private static Future<Principal> verify(TokenVerifier verifier, JsonObject raw) {
    Object headers = raw.getValue("headers");
    String authorization = null;
    if (headers instanceof JsonObject h) {
      Object v = h.getValue("Authorization");
      if (v == null) {
        v = h.getValue("authorization");
      }
      authorization = v instanceof String s ? s : null;
    }
    return Authn.verify(verifier, authorization);
  }
}
