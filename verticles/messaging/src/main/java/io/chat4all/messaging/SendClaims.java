package io.chat4all.messaging;

import io.chat4all.codecs.ErrorCode;
import io.chat4all.codecs.ServiceException;
import io.chat4all.codecs.Wire;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.redis.client.RedisAPI;
import io.vertx.redis.client.Response;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.function.UnaryOperator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The idempotency claim of a send, per message id, in two Redis keys:
 *
 * <ul>
 *   <li>the <b>claim</b> {@code idem:msg:<id>}: {@code {from_user_id, hash, state, created_at,
 *       reply?}}, kept {@code idempotency_ttl_seconds}; {@code pending} until an attempt finished,
 *       then {@code done} with the reply every retry gets;
 *   <li>the <b>lease</b> {@code idem:lease:<id>}: the token of the one attempt working on the
 *       claim, expiring after {@code idempotency_lease_ms} and renewed every third of that while
 *       the attempt runs.
 * </ul>
 *
 * A retry that finds the claim pending waits while the lease is held; when the lease lapses (its
 * owner died or gave up) the retry takes it and finishes the send itself with the claim's {@code
 * created_at}, so its reply is the one the first attempt would have given. Whether the first
 * attempt reached Kafka is decided by the work (the stored message ids; the pipeline's dedup on
 * message_id makes a second copy in Kafka harmless).
 */
final class SendClaims {
  private static final Logger LOG = LoggerFactory.getLogger(SendClaims.class);

  /** How long a retry waits for an attempt that holds the lease before answering timeout. */
  static final long WAIT_MS = 10_000;

  private static final long POLL_MS = 50;
  private static final String RENEW =
      "if redis.call('GET', KEYS[1]) == ARGV[1] then"
          + " return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end return 0";
  private static final String RELEASE =
      "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end"
          + " return 0";

  /**
   * The whole claim in one round trip. KEYS: lease, claim, rate counter ({@code ""}: no limit),
   * then the seen-filter buckets (the current one first). ARGV: owner, lease ms, the pending claim,
   * claim TTL, rate limit, rate key TTL, filter bucket TTL (0: none), then the filter's bit
   * positions of the id. Answers {@code {"limited", ttl}}, {@code {"busy", claim|false}} (the lease
   * is someone else's), {@code {"held", claim}} (lease won, the claim was there) or {@code {"new",
   * seen}} (lease and claim won; seen = 1 when every bucket bit of the id was already set in some
   * bucket, i.e. the id may have been used before the claim's TTL).
   */
  private static final String CLAIM =
      "if ARGV[5] ~= '0' then\n"
          + "  local n = redis.call('INCR', KEYS[3])\n"
          + "  if n == 1 then redis.call('EXPIRE', KEYS[3], ARGV[6]) end\n"
          + "  if n > tonumber(ARGV[5]) then return {'limited', redis.call('TTL', KEYS[3])} end\n"
          + "end\n"
          + "if not redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then\n"
          + "  return {'busy', redis.call('GET', KEYS[2])}\n"
          + "end\n"
          + "if not redis.call('SET', KEYS[2], ARGV[3], 'NX', 'EX', ARGV[4]) then\n"
          + "  return {'held', redis.call('GET', KEYS[2])}\n"
          + "end\n"
          + "local seen = 0\n"
          + "for b = 4, #KEYS do\n"
          + "  local all = 1\n"
          + "  for i = 8, #ARGV do\n"
          + "    if redis.call('GETBIT', KEYS[b], ARGV[i]) == 0 then all = 0 break end\n"
          + "  end\n"
          + "  if all == 1 then seen = 1 break end\n"
          + "end\n"
          + "if #KEYS >= 4 then\n"
          + "  for i = 8, #ARGV do redis.call('SETBIT', KEYS[4], ARGV[i], 1) end\n"
          + "  if ARGV[7] ~= '0' then redis.call('EXPIRE', KEYS[4], ARGV[7]) end\n"
          + "end\n"
          + "return {'new', seen}";

  /** Records the reply (claim done) and releases the lease, in one round trip after the reply. */
  private static final String FINISH =
      "redis.call('SET', KEYS[1], ARGV[1], 'XX', 'EX', ARGV[2])\n"
          + "if redis.call('GET', KEYS[2]) == ARGV[3] then redis.call('DEL', KEYS[2]) end\n"
          + "return 1";

  /**
   * What the attempt holding the lease does: {@code resumed} is false for the first attempt and
   * true for a retry that took over a pending claim; {@code createdAt} is the claim's; {@code
   * maybeUsed} is true when the seen filter cannot rule out that the id was used before (then the
   * work must look at the stored ids).
   */
  interface Work {
    Future<JsonObject> run(String createdAt, boolean resumed, boolean maybeUsed);
  }

  /** A per-user message limit counted in the claim's round trip (limit 0: none). */
  record Rate(String bucket, int limit, int windowSeconds) {
    static final Rate NONE = new Rate(null, 0, 60);
  }

