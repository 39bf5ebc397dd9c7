package io.chat4all.messaging;

import io.chat4all.codecs.Wire;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;

/**
 * Delivered and read horizons (PostgreSQL {@code conversation_members.last_delivered_seq} / {@code
 * last_read_seq}, and {@code horizon_steps}, one row per move). A mark on message N, or sending
 * message N, moves the member's horizon to N: every earlier message of the conversation counts as
 * delivered (read) for them. Message documents are not rewritten; the status a reader sees is
 * {@link #apply derived} from the steps when a message is served.
 */
public final class ReadHorizons {
  private final Pool pg;

  public ReadHorizons(Pool pg) {
    this.pg = pg;
  }

  /** A horizon that moved: the member, where it was, where it is now, and when. */
  public record Moved(String userId, long oldRead, long oldDelivered, long seq, String at) {}

  /** One horizon step: everything up to {@code upto} reached {@code status} at {@code at}. */
  record Step(long upto, String at) {}

  /** The steps that decide the derived statuses of some messages of one conversation. */
  public static final class Covering {
    static final Covering NONE = new Covering(Map.of());
    private final Map<String, List<Step>> steps; // "user:status" → ascending upto

    Covering(Map<String, List<Step>> steps) {
      this.steps = steps;
    }

    /** The first step of this member and status at or after {@code seq}, or null. */
    Step reached(String userId, String status, long seq) {
      for (Step s : steps.getOrDefault(userId + ":" + status, List.of())) {
        if (s.upto() >= seq) {
          return s;
        }
      }
      return null;
    }
  }

  // --- reading ---

  /** The steps covering {@code docs} (stored messages of {@code conv}). */
  public Future<Covering> covering(String conv, List<JsonObject> docs) {
    long lo = Long.MAX_VALUE;
    long hi = 0;
    Set<UUID> users = new LinkedHashSet<>();
    for (JsonObject d : docs) {
      if (!conv.equals(d.getString("conversation_id"))) {
        continue;
      }
      long seq = d.getLong("sequence_number", 0L);
      lo = Math.min(lo, seq);
      hi = Math.max(hi, seq);
      for (Object u : d.getJsonArray("to_user_ids", new JsonArray())) {
        users.add(UUID.fromString((String) u));
      }
    }
    if (users.isEmpty()) {
      return Future.succeededFuture(Covering.NONE);
    }
    // the steps inside the range, plus each recipient's first step after it
    return pg.preparedQuery(
            "SELECT user_id, status, upto_seq, at FROM horizon_steps"
                + " WHERE conversation_id = $1 AND user_id = ANY($2) AND upto_seq BETWEEN $3 AND $4"
                + " UNION ALL"
                + " SELECT u.user_id, st.status, n.upto_seq, n.at FROM unnest($2::uuid[]) AS u (user_id)"
                + " CROSS JOIN (VALUES ('delivered'), ('read')) AS st (status)"
                + " CROSS JOIN LATERAL (SELECT h.upto_seq, h.at FROM horizon_steps h"
                + "   WHERE h.conversation_id = $1 AND h.user_id = u.user_id AND h.status = st.status"
                + "   AND h.upto_seq > $4 ORDER BY h.upto_seq LIMIT 1) AS n")
        .execute(
            Tuple.of(UUID.fromString(conv))
                .addArrayOfUUID(users.toArray(UUID[]::new))
                .addLong(lo)
                .addLong(hi))
        .map(
            rows -> {
              Map<String, List<Step>> steps = new HashMap<>();
              for (Row r : rows) {
                steps
                    .computeIfAbsent(
                        r.getUUID("user_id") + ":" + r.getString("status"), k -> new ArrayList<>())
                    .add(
                        new Step(
                            r.getLong("upto_seq"),
                            Wire.timestamp(r.getOffsetDateTime("at").toInstant())));
              }
              steps.values().forEach(l -> l.sort((a, b) -> Long.compare(a.upto(), b.upto())));
              return new Covering(steps);
            });
  }

