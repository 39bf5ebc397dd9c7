package io.chat4all.channels.identity;

import io.chat4all.channel.spi.ConnectorException;
import io.chat4all.channel.spi.OutboundMessage;
import io.chat4all.channel.spi.SendResult;
import io.chat4all.channels.ActiveConnector;
import io.chat4all.channels.ConnectorRegistry;
import io.chat4all.codecs.ErrorCode;
import io.chat4all.codecs.ServiceException;
import io.chat4all.codecs.Wire;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.SqlConnection;
import io.vertx.sqlclient.Tuple;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.HexFormat;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

/**
 * Verification of the channel links users create ({@code POST /v1/me/channels} stores them
 * unverified): the platform sends a one-time code through the channel's connector to the linked
 * channel id, and the user confirms it; or an operator verifies the link. Only a verified link
 * routes inbound messages and receives outbound ones, so a user who links someone else's channel id
 * gets nothing.
 *
 * <p>The code (6 digits) is stored only as SHA-256 of {@code <link id>:<code>}, valid {@code
 * code_ttl_seconds}, at most one per {@code resend_interval_seconds}, void after {@code
 * max_attempts} wrong tries. A verified identity belongs to one user: verifying an identity a
 * contact (a user created from inbound messages) holds takes it over from the contact (its history
 * stays with the contact); one a registered user holds verified is a conflict.
 */
public final class LinkVerification {
  private static final SecureRandom RANDOM = new SecureRandom();
  private static final String COLUMNS =
      "id, user_id, channel_type, channel_user_id, channel_metadata, verified, created_at,"
          + " verified_at, verified_by, last_inbound_at, verification_code_hash,"
          + " verification_sent_at, verification_expires_at, verification_attempts";

  private final Pool pg;
  private final ConnectorRegistry registry;
  private final IdentityConfig config;

  public LinkVerification(Pool pg, ConnectorRegistry registry, IdentityConfig config) {
    this.pg = pg;
    this.registry = registry;
    this.config = config;
  }

  /** The public view of a link (as {@code GET /v1/me/channels} shows it, plus verification). */
  static JsonObject view(Row row) {
    Object meta = row.getValue("channel_metadata");
    JsonObject v =
        new JsonObject()
            .put("id", row.getUUID("id").toString())
            .put("channel_type", row.getString("channel_type"))
            .put("channel_user_id", row.getString("channel_user_id"))
            .put("channel_metadata", meta instanceof JsonObject o ? o : new JsonObject())
            .put("verified", row.getBoolean("verified"))
            .put("created_at", ts(row.getOffsetDateTime("created_at")))
            .put("verified_at", ts(row.getOffsetDateTime("verified_at")));
    OffsetDateTime expires = row.getOffsetDateTime("verification_expires_at");
    if (!row.getBoolean("verified") && expires != null) {
      v.put(
          "verification",
          new JsonObject()
              .put("sent_at", ts(row.getOffsetDateTime("verification_sent_at")))
              .put("expires_at", ts(expires)));
    }
    return v;
  }

  private static String ts(OffsetDateTime t) {
    return t == null ? null : Wire.timestamp(t.toInstant());
  }

  private static OffsetDateTime odt(Instant i) {
    return i.atOffset(ZoneOffset.UTC);
  }

