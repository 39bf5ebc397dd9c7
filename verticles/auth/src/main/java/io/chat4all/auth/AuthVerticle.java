package io.chat4all.auth;

import io.chat4all.codecs.Addresses;
import io.chat4all.codecs.ErrorCode;
import io.chat4all.codecs.ServiceBus;
import io.chat4all.codecs.ServiceException;
import io.chat4all.codecs.Wire;
import io.chat4all.web.RateLimiter;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.pgclient.PgException;
import io.vertx.redis.client.RedisAPI;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.RowSet;
import io.vertx.sqlclient.Tuple;
import java.time.OffsetDateTime;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.UUID;

/**
 * The auth service on the event bus ({@value Addresses#AUTH}): users, passwords, access and refresh
 * tokens, channel identities. Inputs arrive validated by the edges; this verticle owns the rules
 * that need the database (uniqueness, credentials, token rotation and reuse detection).
 */
public class AuthVerticle extends VerticleBase {
  private static final String DUMMY_HASH = Passwords.hash("not-a-password", 1000);

  private final Pool pg;
  private final RedisAPI redis;
  private final JwtTokens tokens;
  private final AuthConfig config;
  private final RateLimiter limiter;
  private Logins logins;

  public AuthVerticle(
      Pool pg, RedisAPI redis, String redisKeyPrefix, JwtTokens tokens, AuthConfig config) {
    this.pg = Objects.requireNonNull(pg, "pg");
    this.redis = Objects.requireNonNull(redis, "redis");
    this.tokens = Objects.requireNonNull(tokens, "tokens");
    this.config = Objects.requireNonNull(config, "config");
    this.limiter = new RateLimiter(redis, redisKeyPrefix);
  }

  @Override
  public final Future<?> start() {
    logins = new Logins(vertx, pg, tokens, config);
    return ServiceBus.bind(
            vertx,
            Addresses.AUTH,
            Map.ofEntries(
                Map.entry(AuthActions.REGISTER, this::register),
                Map.entry(AuthActions.TOKEN, this::token),
                Map.entry(AuthActions.REFRESH, req -> logins.refresh(req)),
                Map.entry(AuthActions.LOGOUT, req -> logins.logout(req)),
                Map.entry(AuthActions.ME, this::me),
                Map.entry(AuthActions.USER_GET, this::userGet),
                Map.entry(AuthActions.USER_FIND, this::userFind),
                Map.entry(AuthActions.CHANNELS_LIST, this::channelsList),
                Map.entry(AuthActions.CHANNELS_LINK, this::channelsLink),
                Map.entry(AuthActions.CHANNELS_UNLINK, this::channelsUnlink)))
        .completion();
  }

  // --- users and credentials ---

  private Future<JsonObject> register(JsonObject req) {
    String username = req.getString("username");
    String email = req.getString("email");
    String password = req.getString("password");
    return vertx
        .executeBlocking(() -> Passwords.hash(password, config.passwordIterations()), false)
        .compose(
            hash ->
                pg.preparedQuery(
                        "INSERT INTO users (username, email, password_hash) VALUES ($1, $2, $3)"
                            + " RETURNING user_id, created_at")
                    .execute(Tuple.of(username, email, hash)))
        .map(
            rows -> {
              Row row = rows.iterator().next();
              return new JsonObject()
                  .put("user_id", row.getUUID("user_id").toString())
                  .put("username", username)
                  .put("email", email)
                  .put("created_at", ts(row.getOffsetDateTime("created_at")));
            })
        .recover(
            err -> {
              if (err instanceof PgException pe && "23505".equals(pe.getSqlState())) {
                String field =
                    String.valueOf(pe.getConstraint()).contains("email") ? "email" : "username";
                return Future.failedFuture(
                    new ServiceException(
                        ErrorCode.CONFLICT,
                        "this " + field + " is already registered",
                        new JsonObject().put("field", field)));
              }
              return Future.failedFuture(err);
            });
  }

