package io.chat4all.auth;

import io.chat4all.codecs.ErrorCode;
import io.chat4all.codecs.ServiceException;
import io.chat4all.web.TokenRevocation;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.SqlConnection;
import io.vertx.sqlclient.Tuple;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.UUID;

/**
 * Logins: a login is one refresh-token family. Its access tokens carry the family id ({@code fam}),
 * its refresh tokens rotate on every use, and it ends — every refresh and access token of it
 * refused — on logout or when a used refresh token is presented again (theft suspected). Ending a
 * login revokes its refresh tokens in PostgreSQL, then its access tokens in Redis (what every
 * verifier reads), then tells the open sockets of the user ({@link TokenRevocation}).
 */
final class Logins {
  private final Vertx vertx;
  private final Pool pg;
  private final JwtTokens tokens;
  private final AuthConfig config;

  Logins(Vertx vertx, Pool pg, JwtTokens tokens, AuthConfig config) {
    this.vertx = vertx;
    this.pg = pg;
    this.tokens = tokens;
    this.config = config;
  }

  /** A new login: an access token and the first refresh token of a new family. */
  Future<JsonObject> start(String userId, String username) {
    return pg.withConnection(conn -> issue(conn, userId, username, UUID.randomUUID().toString()));
  }

  /** Access token + a new refresh token in {@code familyId}. */
  private Future<JsonObject> issue(
      SqlConnection conn, String userId, String username, String familyId) {
    JsonObject access = tokens.issue(userId, username, familyId);
    String refresh = Passwords.randomToken(32);
    OffsetDateTime now = OffsetDateTime.now(ZoneOffset.UTC);
    return conn.preparedQuery(
            "INSERT INTO access_tokens (user_id, token_hash, expires_at) VALUES ($1, $2, $3)")
        .execute(
            Tuple.of(
                UUID.fromString(userId),
                Passwords.sha256(access.getString("jti")),
                now.plusSeconds(config.accessTokenTtlSeconds())))
        .compose(
            x ->
                conn.preparedQuery(
                        "INSERT INTO refresh_tokens (user_id, family_id, token_hash, expires_at) VALUES ($1, $2, $3, $4)")
                    .execute(
                        Tuple.of(
                            UUID.fromString(userId),
                            UUID.fromString(familyId),
                            Passwords.sha256(refresh),
                            now.plusSeconds(config.refreshTokenTtlSeconds()))))
        .map(
            x ->
                new JsonObject()
                    .put("access_token", access.getString("token"))
                    .put("refresh_token", refresh)
                    .put("token_type", "Bearer")
                    .put("expires_in", config.accessTokenTtlSeconds())
                    .put("refresh_expires_in", config.refreshTokenTtlSeconds())
                    .put("user_id", userId));
  }

  /**
   * Rotates a refresh token. A token used twice (or one of an ended login) ends its whole login:
   * every refresh token and every access token of the family is refused from then on.
   */
  Future<JsonObject> refresh(JsonObject req) {
    String hash = Passwords.sha256(req.getString("refresh_token"));
    return pg.withTransaction(
            conn ->
                conn.preparedQuery(
                        "SELECT r.token_id, r.user_id, r.family_id, r.expires_at, r.used_at, r.revoked_at,"
                            + " u.username, u.status FROM refresh_tokens r JOIN users u USING (user_id)"
                            + " WHERE r.token_hash = $1 FOR UPDATE OF r")
                    .execute(Tuple.of(hash))
                    .compose(
                        rows -> {
                          if (rows.size() == 0) {
                            return Future.succeededFuture(
                                failure(ErrorCode.TOKEN_INVALID, "unknown refresh token"));
                          }
                          Row row = rows.iterator().next();
                          UUID family = row.getUUID("family_id");
                          if (row.getOffsetDateTime("used_at") != null
                              || row.getOffsetDateTime("revoked_at") != null) {
                            return conn.preparedQuery(
                                    "UPDATE refresh_tokens SET revoked_at = now() WHERE family_id = $1 AND revoked_at IS NULL")
                                .execute(Tuple.of(family))
                                .map(
                                    x ->
                                        failure(
                                                ErrorCode.TOKEN_REVOKED,
                                                "refresh token already used or revoked; every session of this login is now revoked")
                                            .put("_end_family", family.toString())
                                            .put("_user_id", row.getUUID("user_id").toString()));
                          }
                          if (row.getOffsetDateTime("expires_at")
                              .isBefore(OffsetDateTime.now(ZoneOffset.UTC))) {
                            return Future.succeededFuture(
                                failure(ErrorCode.TOKEN_EXPIRED, "refresh token expired"));
                          }
                          if (!"active".equals(row.getString("status"))) {
                            return Future.succeededFuture(
                                failure(
                                    ErrorCode.FORBIDDEN,
                                    "this account is " + row.getString("status")));
                          }
                          return conn.preparedQuery(
                                  "UPDATE refresh_tokens SET used_at = now() WHERE token_id = $1")
                              .execute(Tuple.of(row.getUUID("token_id")))
                              .compose(
                                  x ->
                                      issue(
                                          conn,
                                          row.getUUID("user_id").toString(),
                                          row.getString("username"),
                                          family.toString()));
                        }))
        .compose(
            result -> {
              if (!result.containsKey("_failure")) {
                return Future.succeededFuture(result);
              }
              ServiceException refused =
                  new ServiceException(
                      ErrorCode.fromWireName(result.getString("_failure")),
                      result.getString("_message"));
              String family = result.getString("_end_family");
              if (family == null) {
                return Future.failedFuture(refused);
              }
              // the family's refresh tokens are revoked (committed); now its access tokens
              return endInRedis(result.getString("_user_id"), null, 0, List.of(family))
                  .compose(x -> Future.failedFuture(refused));
            });
  }

