package io.chat4all.auth;

import io.chat4all.codecs.Addresses;
import io.chat4all.codecs.ErrorCode;
import io.chat4all.codecs.ServiceException;
import io.chat4all.web.Principal;
import io.chat4all.web.TokenVerifier;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.auth.JWTOptions;
import io.vertx.ext.auth.PubSecKeyOptions;
import io.vertx.ext.auth.User;
import io.vertx.ext.auth.authentication.TokenCredentials;
import io.vertx.ext.auth.jwt.JWTAuth;
import io.vertx.ext.auth.jwt.JWTAuthOptions;
import io.vertx.redis.client.RedisAPI;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Access tokens: HS256 JWTs ({@code sub} = user id, {@code jti}, {@code fam} = the login's refresh
 * family, {@code typ} = access, {@code exp}) signed with the cluster-wide key, so any node verifies
 * any node's token. Revocation is a Redis key per token id (logout) and per family (logout, refresh
 * reuse) that lives as long as any token it covers would still be accepted.
 */
public final class JwtTokens implements TokenVerifier {
  /** Clock skew tolerated on {@code exp}: a token is accepted up to this long after it. */
  static final int LEEWAY_SECONDS = 5;

  /** Extra life of a revocation entry beyond the last second its token could be accepted. */
  static final int REVOCATION_MARGIN_SECONDS = 30;

  private static final Logger LOG = LoggerFactory.getLogger(JwtTokens.class);

  /** Sets the revocation, indexes it by its end and forgets the index's ended entries. */
  private static final String REVOKE =
      "redis.call('SETEX', KEYS[1], ARGV[1], '1')\n"
          + "redis.call('ZADD', KEYS[2], ARGV[3], ARGV[2])\n"
          + "redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', '(' .. ARGV[4])\n"
          + "return 1";

  private final Vertx vertx;
  private final JWTAuth jwt;
  private final AuthConfig config;
  private final RedisAPI redis;
  private final String keyPrefix;
  private final Map<String, Long> revoked = new ConcurrentHashMap<>();
  private volatile boolean live;

  public JwtTokens(Vertx vertx, AuthConfig config, RedisAPI redis, String keyPrefix) {
    this.vertx = vertx;
    this.config = config;
    this.redis = redis;
    this.keyPrefix = keyPrefix == null ? "" : keyPrefix;
    this.jwt =
        JWTAuth.create(
            vertx,
            new JWTAuthOptions()
                .addPubSecKey(
                    new PubSecKeyOptions().setAlgorithm("HS256").setBuffer(config.jwtSecret()))
                .setJWTOptions(
                    new JWTOptions().setIssuer(config.issuer()).setLeeway(LEEWAY_SECONDS)));
  }

  /** A fresh access token of the login {@code familyId}: {@code {token, jti, expires_in}}. */
  public JsonObject issue(String userId, String username, String familyId) {
    String jti = UUID.randomUUID().toString();
    String token =
        jwt.generateToken(
            new JsonObject()
                .put("sub", userId)
                .put("username", username)
                .put("jti", jti)
                .put("fam", familyId)
                .put("typ", "access"),
            new JWTOptions()
                .setAlgorithm("HS256")
                .setIssuer(config.issuer())
                .setExpiresInSeconds(config.accessTokenTtlSeconds()));
    return new JsonObject()
        .put("token", token)
        .put("jti", jti)
        .put("expires_in", config.accessTokenTtlSeconds());
  }

  String revokedKey(String jti) {
    return keyPrefix + "revoked:" + jti;
  }

  String revokedFamilyKey(String familyId) {
    return keyPrefix + "revoked-family:" + familyId;
  }

  /**
   * Marks one token id revoked for as long as the token could still be accepted: until {@code
   * expSeconds} (epoch seconds) plus the leeway. An unknown expiry ({@code <= 0}) counts as a token
   * issued now.
   */
  public Future<Void> revoke(String jti, long expSeconds) {
    long now = System.currentTimeMillis() / 1000;
    long exp = expSeconds > 0 ? expSeconds : now + config.accessTokenTtlSeconds();
    return setex(revokedKey(jti), exp - now);
  }

  /**
   * Marks every access token of the login {@code familyId} revoked. Once the family's refresh
   * tokens are revoked no new access token is issued in it, so the newest one expires at the latest
   * one access-token lifetime from now.
   */
  public Future<Void> revokeFamily(String familyId) {
    return setex(revokedFamilyKey(familyId), config.accessTokenTtlSeconds());
  }

  private Future<Void> setex(String key, long secondsLeft) {
    long ttl = Math.max(0, secondsLeft) + LEEWAY_SECONDS + REVOCATION_MARGIN_SECONDS;
    long until = System.currentTimeMillis() + ttl * 1000;
    return redis
        .eval(
            List.of(
                REVOKE,
                "2",
                key,
                indexKey(),
                Long.toString(ttl),
                key.substring(keyPrefix.length()),
                Long.toString(until),
                Long.toString(System.currentTimeMillis())))
        .map(
            x -> {
              String entry = key.substring(keyPrefix.length());
              revoked.merge(entry, until, Math::max);
              if (vertx != null) {
                vertx
                    .eventBus()
                    .publish(
                        Addresses.TOKENS_REVOKED,
                        new JsonObject()
                            .put("prefix", keyPrefix)
                            .put("entry", entry)
                            .put("until", until));
              }
              return null;
            });
  }

  /** The sorted set of revocations ({@code revoked:<jti>} / {@code revoked-family:<id>} by end). */
  String indexKey() {
    return keyPrefix + "revoked-index";
  }

