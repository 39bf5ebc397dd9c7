package io.chat4all.auth;

import io.chat4all.codecs.ErrorCode;
import io.chat4all.codecs.ServiceException;
import io.chat4all.web.Principal;
import io.chat4all.web.TokenVerifier;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.auth.JWTOptions;
import io.vertx.ext.auth.PubSecKeyOptions;
import io.vertx.ext.auth.authentication.TokenCredentials;
import io.vertx.ext.auth.jwt.JWTAuth;
import io.vertx.ext.auth.jwt.JWTAuthOptions;
import io.vertx.redis.client.RedisAPI;
import java.util.List;
import java.util.UUID;

/**
 * Access tokens: HS256 JWTs ({@code sub} = user id, {@code jti}, {@code typ} = access) signed with
 * the cluster-wide key, so any node verifies any node's token. Revocation (logout) is a Redis key
 * per token id that lives as long as the token would.
 */
public final class JwtTokens implements TokenVerifier {
  private final JWTAuth jwt;
  private final AuthConfig config;
  private final RedisAPI redis;
  private final String keyPrefix;

  public JwtTokens(Vertx vertx, AuthConfig config, RedisAPI redis, String keyPrefix) {
    this.config = config;
    this.redis = redis;
    this.keyPrefix = keyPrefix == null ? "" : keyPrefix;
    this.jwt =
        JWTAuth.create(
            vertx,
            new JWTAuthOptions()
                .addPubSecKey(
                    new PubSecKeyOptions().setAlgorithm("HS256").setBuffer(config.jwtSecret()))
                .setJWTOptions(new JWTOptions().setIssuer(config.issuer()).setLeeway(5)));
  }

  /** A fresh access token: {@code {token, jti, expires_in}}. */
  public JsonObject issue(String userId, String username) {
    String jti = UUID.randomUUID().toString();
    String token =
        jwt.generateToken(
            new JsonObject()
                .put("sub", userId)
                .put("username", username)
                .put("jti", jti)
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

  /** Marks a token id revoked until {@code expSeconds} (epoch seconds). */
  public Future<Void> revoke(String jti, long expSeconds) {
    long ttl = Math.max(1, expSeconds - System.currentTimeMillis() / 1000 + 10);
    return redis.setex(revokedKey(jti), Long.toString(ttl), "1").mapEmpty();
  }

  @Override
  public Future<Principal> verify(String accessToken) {
    return jwt.authenticate(new TokenCredentials(accessToken))
        .recover(
            err -> {
              String m = String.valueOf(err.getMessage()).toLowerCase(java.util.Locale.ROOT);
              return Future.failedFuture(
                  m.contains("expired")
                      ? new ServiceException(ErrorCode.TOKEN_EXPIRED)
                      : new ServiceException(ErrorCode.TOKEN_INVALID));
            })
        .compose(
            user -> {
              JsonObject claims = user.principal();
              String sub = claims.getString("sub");
              String jti = claims.getString("jti");
              if (sub == null || jti == null || !"access".equals(claims.getString("typ"))) {
                return Future.failedFuture(new ServiceException(ErrorCode.TOKEN_INVALID));
              }
              return redis
                  .exists(List.of(revokedKey(jti)))
                  .compose(
                      r ->
                          r.toInteger() > 0
                              ? Future.failedFuture(new ServiceException(ErrorCode.TOKEN_REVOKED))
                              : Future.succeededFuture(
                                  new Principal(
                                      sub,
                                      claims.getString("username"),
                                      jti,
                                      claims.getLong("exp", 0L))));
            });
  }
}
