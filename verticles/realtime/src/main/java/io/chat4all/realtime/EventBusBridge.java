package io.chat4all.realtime;

import io.chat4all.codecs.Addresses;
import io.chat4all.codecs.ErrorCode;
import io.chat4all.codecs.ServiceException;
import io.chat4all.web.Authn;
import io.chat4all.web.Principal;
import io.chat4all.web.TokenRevocation;
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
 * A socket that registered its address is closed (4001) when the token of that REGISTER expires and
 * when it is revoked: the revocation notice on the user's address ({@link TokenRevocation}) is
 * never forwarded to the client; the token is checked again once the registration has reached the
 * cluster (a notice published before then is missed) and at SockJS pings (at most every {@value
 * #RECHECK_MS} ms).
 */
final class EventBusBridge {
  private EventBusBridge() {}

  static final short CLOSE_AUTH = 4001;

  /** At most this often a ping makes the socket's token be checked again. */
  static final long RECHECK_MS = 30_000;

  /** A bridge socket that registered its own address: its token, user, presence and timers. */
  private static final class Session {
    final String token;
    final Principal principal;
    final String presenceId;
    long renewTimer = -1;
    long expiryTimer = -1;
    long checkedAt = System.currentTimeMillis();

    Session(String token, Principal principal, String presenceId) {
      this.token = token;
      this.principal = principal;
      this.presenceId = presenceId;
    }

    String userId() {
      return principal.userId();
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
          BridgeEventType.SOCKET_CREATED, BridgeEventType.SOCKET_IDLE, BridgeEventType.UNREGISTER);

  private static void handle(
      Vertx vertx,
      BridgeEvent event,
      TokenVerifier verifier,
      Map<SockJSSocket, Session> sessions,
      Presence presence) {
    BridgeEventType type = event.type();
    if (type == BridgeEventType.SOCKET_CREATED) {
      RealtimeMeters.opened(RealtimeMeters.SOCKJS);
    }
    if (type == BridgeEventType.SOCKET_CLOSED) {
      RealtimeMeters.closed(RealtimeMeters.SOCKJS);
      Session gone = sessions.remove(event.socket());
      if (gone != null) {
        vertx.cancelTimer(gone.expiryTimer);
        vertx.cancelTimer(gone.renewTimer);
        if (presence != null) {
          presence.unmarkAfter(Future.succeededFuture(), gone.userId(), gone.presenceId);
        }
      }
      event.complete(true);
      return;
    }
    if (type == BridgeEventType.SOCKET_PING || type == BridgeEventType.REGISTERED) {
      Session session = sessions.get(event.socket());
      long now = System.currentTimeMillis();
      if (session != null
          && (type == BridgeEventType.REGISTERED || now - session.checkedAt >= RECHECK_MS)) {
        session.checkedAt = now;
        recheck(verifier, event.socket(), session);
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
      JsonObject raw = event.getRawMessage();
      if (raw != null && TokenRevocation.isNotice(raw.getJsonObject("headers"))) {
        // for the gateway only, never for the client
        event.complete(false);
        if (session != null && TokenRevocation.revokes(raw.getValue("body"), session.principal)) {
          refuse(event.socket(), ErrorCode.TOKEN_REVOKED);
        }
        return;
      }
      if (session != null && session.principal.expiresAt() * 1000 < System.currentTimeMillis()) {
        event.complete(false);
        refuse(event.socket(), ErrorCode.TOKEN_EXPIRED);
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
                  Principal p = ar.result();
                  if (!sessions.containsKey(event.socket())) {
                    sessions.put(
                        event.socket(), open(vertx, event.socket(), token(raw), p, presence));
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

  /** The session of a socket that registered with {@code p}: presence and the expiry close. */
  private static Session open(
      Vertx vertx, SockJSSocket socket, String token, Principal p, Presence presence) {
    Session session = new Session(token, p, presence == null ? null : presence.connectionId());
    session.expiryTimer =
        vertx.setTimer(
            Math.max(1, p.expiresAt() * 1000 - System.currentTimeMillis()),
            t -> refuse(socket, ErrorCode.TOKEN_EXPIRED));
    if (presence != null) {
      // a bridge socket counts for presence like a WebSocket: marked, renewed by the node
      presence.mark(p.userId(), session.presenceId);
      long every = Math.max(1000L, presence.ttlSeconds() * 1000L / 3);
      session.renewTimer =
          vertx.setPeriodic(every, t -> presence.mark(p.userId(), session.presenceId));
    }
    return session;
  }

  /** Verifies the session's token again; closes the socket when it is no longer good. */
  private static void recheck(TokenVerifier verifier, SockJSSocket socket, Session session) {
    verifier
        .verify(session.token)
        .onFailure(
            err -> {
              ErrorCode code = ServiceException.from(err).code();
              if (code == ErrorCode.TOKEN_REVOKED
                  || code == ErrorCode.TOKEN_EXPIRED
                  || code == ErrorCode.TOKEN_INVALID) {
                refuse(socket, code);
              }
            });
  }

  /** Tells the client why ({@code {type:"err", body:<code>}}) and closes with 4001. */
  private static void refuse(SockJSSocket socket, ErrorCode code) {
    socket.write(new JsonObject().put("type", "err").put("body", code.wireName()).encode());
    socket.close(CLOSE_AUTH, code.wireName());
  }

  private static String token(JsonObject raw) {
    return Authn.bearer(authorization(raw));
  }

  private static String authorization(JsonObject raw) {
    Object headers = raw.getValue("headers");
    if (headers instanceof JsonObject h) {
      Object v = h.getValue("Authorization");
      if (v == null) {
        v = h.getValue("authorization");
      }
      return v instanceof String s ? s : null;
    }
    return null;
  }

  private static Future<Principal> verify(TokenVerifier verifier, JsonObject raw) {
    return Authn.verify(verifier, authorization(raw));
  }
}