  private final Vertx vertx;
  private final RedisAPI redis;
  private final String prefix;
  private final String ttl;
  private final long leaseMs;
  private final SeenFilter seen;

  SendClaims(Vertx vertx, RedisAPI redis, String prefix, int ttlSeconds, long leaseMs) {
    this(vertx, redis, prefix, ttlSeconds, leaseMs, SeenFilter.NONE);
  }

  SendClaims(
      Vertx vertx, RedisAPI redis, String prefix, int ttlSeconds, long leaseMs, SeenFilter seen) {
    checkLease(leaseMs);
    this.vertx = vertx;
    this.redis = redis;
    this.prefix = prefix;
    this.ttl = Integer.toString(ttlSeconds);
    this.leaseMs = leaseMs;
    this.seen = seen;
  }

  /** A lease must lapse well within the time a retry waits. */
  static void checkLease(long leaseMs) {
    if (leaseMs < 100 || leaseMs > WAIT_MS / 2) {
      throw new IllegalArgumentException(
          "messaging.idempotency_lease_ms must be 100 to " + WAIT_MS / 2);
    }
  }

  String claimKey(String messageId) {
    return prefix + "idem:msg:" + messageId;
  }

  String leaseKey(String messageId) {
    return prefix + "idem:lease:" + messageId;
  }

  /**
   * Runs {@code work} for the message id unless another attempt did or does: the same user and body
   * get the same reply, anything else with this id is 409 idempotency_conflict. {@code rate} is
   * counted once, in the same round trip as the claim.
   */
  Future<JsonObject> send(String messageId, String userId, String hash, Rate rate, Work work) {
    return attempt(messageId, userId, hash, rate, work, System.currentTimeMillis() + WAIT_MS)
        .recover(
            err ->
                Future.failedFuture(
                    err instanceof ServiceException
                        ? err
                        : new ServiceException(
                            ErrorCode.UNAVAILABLE,
                            "the idempotency store is unavailable; retry with the same message_id")));
  }

  Future<JsonObject> send(String messageId, String userId, String hash, Work work) {
    return send(messageId, userId, hash, Rate.NONE, work);
  }

  private Future<JsonObject> attempt(
      String messageId, String userId, String hash, Rate rate, Work work, long deadline) {
    String owner = UUID.randomUUID().toString();
    JsonObject pending =
        new JsonObject()
            .put("from_user_id", userId)
            .put("hash", hash)
            .put("state", "pending")
            .put("created_at", Wire.timestamp(Instant.now()));
    boolean limited = rate.limit() > 0;
    List<String> args = new ArrayList<>(20);
    args.add(CLAIM);
    List<String> buckets = seen.buckets(prefix);
    args.add(Integer.toString(3 + buckets.size()));
    args.add(leaseKey(messageId));
    args.add(claimKey(messageId));
    args.add(limited ? rateKey(rate) : "");
    args.addAll(buckets);
    args.add(owner);
    args.add(Long.toString(leaseMs));
    args.add(pending.encode());
    args.add(ttl);
    args.add(limited ? Integer.toString(rate.limit()) : "0");
    args.add(Integer.toString(rate.windowSeconds() + 1));
    args.add(Long.toString(seen.bucketTtlSeconds()));
    if (!buckets.isEmpty()) {
      args.addAll(seen.positions(messageId));
    }
    return redis
        .eval(args)
        .compose(
            r -> {
              String status = r.get(0).toString();
              Response value = r.size() > 1 ? r.get(1) : null;
              switch (status) {
                case "limited":
                  return Future.failedFuture(rateLimited(value == null ? 1 : value.toLong()));
                case "busy":
                  return waiting(messageId, userId, hash, work, deadline, value);
                case "held":
                  return held(messageId, userId, hash, owner, work, value);
                default:
                  return holding(
                      messageId,
                      owner,
                      pending,
                      false,
                      value != null && value.toInteger() == 1,
                      work);
              }
            });
  }

  private String rateKey(Rate rate) {
    long window = System.currentTimeMillis() / 1000 / rate.windowSeconds();
    return prefix + "rl:" + rate.bucket() + ":" + window;
  }

  private static ServiceException rateLimited(long ttlSeconds) {
    long retry = Math.max(1, ttlSeconds);
    return new ServiceException(
        ErrorCode.RATE_LIMITED,
        "too many requests; retry in " + retry + " s",
        new JsonObject().put("retry_after_seconds", retry));
  }

  /** Someone else holds the lease: their result, or the lease once it lapses. */
  private Future<JsonObject> waiting(
      String messageId, String userId, String hash, Work work, long deadline, Response claim) {
    if (claim != null) {
      JsonObject existing = new JsonObject(claim.toString());
      if (!matches(existing, userId, hash)) {
        return Future.failedFuture(conflict(messageId));
      }
      if ("done".equals(existing.getString("state"))) {
        return Future.succeededFuture(existing.getJsonObject("reply"));
      }
    }
    if (System.currentTimeMillis() > deadline) {
      return Future.failedFuture(
          new ServiceException(
              ErrorCode.TIMEOUT,
              "the first send of this message_id is still in flight; retry with the"
                  + " same message_id"));
    }
    Promise<Void> later = Promise.promise();
    vertx.setTimer(POLL_MS, t -> later.complete());
    // a poll is not another message: the rate was counted by the first round
    return later.future().compose(x -> attempt(messageId, userId, hash, Rate.NONE, work, deadline));
  }

