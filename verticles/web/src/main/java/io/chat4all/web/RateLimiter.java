package io.chat4all.web;

import io.chat4all.codecs.ErrorCode;
import io.chat4all.codecs.ServiceException;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.vertx.redis.client.RedisAPI;
import java.util.ArrayList;
import java.util.List;

/**
 * Fixed-window counters in Redis ({@code INCR} + {@code EXPIRE} in one script, seed 2.3), shared by
 * every node. Over the limit fails with {@code rate_limited} and {@code
 * details.retry_after_seconds}.
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
    return hits(List.of(new Hit(bucket, limit, windowSeconds)));
  }

  /** One counter of a {@link #hits} call: {@code limit <= 0} is no limit (nothing counted). */
  public record Hit(String bucket, int limit, int windowSeconds) {}

  /**
   * Counts every hit in order and stops at the first over its limit. KEYS: the counters; ARGV: the
   * limit and TTL of each. Answers the 1-based index of the counter over its limit, or 0.
   */
  private static final String HITS =
      "for i = 1, #KEYS do\n"
          + "  local n = redis.call('INCR', KEYS[i])\n"
          + "  if n == 1 then redis.call('EXPIRE', KEYS[i], ARGV[2 * i]) end\n"
          + "  if n > tonumber(ARGV[2 * i - 1]) then return i end\n"
          + "end\n"
          + "return 0";

  /**
   * Counts several hits in one round trip (one script), in order: the first counter over its limit
   * fails the call with {@code rate_limited}, and the counters after it are not counted.
   */
  public Future<Void> hits(List<Hit> hits) {
    List<Hit> counted = hits.stream().filter(h -> h.limit() > 0).toList();
    if (counted.isEmpty()) {
      return Future.succeededFuture();
    }
    long nowSeconds = System.currentTimeMillis() / 1000;
    List<String> args = new ArrayList<>(2 + counted.size() * 3);
    args.add(HITS);
    args.add(Integer.toString(counted.size()));
    for (Hit h : counted) {
      args.add(keyPrefix + "rl:" + h.bucket() + ":" + nowSeconds / h.windowSeconds());
    }
    for (Hit h : counted) {
      args.add(Integer.toString(h.limit()));
      args.add(Integer.toString(h.windowSeconds() + 1));
    }
    return redis
        .eval(args)
        .compose(
            r -> {
              int over = r.toInteger();
              return over == 0
                  ? Future.succeededFuture()
                  : Future.failedFuture(limited(counted.get(over - 1).windowSeconds()));
            });
  }

  private static ServiceException limited(int windowSeconds) {
    long retry = windowSeconds - (System.currentTimeMillis() / 1000 % windowSeconds);
    return new ServiceException(
        ErrorCode.RATE_LIMITED,
        "too many requests; retry in " + retry + " s",
        new JsonObject().put("retry_after_seconds", Math.max(1, retry)));
  }

  /** Reads a counter without counting (for throttles that only count failures). */
  public Future<Long> count(String bucket, int windowSeconds) {
    long window = System.currentTimeMillis() / 1000 / windowSeconds;
    return redis
        .get(keyPrefix + "rl:" + bucket + ":" + window)
        .map(r -> r == null ? 0L : r.toLong());
  }
}