  private Future<JsonObject> token(JsonObject req) {
    String login = req.getString("login").toLowerCase(java.util.Locale.ROOT);
    String password = req.getString("password");
    String ip = req.getString("ip", "unknown");
    String userBucket = "login-fail:user:" + login;
    String ipBucket = "login-fail:ip:" + ip;
    int window = config.loginFailureWindowSeconds();
    return Future.all(limiter.count(userBucket, window), limiter.count(ipBucket, window))
        .compose(
            counts -> {
              long byUser = counts.resultAt(0);
              long byIp = counts.resultAt(1);
              if (byUser >= config.loginMaxFailures() || byIp >= config.loginMaxFailures() * 4L) {
                return Future.failedFuture(
                    new ServiceException(
                        ErrorCode.RATE_LIMITED,
                        "too many failed logins; try again later",
                        new JsonObject().put("retry_after_seconds", window)));
              }
              return pg.preparedQuery(
                      "SELECT user_id, username, password_hash, status FROM users"
                          + " WHERE lower(username) = $1 OR lower(email) = $1 LIMIT 1")
                  .execute(Tuple.of(login));
            })
        .compose(
            rows -> {
              Row row = rows.size() == 0 ? null : rows.iterator().next();
              String stored = row == null ? DUMMY_HASH : row.getString("password_hash");
              return vertx
                  .executeBlocking(() -> Passwords.verify(password, stored), false)
                  .compose(
                      ok -> {
                        if (row == null || !ok) {
                          return Future.all(
                                  limiter.hit(userBucket, Integer.MAX_VALUE, window),
                                  limiter.hit(ipBucket, Integer.MAX_VALUE, window))
                              .compose(
                                  x ->
                                      Future.failedFuture(
                                          new ServiceException(
                                              ErrorCode.UNAUTHENTICATED,
                                              "invalid username/email or password")));
                        }
                        if (!"active".equals(row.getString("status"))) {
                          return Future.failedFuture(
                              new ServiceException(
                                  ErrorCode.FORBIDDEN,
                                  "this account is " + row.getString("status")));
                        }
                        return logins.start(
                            row.getUUID("user_id").toString(), row.getString("username"));
                      });
            });
  }

  private Future<JsonObject> me(JsonObject req) {
    return pg.preparedQuery(
            "SELECT user_id, username, email, status, created_at FROM users WHERE user_id = $1")
        .execute(Tuple.of(UUID.fromString(req.getString("user_id"))))
        .map(
            rows -> {
              if (rows.size() == 0) {
                throw new ServiceException(ErrorCode.NOT_FOUND, "user not found");
              }
              Row row = rows.iterator().next();
              return new JsonObject()
                  .put("user_id", row.getUUID("user_id").toString())
                  .put("username", row.getString("username"))
                  .put("email", row.getString("email"))
                  .put("status", row.getString("status"))
                  .put("created_at", ts(row.getOffsetDateTime("created_at")));
            });
  }

  private Future<JsonObject> userGet(JsonObject req) {
    return pg.preparedQuery(
            "SELECT user_id, username FROM users WHERE user_id = $1 AND status <> 'deleted'")
        .execute(Tuple.of(UUID.fromString(req.getString("user_id"))))
        .map(
            rows -> {
              if (rows.size() == 0) {
                throw new ServiceException(ErrorCode.NOT_FOUND, "user not found");
              }
              return publicProfile(rows.iterator().next());
            });
  }

  private Future<JsonObject> userFind(JsonObject req) {
    return pg.preparedQuery(
            "SELECT user_id, username FROM users WHERE lower(username) = lower($1) AND status <> 'deleted'")
        .execute(Tuple.of(req.getString("username")))
        .map(
            rows ->
                Wire.page(
                    rows.size() == 0 ? List.of() : List.of(publicProfile(rows.iterator().next())),
                    null));
  }

  private static JsonObject publicProfile(Row row) {
    return new JsonObject()
        .put("user_id", row.getUUID("user_id").toString())
        .put("username", row.getString("username"));
  }

  // --- channel identities ---