  static String hash(UUID linkId, String code) {
    try {
      return HexFormat.of()
          .formatHex(
              MessageDigest.getInstance("SHA-256")
                  .digest((linkId + ":" + code).getBytes(StandardCharsets.UTF_8)));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  private Future<Row> link(SqlConnection conn, String userId, String channel, boolean lock) {
    return conn.preparedQuery(
            "SELECT "
                + COLUMNS
                + " FROM user_channels WHERE user_id = $1 AND channel_type = $2"
                + (lock ? " FOR UPDATE" : ""))
        .execute(Tuple.of(UUID.fromString(userId), channel))
        .map(
            rows -> {
              if (rows.size() == 0) {
                throw new ServiceException(
                    ErrorCode.NOT_FOUND, "no " + channel + " identity linked");
              }
              return rows.iterator().next();
            });
  }

  /**
   * Sends a new code to the user's unverified link on {@code channel}. 202-style answer: the link
   * with {@code verification.sent_at / expires_at}.
   */
  public Future<JsonObject> requestCode(String userId, String channel) {
    String code = String.format("%06d", RANDOM.nextInt(1_000_000));
    Instant now = Instant.now();
    Instant expires = now.plusSeconds(config.codeTtlSeconds());
    Optional<ActiveConnector> active = registry.active(channel);
    return pg.withTransaction(
            conn ->
                link(conn, userId, channel, true)
                    .compose(
                        row -> {
                          if (row.getBoolean("verified")) {
                            throw new ServiceException(
                                ErrorCode.CONFLICT,
                                "the " + channel + " identity is verified already",
                                new JsonObject().put("reason", "already_verified"));
                          }
                          OffsetDateTime sent = row.getOffsetDateTime("verification_sent_at");
                          if (sent != null
                              && sent.toInstant()
                                  .plusSeconds(config.resendIntervalSeconds())
                                  .isAfter(now)) {
                            long wait =
                                sent.toInstant()
                                        .plusSeconds(config.resendIntervalSeconds())
                                        .getEpochSecond()
                                    - now.getEpochSecond();
                            throw new ServiceException(
                                ErrorCode.RATE_LIMITED,
                                "a code was sent moments ago; ask again in " + wait + " s",
                                new JsonObject().put("retry_after_seconds", Math.max(1, wait)));
                          }
                          if (active.isEmpty()) {
                            throw new ServiceException(
                                ErrorCode.UNAVAILABLE,
                                "the " + channel + " channel has no connector running; try later");
                          }
                          UUID id = row.getUUID("id");
                          return conn.preparedQuery(
                                  "UPDATE user_channels SET verification_code_hash = $2,"
                                      + " verification_sent_at = $3, verification_expires_at = $4,"
                                      + " verification_attempts = 0 WHERE id = $1 RETURNING "
                                      + COLUMNS)
                              .execute(Tuple.of(id, hash(id, code), odt(now), odt(expires)))
                              .map(r -> r.iterator().next());
                        }))
        .compose(row -> send(active.get(), row, code).map(v -> view(row)));
  }

  /** The code's message through the connector; a refusal voids the code. */
  private Future<Void> send(ActiveConnector connector, Row row, String code) {
    String text =
        config
            .text()
            .replace("{code}", code)
            .replace("{minutes}", Integer.toString(Math.max(1, config.codeTtlSeconds() / 60)));
    OffsetDateTime last = row.getOffsetDateTime("last_inbound_at");
    OutboundMessage om =
        new OutboundMessage(
            UUID.randomUUID().toString(),
            null,
            null,
            "Chat4All",
            row.getUUID("user_id").toString(),
            row.getString("channel_user_id"),
            text,
            null,
            null,
            new JsonObject().put("purpose", "verification"),
            last == null ? null : last.toInstant(),
            1);
    return connector
        .<SendResult>call(c -> c.send(om))
        .timeout(config.sendTimeoutMs(), TimeUnit.MILLISECONDS)
        .<Void>mapEmpty()
        .recover(
            err ->
                pg.preparedQuery(
                        "UPDATE user_channels SET verification_code_hash = NULL,"
                            + " verification_expires_at = NULL WHERE id = $1")
                    .execute(Tuple.of(row.getUUID("id")))
                    .transform(x -> Future.failedFuture(refusal(row, err))));
  }

  private static ServiceException refusal(Row row, Throwable err) {
    String channel = row.getString("channel_type");
    if (err instanceof ConnectorException ce && !ce.errorClass().retryable()) {
      return new ServiceException(
          ErrorCode.PRECONDITION_FAILED,
          channel
              + " did not take the code's message for "
              + row.getString("channel_user_id")
              + " ("
              + ce.errorClass().reason()
              + "): check the id"
              + ("telegram".equals(channel) ? ", and start the bot first" : ""),
          new JsonObject()
              .put("reason", ce.errorClass().reason())
              .put("provider_code", ce.providerCode()));
    }
    return new ServiceException(
        ErrorCode.UNAVAILABLE, channel + " could not be reached to send the code; try again later");
  }

  /** The user confirms the code they received: the link is verified. */
  public Future<JsonObject> confirm(String userId, String channel, String code) {
    Instant now = Instant.now();
    ServiceException[] refused = {null};
    return pg.withTransaction(
            conn ->
                link(conn, userId, channel, true)
                    .compose(
                        row -> {
                          if (row.getBoolean("verified")) {
                            return Future.succeededFuture(row); // confirmed before: the same
                          }
                          String stored = row.getString("verification_code_hash");
                          OffsetDateTime expires = row.getOffsetDateTime("verification_expires_at");
                          if (stored == null
                              || expires == null
                              || expires.toInstant().isBefore(now)) {
                            throw new ServiceException(
                                ErrorCode.PRECONDITION_FAILED,
                                "no valid code is pending for this identity: request a new one",
                                new JsonObject().put("reason", "no_pending_code"));
                          }
                          UUID id = row.getUUID("id");
                          if (!MessageDigest.isEqual(
                              stored.getBytes(StandardCharsets.UTF_8),
                              hash(id, code).getBytes(StandardCharsets.UTF_8))) {
                            int attempts = row.getInteger("verification_attempts") + 1;
                            int left = Math.max(0, config.maxAttempts() - attempts);
                            refused[0] =
                                new ServiceException(
                                    ErrorCode.VALIDATION_FAILED,
                                    left == 0
                                        ? "code is wrong; no tries left: request a new code"
                                        : "code is wrong",
                                    new JsonObject()
                                        .put("field", "code")
                                        .put("attempts_left", left));
                            // the wrong try is counted (committed), then refused
                            return conn.preparedQuery(
                                    "UPDATE user_channels SET verification_attempts = $2,"
                                        + " verification_code_hash = CASE WHEN $3 THEN NULL"
                                        + " ELSE verification_code_hash END WHERE id = $1 RETURNING "
                                        + COLUMNS)
                                .execute(Tuple.of(id, attempts, left == 0))
                                .map(r -> r.iterator().next());
                          }
                          return verify(conn, row, "code");
                        }))
        .map(
            row -> {
              if (refused[0] != null) {
                throw refused[0];
              }
              return view(row);
            });
  }

  /** An operator verifies a user's link (e.g. after checking the identity another way). */
  public Future<JsonObject> adminVerify(String userId, String channel, String admin) {
    return pg.withTransaction(
            conn ->
                link(conn, userId, channel, true)
                    .compose(
                        row ->
                            row.getBoolean("verified")
                                ? Future.succeededFuture(row)
                                : verify(conn, row, "admin:" + admin)))
        .map(LinkVerification::view);
  }

  /**
   * Marks the link verified. A contact holding the identity verified loses it to this user (its
   * messages stay with it; its last inbound time carries over); a registered user holding it is a
   * conflict.
   */
  private Future<Row> verify(SqlConnection conn, Row row, String by) {
    String channel = row.getString("channel_type");
    String channelUserId = row.getString("channel_user_id");
    UUID user = row.getUUID("user_id");
    return conn.preparedQuery(
            "SELECT c.id, c.last_inbound_at,"
                + " (COALESCE(c.channel_metadata->>'contact', 'false') = 'true'"
                + "  AND u.password_hash IS NULL) AS contact"
                + " FROM user_channels c JOIN users u ON u.user_id = c.user_id"
                + " WHERE c.channel_type = $1 AND c.channel_user_id = $2 AND c.verified"
                + " AND c.user_id <> $3 FOR UPDATE OF c")
        .execute(Tuple.of(channel, channelUserId, user))
        .compose(
            holders -> {
              OffsetDateTime last = row.getOffsetDateTime("last_inbound_at");
              Future<Void> released = Future.succeededFuture();
              if (holders.size() > 0) {
                Row holder = holders.iterator().next();
                if (!holder.getBoolean("contact")) {
                  throw new ServiceException(
                      ErrorCode.CONFLICT,
                      "this " + channel + " identity is verified for another user",
                      new JsonObject().put("field", "channel_user_id"));
                }
                if (holder.getOffsetDateTime("last_inbound_at") != null) {
                  last = holder.getOffsetDateTime("last_inbound_at");
                }
                released =
                    conn.preparedQuery("DELETE FROM user_channels WHERE id = $1")
                        .execute(Tuple.of(holder.getUUID("id")))
                        .mapEmpty();
              }
              OffsetDateTime lastInbound = last;
              return released.compose(
                  v ->
                      conn.preparedQuery(
                              "UPDATE user_channels SET verified = true, verified_at = now(),"
                                  + " verified_by = $2, verification_code_hash = NULL,"
                                  + " verification_expires_at = NULL, verification_attempts = 0,"
                                  + " last_inbound_at = $3 WHERE id = $1 RETURNING "
                                  + COLUMNS)
                          .execute(Tuple.of(row.getUUID("id"), by, lastInbound))
                          .map(r -> r.iterator().next()));
            });
  }
}