  /** This attempt won the lease but the claim was there: its reply, a conflict or a takeover. */
  private Future<JsonObject> held(
      String messageId, String userId, String hash, String owner, Work work, Response claim) {
    if (claim == null) {
      // cannot happen inside the script; treat as a pending claim of this attempt
      return Future.failedFuture(new IllegalStateException("claim vanished"));
    }
    JsonObject existing = new JsonObject(claim.toString());
    if (!matches(existing, userId, hash)) {
      release(messageId, owner);
      return Future.failedFuture(conflict(messageId));
    }
    if ("done".equals(existing.getString("state"))) {
      release(messageId, owner);
      return Future.succeededFuture(existing.getJsonObject("reply"));
    }
    // an earlier attempt claimed it and went away without finishing
    return holding(messageId, owner, existing, true, true, work);
  }

  /**
   * This attempt holds the lease and the claim: runs the work (renewing the lease meanwhile). The
   * reply is given the moment the work has it; recording it (claim done) and releasing the lease
   * follow in one round trip. A conflict found by the work drops the claim; any other failure
   * leaves it pending for a retry to finish.
   */
  private Future<JsonObject> holding(
      String messageId,
      String owner,
      JsonObject claim,
      boolean resumed,
      boolean maybeUsed,
      Work work) {
    String lease = leaseKey(messageId);
    long timer =
        vertx.setPeriodic(
            Math.max(1, leaseMs / 3),
            t ->
                redis
                    .eval(List.of(RENEW, "1", lease, owner, Long.toString(leaseMs)))
                    .onFailure(e -> LOG.debug("lease renewal of {} failed: {}", messageId, e)));
    String key = claimKey(messageId);
    Future<JsonObject> result;
    try {
      result = work.run(claim.getString("created_at"), resumed, maybeUsed);
    } catch (RuntimeException e) {
      result = Future.failedFuture(e);
    }
    return result
        .onComplete(ar -> vertx.cancelTimer(timer))
        .map(
            reply -> {
              redis
                  .eval(
                      List.of(
                          FINISH,
                          "2",
                          key,
                          lease,
                          claim.copy().put("state", "done").put("reply", reply).encode(),
                          ttl,
                          owner))
                  .onFailure(
                      e ->
                          LOG.warn(
                              "the reply of {} is not recorded (a retry resumes it): {}",
                              messageId,
                              e.toString()));
              return reply;
            })
        .recover(
            err -> {
              if (err instanceof ServiceException se
                  && se.code() == ErrorCode.IDEMPOTENCY_CONFLICT) {
                return redis
                    .del(List.of(key))
                    .onComplete(x -> release(messageId, owner))
                    .transform(x -> Future.failedFuture(err));
              }
              release(messageId, owner);
              LOG.debug("send of {} failed, left for a retry: {}", messageId, err.toString());
              return Future.failedFuture(
                  new ServiceException(
                      ErrorCode.UNAVAILABLE,
                      "the message could not be stored durably; retry with the same message_id"));
            });
  }

  private void release(String messageId, String owner) {
    redis
        .eval(List.of(RELEASE, "1", leaseKey(messageId), owner))
        .onFailure(e -> LOG.debug("lease release of {} failed: {}", messageId, e));
  }

  /**
   * Rewrites the recorded reply of a finished send (a deleted message's reply loses its text); a
   * claim still pending or gone is left alone.
   */
  Future<Void> rewriteReply(String messageId, UnaryOperator<JsonObject> change) {
    String key = claimKey(messageId);
    return redis
        .get(key)
        .compose(
            r -> {
              if (r == null) {
                return Future.succeededFuture();
              }
              JsonObject claim = new JsonObject(r.toString());
              JsonObject reply = claim.getJsonObject("reply");
              if (reply == null) {
                return Future.succeededFuture();
              }
              claim.put("reply", change.apply(reply.copy()));
              return redis.set(List.of(key, claim.encode(), "XX", "KEEPTTL")).mapEmpty();
            });
  }

  private static boolean matches(JsonObject claim, String userId, String hash) {
    return userId.equals(claim.getString("from_user_id")) && hash.equals(claim.getString("hash"));
  }

  static ServiceException conflict(String messageId) {
    return new ServiceException(
        ErrorCode.IDEMPOTENCY_CONFLICT,
        "message_id " + messageId + " was already used for a different message",
        new JsonObject().put("field", "message_id"));
  }

  private static boolean ok(Response r) {
    return r != null && "OK".equals(r.toString());
  }
}
