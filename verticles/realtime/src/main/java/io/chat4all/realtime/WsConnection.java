package io.chat4all.realtime;

import io.chat4all.codecs.ErrorCode;
import io.chat4all.codecs.ServiceException;
import io.chat4all.messaging.MessageActions;
import io.chat4all.web.Principal;
import io.chat4all.web.StrictJson;
import io.chat4all.web.TokenVerifier;
import io.netty.handler.codec.http.websocketx.CorruptedWebSocketFrameException;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.ServerWebSocket;
import io.vertx.core.http.WebSocketFrameType;
import io.vertx.core.json.JsonObject;
import java.util.HashMap;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One {@code /v1/ws} connection: the auth handshake, then the user's {@link LiveFeed} (the replay
 * from the client's cursor joined without gap or duplicate to the live envelopes, the end at the
 * token's expiry and revocation, presence) written as text frames; client frames (send, delivered,
 * read, typing, sync, ping), flood and slow-consumer protection, the idle timeout (any frame from
 * the client, a pong answering the server's ping too, keeps the socket open), and token
 * re-verification on every frame. All state lives on the socket's event loop.
 */
final class WsConnection {
  private static final Logger LOG = LoggerFactory.getLogger(WsConnection.class);

  static final short CLOSE_GOING_AWAY = 1001;
  static final short CLOSE_POLICY = 1008;
  static final short CLOSE_TRY_LATER = 1013;
  static final short CLOSE_AUTH = 4001;
  static final int MAX_FRAME_CHARS = 65_536;
  static final int SYNC_PAGE = LiveFeed.SYNC_PAGE;
  static final long PRESENCE_RENEW_MS = 60_000;

  /** At most this often a control frame (a pong, the client's ping) makes the token be checked. */
  static final long RECHECK_MS = EventBusBridge.RECHECK_MS;

  private enum State {
    AUTH_WAIT,
    AUTHENTICATING,
    OPEN,
    CLOSED
  }

  private final Vertx vertx;
  private final ServerWebSocket ws;
  private final TokenVerifier verifier;
  private final ClientActions actions;
  private final RealtimeConfig config;
  private final Presence presence;
  private final Map<String, Long> lastTyping = new HashMap<>();

  private State state = State.AUTH_WAIT;
  private String token;
  private Principal principal;
  private LiveFeed feed;
  private String authRequestId;
  private boolean ready;
  private Future<Void> chain = Future.succeededFuture();
  private long authTimer = -1;
  private long idleTimer = -1;
  private long lastHeardAt = System.currentTimeMillis();
  private long verifiedAt;
  private long windowStart = System.currentTimeMillis();
  private int framesInWindow;
  private int pendingWrites;

  WsConnection(
      Vertx vertx,
      ServerWebSocket ws,
      TokenVerifier verifier,
      ClientActions actions,
      RealtimeConfig config,
      Presence presence) {
    this.vertx = vertx;
    this.presence = presence;
    this.ws = ws;
    this.verifier = verifier;
    this.actions = actions;
    this.config = config;
  }

  void start() {
    RealtimeMeters.opened(RealtimeMeters.WEBSOCKET);
    TextMessages messages =
        new TextMessages(
            4 * MAX_FRAME_CHARS,
            new TextMessages.Sink() {
              @Override
              public void text(String message) {
                onText(message);
              }

              @Override
              public void binary() {
                error(null, ErrorCode.BAD_REQUEST, "binary frames are not accepted");
              }

              @Override
              public void fail(short closeCode, String reason) {
                close(closeCode, reason);
              }
            });
    // Any frame from the client is a sign of life, not only text: the pongs that answer the
    // server's pings (a browser answers them on its own but may send nothing else while it
    // listens), its own pings (Vert.x answers them) and continuations. Vert.x hands every frame,
    // control frames included, to the frame handler. A socket kept open by control frames alone
    // has its token checked again at them (at most every RECHECK_MS), as text frames always do.
    ws.frameHandler(
        frame -> {
          long now = System.currentTimeMillis();
          lastHeardAt = now;
          if (frame.isPing() || frame.type() == WebSocketFrameType.PONG) {
            if (state == State.OPEN && now - verifiedAt >= RECHECK_MS) {
              recheck(now);
            }
            return;
          }
          messages.handle(frame);
        });
    ws.exceptionHandler(
        e -> {
          if (e instanceof CorruptedWebSocketFrameException bad) {
            // a frame past the server's frame limit (or otherwise broken): say so with its close
            // code (1009 for a frame too big) before the connection goes, not a bare TCP close
            close((short) bad.closeStatus().code(), bad.closeStatus().reasonText());
          } else {
            LOG.debug("websocket error", e);
          }
        });
    ws.closeHandler(v -> cleanup());
    // the node is stopping (its HTTP server shuts down): tell the client at once, so it reconnects
    // to another node, instead of holding the socket for the whole shutdown grace
    ws.shutdownHandler(v -> close(CLOSE_GOING_AWAY, "node stopping"));
    authTimer =
        vertx.setTimer(
            config.authTimeoutMs(),
            t -> {
              authTimer = -1;
              if (state == State.AUTH_WAIT || state == State.AUTHENTICATING) {
                close(CLOSE_POLICY, "no auth frame in time");
              }
            });
    long every = Math.max(1000, config.idleTimeoutMs() / 4);
    idleTimer =
        vertx.setPeriodic(
            every,
            t -> {
              if (System.currentTimeMillis() - lastHeardAt > config.idleTimeoutMs()) {
                close(CLOSE_GOING_AWAY, "idle");
              }
            });
  }

  // --- inbound ---

  private void onText(String text) {
    if (state == State.CLOSED) {
      return;
    }
    long now = System.currentTimeMillis();
    if (now - windowStart >= 1000) {
      windowStart = now;
      framesInWindow = 0;
    }
    framesInWindow++;
    if (framesInWindow > 2 * config.maxFramesPerSecond()) {
      close(CLOSE_POLICY, "too many frames");
      return;
    }
    if (text.length() > MAX_FRAME_CHARS) {
      error(null, ErrorCode.PAYLOAD_TOO_LARGE, "frame too large");
      return;
    }
    JsonObject frame;
    try {
      frame = StrictJson.object(text, "a frame");
    } catch (ServiceException e) {
      error(null, e);
      return;
    }
    Object rid = frame.getValue("request_id");
    String requestId = rid instanceof String s && s.length() <= 128 ? s : null;
    if (framesInWindow > config.maxFramesPerSecond()) {
      // refused unread; the client learns which request it was, and when to try again
      long retryMs = Math.max(1, 1000 - (now - windowStart));
      error(
          requestId,
          new ServiceException(
              ErrorCode.RATE_LIMITED,
              "too many frames; slow down",
              new JsonObject().put("retry_after_ms", retryMs).put("retry_after_seconds", 1)));
      return;
    }
    if (!(frame.getValue("type") instanceof String type)) {
      error(requestId, ErrorCode.VALIDATION_FAILED, "type is required");
      return;
    }
    if (state == State.AUTH_WAIT) {
      if ("auth".equals(type)) {
        auth(frame, requestId);
      } else {
        error(requestId, ErrorCode.UNAUTHENTICATED, "send an auth frame first");
      }
      return;
    }
    if (state == State.AUTHENTICATING) {
      error(requestId, ErrorCode.UNAUTHENTICATED, "authentication in progress");
      return;
    }
    if ("auth".equals(type)) {
      error(requestId, ErrorCode.BAD_REQUEST, "already authenticated");
      return;
    }
    // frames are handled in order; the token is verified again for each one
    verifiedAt = now;
    chain =
        chain.transform(
            x ->
                verifier
                    .verify(token)
                    .transform(
                        ar -> {
                          if (state == State.CLOSED) {
                            return Future.succeededFuture();
                          }
                          if (ar.failed()) {
                            refuse(requestId, ServiceException.from(ar.cause()));
                            return Future.succeededFuture();
                          }
                          return handle(type, frame, requestId)
                              .recover(
                                  err -> {
                                    ServiceException se = ServiceException.from(err);
                                    if (se.code() == ErrorCode.INTERNAL) {
                                      LOG.error("ws frame {} failed", type, err);
                                    }
                                    error(requestId, se);
                                    return Future.succeededFuture();
                                  });
                        }));
  }

  /** Checks the token again (in order with the frames): no good any more, the socket closes. */
  private void recheck(long now) {
    verifiedAt = now;
    chain =
        chain.transform(
            x ->
                verifier
                    .verify(token)
                    .transform(
                        ar -> {
                          if (state != State.CLOSED && ar.failed()) {
                            refuse(null, ServiceException.from(ar.cause()));
                          }
                          return Future.succeededFuture();
                        }));
  }

  private Future<Void> handle(String type, JsonObject frame, String requestId) {
    if (feed != null
        && ("ping".equals(type)
            || System.currentTimeMillis() - feed.presenceRenewedAt() > PRESENCE_RENEW_MS)) {
      feed.renewPresence();
    }
    switch (type) {
      case "ping":
        write(new JsonObject().put("type", "pong").put("request_id", requestId));
        return Future.succeededFuture();
      case "send":
        {
          JsonObject body = frame.copy();
          body.remove("type");
          body.remove("request_id");
          return actions
              .send(principal, body)
              .map(
                  m -> {
                    write(
                        new JsonObject()
                            .put("type", "ack")
                            .put("request_id", requestId)
                            .put("message", m));
                    return null;
                  });
        }
      case MessageActions.DELIVERED:
      case MessageActions.READ:
        return actions
            .mark(principal, frame, type)
            .map(
                r -> {
                  write(
                      new JsonObject()
                          .put("type", "ack")
                          .put("request_id", requestId)
                          .put("receipt", r));
                  return null;
                });
      case "typing":
        {
          String conv = ClientActions.conversationId(frame);
          long now = System.currentTimeMillis();
          Long last = lastTyping.get(conv);
          if (last != null && now - last < config.typingIntervalMs()) {
            return Future.succeededFuture(); // coalesced: the previous event still stands
          }
          lastTyping.put(conv, now);
          if (lastTyping.size() > 256) {
            lastTyping.entrySet().removeIf(e -> now - e.getValue() >= config.typingIntervalMs());
          }
          return actions.typing(principal, conv).mapEmpty();
        }
      case "sync":
        {
          Object c = frame.getValue("cursor");
          if (c != null && !(c instanceof String s && LiveFeed.validCursor(s))) {
            return Future.failedFuture(LiveFeed.invalidCursor());
          }
          return actions
              .sync(principal.userId(), (String) c, SYNC_PAGE)
              .map(
                  page -> {
                    write(page.put("type", "sync").put("request_id", requestId));
                    return null;
                  });
        }
      default:
        return Future.failedFuture(
            new ServiceException(
                ErrorCode.BAD_REQUEST,
                "unknown frame type '" + type + "'",
                new JsonObject().put("field", "type")));
    }
  }

  // --- handshake, replay, live ---

  private void auth(JsonObject frame, String requestId) {
    Object t = frame.getValue("token");
    Object c = frame.getValue("cursor");
    if (!(t instanceof String tok) || tok.isEmpty() || tok.length() > 4096) {
      error(requestId, ErrorCode.VALIDATION_FAILED, "token is required");
      return;
    }
    if (c != null && !(c instanceof String s && LiveFeed.validCursor(s))) {
      error(requestId, LiveFeed.invalidCursor());
      return;
    }
    String cursor = (String) c;
    state = State.AUTHENTICATING;
    verifier
        .verify(tok)
        .onComplete(
            ar -> {
              if (state == State.CLOSED) {
                return;
              }
              if (ar.failed()) {
                refuse(requestId, ServiceException.from(ar.cause()));
                return;
              }
              authenticated(tok, ar.result(), cursor, requestId);
            });
  }

  private void authenticated(String tok, Principal p, String cursor, String requestId) {
    token = tok;
    verifiedAt = System.currentTimeMillis();
    principal = p;
    authRequestId = requestId;
    state = State.OPEN;
    if (authTimer >= 0) {
      vertx.cancelTimer(authTimer);
      authTimer = -1;
    }
    feed =
        LiveFeed.start(
            vertx,
            verifier,
            actions,
            config,
            presence,
            tok,
            p,
            cursor,
            new LiveFeed.Sink() {
              @Override
              public void ready(String at) {
                ready = true;
                write(
                    new JsonObject()
                        .put("type", "ready")
                        .put("request_id", requestId)
                        .put("user_id", p.userId())
                        .put("cursor", at));
              }

              @Override
              public void event(JsonObject envelope) {
                writeText(Frames.envelope(envelope));
              }

              @Override
              public void ended(ServiceException reason) {
                refuse(ready ? null : authRequestId, reason);
              }
            });
  }

  // --- outbound ---

  private void write(JsonObject frame) {
    if (state != State.CLOSED && !ws.isClosed()) {
      writeText(frame.encode());
    }
  }

  private void writeText(String frame) {
    if (state == State.CLOSED || ws.isClosed()) {
      return;
    }
    if (pendingWrites >= config.maxPendingWrites()) {
      close(CLOSE_TRY_LATER, "client too slow");
      return;
    }
    pendingWrites++;
    ws.writeTextMessage(frame).onComplete(ar -> pendingWrites--);
  }

  private void error(String requestId, ErrorCode code, String message) {
    error(requestId, new ServiceException(code, message));
  }

  private void error(String requestId, ServiceException se) {
    write(se.toJson().put("type", "error").put("request_id", requestId));
  }

  /**
   * The token is no good (any more): an error frame with its code, then close 4001 with the code as
   * the reason. When the token could not be checked at all (a backend down), the close is 1013 (try
   * again later) instead: the client need not log in again.
   */
  private void refuse(String requestId, ServiceException se) {
    error(requestId, se);
    if (LiveFeed.isTokenFailure(se)) {
      close(CLOSE_AUTH, se.code().wireName());
    } else {
      close(CLOSE_TRY_LATER, se.code().wireName());
    }
  }

  private void close(short code, String reason) {
    if (state == State.CLOSED) {
      return;
    }
    cleanup();
    if (!ws.isClosed()) {
      ws.close(code, reason);
    }
  }

  private void cleanup() {
    if (state != State.CLOSED) {
      RealtimeMeters.closed(RealtimeMeters.WEBSOCKET);
    }
    state = State.CLOSED;
    if (feed != null) {
      feed.close();
    }
    if (authTimer >= 0) {
      vertx.cancelTimer(authTimer);
    }
    if (idleTimer >= 0) {
      vertx.cancelTimer(idleTimer);
    }
  }
}
