package io.chat4all.channels.inbound;

import io.chat4all.codecs.Addresses;
import io.chat4all.codecs.ErrorCode;
import io.chat4all.codecs.ServiceBus;
import io.chat4all.codecs.ServiceException;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The people who write to us on a channel. An unknown provider user becomes a contact: a user
 * without password or email, named {@code <channel>:<provider user id>} (a name registration cannot
 * take), linked through {@code user_channels} ({@code verified}, {@code channel_metadata.contact =
 * true}, their display name and handle). Unique keys make it happen once even when two events of
 * the same new contact are processed at the same time on two nodes. Each contact has a private
 * conversation with the channel's inbox user.
 */
final class Contacts {
  private final Vertx vertx;
  private final Pool pg;
  private final InboundConfig config;
  private final Map<String, CachedInbox> inboxes = new ConcurrentHashMap<>();

  private record CachedInbox(String userId, long until) {}

  /** A contact: platform user id and whether this call created them. */
  record Contact(String userId, boolean created) {}

  Contacts(Vertx vertx, Pool pg, InboundConfig config) {
    this.vertx = vertx;
    this.pg = pg;
    this.config = config;
  }

  /**
   * The user behind a provider identity, or null. Only a <b>verified</b> link counts: a link a user
   * created for themselves proves nothing until it is verified (a one-time code through the
   * channel, or an operator), so someone who links another person's channel id never receives that
   * person's messages.
   */
  Future<String> find(String channel, String providerUserId) {
    return pg.preparedQuery(
            "SELECT user_id FROM user_channels WHERE channel_type = $1 AND channel_user_id = $2"
                + " AND verified")
        .execute(Tuple.of(channel, providerUserId))
        .map(rows -> rows.size() == 0 ? null : rows.iterator().next().getUUID(0).toString());
  }

  /**
   * The identity wrote to us at {@code at}: kept on its verified link ({@code last_inbound_at},
   * never moved back), for connectors with a messaging window.
   */
  Future<Void> touchInbound(String channel, String providerUserId, java.time.Instant at) {
    return pg.preparedQuery(
            "UPDATE user_channels SET last_inbound_at = GREATEST(COALESCE(last_inbound_at, $3), $3)"
                + " WHERE channel_type = $1 AND channel_user_id = $2 AND verified")
        .execute(Tuple.of(channel, providerUserId, at.atOffset(java.time.ZoneOffset.UTC)))
        .mapEmpty();
  }

  /** The user behind a provider identity, created as a contact when unknown. */
  Future<Contact> findOrCreate(
      String channel, String providerUserId, String displayName, String handle) {
    return find(channel, providerUserId)
        .compose(
            id ->
                id != null
                    ? Future.succeededFuture(new Contact(id, false))
                    : create(channel, providerUserId, displayName, handle));
  }

  private Future<Contact> create(
      String channel, String providerUserId, String displayName, String handle) {
    JsonObject meta =
        new JsonObject()
            .put("contact", true)
            .put("display_name", displayName)
            .put("username", handle);
    JsonObject userMeta =
        new JsonObject()
            .put("display_name", displayName)
            .put(
                "contact",
                new JsonObject().put("channel", channel).put("channel_user_id", providerUserId));
    String username = channel + ":" + providerUserId;
    return pg.withTransaction(
            conn ->
                conn.preparedQuery(
                        "INSERT INTO users (username, email, password_hash, metadata)"
                            + " VALUES ($1, NULL, NULL, $2) ON CONFLICT DO NOTHING RETURNING user_id")
                    .execute(Tuple.of(username, userMeta))
                    .compose(
                        rows -> {
                          if (rows.size() == 0) {
                            return Future.succeededFuture((String) null); // created concurrently
                          }
                          UUID id = rows.iterator().next().getUUID(0);
                          return conn.preparedQuery(
                                  "INSERT INTO user_channels (user_id, channel_type, channel_user_id,"
                                      + " channel_metadata, verified, verified_at, verified_by)"
                                      + " VALUES ($1, $2, $3, $4, true, now(), 'inbound')"
                                      + " ON CONFLICT DO NOTHING RETURNING user_id")
                              .execute(Tuple.of(id, channel, providerUserId, meta))
                              .compose(
                                  linked ->
                                      linked.size() == 1
                                          ? Future.succeededFuture(id.toString())
                                          // the identity was linked meanwhile: undo this user
                                          : Future.failedFuture(new Concurrent()));
                        }))
        .recover(
            e -> e instanceof Concurrent ? Future.succeededFuture(null) : Future.failedFuture(e))
        .compose(
            id ->
                id != null
                    ? Future.succeededFuture(new Contact(id, true))
                    : find(channel, providerUserId)
                        .compose(
                            existing ->
                                existing != null
                                    ? Future.succeededFuture(new Contact(existing, false))
                                    : relink(channel, providerUserId, username, meta)));
  }

