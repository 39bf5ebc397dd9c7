package io.chat4all.messaging;

import io.vertx.core.Future;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;

/**
 * Members of a conversation as the pipeline needs them: user id → joined_seq, their <b>verified</b>
 * channel identities (a link its user has not verified receives nothing), and for contacts (users
 * created from a channel identity: verified, {@code channel_metadata.contact}) the channel they are
 * reached on unasked: the one they wrote on last (a contact an operator merged has several).
 */
record Members(
    Map<String, Long> joinedSeq,
    Map<String, Map<String, String>> channels,
    Map<String, Set<String>> contactChannels) {

  private static final String COLUMNS =
      "SELECT m.conversation_id, m.user_id, m.joined_seq, c.channel_type, c.channel_user_id,"
          + " COALESCE(c.channel_metadata->>'contact', 'false') = 'true' AS contact,"
          + " c.last_inbound_at"
          + " FROM conversation_members m"
          + " LEFT JOIN user_channels c ON c.user_id = m.user_id AND c.channel_type <> 'internal'"
          + "  AND c.verified";

  static Future<Members> load(Pool pg, UUID conv) {
    return pg.preparedQuery(
            COLUMNS
                + " WHERE m.conversation_id = $1"
                + " ORDER BY m.user_id, c.last_inbound_at DESC NULLS LAST, c.channel_type")
        .execute(Tuple.of(conv))
        .map(rows -> of(rows));
  }

  /**
   * The members of several conversations in one query (a poll's conversations): one future per
   * conversation, all completing together; a conversation without members has empty maps.
   */
  static Map<UUID, Future<Members>> loadAll(Pool pg, Collection<UUID> convs) {
    Future<Map<UUID, List<Row>>> all =
        pg.preparedQuery(
                COLUMNS
                    + " WHERE m.conversation_id = ANY($1)"
                    + " ORDER BY m.conversation_id, m.user_id, c.last_inbound_at DESC NULLS LAST,"
                    + " c.channel_type")
            .execute(Tuple.of(convs.toArray(UUID[]::new)))
            .map(
                rows -> {
                  Map<UUID, List<Row>> by = new HashMap<>();
                  for (Row row : rows) {
                    by.computeIfAbsent(row.getUUID("conversation_id"), k -> new ArrayList<>())
                        .add(row);
                  }
                  return by;
                });
    Map<UUID, Future<Members>> out = new HashMap<>();
    for (UUID conv : convs) {
      out.put(conv, all.map(by -> of(by.getOrDefault(conv, List.of()))));
    }
    return out;
  }

  /** Rows ordered by user, newest inbound channel first. */
  private static Members of(Iterable<Row> rows) {
    Map<String, Long> joined = new LinkedHashMap<>();
    Map<String, Map<String, String>> channels = new HashMap<>();
    Map<String, Set<String>> contacts = new HashMap<>();
    for (Row row : rows) {
      String uid = row.getUUID("user_id").toString();
      joined.put(uid, row.getLong("joined_seq"));
      if (row.getString("channel_type") != null) {
        channels
            .computeIfAbsent(uid, k -> new HashMap<>())
            .put(row.getString("channel_type"), row.getString("channel_user_id"));
        // rows come newest inbound first: the first contact channel is the one
        if (Boolean.TRUE.equals(row.getBoolean("contact")) && !contacts.containsKey(uid)) {
          contacts.put(uid, Set.of(row.getString("channel_type")));
        }
      }
    }
    return new Members(joined, channels, contacts);
  }
}
