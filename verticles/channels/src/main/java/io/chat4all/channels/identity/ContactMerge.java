package io.chat4all.channels.identity;

import io.chat4all.channels.delivery.DeliveryStore;
import io.chat4all.codecs.ErrorCode;
import io.chat4all.codecs.ServiceException;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.mongo.MongoClient;
import io.vertx.ext.mongo.UpdateOptions;
import io.vertx.redis.client.RedisAPI;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.RowSet;
import io.vertx.sqlclient.SqlConnection;
import io.vertx.sqlclient.Tuple;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;

/**
 * An operator's merge of two contacts that are the same person on two channels (never guessed: a
 * contact writing on WhatsApp and on Telegram is two contacts until an operator says otherwise).
 *
 * <p>The surviving contact gets every channel link of the merged one (so {@code channels: ["all"]}
 * reaches it on all of them, and unasked it is reached on the channel it wrote on last). Each
 * conversation of the merged contact is <b>re-pointed</b> to the survivor (the survivor takes its
 * place as a member, history included), except where the survivor is a member already or where it
 * would make a second private conversation of the same pair (typically both contacts' inbox
 * conversations): those stay with the merged contact as history, and new messages go to the
 * survivor's conversation. The merged contact is kept with status {@code merged} and {@code
 * metadata.merged_into}; its messages keep their author.
 */
public final class ContactMerge {
  private final Pool pg;
  private final MongoClient mongo;
  private final RedisAPI redis;
  private final String redisPrefix;

  public ContactMerge(Pool pg, MongoClient mongo, RedisAPI redis, String redisPrefix) {
    this.pg = pg;
    this.mongo = mongo;
    this.redis = redis;
    this.redisPrefix = redisPrefix == null ? "" : redisPrefix;
  }

  private record Outcome(
      JsonObject answer, List<String> repointed, List<String> channels, UUID from, UUID into) {}

  /** Merges contact {@code other} into contact {@code survivor}. */
  public Future<JsonObject> merge(String survivor, String other, String admin) {
    if (survivor.equals(other)) {
      return Future.failedFuture(
          new ServiceException(
              ErrorCode.VALIDATION_FAILED,
              "a contact cannot be merged with itself",
              new JsonObject().put("field", "contact_id").put("reason", "self_merge")));
    }
    UUID into = UUID.fromString(survivor);
    UUID from = UUID.fromString(other);
    return pg.withTransaction(conn -> inTransaction(conn, into, from, admin))
        .compose(o -> afterCommit(o).map(o.answer()));
  }

