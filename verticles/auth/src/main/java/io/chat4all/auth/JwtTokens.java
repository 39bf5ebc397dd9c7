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
import io.vertx.ext.auth.User;
import io.vertx.ext.auth.authentication.TokenCredentials;
import io.vertx.ext.auth.jwt.JWTAuth;
import io.vertx.ext.auth.jwt.JWTAuthOptions;
import io.vertx.redis.client.RedisAPI;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.UUID;

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
    return redis.setex(key, Long.toString(ttl), "1").mapEmpty();
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