  /** A failure that must not roll back the transaction (the family revocation must stick). */
  private static JsonObject failure(ErrorCode code, String message) {
    return new JsonObject().put("_failure", code.wireName()).put("_message", message);
  }

  /**
   * Ends the caller's login: the access token itself, its family (from the token's {@code fam})
   * and, when a refresh token is given, that refresh token's family too (it must be the caller's).
   */
  Future<JsonObject> logout(JsonObject req) {
    String userId = req.getString("user_id");
    String jti = req.getString("jti");
    long exp = req.getLong("exp", 0L);
    String ownFamily = req.getString("family_id");
    String refresh = req.getString("refresh_token");
    Future<String> givenFamily =
        refresh == null
            ? Future.succeededFuture()
            : pg.preparedQuery(
                    "SELECT family_id FROM refresh_tokens WHERE token_hash = $1 AND user_id = $2")
                .execute(Tuple.of(Passwords.sha256(refresh), UUID.fromString(userId)))
                .map(
                    rows -> rows.size() == 0 ? null : rows.iterator().next().getUUID(0).toString());
    return givenFamily
        .compose(
            other -> {
              Set<String> families = new LinkedHashSet<>();
              if (ownFamily != null) {
                families.add(ownFamily);
              }
              if (other != null) {
                families.add(other);
              }
              List<String> ended = List.copyOf(families);
              // PostgreSQL first: if Redis then fails, the token still works and the logout can
              // be retried; the other way round the retry would be refused with the login alive
              return endInPostgres(jti, ended).compose(x -> endInRedis(userId, jti, exp, ended));
            })
        .map(new JsonObject());
  }

  private Future<Void> endInPostgres(String jti, List<String> families) {
    Future<?> access =
        pg.preparedQuery(
                "UPDATE access_tokens SET revoked_at = now() WHERE token_hash = $1 AND revoked_at IS NULL")
            .execute(Tuple.of(Passwords.sha256(jti)));
    if (families.isEmpty()) {
      return access.mapEmpty();
    }
    UUID[] ids = families.stream().map(UUID::fromString).toArray(UUID[]::new);
    return access
        .compose(
            x ->
                pg.preparedQuery(
                        "UPDATE refresh_tokens SET revoked_at = now()"
                            + " WHERE family_id = ANY($1) AND revoked_at IS NULL")
                    .execute(Tuple.of(ids)))
        .mapEmpty();
  }

  /** Revokes the token and the families in Redis, then tells the user's sockets. */
  private Future<Void> endInRedis(String userId, String jti, long exp, List<String> families) {
    List<Future<Void>> writes = new ArrayList<>();
    if (jti != null) {
      writes.add(tokens.revoke(jti, exp));
    }
    for (String family : families) {
      writes.add(tokens.revokeFamily(family));
    }
    return Future.all(writes)
        .map(
            x -> {
              if (jti != null) {
                TokenRevocation.publish(vertx, userId, jti, null);
              }
              for (String family : families) {
                TokenRevocation.publish(vertx, userId, null, family);
              }
              return null;
            });
  }
}