  /**
   * The message as its readers see it: each recipient's status is the higher of the one stored on
   * the message and the one their horizons give (with the time the horizon reached it), and the
   * message's status is the lowest over its recipients. A failed message stays as stored, and so
   * does a recipient a channel failed to reach.
   */
  public static JsonObject apply(JsonObject doc, Covering covering) {
    JsonObject out = doc.copy();
    if (MessageActions.FAILED.equals(out.getString("status"))) {
      return out;
    }
    JsonArray to = out.getJsonArray("to_user_ids", new JsonArray());
    long seq = out.getLong("sequence_number", 0L);
    JsonObject recipients = out.getJsonObject("recipient_status", new JsonObject()).copy();
    for (Object o : to) {
      String uid = (String) o;
      String status = MessageActions.READ;
      Step step = covering.reached(uid, MessageActions.READ, seq);
      if (step == null) {
        status = MessageActions.DELIVERED;
        step = covering.reached(uid, MessageActions.DELIVERED, seq);
      }
      if (step == null) {
        continue;
      }
      JsonObject stored = recipients.getJsonObject(uid);
      if (stored != null && MessageActions.FAILED.equals(stored.getString("status"))) {
        continue; // a channel could not deliver it to them: a later horizon does not cover it
      }
      if (stored == null || rank(status) > rank(stored.getString("status"))) {
        recipients.put(uid, new JsonObject().put("status", status).put("at", step.at()));
      }
    }
    out.put("recipient_status", recipients);
    if (!to.isEmpty()) {
      out.put("status", lowest(to, recipients));
    }
    return out;
  }

  static int rank(String status) {
    return switch (status == null ? MessageActions.SENT : status) {
      case MessageActions.DELIVERED -> 1;
      case MessageActions.READ -> 2;
      case MessageActions.FAILED -> -1;
      default -> 0;
    };
  }

  /** The message-level status: the lowest over its recipients (sent while any has not received). */
  static String lowest(JsonArray to, JsonObject recipients) {
    int min = Integer.MAX_VALUE;
    for (Object uid : to) {
      JsonObject s = recipients.getJsonObject((String) uid);
      min = Math.min(min, s == null ? 0 : Math.max(0, rank(s.getString("status"))));
    }
    return MessageActions.STATUS_ORDER.get(min);
  }

  // --- moving ---

  /**
   * Moves {@code user}'s delivered horizon (and for {@code read} the read horizon) to {@code seq};
   * null when it was there already (the mark changes nothing).
   */
  public Future<Moved> advance(
      String conv, String user, String status, long seq, String messageId, String at) {
    boolean read = MessageActions.READ.equals(status);
    return pg.preparedQuery(
            "WITH old AS (SELECT id, last_read_seq, last_delivered_seq FROM conversation_members"
                + "   WHERE conversation_id = $1 AND user_id = $2"
                + "   AND (last_delivered_seq < $3 OR ($5 AND last_read_seq < $3))),"
                + " moved AS (UPDATE conversation_members m SET"
                + "   last_read_seq = CASE WHEN $5 THEN GREATEST(m.last_read_seq, $3) ELSE m.last_read_seq END,"
                + "   last_read_at = CASE WHEN $5 AND m.last_read_seq < $3 THEN $4 ELSE m.last_read_at END,"
                + "   last_read_message_id ="
                + "     CASE WHEN $5 AND m.last_read_seq < $3 THEN $6 ELSE m.last_read_message_id END,"
                + "   last_delivered_seq = GREATEST(m.last_delivered_seq, $3),"
                + "   last_delivered_at ="
                + "     CASE WHEN m.last_delivered_seq < $3 THEN $4 ELSE m.last_delivered_at END"
                + "   FROM old WHERE m.id = old.id"
                + "   RETURNING old.last_read_seq AS old_read, old.last_delivered_seq AS old_delivered),"
                + " steps AS (INSERT INTO horizon_steps (conversation_id, user_id, status, upto_seq, at)"
                + "   SELECT $1::uuid, $2::uuid, 'read', $3::bigint, $4::timestamptz FROM moved"
                + "   WHERE $5 AND old_read < $3"
                + "   UNION ALL SELECT $1::uuid, $2::uuid, 'delivered', $3::bigint, $4::timestamptz"
                + "   FROM moved WHERE old_delivered < $3"
                + "   ON CONFLICT DO NOTHING)"
                + " SELECT old_read, old_delivered FROM moved")
        .execute(
            Tuple.of(
                UUID.fromString(conv),
                UUID.fromString(user),
                seq,
                OffsetDateTime.parse(at),
                read,
                UUID.fromString(messageId)))
        .map(
            rows -> {
              if (rows.size() == 0) {
                return null;
              }
              Row r = rows.iterator().next();
              return new Moved(user, r.getLong("old_read"), r.getLong("old_delivered"), seq, at);
            });
  }

  /**
   * After a run of sends was stored, in one transaction: the conversation's last message, and each
   * sender's horizons move to their newest message (sending reads everything before it), in one
   * statement; then {@link #MEMBER_ACTIVITY every member's list position} follows. The senders
   * whose read horizon moved.
   */
  public Future<List<Moved>> afterSends(String conv, List<JsonObject> docs) {
    return afterSends(Map.of(conv, docs)).map(all -> all.getOrDefault(conv, List.of()));
  }

