package io.chat4all.realtime;

import io.chat4all.codecs.Addresses;
import io.chat4all.codecs.Envelopes;
import io.chat4all.codecs.ThrottledLog;
import io.chat4all.codecs.Topics;
import io.chat4all.codecs.Wire;
import io.chat4all.web.Authn;
import io.chat4all.web.Bodies;
import io.chat4all.web.Rest;
import io.chat4all.web.RouteModule;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.kafka.client.producer.KafkaProducer;
import io.vertx.kafka.client.producer.KafkaProducerRecord;
import io.vertx.redis.client.RedisAPI;
import io.vertx.redis.client.Response;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * User presence across nodes, kept in Redis:
 *
 * <ul>
 *   <li>{@code <prefix>presence:conns:<id>}: a hash of the user's live connections on every node
 *       (field = connection id, value = expiry in epoch ms), renewed by heartbeats;
 *   <li>{@code <prefix>presence:user:<id>}: {@code {status:"online", last_seen}} with a TTL of
 *       {@link #TTL_SECONDS}, present while at least one connection is live;
 *   <li>{@code <prefix>presence:last_seen:<id>}: the last time the user was seen, without a TTL.
 * </ul>
 *
 * Marking and unmarking run as Lua scripts ({@link PresenceScripts}), so the offline→online and
 * online→offline transitions are detected atomically across nodes; each transition is produced to
 * Kafka {@code user.presence} (key user id) and published live to every user sharing a
 * conversation. Also serves {@code POST /v1/presence/heartbeat} and {@code GET /v1/presence}.
 */
public final class Presence implements RouteModule {
  private static final Logger LOG = LoggerFactory.getLogger(Presence.class);

  /** A Redis outage fails every socket's mark or unmark at once: one line per 10 s of each. */
  private static final ThrottledLog MARK_FAILED = new ThrottledLog(LOG, 10_000);

  private static final ThrottledLog UNMARK_FAILED = new ThrottledLog(LOG, 10_000);

  private static final ThrottledLog PRODUCE_FAILED = new ThrottledLog(LOG, 10_000);

  private static final ThrottledLog PUBLISH_FAILED = new ThrottledLog(LOG, 10_000);
  public static final int TTL_SECONDS = 300;
  public static final int MAX_IDS = 100;
  static final String HTTP_FIELD = "http";

  private static final String SHARING =
      "SELECT DISTINCT m2.user_id FROM conversation_members m1 JOIN conversation_members m2"
          + " USING (conversation_id) WHERE m1.user_id = $1 AND m2.user_id <> $1";
  private static final String VISIBLE =
      "SELECT DISTINCT m2.user_id FROM conversation_members m1 JOIN conversation_members m2"
          + " USING (conversation_id) WHERE m1.user_id = $1 AND m2.user_id = ANY($2)";

  private final Vertx vertx;
  private final RedisAPI redis;
  private final String prefix;
  private final Pool pg;
  private final KafkaProducer<String, String> producer;
  private final String topic;
  private final String nodeId = UUID.randomUUID().toString();
  private final AtomicLong connections = new AtomicLong();
  private final int ttlSeconds;

  /** Unmarks queued by closing connections and not finished yet (guarded by {@code this}). */
  private int unmarking;

  /** Who waits for {@link #unmarking} to reach zero (guarded by {@code this}). */
  private List<Promise<Void>> settledWaiters = new ArrayList<>();

  public Presence(
      Vertx vertx,
      RedisAPI redis,
      String keyPrefix,
      Pool pg,
      KafkaProducer<String, String> producer,
      String topicPrefix) {
    this(vertx, redis, keyPrefix, pg, producer, topicPrefix, TTL_SECONDS);
  }

  public Presence(
      Vertx vertx,
      RedisAPI redis,
      String keyPrefix,
      Pool pg,
      KafkaProducer<String, String> producer,
      String topicPrefix,
      int ttlSeconds) {
    this.ttlSeconds = ttlSeconds;
    this.vertx = vertx;
    this.redis = redis;
    this.prefix = keyPrefix == null ? "" : keyPrefix;
    this.pg = pg;
    this.producer = producer;
    this.topic = Topics.name(topicPrefix, Topics.USER_PRESENCE);
  }

  /** A new id for one connection, unique across nodes. */
  String connectionId() {
    return nodeId + ":" + connections.incrementAndGet();
  }

  String userKey(String userId) {
    return prefix + "presence:user:" + userId;
  }

  String lastSeenKey(String userId) {
    return prefix + "presence:last_seen:" + userId;
  }

  String onlineKey() {
    return prefix + "presence:online";
  }

  /** Users online across the cluster (the size of the online set). */
  public Future<Long> onlineCount() {
    return redis.scard(onlineKey()).map(r -> r == null ? 0L : r.toLong());
  }

  /** How long a connection stays online after a renewal. */
  public int ttlSeconds() {
    return ttlSeconds;
  }

  /**
   * One sweep: users whose every connection expired (their node died) become offline and are
   * announced. Runs on one node at a time (cluster-wide lock); returns how many went offline.
   */
  public Future<Integer> sweep() {
    return vertx
        .sharedData()
        .getLockWithTimeout("chat4all.presence.sweep", 10)
        .compose(
            lock ->
                redis
                    .eval(
                        List.of(
                            PresenceScripts.SWEEP,
                            "1",
                            onlineKey(),
                            Long.toString(System.currentTimeMillis()),
                            prefix))
                    .compose(
                        gone -> {
                          List<Future<?>> announced = new java.util.ArrayList<>();
                          if (gone != null) {
                            for (Response user : gone) {
                              String uid = user.toString();
                              announced.add(
                                  redis
                                      .get(lastSeenKey(uid))
                                      .compose(
                                          seen ->
                                              announce(
                                                  uid,
                                                  "offline",
                                                  seen == null
                                                      ? Wire.timestamp(Instant.now())
                                                      : seen.toString())));
                            }
                          }
                          return Future.join(announced).map(x -> announced.size());
                        })
                    .onComplete(x -> lock.release()),
            busy -> Future.succeededFuture(0))
        .recover(
            err -> {
              LOG.warn("presence sweep failed: {}", err.toString());
              return Future.succeededFuture(0);
            });
  }

  /** Sweeps every {@code periodSeconds} until the node stops; returns the timer id. */
  public long startSweeping(int periodSeconds) {
    return vertx.setPeriodic(periodSeconds * 1000L, t -> sweep());
  }

  String connsKey(String userId) {
    return prefix + "presence:conns:" + userId;
  }

  /**
   * Marks (or renews) connection {@code connId} of {@code userId} live for {@link #TTL_SECONDS};
   * publishes the change when the user was offline. Never fails (presence is best effort).
   */
  public Future<Void> mark(String userId, String connId) {
    long now = System.currentTimeMillis();
    String at = Wire.timestamp(Instant.ofEpochMilli(now));
    return redis
        .eval(
            List.of(
                PresenceScripts.MARK,
                "4",
                connsKey(userId),
                userKey(userId),
                lastSeenKey(userId),
                onlineKey(),
                connId,
                Long.toString(now),
                Long.toString(now + ttlSeconds * 1000L),
                Integer.toString(ttlSeconds),
                at,
                userId))
        .compose(r -> changed(r) ? announce(userId, "online", at) : Future.<Void>succeededFuture())
        .recover(
            err -> {
              MARK_FAILED.warn("presence mark failed for {}: {}", userId, err.toString());
              return Future.succeededFuture();
            });
  }

  /** Removes connection {@code connId}; publishes the change when it was the user's last one. */
  public Future<Void> unmark(String userId, String connId) {
    long now = System.currentTimeMillis();
    String at = Wire.timestamp(Instant.ofEpochMilli(now));
    return redis
        .eval(
            List.of(
                PresenceScripts.UNMARK,
                "4",
                connsKey(userId),
                userKey(userId),
                lastSeenKey(userId),
                onlineKey(),
                connId,
                Long.toString(now),
                at,
                userId))
        .compose(r -> changed(r) ? announce(userId, "offline", at) : Future.<Void>succeededFuture())
        .recover(
            err -> {
              UNMARK_FAILED.warn("presence unmark failed for {}: {}", userId, err.toString());
              return Future.succeededFuture();
            });
  }

  /**
   * Runs {@link #unmark} once {@code before} (the connection's previous presence call) is done, and
   * counts it until it finishes, so a stopping node can wait for it ({@link #settled}) before it
   * closes the clients: a connection closed by the shutdown still takes its user offline.
   */
  public Future<Void> unmarkAfter(Future<Void> before, String userId, String connId) {
    synchronized (this) {
      unmarking++;
    }
    return before.transform(x -> unmark(userId, connId)).andThen(x -> unmarkEnded());
  }

  private void unmarkEnded() {
    List<Promise<Void>> ready;
    synchronized (this) {
      if (--unmarking > 0 || settledWaiters.isEmpty()) {
        return;
      }
      ready = settledWaiters;
      settledWaiters = new ArrayList<>();
    }
    ready.forEach(Promise::tryComplete);
  }

  /** Completes once no unmark queued by {@link #unmarkAfter} is running (at once when none is). */
  public Future<Void> settled() {
    synchronized (this) {
      if (unmarking == 0) {
        return Future.succeededFuture();
      }
      Promise<Void> waiter = Promise.promise();
      settledWaiters.add(waiter);
      return waiter.future();
    }
  }

  private static boolean changed(Response r) {
    return r != null && r.toLong() == 1L;
  }

  /** Kafka {@code user.presence} and a live envelope to every user sharing a conversation. */
  private Future<Void> announce(String userId, String status, String lastSeen) {
    JsonObject event =
        new JsonObject()
            .put("user_id", userId)
            .put("status", status)
            .put("last_seen", lastSeen)
            .put("at", Wire.timestamp(Instant.now()));
    Future<Void> kafka =
        producer
            .send(KafkaProducerRecord.create(topic, userId, event.encode()))
            .<Void>mapEmpty()
            .recover(
                err -> {
                  PRODUCE_FAILED.warn("cannot produce presence of {}: {}", userId, err.toString());
                  return Future.succeededFuture();
                });
    JsonObject envelope =
        new JsonObject()
            .put(Envelopes.TYPE, Envelopes.PRESENCE)
            .put("user_id", userId)
            .put("status", status)
            .put("last_seen", lastSeen);
    Future<Void> live =
        pg.preparedQuery(SHARING)
            .execute(Tuple.of(UUID.fromString(userId)))
            .map(
                rows -> {
                  for (Row row : rows) {
                    vertx.eventBus().publish(Addresses.user(row.getUUID(0).toString()), envelope);
                  }
                  return (Void) null;
                })
            .recover(
                err -> {
                  PUBLISH_FAILED.warn("cannot publish presence of {}: {}", userId, err.toString());
                  return Future.succeededFuture();
                });
    return Future.all(kafka, live).mapEmpty();
  }

  // --- REST ---

  @Override
  public void mount(Router router) {
    router.post("/v1/presence/heartbeat").handler(Rest.json(204, this::heartbeat));
    router.get("/v1/presence").handler(Rest.json(200, this::query));
  }

  private Future<JsonObject> heartbeat(RoutingContext ctx) {
    return heartbeat(Authn.principal(ctx).userId()).map(x -> new JsonObject());
  }

  /**
   * Keeps {@code userId} online for {@link #ttlSeconds} without a connection (the REST and gRPC
   * heartbeat: one entry per user).
   */
  public Future<Void> heartbeat(String userId) {
    return mark(userId, HTTP_FIELD);
  }

  /** Parses {@code user_ids=a,b,c}: 1 to {@link #MAX_IDS} UUIDs (normalised, deduplicated). */
  public static List<String> parseIds(List<String> params) {
    if (params.isEmpty()) {
      throw Bodies.invalid("user_ids", "is required (comma-separated user ids)");
    }
    Set<String> ids = new LinkedHashSet<>();
    for (String param : params) {
      for (String part : param.split(",", -1)) {
        ids.add(Bodies.uuid("user_ids", part.trim()));
        if (ids.size() > MAX_IDS) {
          throw Bodies.invalid("user_ids", "must list at most " + MAX_IDS + " ids");
        }
      }
    }
    return new ArrayList<>(ids);
  }

  private Future<JsonObject> query(RoutingContext ctx) {
    return query(Authn.principal(ctx).userId(), parseIds(ctx.queryParam("user_ids")));
  }

  /**
   * {@code {items:[{user_id, status, last_seen}], next_cursor:null}} for those of {@code ids}
   * (parsed by {@link #parseIds}) that share a conversation with {@code caller}, in their order.
   */
  public Future<JsonObject> query(String caller, List<String> ids) {
    UUID[] wanted = ids.stream().map(UUID::fromString).toArray(UUID[]::new);
    return pg.preparedQuery(VISIBLE)
        .execute(Tuple.tuple().addUUID(UUID.fromString(caller)).addArrayOfUUID(wanted))
        .compose(
            rows -> {
              Set<String> visible = new HashSet<>();
              for (Row row : rows) {
                visible.add(row.getUUID(0).toString());
              }
              List<String> shown = ids.stream().filter(visible::contains).toList();
              List<Future<JsonObject>> items = new ArrayList<>();
              for (String id : shown) {
                items.add(status(id));
              }
              return Future.all(items)
                  .map(
                      all -> {
                        JsonArray out = new JsonArray();
                        for (int i = 0; i < all.size(); i++) {
                          out.add(all.<JsonObject>resultAt(i));
                        }
                        return new JsonObject().put("items", out).putNull("next_cursor");
                      });
            });
  }

  private Future<JsonObject> status(String userId) {
    Future<Response> user = redis.hmget(List.of(userKey(userId), "status", "last_seen"));
    Future<Response> last = redis.get(lastSeenKey(userId));
    return Future.all(user, last)
        .map(
            x -> {
              Response h = user.result();
              Response st = h == null || h.size() < 2 ? null : h.get(0);
              Response ls = h == null || h.size() < 2 ? null : h.get(1);
              boolean online = st != null && "online".equals(st.toString());
              String seen = null;
              if (online && ls != null) {
                seen = ls.toString();
              } else if (last.result() != null) {
                seen = last.result().toString();
              }
              return new JsonObject()
                  .put("user_id", userId)
                  .put("status", online ? "online" : "offline")
                  .put("last_seen", seen);
            });
  }
}