  private Future<Outcome> inTransaction(SqlConnection conn, UUID into, UUID from, String admin) {
    return conn.preparedQuery(
            "SELECT user_id, username, status, password_hash IS NULL AS no_password,"
                + " metadata ? 'contact' AS contact FROM users WHERE user_id = ANY($1)"
                + " ORDER BY user_id FOR UPDATE")
        .execute(Tuple.of(new UUID[] {into, from}))
        .compose(
            users -> {
              check(users, into, "contact_id in the path");
              check(users, from, "contact_id");
              return conn.preparedQuery(
                      "SELECT user_id, channel_type FROM user_channels WHERE user_id = ANY($1)")
                  .execute(Tuple.of(new UUID[] {into, from}));
            })
        .compose(
            links -> {
              Set<String> mine = new HashSet<>();
              List<String> moving = new ArrayList<>();
              for (Row r : links) {
                if (r.getUUID("user_id").equals(into)) {
                  mine.add(r.getString("channel_type"));
                } else {
                  moving.add(r.getString("channel_type"));
                }
              }
              for (String ch : moving) {
                if (mine.contains(ch)) {
                  throw new ServiceException(
                      ErrorCode.CONFLICT,
                      "both contacts have a "
                          + ch
                          + " identity: they are different people on that channel",
                      new JsonObject().put("reason", "same_channel").put("channel_type", ch));
                }
              }
              return conn.preparedQuery("UPDATE user_channels SET user_id = $1 WHERE user_id = $2")
                  .execute(Tuple.of(into, from))
                  .compose(v -> conversations(conn, into, from))
                  .compose(
                      convs ->
                          conn.preparedQuery(
                                  "UPDATE users SET status = 'merged', updated_at = now(),"
                                      + " metadata = metadata || $2 WHERE user_id = $1")
                              .execute(
                                  Tuple.of(
                                      from,
                                      new JsonObject()
                                          .put("merged_into", into.toString())
                                          .put("merged_by", admin)
                                          .put("merged_at", Instant.now().toString())))
                              .compose(
                                  v ->
                                      conn.preparedQuery(
                                              "UPDATE users SET updated_at = now(), metadata ="
                                                  + " jsonb_set(metadata, '{merged_from}',"
                                                  + " COALESCE(metadata->'merged_from', '[]'::jsonb)"
                                                  + " || to_jsonb($2::text)) WHERE user_id = $1")
                                          .execute(Tuple.of(into, from.toString())))
                              .compose(v -> links(conn, into))
                              .map(
                                  channels ->
                                      new Outcome(
                                          new JsonObject()
                                              .put("contact_id", into.toString())
                                              .put("merged_contact_id", from.toString())
                                              .put("channels", channels)
                                              .put(
                                                  "conversations",
                                                  new JsonObject()
                                                      .put(
                                                          "repointed",
                                                          new JsonArray(convs.get("repointed")))
                                                      .put(
                                                          "kept",
                                                          new JsonArray(convs.get("kept")))),
                                          convs.get("repointed"),
                                          moving,
                                          from,
                                          into)));
            });
  }

  private static void check(RowSet<Row> users, UUID id, String field) {
    for (Row r : users) {
      if (r.getUUID("user_id").equals(id)) {
        String status = r.getString("status");
        if ("deleted".equals(status) || "merged".equals(status)) {
          break;
        }
        if (!r.getBoolean("no_password") || !r.getBoolean("contact")) {
          throw new ServiceException(
              ErrorCode.CONFLICT,
              r.getString("username") + " is not a contact: only contacts are merged",
              new JsonObject().put("reason", "not_a_contact").put("user_id", id.toString()));
        }
        return;
      }
    }
    throw new ServiceException(
        ErrorCode.NOT_FOUND,
        "contact " + id + " not found",
        new JsonObject().put("field", field.startsWith("contact_id in") ? "id" : field));
  }

  /** Re-points the merged contact's memberships where that makes no duplicate. */
  private Future<Map<String, List<String>>> conversations(
      SqlConnection conn, UUID into, UUID from) {
    return conn.preparedQuery(
            "SELECT m.conversation_id, c.type,"
                + " EXISTS (SELECT 1 FROM conversation_members s WHERE s.conversation_id ="
                + "   m.conversation_id AND s.user_id = $1) AS survivor_in,"
                + " (SELECT o.user_id FROM conversation_members o WHERE o.conversation_id ="
                + "   m.conversation_id AND o.user_id <> $2 LIMIT 1) AS peer"
                + " FROM conversation_members m JOIN conversations c"
                + " ON c.conversation_id = m.conversation_id WHERE m.user_id = $2")
        .execute(Tuple.of(into, from))
        .compose(
            rows -> {
              List<String> repointed = new ArrayList<>();
              List<String> kept = new ArrayList<>();
              Future<Void> chain = Future.succeededFuture();
              for (Row r : rows) {
                UUID conv = r.getUUID("conversation_id");
                if (r.getBoolean("survivor_in")) {
                  kept.add(conv.toString());
                  continue;
                }
                boolean priv = "private".equals(r.getString("type"));
                UUID peer = r.getUUID("peer");
                String key = priv && peer != null ? privateKey(into, peer) : null;
                chain =
                    chain.compose(
                        v -> repoint(conn, conv, into, from, key, repointed, kept).mapEmpty());
              }
              return chain.map(v -> Map.of("repointed", repointed, "kept", kept));
            });
  }