  /**
   * {@link #afterSends(String, List)} for the runs of several conversations (a poll's), together:
   * the same two statements over all of them, one transaction, one commit. Conversations are taken
   * in id order (so two such transactions lock their rows in the same order). The senders whose
   * read horizon moved, by conversation.
   */
  public Future<Map<String, List<Moved>>> afterSends(Map<String, List<JsonObject>> runs) {
    List<String> convs = new ArrayList<>(runs.keySet());
    java.util.Collections.sort(convs);
    List<UUID> convIds = new ArrayList<>();
    List<Long> lastSeqs = new ArrayList<>();
    List<UUID> lastIds = new ArrayList<>();
    List<OffsetDateTime> lastAts = new ArrayList<>();
    List<String> snippets = new ArrayList<>();
    List<UUID> senderConvs = new ArrayList<>();
    List<UUID> users = new ArrayList<>();
    List<Long> seqs = new ArrayList<>();
    List<UUID> ids = new ArrayList<>();
    List<OffsetDateTime> ats = new ArrayList<>();
    for (String conv : convs) {
      List<JsonObject> docs = runs.get(conv);
      if (docs == null || docs.isEmpty()) {
        continue;
      }
      UUID convId = UUID.fromString(conv);
      JsonObject last = docs.get(0);
      Map<String, JsonObject> newestBySender = new java.util.LinkedHashMap<>();
      for (JsonObject d : docs) {
        if (d.getLong("sequence_number") > last.getLong("sequence_number")) {
          last = d;
        }
        newestBySender.merge(
            d.getString("from_user_id"),
            d,
            (a, b) -> a.getLong("sequence_number") >= b.getLong("sequence_number") ? a : b);
      }
      convIds.add(convId);
      lastSeqs.add(last.getLong("sequence_number"));
      lastIds.add(UUID.fromString(last.getString("message_id")));
      lastAts.add(OffsetDateTime.parse(last.getString("created_at")));
      snippets.add(snippet(last));
      for (JsonObject d : newestBySender.values()) {
        senderConvs.add(convId);
        users.add(UUID.fromString(d.getString("from_user_id")));
        seqs.add(d.getLong("sequence_number"));
        ids.add(UUID.fromString(d.getString("message_id")));
        ats.add(OffsetDateTime.parse(d.getString("created_at")));
      }
    }
    if (convIds.isEmpty()) {
      return Future.succeededFuture(Map.of());
    }
    Tuple args =
        Tuple.tuple()
            .addArrayOfUUID(convIds.toArray(UUID[]::new))
            .addArrayOfLong(lastSeqs.toArray(Long[]::new))
            .addArrayOfUUID(lastIds.toArray(UUID[]::new))
            .addArrayOfOffsetDateTime(lastAts.toArray(OffsetDateTime[]::new))
            .addArrayOfString(snippets.toArray(String[]::new))
            .addArrayOfUUID(senderConvs.toArray(UUID[]::new))
            .addArrayOfUUID(users.toArray(UUID[]::new))
            .addArrayOfLong(seqs.toArray(Long[]::new))
            .addArrayOfUUID(ids.toArray(UUID[]::new))
            .addArrayOfOffsetDateTime(ats.toArray(OffsetDateTime[]::new));
    Tuple activity = Tuple.tuple().addArrayOfUUID(convIds.toArray(UUID[]::new));
    return pg.withTransaction(
        tx ->
            tx.preparedQuery(AFTER_SENDS)
                .execute(args)
                .compose(rows -> tx.preparedQuery(MEMBER_ACTIVITY).execute(activity).map(rows))
                .map(
                    rows -> {
                      Map<String, List<Moved>> moved = new HashMap<>();
                      for (Row r : rows) {
                        moved
                            .computeIfAbsent(
                                r.getUUID("conversation_id").toString(), k -> new ArrayList<>())
                            .add(
                                new Moved(
                                    r.getUUID("user_id").toString(),
                                    r.getLong("old_read"),
                                    r.getLong("old_delivered"),
                                    r.getLong("seq"),
                                    Wire.timestamp(r.getOffsetDateTime("at").toInstant())));
                      }
                      return moved;
                    }));
  }