  /**
   * Keeps this node's copy of the revocations: every revocation made on any node of the cluster
   * arrives as an event ({@value Addresses#TOKENS_REVOKED}); the index in Redis is read at the
   * start and every {@code reconcileMs} (a node cut off from the cluster for a while catches up).
   * Until the first read succeeded, {@link #verify} asks Redis for every token.
   */
  public Future<Void> start(long reconcileMs) {
    Future<Void> subscribed =
        vertx
            .eventBus()
            .<JsonObject>consumer(
                Addresses.TOKENS_REVOKED,
                msg -> {
                  JsonObject n = msg.body();
                  if (n != null
                      && keyPrefix.equals(n.getString("prefix"))
                      && n.getString("entry") != null) {
                    revoked.merge(n.getString("entry"), n.getLong("until", 0L), Math::max);
                  }
                })
            .completion();
    return subscribed
        .compose(x -> legacy("0").otherwiseEmpty())
        .compose(
            x -> {
              vertx.setPeriodic(reconcileMs, t -> reconcile());
              return reconcile().otherwiseEmpty();
            });
  }

  /**
   * Revocations written before the index existed (a node of an earlier version): found once by a
   * scan, kept for the longest time they can matter (one access-token lifetime).
   */
  private Future<Void> legacy(String cursor) {
    String pattern = keyPrefix.replaceAll("([*?\\[\\]\\\\])", "\\\\$1") + "revoked*";
    long until =
        System.currentTimeMillis()
            + (config.accessTokenTtlSeconds() + LEEWAY_SECONDS + REVOCATION_MARGIN_SECONDS) * 1000L;
    return redis
        .scan(List.of(cursor, "MATCH", pattern, "COUNT", "1000"))
        .compose(
            r -> {
              for (int i = 0; i < r.get(1).size(); i++) {
                String entry = r.get(1).get(i).toString().substring(keyPrefix.length());
                if (entry.startsWith("revoked:") || entry.startsWith("revoked-family:")) {
                  revoked.merge(entry, until, Math::max);
                }
              }
              String next = r.get(0).toString();
              return "0".equals(next) ? Future.succeededFuture() : legacy(next);
            });
  }

  /** Reads the revocations in force from Redis into this node's copy; drops the ended ones. */
  Future<Void> reconcile() {
    long now = System.currentTimeMillis();
    // an entry read here is kept for the longest a revocation lives; it is read again while it
    // lasts in the index and pruned once it left it
    long until = now + maxRevocationSeconds() * 1000L;
    return redis
        .zrangebyscore(List.of(indexKey(), Long.toString(now), "+inf"))
        .map(
            r -> {
              java.util.Set<String> current = new java.util.HashSet<>();
              for (int i = 0; i < r.size(); i++) {
                current.add(r.get(i).toString());
              }
              current.forEach(e -> revoked.merge(e, until, Math::max));
              revoked.values().removeIf(end -> end < now);
              live = true;
              return (Void) null;
            })
        .onFailure(err -> LOG.warn("cannot read the token revocations: {}", err.toString()));
  }

  private long maxRevocationSeconds() {
    return config.accessTokenTtlSeconds() + LEEWAY_SECONDS + REVOCATION_MARGIN_SECONDS;
  }

  private boolean revokedLocally(String jti, String family) {
    long now = System.currentTimeMillis();
    Long t = revoked.get("revoked:" + jti);
    if (t != null && t >= now) {
      return true;
    }
    Long f = family == null ? null : revoked.get("revoked-family:" + family);
    return f != null && f >= now;
  }

  @Override
  public Future<Principal> verify(String accessToken) {
    return jwt.authenticate(new TokenCredentials(accessToken))
        .recover(
            err -> {
              String m = String.valueOf(err.getMessage()).toLowerCase(Locale.ROOT);
              return Future.failedFuture(
                  m.contains("expired")
                      ? new ServiceException(ErrorCode.TOKEN_EXPIRED)
                      : new ServiceException(ErrorCode.TOKEN_INVALID));
            })
        .compose(
            user -> {
              JsonObject claims = claims(user);
              String sub = claims.getString("sub");
              String jti = claims.getString("jti");
              String family = claims.getValue("fam") instanceof String f ? f : null;
              long exp = claims.getValue("exp") instanceof Number n ? n.longValue() : 0L;
              // a token without an expiry would be valid forever: every token this service issues
              // has one
              if (sub == null
                  || jti == null
                  || exp <= 0
                  || !"access".equals(claims.getString("typ"))) {
                return Future.failedFuture(new ServiceException(ErrorCode.TOKEN_INVALID));
              }
              if (live) {
                return revokedLocally(jti, family)
                    ? Future.failedFuture(new ServiceException(ErrorCode.TOKEN_REVOKED))
                    : Future.succeededFuture(
                        new Principal(sub, claims.getString("username"), jti, exp, family));
              }
              List<String> keys = new ArrayList<>(2);
              keys.add(revokedKey(jti));
              if (family != null) {
                keys.add(revokedFamilyKey(family));
              }
              return redis
                  .exists(keys)
                  .compose(
                      r ->
                          r.toInteger() > 0
                              ? Future.failedFuture(new ServiceException(ErrorCode.TOKEN_REVOKED))
                              : Future.succeededFuture(
                                  new Principal(
                                      sub, claims.getString("username"), jti, exp, family)));
            });
  }

  /**
   * The token's claims. Vert.x keeps the decoded token under the {@code rootClaim} attribute
   * ({@code accessToken}); the principal holds a copy without {@code exp}, {@code iat} and {@code
   * nbf}, so the expiry must not be read from it (it would read as 0).
   */
  static JsonObject claims(User user) {
    String root = user.attributes().getString("rootClaim", "accessToken");
    JsonObject decoded = user.attributes().getJsonObject(root);
    return decoded != null ? decoded : user.principal();
  }
}
