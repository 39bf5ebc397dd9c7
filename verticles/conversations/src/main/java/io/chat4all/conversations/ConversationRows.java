package io.chat4all.conversations;

import io.chat4all.codecs.ErrorCode;
import io.chat4all.codecs.ServiceException;
import io.chat4all.codecs.Wire;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.pgclient.PgException;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.SqlClient;
import io.vertx.sqlclient.Tuple;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;

/**
 * Conversation rows of the service: loading a conversation with its members as a viewer sees it,
 * mapping rows to replies, the check that ids name active users, and the errors these give.
 */
final class ConversationRows {
  private ConversationRows() {}

  private static final String CONVERSATION_COLUMNS = ConversationList.COLUMNS;

  /** One conversation as {@code viewer} sees it; fails not_found unless a member. */
  static Future<JsonObject> load(SqlClient client, UUID id, UUID viewer) {
    return client
        .preparedQuery(
            "SELECT "
                + CONVERSATION_COLUMNS
                + " FROM conversations c JOIN conversation_members m"
                + " ON m.conversation_id = c.conversation_id AND m.user_id = $2"
                + " WHERE c.conversation_id = $1 AND c.is_active")
        .execute(Tuple.of(id, viewer))
        .compose(
            rows -> {
              if (rows.size() == 0) {
                return Future.failedFuture(notFound());
              }
              return withMembers(client, List.of(rows.iterator().next())).map(l -> l.get(0));
            });
  }

  /** Conversation rows with their members, in the rows' order. */
  static Future<List<JsonObject>> withMembers(SqlClient client, List<Row> rows) {
    if (rows.isEmpty()) {
      return Future.succeededFuture(List.of());
    }
    UUID[] ids = rows.stream().map(r -> r.getUUID("conversation_id")).toArray(UUID[]::new);
    return client
        .preparedQuery(
            "SELECT m.conversation_id, m.user_id, u.username, m.role, m.joined_at"
                + " FROM conversation_members m JOIN users u ON u.user_id = m.user_id"
                + " WHERE m.conversation_id = ANY($1) ORDER BY m.joined_at, m.id")
        .execute(Tuple.tuple().addArrayOfUUID(ids))
        .map(
            memberRows -> {
              Map<UUID, JsonArray> members = new LinkedHashMap<>();
              for (UUID id : ids) {
                members.put(id, new JsonArray());
              }
              for (Row m : memberRows) {
                members
                    .get(m.getUUID("conversation_id"))
                    .add(
                        new JsonObject()
                            .put("user_id", m.getUUID("user_id").toString())
                            .put("username", m.getString("username"))
                            .put("role", m.getString("role"))
                            .put("joined_at", ts(m.getOffsetDateTime("joined_at"))));
              }
              List<JsonObject> out = new ArrayList<>();
              for (Row r : rows) {
                out.add(conversation(r, members.get(r.getUUID("conversation_id"))));
              }
              return out;
            });
  }

  private static JsonObject conversation(Row row, JsonArray members) {
    UUID lastMessage = row.getUUID("last_message_id");
    return new JsonObject()
        .put("conversation_id", row.getUUID("conversation_id").toString())
        .put("type", row.getString("type"))
        .put("name", row.getString("name"))
        .put("created_by", row.getUUID("created_by").toString())
        .put("created_at", ts(row.getOffsetDateTime("created_at")))
        .put("updated_at", ts(row.getOffsetDateTime("updated_at")))
        .put("members", members)
        .put("member_count", members.size())
        .put("last_message_id", lastMessage == null ? null : lastMessage.toString())
        .put("last_message_at", ts(row.getOffsetDateTime("last_message_at")))
        .put("last_message_snippet", row.getString("last_message_snippet"))
        .put("last_seq", row.getLong("last_seq"))
        .put("unread_count", row.getLong("unread_count"));
  }

  /** Fails validation_failed on member_ids unless every id is an active user. */
  static Future<Void> requireUsers(SqlClient client, List<UUID> ids) {
    if (ids.isEmpty()) {
      return Future.succeededFuture();
    }
    return client
        .preparedQuery("SELECT user_id FROM users WHERE user_id = ANY($1) AND status = 'active'")
        .execute(Tuple.tuple().addArrayOfUUID(ids.toArray(UUID[]::new)))
        .compose(
            rows -> {
              Set<UUID> found = new LinkedHashSet<>();
              rows.forEach(r -> found.add(r.getUUID(0)));
              JsonArray unknown = new JsonArray();
              ids.stream().filter(u -> !found.contains(u)).forEach(u -> unknown.add(u.toString()));
              if (!unknown.isEmpty()) {
                return Future.failedFuture(unknownUsersError(unknown));
              }
              return Future.<Void>succeededFuture();
            });
  }

  private static ServiceException unknownUsersError(JsonArray unknown) {
    return new ServiceException(
        ErrorCode.VALIDATION_FAILED,
        "member_ids holds ids of no active user",
        new JsonObject().put("field", "member_ids").put("unknown_ids", unknown));
  }

  /** A user deleted between the check and the insert: the same error as an unknown id. */
  static <T> Future<T> unknownUsers(Throwable err) {
    if (err instanceof PgException pe && "23503".equals(pe.getSqlState())) {
      return Future.failedFuture(unknownUsersError(new JsonArray()));
    }
    return Future.failedFuture(err);
  }

  static ServiceException notFound() {
    return new ServiceException(ErrorCode.NOT_FOUND, "conversation not found");
  }

  private static String ts(OffsetDateTime t) {
    return t == null ? null : Wire.timestamp(t.toInstant());
  }
}