  /**
   * The contact user {@code <channel>:<id>} exists without a verified link (a registered user took
   * the identity over by verifying it, then let it go): the identity is that contact's again.
   */
  private Future<Contact> relink(
      String channel, String providerUserId, String username, JsonObject meta) {
    return pg.preparedQuery(
            "INSERT INTO user_channels (user_id, channel_type, channel_user_id, channel_metadata,"
                + " verified, verified_at, verified_by)"
                + " SELECT user_id, $2, $3, $4, true, now(), 'inbound' FROM users"
                + " WHERE lower(username) = lower($1) AND password_hash IS NULL AND status = 'active'"
                + " ON CONFLICT DO NOTHING RETURNING user_id")
        .execute(Tuple.of(username, channel, providerUserId, meta))
        .compose(
            rows ->
                rows.size() == 1
                    ? Future.succeededFuture(
                        new Contact(rows.iterator().next().getUUID(0).toString(), false))
                    : find(channel, providerUserId)
                        .map(
                            existing -> {
                              if (existing == null) {
                                throw new IllegalStateException(
                                    "the contact "
                                        + username
                                        + " exists as a user that cannot take the channel link");
                              }
                              return new Contact(existing, false);
                            }));
  }

  /** The losing side of a concurrent creation (rolls its transaction back). */
  private static final class Concurrent extends RuntimeException {
    Concurrent() {
      super("created concurrently", null, false, false);
    }
  }

  /**
   * The inbox user of a channel: {@code channel_configs.config.inbox_username} of an enabled row,
   * else {@code channels.<channel>.inbox_username}; cached for a minute. Fails with {@code
   * unavailable} when neither names an existing user.
   */
  Future<String> inbox(String channel) {
    CachedInbox cached = inboxes.get(channel);
    if (cached != null && cached.until() > System.currentTimeMillis()) {
      return Future.succeededFuture(cached.userId());
    }
    return pg.preparedQuery(
            "SELECT config->>'inbox_username' FROM channel_configs WHERE channel_type = $1 AND"
                + " is_enabled")
        .execute(Tuple.of(channel))
        .compose(
            rows -> {
              String fromDb = rows.size() == 0 ? null : rows.iterator().next().getString(0);
              String name =
                  fromDb != null && !fromDb.isBlank() ? fromDb : config.inboxUsername(channel);
              if (name == null) {
                return Future.failedFuture(
                    new ServiceException(
                        ErrorCode.UNAVAILABLE,
                        "channel "
                            + channel
                            + " has no inbox user: set channels."
                            + channel
                            + ".inbox_username (or channel_configs.config.inbox_username)"));
              }
              return pg.preparedQuery(
                      "SELECT user_id FROM users WHERE lower(username) = lower($1) AND status = 'active'")
                  .execute(Tuple.of(name))
                  .map(
                      users -> {
                        if (users.size() == 0) {
                          throw new ServiceException(
                              ErrorCode.UNAVAILABLE,
                              "the inbox user "
                                  + name
                                  + " of channel "
                                  + channel
                                  + " does not exist");
                        }
                        Row row = users.iterator().next();
                        String id = row.getUUID(0).toString();
                        inboxes.put(
                            channel, new CachedInbox(id, System.currentTimeMillis() + 60_000));
                        return id;
                      });
            });
  }

  /** The private conversation of the channel's inbox user with the contact (created once). */
  Future<String> inboxConversation(String channel, String contactId) {
    return inbox(channel)
        .compose(
            inbox ->
                ServiceBus.request(
                    vertx,
                    Addresses.CONVERSATIONS,
                    "create",
                    new JsonObject()
                        .put("user_id", inbox)
                        .put("type", "private")
                        .put("member_ids", new JsonArray().add(contactId))))
        .map(r -> r.getJsonObject("conversation").getString("conversation_id"));
  }
}