  /**
   * Each conversation's last message (where it is newer than the stored one) and each sender's
   * horizons, for a set of conversations: {@code $1..$5} one row per conversation, {@code $6..$10}
   * one per (conversation, sender).
   */
  private static final String AFTER_SENDS =
      "WITH conv AS (UPDATE conversations c SET last_seq = u.seq, last_message_id = u.message_id,"
          + "   last_message_at = u.at, last_message_snippet = u.snippet, updated_at = now()"
          + "   FROM unnest($1::uuid[], $2::bigint[], $3::uuid[], $4::timestamptz[], $5::text[])"
          + "   AS u (conversation_id, seq, message_id, at, snippet)"
          + "   WHERE c.conversation_id = u.conversation_id AND c.last_seq < u.seq),"
          + " v AS (SELECT * FROM unnest($6::uuid[], $7::uuid[], $8::bigint[], $9::uuid[],"
          + "   $10::timestamptz[]) AS v (conversation_id, user_id, seq, message_id, at)),"
          + " old AS (SELECT m.id, m.conversation_id, m.user_id, m.last_read_seq,"
          + "   m.last_delivered_seq FROM conversation_members m JOIN v"
          + "   ON v.conversation_id = m.conversation_id AND v.user_id = m.user_id"
          + "   WHERE m.last_read_seq < v.seq),"
          + " moved AS (UPDATE conversation_members m SET last_read_seq = v.seq,"
          + "   last_read_at = v.at, last_read_message_id = v.message_id,"
          + "   last_delivered_seq = GREATEST(m.last_delivered_seq, v.seq),"
          + "   last_delivered_at ="
          + "     CASE WHEN m.last_delivered_seq < v.seq THEN v.at ELSE m.last_delivered_at END"
          + "   FROM old JOIN v ON v.conversation_id = old.conversation_id"
          + "   AND v.user_id = old.user_id WHERE m.id = old.id"
          + "   RETURNING m.conversation_id, m.user_id, old.last_read_seq AS old_read,"
          + "   old.last_delivered_seq AS old_delivered, v.seq, v.at),"
          + " steps AS (INSERT INTO horizon_steps (conversation_id, user_id, status, upto_seq, at)"
          + "   SELECT conversation_id, user_id, 'read', seq, at FROM moved"
          + "   UNION ALL SELECT conversation_id, user_id, 'delivered', seq, at FROM moved"
          + "   WHERE old_delivered < seq ON CONFLICT DO NOTHING)"
          + " SELECT conversation_id, user_id, old_read, old_delivered, seq, at FROM moved";

  /**
   * Every member's {@code activity_at} (the conversation list's order, read from {@code
   * idx_conversation_members_activity}) set to the conversation's activity, for the rows where it
   * differs: after a send that is every member once per batch, after a replay none. It runs as a
   * statement of its own after the conversation row is updated (and locked until the commit): a
   * member added concurrently, who waited on that lock and read the old activity, committed before
   * this statement's snapshot and is moved too; and the sender rows the first statement updated are
   * visible to it (a second update of one row inside one statement would be ignored).
   */
  static final String MEMBER_ACTIVITY =
      "UPDATE conversation_members m SET activity_at = COALESCE(c.last_message_at, c.created_at)"
          + " FROM conversations c WHERE c.conversation_id = ANY($1)"
          + " AND m.conversation_id = c.conversation_id"
          + " AND m.activity_at IS DISTINCT FROM COALESCE(c.last_message_at, c.created_at)";

  /** After an edit or delete: the conversation's snippet follows its last message. */
  public Future<Void> updateSnippet(String conv, JsonObject doc) {
    return pg.preparedQuery(
            "UPDATE conversations SET last_message_snippet = $3"
                + " WHERE conversation_id = $1 AND last_message_id = $2")
        .execute(
            Tuple.of(
                UUID.fromString(conv), UUID.fromString(doc.getString("message_id")), snippet(doc)))
        .mapEmpty();
  }

  /**
   * Drops steps older than {@code cutoff}: they cover only messages sent before it (expired by
   * then). A member's newest step stays, being their horizon's record.
   */
  public Future<Void> pruneBefore(java.time.Instant cutoff) {
    return pg.preparedQuery(
            "DELETE FROM horizon_steps h WHERE h.at < $1 AND EXISTS (SELECT 1 FROM horizon_steps n"
                + " WHERE n.conversation_id = h.conversation_id AND n.user_id = h.user_id"
                + " AND n.status = h.status AND n.upto_seq > h.upto_seq)")
        .execute(Tuple.of(OffsetDateTime.ofInstant(cutoff, java.time.ZoneOffset.UTC)))
        .mapEmpty();
  }

  static final int SNIPPET_LENGTH = 120;

  /**
   * A message as the conversation list shows it: its first 120 characters, {@code [image]} and the
   * like for media, {@code [deleted]} once deleted.
   */
  static String snippet(JsonObject doc) {
    if (doc.getBoolean("is_deleted", false)) {
      return "[deleted]";
    }
    JsonObject payload = doc.getJsonObject("payload", new JsonObject());
    String text = payload.getString("text");
    if (text == null) {
      return "[" + payload.getString("type") + "]";
    }
    if (text.codePointCount(0, text.length()) > SNIPPET_LENGTH) {
      return text.substring(0, text.offsetByCodePoints(0, SNIPPET_LENGTH));
    }
    return text;
  }
}