  private static Future<Void> repoint(
      SqlConnection conn,
      UUID conv,
      UUID into,
      UUID from,
      String privateKey,
      List<String> repointed,
      List<String> kept) {
    Future<Boolean> free =
        privateKey == null
            ? Future.succeededFuture(true)
            : conn.preparedQuery("SELECT 1 FROM conversations WHERE private_key = $1")
                .execute(Tuple.of(privateKey))
                .map(r -> r.size() == 0);
    return free.compose(
        ok -> {
          if (!ok) {
            kept.add(conv.toString());
            return Future.succeededFuture();
          }
          Future<?> key =
              privateKey == null
                  ? Future.succeededFuture()
                  : conn.preparedQuery(
                          "UPDATE conversations SET private_key = $2 WHERE conversation_id = $1")
                      .execute(Tuple.of(conv, privateKey));
          return key.compose(
                  v ->
                      conn.preparedQuery(
                              "UPDATE conversation_members SET user_id = $3"
                                  + " WHERE conversation_id = $1 AND user_id = $2")
                          .execute(Tuple.of(conv, from, into)))
              .map(
                  v -> {
                    repointed.add(conv.toString());
                    return (Void) null;
                  });
        });
  }

  private static JsonObject without(JsonObject doc, String field) {
    JsonObject c = doc.copy();
    c.remove(field);
    return c;
  }

  static String privateKey(UUID a, UUID b) {
    String x = a.toString();
    String y = b.toString();
    return x.compareTo(y) < 0 ? x + ":" + y : y + ":" + x;
  }

  private static Future<JsonArray> links(SqlConnection conn, UUID user) {
    return conn.preparedQuery(
            "SELECT channel_type, channel_user_id, verified FROM user_channels WHERE user_id = $1"
                + " ORDER BY channel_type")
        .execute(Tuple.of(user))
        .map(
            rows -> {
              JsonArray out = new JsonArray();
              for (Row r : rows) {
                out.add(
                    new JsonObject()
                        .put("channel_type", r.getString("channel_type"))
                        .put("channel_user_id", r.getString("channel_user_id"))
                        .put("verified", r.getBoolean("verified")));
              }
              return out;
            });
  }

  /**
   * Caches and delivery memory follow the merge: the re-pointed conversations' cached members are
   * dropped (as the conversation service does after a membership change), and the latest send to
   * the merged contact on each moved channel becomes the survivor's (where their reply goes).
   */
  private Future<Void> afterCommit(Outcome o) {
    List<Future<?>> all = new ArrayList<>();
    for (String conv : o.repointed()) {
      all.add(redis.incr(redisPrefix + "conv:members-gen:" + conv));
      all.add(redis.del(List.of(redisPrefix + "conv:members:" + conv)));
    }
    io.vertx.core.Context context = io.vertx.core.Vertx.currentContext();
    if (context != null && !o.repointed().isEmpty()) {
      // and every node's own copy, once the Redis copies are gone
      Future.all(all)
          .onComplete(
              x -> {
                for (String conv : o.repointed()) {
                  context
                      .owner()
                      .eventBus()
                      .publish(
                          io.chat4all.codecs.Addresses.MEMBERS_CHANGED,
                          new JsonObject().put("conversation_id", conv));
                }
              });
    }
    for (String ch : o.channels()) {
      String old = ch + ":" + o.from();
      all.add(
          mongo
              .findOne(DeliveryStore.CONTACTS, new JsonObject().put("_id", old), null)
              .compose(
                  doc ->
                      doc == null
                          ? Future.succeededFuture()
                          : mongo
                              .updateCollectionWithOptions(
                                  DeliveryStore.CONTACTS,
                                  new JsonObject().put("_id", ch + ":" + o.into()),
                                  new JsonObject().put("$set", without(doc, "_id")),
                                  new UpdateOptions().setUpsert(true))
                              .compose(
                                  r ->
                                      mongo.removeDocument(
                                          DeliveryStore.CONTACTS,
                                          new JsonObject().put("_id", old)))));
    }
    return Future.all(all).mapEmpty();
  }
}
