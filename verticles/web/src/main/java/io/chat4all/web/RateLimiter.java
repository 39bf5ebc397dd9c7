package io.chat4all.web;

import io.chat4all.codecs.ErrorCode;
import io.chat4all.codecs.ServiceException;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.vertx.redis.client.RedisAPI;
import io.vertx.redis.client.Response;
import java.util.List;

/**
 * Fixed-window counters in Redis ({@code INCR} + {@code EXPIRE}, seed 2.3), shared by every node.
 * Over the limit fails with {@code rate_limited} and {@code details.retry_after_seconds}.
 */
public final class RateLimiter {
  private final RedisAPI redis;
  private final String keyPrefix;

  public RateLimiter(RedisAPI redis, String keyPrefix) {
    this.redis = redis;
    this.keyPrefix = keyPrefix == null ? "" : keyPrefix;
  }

  /**
   * Counts one hit on {@code bucket}; fails when more than {@code limit} in {@code windowSeconds}.
   */
  public Future<Void> hit(String bucket, int limit, int windowSeconds) {
    if (limit <= 0) {
      return Future.succeededFuture();
    }
    long window = System.currentTimeMillis() / 1000 / windowSeconds;
    String key = keyPrefix + "rl:" + bucket + ":" + window;
    return redis
        .incr(key)
        .compose(
            count -> {
              long n = count.toLong();
              Future<Response> expire =
                  n == 1
                      ? redis.expire(List.of(key, Integer.toString(windowSeconds + 1)))
                      : Future.succeededFuture();
              return expire.compose(
                  x -> {
                    if (n > limit) {
                      long retry =
                          windowSeconds - (System.currentTimeMillis() / 1000 % windowSeconds);
                      return Future.failedFuture(
                          new ServiceException(
                              ErrorCode.RATE_LIMITED,
                              "too many requests; retry in " + retry + " s",
                              new JsonObject().put("retry_after_seconds", Math.max(1, retry))));
                    }
                    return Future.succeededFuture();
                  });
            });
  }

  /** Reads a counter without counting (for throttles that only count failures). */
  public Future<Long> count(String bucket, int windowSeconds) {
    long window = System.currentTimeMillis() / 1000 / windowSeconds;
    return redis
        .get(keyPrefix + "rl:" + bucket + ":" + window)
        .map(r -> r == null ? 0L : r.toLong());
  }
}
