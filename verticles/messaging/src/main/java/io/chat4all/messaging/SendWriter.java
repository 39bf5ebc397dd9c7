package io.chat4all.messaging;

import io.chat4all.codecs.Wire;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Tuple;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Numbers and stores runs of sends: each message gets the conversation's next sequence number
 * unless it is stored already (a replay keeps its number and is routed as it is stored now), and is
 * written once, as its message document; then PostgreSQL moves the conversation's counters once for
 * the run ({@link ReadHorizons#afterSends}).
 */
final class SendWriter {
  private static final Logger LOG = LoggerFactory.getLogger(SendWriter.class);

  /** A stored run: its documents in send order and the conversation's last number after it. */
  record Stored(List<JsonObject> docs, long last) {}

  private final Vertx vertx;
  private final Pool pg;
  private final MessageStore store;
  private final ReadHorizons horizons;
  private final MessagingConfig config;
  private final Map<String, Long> counters = new HashMap<>();

  SendWriter(
      Vertx vertx, Pool pg, MessageStore store, ReadHorizons horizons, MessagingConfig config) {
    this.vertx = vertx;
    this.pg = pg;
    this.store = store;
    this.horizons = horizons;
    this.config = config;
  }

  /** Forgets a conversation's cached counter (it is read from the stores again). */
  void forget(String conv) {
    counters.remove(conv);
  }

  /** Forgets every cached counter: a new owner must not trust counters of partitions it left. */
  void forgetAll() {
    counters.clear();
  }

  /** The conversation's last assigned sequence number: PostgreSQL's, advanced past any stored. */
  private Future<Long> counter(String conv) {
    Long cached = counters.get(conv);
    if (cached != null) {
      return Future.succeededFuture(cached);
    }
    return pg.preparedQuery("SELECT last_seq FROM conversations WHERE conversation_id = $1")
        .execute(Tuple.of(UUID.fromString(conv)))
        .compose(
            rows -> probe(conv, rows.size() == 0 ? 0L : rows.iterator().next().getLong("last_seq")))
        .onSuccess(v -> counters.put(conv, v));
  }

  /**
   * Messages are written in sequence order, so the first missing key after {@code from} ends them.
   */
  private Future<Long> probe(String conv, long from) {
    return store
        .message(conv, from + 1)
        .compose(doc -> doc == null ? Future.succeededFuture(from) : probe(conv, from + 1));
  }

  /**
   * Numbers and stores {@code sends} of {@code conv}: through {@code slot} (together with the
   * poll's other conversations) when given, else on its own.
   */
  Future<Stored> store(String conv, Members members, List<JsonObject> sends, BatchWrite.Slot slot) {
    List<String> ids = new ArrayList<>();
    for (JsonObject s : sends) {
      ids.add(s.getString("message_id"));
    }
    Future<List<JsonObject>> known = slot != null ? slot.find(ids) : store.messagesById(ids);
    return Future.all(counter(conv), known)
        .compose(
            cf -> {
              long next = cf.<Long>resultAt(0);
              Map<String, JsonObject> stored = new HashMap<>();
              Set<String> foreign = new HashSet<>();
              for (JsonObject d : cf.<List<JsonObject>>resultAt(1)) {
                if (conv.equals(d.getString("conversation_id"))) {
                  stored.put(d.getString("message_id"), d);
                } else {
                  // the send path refuses ids already stored; one that slipped through is dropped
                  LOG.warn(
                      "dropping message {}: its id is already used in another conversation",
                      d.getString("message_id"));
                  foreign.add(d.getString("message_id"));
                }
              }
              List<JsonObject> docs = new ArrayList<>();
              List<JsonObject> fresh = new ArrayList<>();
              Set<String> seen = new HashSet<>();
              for (JsonObject s : sends) {
                String mid = s.getString("message_id");
                if (foreign.contains(mid) || !seen.add(mid)) {
                  continue;
                }
                JsonObject before = stored.get(mid);
                if (before != null) {
                  // a message stored before is routed as it is now (edited, deleted)
                  next = Math.max(next, before.getLong("sequence_number"));
                  docs.add(before);
                } else {
                  JsonObject doc = document(conv, ++next, s, members);
                  docs.add(doc);
                  fresh.add(doc);
                }
              }
              long last = next;
              return PipelineTracing.write(
                      vertx,
                      MessageStore.MESSAGES,
                      () -> slot != null ? slot.insert(fresh) : insertAlone(fresh))
                  .map(
                      v -> {
                        PipelineTracing.stored(fresh);
                        return new Stored(docs, last);
                      });
            });
  }

  private Future<Void> insertAlone(List<JsonObject> fresh) {
    return store
        .insertNew(fresh)
        .compose(
            refused ->
                refused.isEmpty()
                    ? Future.succeededFuture()
                    : Future.failedFuture(
                        new IllegalStateException(
                            "messages were numbered concurrently by another consumer; retrying")));
  }

  /**
   * After a run of sends was stored: the conversation's last message and the senders' horizons
   * ({@link ReadHorizons#afterSends}); a failed placeholder (which runs alone) only moves {@code
   * last_seq}, it is neither the last message nor anyone's horizon. Then the counter is cached.
   */
  Future<List<ReadHorizons.Moved>> afterSends(String conv, Stored run) {
    return afterSends(conv, run, null);
  }

  /**
   * {@link #afterSends(String, Stored)}, through {@code slot} (in one transaction with the poll's
   * other conversations) when given.
   */
  Future<List<ReadHorizons.Moved>> afterSends(String conv, Stored run, BatchWrite.Slot slot) {
    List<JsonObject> docs = run.docs();
    boolean placeholder = docs.size() == 1 && PipelineFailures.isFailed(docs.get(0));
    if (slot != null && (docs.isEmpty() || placeholder)) {
      slot.leave(); // nothing to move together: the others need not wait for this one
    }
    if (docs.isEmpty()) {
      return Future.succeededFuture(List.of());
    }
    Future<List<ReadHorizons.Moved>> moved;
    if (slot != null && !placeholder) {
      moved = slot.move(conv, docs);
    } else if (placeholder) {
      moved =
          pg.preparedQuery(
                  "UPDATE conversations SET last_seq = $2 WHERE conversation_id = $1 AND last_seq < $2")
              .execute(Tuple.of(UUID.fromString(conv), docs.get(0).getLong("sequence_number")))
              .map(rows -> List.<ReadHorizons.Moved>of());
    } else {
      moved = horizons.afterSends(conv, docs);
    }
    return moved.onSuccess(v -> counters.put(conv, run.last()));
  }

  /** The message document of a send numbered {@code seq} (seed 2.2 fields). */
  JsonObject document(String conv, long seq, JsonObject s, Members members) {
    String from = s.getString("from_user_id");
    JsonArray to = new JsonArray();
    for (Map.Entry<String, Long> m : members.joinedSeq().entrySet()) {
      if (!m.getKey().equals(from) && m.getValue() < seq) {
        to.add(m.getKey());
      }
    }
    String created = s.getString("created_at");
    JsonObject payload = s.getJsonObject("payload").copy();
    String fileId = (String) payload.remove("file_id");
    if (fileId != null) {
      JsonObject ref =
          payload.getJsonObject("file_reference", new JsonObject()).put("file_id", fileId);
      payload.put("file_reference", ref);
    }
    JsonObject doc =
        new JsonObject()
            .put("_id", MessageStore.key(conv, seq))
            .put("message_id", s.getString("message_id"))
            .put("conversation_id", conv)
            .put("from_user_id", from)
            .put("to_user_ids", to)
            .put("payload", payload)
            .put("target_channels", s.getJsonArray("channels", new JsonArray()))
            .put("status", MessageActions.SENT)
            .put("status_history", sentHistory(created))
            .put("recipient_status", new JsonObject())
            .put("channel_delivery", new JsonObject())
            .put("sequence_number", seq)
            .put("reply_to_message_id", s.getString("reply_to_message_id"))
            .put("is_edited", false)
            .put("is_deleted", false)
            .put("created_at", created)
            .put("updated_at", created);
    if (s.getString("source_channel") != null) {
      // came in from a channel: which one, and the provider's id of it
      doc.put("source_channel", s.getString("source_channel"))
          .put("source_message_id", s.getString("source_message_id"));
    }
    if (config.retentionDays() > 0) {
      Instant expires = Instant.parse(created).plus(config.retentionDays(), ChronoUnit.DAYS);
      doc.put("ttl_expire_at", new JsonObject().put("$date", Wire.timestamp(expires)));
    }
    return PipelineFailures.markIfFailed(doc, s);
  }

  /** A new message's status history: sent at {@code at}. */
  static JsonArray sentHistory(String at) {
    return new JsonArray()
        .add(new JsonObject().put("status", MessageActions.SENT).put("timestamp", at));
  }
}
