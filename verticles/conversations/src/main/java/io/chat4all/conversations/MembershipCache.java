package io.chat4all.conversations;

import io.vertx.core.Future;
import io.vertx.redis.client.RedisAPI;
import io.vertx.redis.client.Response;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The members of a conversation cached in Redis: hash {@code <prefix>conv:members:<id>} with field
 * {@code <user_id>} → role and {@code seq:<user_id>} → joined_seq, plus the marker field {@code _}
 * (so that "no such member" is cached too), with a TTL. A membership change deletes the hash after
 * its commit. A generation counter {@code <prefix>conv:members-gen:<id>}, bumped by every
 * invalidation, keeps a reader that loaded the members before a change from writing them back after
 * it (the fill is a script that only writes if the generation is the one read before the load).
 */
final class MembershipCache {
  private static final Logger LOG = LoggerFactory.getLogger(MembershipCache.class);

  static final int TTL_SECONDS = 300;
  private static final int GENERATION_TTL_SECONDS = 86_400;
  private static final String MARKER = "_";

  private static final String FILL =
      "local g = redis.call('GET', KEYS[2]) or '0'\n"
          + "if g ~= ARGV[1] then return 0 end\n"
          + "redis.call('DEL', KEYS[1])\n"
          + "for i = 3, #ARGV, 2 do redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1]) end\n"
          + "redis.call('EXPIRE', KEYS[1], ARGV[2])\n"
          + "return 1";

  private static final String INVALIDATE =
      "redis.call('INCR', KEYS[2])\n"
          + "redis.call('EXPIRE', KEYS[2], ARGV[1])\n"
          + "redis.call('DEL', KEYS[1])\n"
          + "return 1";

  /** A user's membership: role null when not a member. */
  record Membership(String role, long joinedSeq) {
    static final Membership NONE = new Membership(null, 0);

    boolean member() {
      return role != null;
    }
  }

  private final Pool pg;
  private final RedisAPI redis;
  private final String prefix;

  MembershipCache(Pool pg, RedisAPI redis, String keyPrefix) {
    this.pg = pg;
    this.redis = redis;
    this.prefix = keyPrefix == null ? "" : keyPrefix;
  }

  String key(String conversationId) {
    return prefix + "conv:members:" + conversationId;
  }

  private String generationKey(String conversationId) {
    return prefix + "conv:members-gen:" + conversationId;
  }

  /** The membership of {@code userId}; from the cache, else from PostgreSQL (filling the cache). */
  Future<Membership> lookup(String conversationId, String userId) {
    return redis
        .hmget(List.of(key(conversationId), MARKER, userId, "seq:" + userId))
        .compose(
            r -> {
              if (value(r, 0) != null) {
                String role = value(r, 1);
                String seq = value(r, 2);
                return Future.succeededFuture(
                    role == null
                        ? Membership.NONE
                        : new Membership(role, seq == null ? 0 : Long.parseLong(seq)));
              }
              return loadAndFill(conversationId).map(m -> m.getOrDefault(userId, Membership.NONE));
            },
            err -> {
              LOG.warn("membership cache unavailable, reading PostgreSQL: {}", err.toString());
              return load(conversationId).map(m -> m.getOrDefault(userId, Membership.NONE));
            });
  }

  /** Every member of the conversation; from the cache, else from PostgreSQL (filling the cache). */
  Future<Map<String, Membership>> members(String conversationId) {
    return redis
        .hgetall(key(conversationId))
        .compose(
            r -> {
              if (r != null && r.containsKey(MARKER)) {
                Map<String, Membership> members = new HashMap<>();
                for (String field : r.getKeys()) {
                  if (!MARKER.equals(field) && !field.startsWith("seq:")) {
                    Response seq = r.get("seq:" + field);
                    members.put(
                        field,
                        new Membership(r.get(field).toString(), seq == null ? 0 : seq.toLong()));
                  }
                }
                return Future.succeededFuture(members);
              }
              return loadAndFill(conversationId);
            },
            err -> {
              LOG.warn("membership cache unavailable, reading PostgreSQL: {}", err.toString());
              return load(conversationId);
            });
  }

  private static String value(Response r, int i) {
    Response v = r == null ? null : r.get(i);
    return v == null ? null : v.toString();
  }

  private Future<Map<String, Membership>> loadAndFill(String conversationId) {
    return redis
        .get(generationKey(conversationId))
        .compose(
            gen ->
                load(conversationId)
                    .compose(
                        members -> {
                          List<String> args = new ArrayList<>();
                          args.add(FILL);
                          args.add("2");
                          args.add(key(conversationId));
                          args.add(generationKey(conversationId));
                          args.add(gen == null ? "0" : gen.toString());
                          args.add(Integer.toString(TTL_SECONDS));
                          args.add(MARKER);
                          args.add("1");
                          members.forEach(
                              (user, m) -> {
                                args.add(user);
                                args.add(m.role());
                                args.add("seq:" + user);
                                args.add(Long.toString(m.joinedSeq()));
                              });
                          return redis
                              .eval(args)
                              .map(x -> members)
                              .otherwise(
                                  err -> {
                                    LOG.warn("cannot fill membership cache: {}", err.toString());
                                    return members;
                                  });
                        }),
            err -> {
              LOG.warn("membership cache unavailable, reading PostgreSQL: {}", err.toString());
              return load(conversationId);
            });
  }

  /** Every member of an active conversation (none for a missing or inactive one). */
  Future<Map<String, Membership>> load(String conversationId) {
    return pg.preparedQuery(
            "SELECT m.user_id, m.role, m.joined_seq FROM conversation_members m"
                + " JOIN conversations c ON c.conversation_id = m.conversation_id"
                + " WHERE m.conversation_id = $1 AND c.is_active")
        .execute(Tuple.of(UUID.fromString(conversationId)))
        .map(
            rows -> {
              Map<String, Membership> members = new HashMap<>();
              for (Row row : rows) {
                members.put(
                    row.getUUID("user_id").toString(),
                    new Membership(row.getString("role"), row.getLong("joined_seq")));
              }
              return members;
            });
  }

  /** Drops the cached members (and turns away fills that loaded before this change). */
  Future<Void> invalidate(String conversationId) {
    return redis
        .eval(
            List.of(
                INVALIDATE,
                "2",
                key(conversationId),
                generationKey(conversationId),
                Integer.toString(GENERATION_TTL_SECONDS)))
        .mapEmpty();
  }
}
