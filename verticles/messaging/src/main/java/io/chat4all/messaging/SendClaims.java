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
   * What the attempt holding the lease does: {@code resumed} is false for the first attempt and
   * true for a retry that took over a pending claim; {@code createdAt} is the claim's.
   */
  interface Work {
    Future<JsonObject> run(String createdAt, boolean resumed);
  }

  private final Vertx vertx;
  private final RedisAPI redis;
  private final String prefix;
  private final String ttl;
  private final long leaseMs;

  SendClaims(Vertx vertx, RedisAPI redis, String prefix, int ttlSeconds, long leaseMs) {
    checkLease(leaseMs);
    this.vertx = vertx;
    this.redis = redis;
    this.prefix = prefix;
    this.ttl = Integer.toString(ttlSeconds);
    this.leaseMs = leaseMs;
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
   * get the same reply, anything else with this id is 409 idempotency_conflict.
   */
  Future<JsonObject> send(String messageId, String userId, String hash, Work work) {
    return attempt(messageId, userId, hash, work, System.currentTimeMillis() + WAIT_MS)
        .recover(
            err ->
                Future.failedFuture(
                    err instanceof ServiceException
                        ? err
                        : new ServiceException(
                            ErrorCode.UNAVAILABLE,
                            "the idempotency store is unavailable; retry with the same message_id")));
  }

  private Future<JsonObject> attempt(
      String messageId, String userId, String hash, Work work, long deadline) {
    String owner = UUID.randomUUID().toString();
    return redis
        .set(List.of(leaseKey(messageId), owner, "NX", "PX", Long.toString(leaseMs)))
        .compose(
            r ->
                ok(r)
                    ? holding(messageId, userId, hash, owner, work)
                    : waiting(messageId, userId, hash, work, deadline));
  }

  /** Someone else holds the lease: their result, or the lease once it lapses. */
  private Future<JsonObject> waiting(
      String messageId, String userId, String hash, Work work, long deadline) {
    return redis
        .get(claimKey(messageId))
        .compose(
            r -> {
              if (r != null) {
                JsonObject existing = new JsonObject(r.toString());
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
              return later.future().compose(x -> attempt(messageId, userId, hash, work, deadline));
            });
  }

  /** This attempt holds the lease: claim (or take over the pending claim) and run the work. */
  private Future<JsonObject> holding(
      String messageId, String userId, String hash, String owner, Work work) {
    String lease = leaseKey(messageId);
    long timer =
        vertx.setPeriodic(
            Math.max(1, leaseMs / 3),
            t ->
                redis
                    .eval(List.of(RENEW, "1", lease, owner, Long.toString(leaseMs)))
                    .onFailure(e -> LOG.debug("lease renewal of {} failed: {}", messageId, e)));
    JsonObject pending =
        new JsonObject()
            .put("from_user_id", userId)
            .put("hash", hash)
            .put("state", "pending")
            .put("created_at", Wire.timestamp(Instant.now()));
    String claim = claimKey(messageId);
    return redis
        .set(List.of(claim, pending.encode(), "NX", "EX", ttl))
        .compose(
            r -> {
              if (ok(r)) {
                return run(messageId, pending, false, work);
              }
              return redis
                  .get(claim)
                  .compose(
                      v -> {
                        if (v == null) {
                          // the claim expired between the two calls: this attempt is the first
                          return redis
                              .set(List.of(claim, pending.encode(), "EX", ttl))
                              .compose(x -> run(messageId, pending, false, work));
                        }
                        JsonObject existing = new JsonObject(v.toString());
                        if (!matches(existing, userId, hash)) {
                          return Future.failedFuture(conflict(messageId));
                        }
                        if ("done".equals(existing.getString("state"))) {
                          return Future.succeededFuture(existing.getJsonObject("reply"));
                        }
                        // an earlier attempt claimed it and went away without finishing
                        return run(messageId, existing, true, work);
                      });
            })
        .onComplete(
            ar -> {
              vertx.cancelTimer(timer);
              redis
                  .eval(List.of(RELEASE, "1", lease, owner))
                  .onFailure(e -> LOG.debug("lease release of {} failed: {}", messageId, e));
            });
  }

  /**
   * Runs the work; records its reply (state done). A conflict found by the work drops the claim;
   * any other failure leaves it pending for a retry to finish.
   */
  private Future<JsonObject> run(String messageId, JsonObject claim, boolean resumed, Work work) {
    String key = claimKey(messageId);
    return work.run(claim.getString("created_at"), resumed)
        .compose(
            reply ->
                redis
                    .set(
                        List.of(
                            key,
                            claim.copy().put("state", "done").put("reply", reply).encode(),
                            "XX",
                            "EX",
                            ttl))
                    .map(x -> reply))
        .recover(
            err -> {
              if (err instanceof ServiceException se
                  && se.code() == ErrorCode.IDEMPOTENCY_CONFLICT) {
                return redis.del(List.of(key)).transform(x -> Future.failedFuture(err));
              }
              LOG.debug("send of {} failed, left for a retry: {}", messageId, err.toString());
              return Future.failedFuture(
                  new ServiceException(
                      ErrorCode.UNAVAILABLE,
                      "the message could not be stored durably; retry with the same message_id"));
            });
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