  private Future<JsonObject> channelsList(JsonObject req) {
    return pg.preparedQuery(
            "SELECT id, channel_type, channel_user_id, channel_metadata, verified, created_at FROM user_channels"
                + " WHERE user_id = $1 ORDER BY channel_type")
        .execute(Tuple.of(UUID.fromString(req.getString("user_id"))))
        .map(rows -> Wire.page(channels(rows), null));
  }

  private static List<JsonObject> channels(RowSet<Row> rows) {
    List<JsonObject> items = new java.util.ArrayList<>();
    for (Row row : rows) {
      items.add(channel(row));
    }
    return items;
  }

  private static JsonObject channel(Row row) {
    Object meta = row.getValue("channel_metadata");
    return new JsonObject()
        .put("id", row.getUUID("id").toString())
        .put("channel_type", row.getString("channel_type"))
        .put("channel_user_id", row.getString("channel_user_id"))
        .put("channel_metadata", meta instanceof JsonObject o ? o : new JsonObject())
        .put("verified", row.getBoolean("verified"))
        .put("created_at", ts(row.getOffsetDateTime("created_at")));
  }

  private Future<JsonObject> channelsLink(JsonObject req) {
    JsonObject meta =
        req.getJsonObject("channel_metadata") == null
            ? new JsonObject()
            : req.getJsonObject("channel_metadata");
    // unverified until the user confirms a code sent through the channel (or an operator
    // verifies it); an identity a registered user holds verified cannot be claimed (a contact's
    // can: verifying it takes it over)
    return pg.preparedQuery(
            "INSERT INTO user_channels (user_id, channel_type, channel_user_id, channel_metadata)"
                + " SELECT $1, $2, $3, $4 WHERE NOT EXISTS (SELECT 1 FROM user_channels c"
                + " JOIN users u ON u.user_id = c.user_id WHERE c.channel_type = $2"
                + " AND c.channel_user_id = $3 AND c.verified AND c.user_id <> $1"
                + " AND NOT (COALESCE(c.channel_metadata->>'contact', 'false') = 'true'"
                + " AND u.password_hash IS NULL))"
                + " RETURNING id, channel_type, channel_user_id, channel_metadata, verified, created_at")
        .execute(
            Tuple.of(
                UUID.fromString(req.getString("user_id")),
                req.getString("channel_type"),
                req.getString("channel_user_id"),
                meta))
        .map(
            rows -> {
              if (rows.size() == 0) {
                throw new ServiceException(
                    ErrorCode.CONFLICT,
                    "this " + req.getString("channel_type") + " identity is linked to another user",
                    new JsonObject().put("field", "channel_user_id"));
              }
              return channel(rows.iterator().next());
            })
        .recover(
            err -> {
              if (err instanceof PgException pe && "23505".equals(pe.getSqlState())) {
                boolean mine = String.valueOf(pe.getConstraint()).contains("user_id_channel_type");
                return Future.failedFuture(
                    new ServiceException(
                        ErrorCode.CONFLICT,
                        mine
                            ? "you already linked a "
                                + req.getString("channel_type")
                                + " identity; unlink it first"
                            : "this "
                                + req.getString("channel_type")
                                + " identity is linked to another user",
                        new JsonObject().put("field", mine ? "channel_type" : "channel_user_id")));
              }
              return Future.failedFuture(err);
            });
  }

  private Future<JsonObject> channelsUnlink(JsonObject req) {
    return pg.preparedQuery("DELETE FROM user_channels WHERE user_id = $1 AND channel_type = $2")
        .execute(Tuple.of(UUID.fromString(req.getString("user_id")), req.getString("channel_type")))
        .map(
            rows -> {
              if (rows.rowCount() == 0) {
                throw new ServiceException(
                    ErrorCode.NOT_FOUND,
                    "no " + req.getString("channel_type") + " identity linked");
              }
              return new JsonObject();
            });
  }

  static String ts(OffsetDateTime t) {
    return t == null ? null : Wire.timestamp(t.toInstant());
  }

  static JsonArray array(List<?> items) {
    return new JsonArray(List.copyOf(items));
  }
}
