package io.chat4all.realtime;

import io.chat4all.codecs.Addresses;
import io.chat4all.codecs.Envelopes;
import io.chat4all.codecs.ErrorCode;
import io.chat4all.codecs.ServiceException;
import io.chat4all.web.Principal;
import io.chat4all.web.TokenRevocation;
import io.chat4all.web.TokenVerifier;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;

/**
 * One subscriber's live events, whatever carries them (the {@code /v1/ws} socket, the gRPC {@code
 * Subscribe} stream): subscribes to the user's address, replays the change feed from the client's
 * cursor and joins it to the live envelopes without gap or duplicate, in feed order so that every
 * cursor handed out is safe to resume from ({@link FeedOrder}; {@link Dedup} drops what was already
 * pushed); typing and presence events, which are not in the feed, go out as they come. It ends at
 * the token's expiry and as soon as a revocation notice names it ({@link TokenRevocation}), and
 * keeps the subscriber online in {@link Presence} while it lasts. Everything runs on the context
 * that {@link #start started} it.
 */
public final class LiveFeed {
  /** Feed entries read per replay request. */
  public static final int SYNC_PAGE = 200;

  /** What the transport does with the feed; every call comes on the feed's context. */
  public interface Sink {
    /**
     * The subscription reached the cluster, the token still holds and the feed was read: {@code
     * cursor} is where the client starts (its own, or the current position). Called once, before
     * any {@link #event}.
     */
    void ready(String cursor);

    /**
     * An envelope for the client, in order and each once: replayed or live events, and {@code
     * {type:"resync_required", cursor}} when the cursor is older than the feed holds.
     */
    void event(JsonObject envelope);

    /**
     * The feed ended on its own (it is closed already; called at most once): a token failure (
     * {@link #isTokenFailure}: expired, revoked), or anything else (the token or the feed could not
     * be read, too many events waiting), for which the client should try again later.
     */
    void ended(ServiceException reason);
  }

  private enum State {
    STARTING,
    LIVE,
    CLOSED
  }

  private final Vertx vertx;
  private final TokenVerifier verifier;
  private final ClientActions actions;
  private final RealtimeConfig config;
  private final Presence presence;
  private final String token;
  private final Principal principal;
  private final Sink sink;
  private final Dedup dedup;
  private final FeedOrder order;
  private final List<JsonObject> ephemeral = new ArrayList<>();

  private State state = State.STARTING;
  private MessageConsumer<JsonObject> consumer;
  private long expiryTimer = -1;
  private long renewTimer = -1;
  private long checkTimer = -1;
  private String presenceId;
  private Future<Void> presenceChain = Future.succeededFuture();
  private long presenceRenewedAt;

  private LiveFeed(
      Vertx vertx,
      TokenVerifier verifier,
      ClientActions actions,
      RealtimeConfig config,
      Presence presence,
      String token,
      Principal principal,
      Sink sink) {
    this.vertx = vertx;
    this.verifier = verifier;
    this.actions = actions;
    this.config = config;
    this.presence = presence;
    this.token = token;
    this.principal = principal;
    this.sink = sink;
    this.dedup = new Dedup(config.dedupEntries());
    String user = principal.userId();
    this.order =
        new FeedOrder(
            (from, limit) -> actions.positions(user, from, limit),
            (from, limit) -> actions.sync(user, from, limit),
            dedup,
            SYNC_PAGE,
            config.maxPendingWrites(),
            config.gapGraceMs(),
            (delayMs, task) -> vertx.setTimer(Math.max(1, delayMs), x -> task.run()),
            envelope -> {
              if (state != State.CLOSED) {
                sink.event(envelope);
              }
            },
            this::end);
  }

  /**
   * Starts the feed of a verified {@code token} from {@code cursor} (null: from the current
   * position; a non-null one must be {@link #validCursor valid}). {@code presence} may be null.
   */
  public static LiveFeed start(
      Vertx vertx,
      TokenVerifier verifier,
      ClientActions actions,
      RealtimeConfig config,
      Presence presence,
      String token,
      Principal principal,
      String cursor,
      Sink sink) {
    LiveFeed feed =
        new LiveFeed(vertx, verifier, actions, config, presence, token, principal, sink);
    feed.begin(cursor);
    return feed;
  }

  /** Whether {@code cursor} is a change-feed cursor this API hands out. */
  public static boolean validCursor(String cursor) {
    return Cursors.valid(cursor);
  }

  /** The error of a cursor that is not one: {@code validation_failed} on field {@code cursor}. */
  public static ServiceException invalidCursor() {
    return new ServiceException(
        ErrorCode.VALIDATION_FAILED,
        "cursor is not a cursor this API handed out",
        new JsonObject().put("field", "cursor"));
  }

  /** A failure that means the token is no good (rather than that it could not be checked). */
  public static boolean isTokenFailure(Throwable err) {
    ErrorCode code = ServiceException.from(err).code();
    return code == ErrorCode.UNAUTHENTICATED
        || code == ErrorCode.TOKEN_INVALID
        || code == ErrorCode.TOKEN_EXPIRED
        || code == ErrorCode.TOKEN_REVOKED;
  }

