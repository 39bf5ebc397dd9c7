package io.chat4all.realtime;

import io.chat4all.codecs.ErrorCode;
import io.chat4all.codecs.ServiceException;
import io.chat4all.codecs.Wire;
import io.chat4all.proto.v1.Event;
import io.chat4all.proto.v1.GetPresenceReply;
import io.chat4all.proto.v1.GetPresenceRequest;
import io.chat4all.proto.v1.HeartbeatReply;
import io.chat4all.proto.v1.HeartbeatRequest;
import io.chat4all.proto.v1.RealtimeServiceGrpcService;
import io.chat4all.proto.v1.SubscribeRequest;
import io.chat4all.proto.v1.TypingReply;
import io.chat4all.proto.v1.TypingRequest;
import io.chat4all.web.Authn;
import io.chat4all.web.Bodies;
import io.chat4all.web.GrpcModule;
import io.chat4all.web.GrpcUnary;
import io.chat4all.web.Principal;
import io.chat4all.web.TokenVerifier;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.grpc.server.GrpcServer;
import io.vertx.grpc.server.GrpcServerRequest;
import io.vertx.grpc.server.GrpcServerResponse;
import io.vertx.grpc.server.Service;
import java.time.Instant;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * gRPC edge of the real-time gateway ({@code chat4all.v1.RealtimeService}): {@code Subscribe}, the
 * server-streaming twin of {@code /v1/ws} on the same {@link LiveFeed}, and the unary typing and
 * presence calls on the same actions as the WebSocket and REST.
 */
public final class RealtimeGrpc implements GrpcModule {
  private static final Logger LOG = LoggerFactory.getLogger(RealtimeGrpc.class);
  private static final int MAX_TYPING_ENTRIES = 10_000;

  private final Vertx vertx;
  private final TokenVerifier callVerifier;
  private final TokenVerifier verifier;
  private final ClientActions actions;
  private final RealtimeConfig config;
  private final Presence presence;

  /** Last typing event per user and conversation on this node: {epoch ms, wire timestamp}. */
  private final Map<String, Object[]> lastTyping = new ConcurrentHashMap<>();

  /**
   * @param callVerifier checks the token of each call (with the per-user rate limit)
   * @param verifier checks it again while a stream is open (no rate limit)
   */
  public RealtimeGrpc(
      Vertx vertx,
      TokenVerifier callVerifier,
      TokenVerifier verifier,
      ClientActions actions,
      RealtimeConfig config,
      Presence presence) {
    this.vertx = vertx;
    this.callVerifier = callVerifier;
    this.verifier = verifier;
    this.actions = actions;
    this.config = config;
    this.presence = presence;
  }

  @Override
  public void register(GrpcServer server) {
    server.addService(
        Service.service(
                RealtimeServiceGrpcService.SERVICE_NAME,
                RealtimeServiceGrpcService.SERVICE_DESCRIPTOR)
            .bind(RealtimeServiceGrpcService.Subscribe, this::subscribe)
            .bind(
                RealtimeServiceGrpcService.SendTyping,
                GrpcUnary.handler(
                    (TypingRequest req, GrpcUnary.Call c) ->
                        GrpcUnary.principal(callVerifier, c).compose(p -> typing(p, req))))
            .bind(
                RealtimeServiceGrpcService.Heartbeat,
                GrpcUnary.handler(
                    (HeartbeatRequest req, GrpcUnary.Call c) ->
                        GrpcUnary.principal(callVerifier, c)
                            .compose(
                                p ->
                                    presence == null
                                        ? Future.succeededFuture()
                                        : presence.heartbeat(p.userId()))
                            .map(x -> HeartbeatReply.getDefaultInstance())))
            .bind(
                RealtimeServiceGrpcService.GetPresence,
                GrpcUnary.handler(
                    (GetPresenceRequest req, GrpcUnary.Call c) ->
                        GrpcUnary.principal(callVerifier, c).compose(p -> presence(p, req))))
            .build());
  }

  // --- Subscribe ---

  private void subscribe(GrpcServerRequest<SubscribeRequest, Event> request) {
    request.handler(
        req -> {
          String header = request.headers().get("authorization");
          String cursor = req.getCursor().isEmpty() ? null : req.getCursor();
          // authenticated first, then validated, as REST does
          Authn.verify(callVerifier, header)
              .compose(
                  p ->
                      cursor == null || LiveFeed.validCursor(cursor)
                          ? Future.succeededFuture(p)
                          : Future.<Principal>failedFuture(LiveFeed.invalidCursor()))
              .onComplete(
                  ar -> {
                    if (ar.failed()) {
                      GrpcUnary.fail(request.response(), ar.cause());
                    } else {
                      new Stream(request, Authn.bearer(header), ar.result(), cursor).start();
                    }
                  });
        });
  }

