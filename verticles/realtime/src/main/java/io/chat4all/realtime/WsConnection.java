package io.chat4all.realtime;

import io.chat4all.codecs.Addresses;
import io.chat4all.codecs.ErrorCode;
import io.chat4all.codecs.ServiceException;
import io.chat4all.messaging.MessageActions;
import io.chat4all.web.Principal;
import io.chat4all.web.StrictJson;
import io.chat4all.web.TokenRevocation;
import io.chat4all.web.TokenVerifier;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.http.ServerWebSocket;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One {@code /v1/ws} connection: the auth handshake, the replay of the change feed from the
 * client's cursor joined without gap or duplicate to the live envelopes of the user's address,
 * client frames (send, delivered, read, typing, sync, ping), flood and slow-consumer protection,
 * token re-verification on every frame, and the close at the token's expiry and at its revocation
 * (pushed on the user's address, {@link TokenRevocation}). All state lives on the socket's event
 * loop.
 */
final class WsConnection {
  private static final Logger LOG = LoggerFactory.getLogger(WsConnection.class);

  static final short CLOSE_GOING_AWAY = 1001;
  static final short CLOSE_POLICY = 1008;
  static final short CLOSE_TRY_LATER = 1013;
  static final short CLOSE_AUTH = 4001;
  static final int MAX_FRAME_CHARS = 65_536;
  static final int SYNC_PAGE = 200;
  static final long PRESENCE_RENEW_MS = 60_000;

  private enum State {
    AUTH_WAIT,
    AUTHENTICATING,
    REPLAYING,
    LIVE,
    CLOSED
  }

  private final Vertx vertx;
  private final ServerWebSocket ws;
  private final TokenVerifier verifier;
  private final ClientActions actions;
  private final RealtimeConfig config;
  private final Dedup dedup;
  private final Presence presence;
  private final List<JsonObject> buffered = new ArrayList<>();
  private final Map<String, Long> lastTyping = new HashMap<>();

  private State state = State.AUTH_WAIT;
  private String token;
  private Principal principal;
  private MessageConsumer<JsonObject> consumer;
  private Future<Void> chain = Future.succeededFuture();
  private long authTimer = -1;
  private long expiryTimer = -1;
  private long idleTimer = -1;
  private long lastFrameAt = System.currentTimeMillis();
  private long windowStart = System.currentTimeMillis();
  private int framesInWindow;
  private int pendingWrites;
  private String presenceId;
  private Future<Void> presenceChain = Future.succeededFuture();
  private long presenceRenewedAt;
  private long renewTimer = -1;

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
    this.dedup = new Dedup(config.dedupEntries());
  }

  void start() {
    RealtimeMeters.opened(RealtimeMeters.WEBSOCKET);
    ws.frameHandler(
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
            }));
    ws.exceptionHandler(e -> LOG.debug("websocket error", e));
    ws.closeHandler(v -> cleanup());
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
              if (System.currentTimeMillis() - lastFrameAt > config.idleTimeoutMs()) {
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
    lastFrameAt = now;
    if (now - windowStart >= 1000) {
      windowStart = now;
      framesInWindow = 0;
    }
    framesInWindow++;
    if (framesInWindow > 2 * config.maxFramesPerSecond()) {
      close(CLOSE_POLICY, "too many frames");
      return;
    }
    if (framesInWindow > config.maxFramesPerSecond()) {
      error(null, ErrorCode.RATE_LIMITED, "too many frames; slow down");
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

  private Future<Void> handle(String type, JsonObject frame, String requestId) {
    if ("ping".equals(type) || System.currentTimeMillis() - presenceRenewedAt > PRESENCE_RENEW_MS) {
      presenceMark();
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
          if (c != null && !(c instanceof String s && Cursors.valid(s))) {
            return Future.failedFuture(invalidCursor());
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

  private static ServiceException invalidCursor() {
    return new ServiceException(
        ErrorCode.VALIDATION_FAILED,
        "cursor is not a cursor this API handed out",
        new JsonObject().put("field", "cursor"));
  }

  // --- handshake, replay, live ---

  private void auth(JsonObject frame, String requestId) {
    Object t = frame.getValue("token");
    Object c = frame.getValue("cursor");
    if (!(t instanceof String tok) || tok.isEmpty() || tok.length() > 4096) {
      error(requestId, ErrorCode.VALIDATION_FAILED, "token is required");
      return;
    }
    if (c != null && !(c instanceof String s && Cursors.valid(s))) {
      error(requestId, invalidCursor());
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
    principal = p;
    state = State.REPLAYING;
    if (authTimer >= 0) {
      vertx.cancelTimer(authTimer);
      authTimer = -1;
    }
    // a verified token always has an expiry: the socket closes when the token does
    expiryTimer =
        vertx.setTimer(
            Math.max(1, p.expiresAt() * 1000 - System.currentTimeMillis()),
            x -> {
              expiryTimer = -1;
              refuse(null, new ServiceException(ErrorCode.TOKEN_EXPIRED));
            });
    if (presence != null) {
      presenceId = presence.connectionId();
      presenceMark();
      // the node keeps a live socket online by itself; an expired entry then means a dead node
      long every = Math.max(1000L, presence.ttlSeconds() * 1000L / 3);
      renewTimer = vertx.setPeriodic(every, x -> presenceMark());
    }
    // subscribe first, then read the feed: live envelopes wait in the buffer meanwhile
    consumer =
        vertx
            .eventBus()
            .consumer(
                Addresses.user(p.userId()),
                m -> {
                  if (TokenRevocation.isNotice(m.headers())) {
                    if (TokenRevocation.revokes(m.body(), principal)) {
                      refuse(null, new ServiceException(ErrorCode.TOKEN_REVOKED));
                    }
                  } else {
                    RealtimeMeters.pushed(vertx, () -> onLive(m.body()));
                  }
                });
    consumer
        .completion()
        // a revocation published before the subscription reached the cluster is missed: check the
        // token once more now that notices arrive
        .compose(x -> verifier.verify(tok))
        .compose(x -> actions.sync(p.userId(), cursor, SYNC_PAGE))
        .onComplete(
            ar -> {
              if (state == State.CLOSED) {
                return;
              }
              if (ar.failed() && isTokenFailure(ar.cause())) {
                refuse(requestId, ServiceException.from(ar.cause()));
                return;
              }
              if (ar.failed()) {
                ServiceException se = ServiceException.from(ar.cause());
                error(requestId, se);
                close(CLOSE_TRY_LATER, "sync failed");
                return;
              }
              JsonObject first = ar.result();
              write(
                  new JsonObject()
                      .put("type", "ready")
                      .put("request_id", requestId)
                      .put("user_id", p.userId())
                      .put("cursor", cursor != null ? cursor : first.getString("next_cursor")));
              if (cursor == null) {
                goLive();
              } else {
                replayPage(first);
              }
            });
  }

  private void replayPage(JsonObject page) {
    if (state == State.CLOSED) {
      return;
    }
    if (page.getBoolean("resync_required", false)) {
      write(
          new JsonObject()
              .put("type", "resync_required")
              .put("cursor", page.getString("next_cursor")));
    }
    var items = page.getJsonArray("items");
    for (int i = 0; i < items.size(); i++) {
      JsonObject envelope = items.getJsonObject(i);
      boolean fresh = dedup.firstTime(envelope);
      dedup.replayed(envelope.getString("cursor"));
      if (fresh) {
        write(envelope);
      }
    }
    String next = page.getString("next_cursor");
    if (items.isEmpty() || next == null) {
      goLive();
      return;
    }
    dedup.replayed(next);
    actions
        .sync(principal.userId(), next, SYNC_PAGE)
        .onComplete(
            ar -> {
              if (ar.succeeded()) {
                replayPage(ar.result());
              } else if (state != State.CLOSED) {
                error(null, ServiceException.from(ar.cause()));
                close(CLOSE_TRY_LATER, "sync failed");
              }
            });
  }

  private void goLive() {
    if (state == State.CLOSED) {
      return;
    }
    state = State.LIVE;
    for (JsonObject envelope : buffered) {
      push(envelope);
    }
    buffered.clear();
  }

  private void onLive(JsonObject envelope) {
    if (envelope == null) {
      return;
    }
    if (state == State.REPLAYING) {
      if (buffered.size() >= config.maxPendingWrites()) {
        close(CLOSE_TRY_LATER, "too many pending events");
        return;
      }
      buffered.add(envelope);
    } else if (state == State.LIVE) {
      push(envelope);
    }
  }

  private void push(JsonObject envelope) {
    if (dedup.firstTime(envelope)) {
      write(envelope);
    }
  }

  // --- outbound ---

  private void write(JsonObject frame) {
    if (state == State.CLOSED || ws.isClosed()) {
      return;
    }
    if (pendingWrites >= config.maxPendingWrites()) {
      close(CLOSE_TRY_LATER, "client too slow");
      return;
    }
    pendingWrites++;
    ws.writeTextMessage(frame.encode()).onComplete(ar -> pendingWrites--);
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
    if (isTokenFailure(se)) {
      close(CLOSE_AUTH, se.code().wireName());
    } else {
      close(CLOSE_TRY_LATER, "cannot check the token now");
    }
  }

  private static boolean isTokenFailure(Throwable err) {
    ErrorCode code = ServiceException.from(err).code();
    return code == ErrorCode.UNAUTHENTICATED
        || code == ErrorCode.TOKEN_INVALID
        || code == ErrorCode.TOKEN_EXPIRED
        || code == ErrorCode.TOKEN_REVOKED;
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

  /** Marks (or renews) this connection live; presence calls run one after the other. */
  private void presenceMark() {
    if (presence == null || presenceId == null || state == State.CLOSED) {
      return;
    }
    presenceRenewedAt = System.currentTimeMillis();
    String userId = principal.userId();
    String id = presenceId;
    presenceChain = presenceChain.transform(x -> presence.mark(userId, id));
  }

  private void cleanup() {
    if (state != State.CLOSED) {
      RealtimeMeters.closed(RealtimeMeters.WEBSOCKET);
    }
    if (presence != null && presenceId != null && state != State.CLOSED) {
      String userId = principal.userId();
      String id = presenceId;
      presenceChain = presenceChain.transform(x -> presence.unmark(userId, id));
    }
    state = State.CLOSED;
    buffered.clear();
    if (renewTimer >= 0) {
      vertx.cancelTimer(renewTimer);
    }
    if (authTimer >= 0) {
      vertx.cancelTimer(authTimer);
    }
    if (expiryTimer >= 0) {
      vertx.cancelTimer(expiryTimer);
    }
    if (idleTimer >= 0) {
      vertx.cancelTimer(idleTimer);
    }
    if (consumer != null) {
      consumer.unregister();
      consumer = null;
    }
  }
}