  public Principal principal() {
    return principal;
  }

  public boolean isClosed() {
    return state == State.CLOSED;
  }

  private void begin(String cursor) {
    // a verified token always has an expiry: the feed ends when the token does
    expiryTimer =
        vertx.setTimer(
            Math.max(1, principal.expiresAt() * 1000 - System.currentTimeMillis()),
            x -> {
              expiryTimer = -1;
              end(new ServiceException(ErrorCode.TOKEN_EXPIRED));
            });
    if (presence != null) {
      presenceId = presence.connectionId();
      renewPresence();
      // the node keeps a live subscriber online by itself; an expired entry then means a dead node
      long every = Math.max(1000L, presence.ttlSeconds() * 1000L / 3);
      renewTimer = vertx.setPeriodic(every, x -> renewPresence());
    }
    if (config.feedCheckMs() > 0) {
      long every = config.feedCheckMs();
      checkTimer = vertx.setPeriodic(Math.max(100L, every / 2), x -> order.check(every));
    }
    // subscribe first, then read the feed: live envelopes wait in the order meanwhile
    consumer =
        vertx
            .eventBus()
            .consumer(
                Addresses.user(principal.userId()),
                m -> {
                  if (TokenRevocation.isNotice(m.headers())) {
                    if (TokenRevocation.revokes(m.body(), principal)) {
                      end(new ServiceException(ErrorCode.TOKEN_REVOKED));
                    }
                  } else {
                    RealtimeMeters.pushed(vertx, () -> onLive(m.body()));
                  }
                });
    consumer
        .completion()
        // a revocation published before the subscription reached the cluster is missed: check the
        // token once more now that notices arrive
        .compose(x -> verifier.verify(token))
        .compose(x -> actions.sync(principal.userId(), cursor, SYNC_PAGE))
        .onComplete(
            ar -> {
              if (state == State.CLOSED) {
                return;
              }
              if (ar.failed()) {
                end(ServiceException.from(ar.cause()));
                return;
              }
              JsonObject first = ar.result();
              state = State.LIVE;
              sink.ready(cursor != null ? cursor : first.getString("next_cursor"));
              List<JsonObject> waiting = new ArrayList<>(ephemeral);
              ephemeral.clear();
              waiting.forEach(this::push);
              if (cursor == null) {
                order.startAt(first.getString("next_cursor"));
              } else {
                order.replay(first);
              }
            });
  }

  private void onLive(JsonObject envelope) {
    if (envelope == null || state == State.CLOSED) {
      return;
    }
    long[] at = Cursors.parse(envelope.getString(Envelopes.CURSOR));
    if (at != null) {
      // a feed entry: handed over in feed order
      order.offer(envelope, at);
    } else if (state == State.STARTING) {
      // typing, presence: not in the feed, pushed as they come once the client is ready
      if (ephemeral.size() >= config.maxPendingWrites()) {
        end(new ServiceException(ErrorCode.UNAVAILABLE, "too many pending events"));
        return;
      }
      ephemeral.add(envelope);
    } else {
      push(envelope);
    }
  }

  private void push(JsonObject envelope) {
    if (state != State.CLOSED && dedup.firstTime(envelope)) {
      sink.event(envelope);
    }
  }

  /**
   * Marks (or renews) this subscriber online; presence calls run one after the other. A transport
   * calls it on client activity; the feed renews by itself too.
   */
  public void renewPresence() {
    if (presence == null || presenceId == null || state == State.CLOSED) {
      return;
    }
    presenceRenewedAt = System.currentTimeMillis();
    String userId = principal.userId();
    String id = presenceId;
    presenceChain = presenceChain.transform(x -> presence.mark(userId, id));
  }

  /** When presence was last renewed (epoch ms). */
  public long presenceRenewedAt() {
    return presenceRenewedAt;
  }

  private void end(ServiceException reason) {
    if (state == State.CLOSED) {
      return;
    }
    close();
    sink.ended(reason);
  }

  /** Stops the feed (the client went away); no {@link Sink#ended} follows. Idempotent. */
  public void close() {
    if (state == State.CLOSED) {
      return;
    }
    if (presence != null && presenceId != null) {
      String userId = principal.userId();
      String id = presenceId;
      presenceChain = presence.unmarkAfter(presenceChain, userId, id);
    }
    state = State.CLOSED;
    order.close();
    ephemeral.clear();
    if (checkTimer >= 0) {
      vertx.cancelTimer(checkTimer);
      checkTimer = -1;
    }
    if (renewTimer >= 0) {
      vertx.cancelTimer(renewTimer);
      renewTimer = -1;
    }
    if (expiryTimer >= 0) {
      vertx.cancelTimer(expiryTimer);
      expiryTimer = -1;
    }
    if (consumer != null) {
      consumer.unregister();
      consumer = null;
    }
  }
}