  /** One open {@code Subscribe} call: the feed's envelopes as events, heartbeats, the end. */
  private final class Stream implements LiveFeed.Sink {
    private final GrpcServerRequest<SubscribeRequest, Event> request;
    private final GrpcServerResponse<SubscribeRequest, Event> response;
    private final String token;
    private final Principal principal;
    private final String cursor;
    private LiveFeed feed;
    private boolean ready;
    private boolean done;
    private int pendingWrites;
    private long heartbeatTimer = -1;

    Stream(
        GrpcServerRequest<SubscribeRequest, Event> request,
        String token,
        Principal principal,
        String cursor) {
      this.request = request;
      this.response = request.response();
      this.token = token;
      this.principal = principal;
      this.cursor = cursor;
    }

    void start() {
      // the client cancelled, or the stream or connection broke
      request.errorHandler(e -> gone());
      request.exceptionHandler(e -> gone());
      response.exceptionHandler(e -> gone());
      heartbeatTimer =
          vertx.setPeriodic(
              Math.max(100, config.pingIntervalMs()),
              t -> {
                if (ready) {
                  write(GrpcEvents.heartbeat());
                }
              });
      feed =
          LiveFeed.start(
              vertx, verifier, actions, config, presence, token, principal, cursor, this);
    }

    @Override
    public void ready(String at) {
      ready = true;
      write(GrpcEvents.ready(principal.userId(), at));
    }

    @Override
    public void event(JsonObject envelope) {
      Event event;
      try {
        event = GrpcEvents.of(envelope);
      } catch (RuntimeException e) {
        LOG.warn("cannot turn a {} envelope into an event", envelope.getString("type"), e);
        return;
      }
      write(event);
    }

    @Override
    public void ended(ServiceException reason) {
      finish(reason);
    }

    private void write(Event event) {
      if (done) {
        return;
      }
      if (pendingWrites >= config.maxPendingWrites()) {
        finish(new ServiceException(ErrorCode.UNAVAILABLE, "client too slow"));
        return;
      }
      pendingWrites++;
      response
          .write(event)
          .onComplete(
              ar -> {
                pendingWrites--;
                if (ar.failed()) {
                  gone();
                }
              });
    }

    /** Ends the call with the model's status for {@code reason}. */
    private void finish(ServiceException reason) {
      if (done) {
        return;
      }
      stop();
      try {
        GrpcUnary.fail(response, reason);
      } catch (RuntimeException e) {
        LOG.debug("cannot end a stream that is gone", e);
      }
    }

    private void gone() {
      if (!done) {
        stop();
      }
    }

    private void stop() {
      done = true;
      if (heartbeatTimer >= 0) {
        vertx.cancelTimer(heartbeatTimer);
        heartbeatTimer = -1;
      }
      if (feed != null) {
        feed.close();
      }
    }
  }

  // --- unary ---

  private Future<TypingReply> typing(Principal p, TypingRequest req) {
    if (req.getConversationId().isEmpty()) {
      throw Bodies.invalid("conversation_id", "is required");
    }
    String conv = Bodies.uuid("conversation_id", req.getConversationId());
    String key = p.userId() + ":" + conv;
    long now = System.currentTimeMillis();
    Object[] last = lastTyping.get(key);
    if (last != null && now - (long) last[0] < config.typingIntervalMs()) {
      // coalesced: the previous event still stands
      return Future.succeededFuture(reply(conv, (String) last[1], true));
    }
    return actions
        .typing(p, conv)
        .map(
            event -> {
              String at = event.getString("at", Wire.timestamp(Instant.now()));
              if (lastTyping.size() >= MAX_TYPING_ENTRIES) {
                lastTyping
                    .entrySet()
                    .removeIf(e -> now - (long) e.getValue()[0] >= config.typingIntervalMs());
              }
              lastTyping.put(key, new Object[] {now, at});
              return reply(conv, at, false);
            });
  }

  private static TypingReply reply(String conv, String at, boolean merged) {
    return TypingReply.newBuilder().setConversationId(conv).setAt(at).setMerged(merged).build();
  }

  private Future<GetPresenceReply> presence(Principal p, GetPresenceRequest req) {
    if (presence == null) {
      return Future.failedFuture(
          new ServiceException(ErrorCode.UNAVAILABLE, "presence is not served here"));
    }
    return presence
        .query(p.userId(), Presence.parseIds(req.getUserIdsList()))
        .map(
            page -> {
              GetPresenceReply.Builder b = GetPresenceReply.newBuilder();
              JsonArray items = page.getJsonArray("items");
              for (int i = 0; i < items.size(); i++) {
                b.addItems(GrpcEvents.presence(items.getJsonObject(i)));
              }
              return b.build();
            });
  }
}
