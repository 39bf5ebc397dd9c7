package io.chat4all.messaging;

import io.chat4all.codecs.Envelopes;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.AbstractMap;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * The pipeline's side of delivered and read marks: a mark moves the reader's horizon ({@link
 * ReadHorizons}); the marked message keeps the mark in its {@code recipient_status} and {@code
 * status_history}; the author of every message the move covered gets a {@code status} event live
 * and in their feed, the reader one for the marked message. A mark behind the horizon changes
 * nothing (so a redelivered record changes nothing either).
 */
final class Receipts {
  /** The most status events one horizon move sends (for its newest covered messages). */
  static final int MAX_EVENTS = 500;

  private final MessageStore store;
  private final ReadHorizons horizons;
  private final Function<List<Map.Entry<String, JsonObject>>, Future<Void>> deliver;

  Receipts(
      MessageStore store,
      ReadHorizons horizons,
      Function<List<Map.Entry<String, JsonObject>>, Future<Void>> deliver) {
    this.store = store;
    this.horizons = horizons;
    this.deliver = deliver;
  }

  /** Applies a {@code message.delivered} / {@code message.read} record to its stored message. */
  Future<Void> mark(String conv, JsonObject doc, JsonObject record) {
    String user = record.getString("user_id");
    String status = record.getString("status");
    String at = record.getString("at");
    long seq = doc.getLong("sequence_number");
    if (user == null
        || user.equals(doc.getString("from_user_id"))
        || !doc.getJsonArray("to_user_ids", new JsonArray()).contains(user)
        || ReadHorizons.rank(status) <= 0) {
      return Future.succeededFuture(); // not a recipient's receipt: nothing to apply
    }
    return horizons
        .advance(conv, user, status, seq, doc.getString("message_id"), at)
        .compose(
            moved -> {
              if (moved == null) {
                return Future.succeededFuture(); // the horizon covers it already
              }
              JsonObject recipients = doc.getJsonObject("recipient_status", new JsonObject());
              recipients.put(user, new JsonObject().put("status", status).put("at", at));
              doc.put("recipient_status", recipients);
              doc.getJsonArray("status_history")
                  .add(
                      new JsonObject()
                          .put("status", status)
                          .put("timestamp", at)
                          .put("user_id", user));
              String before = doc.getString("status");
              String after =
                  ReadHorizons.lowest(doc.getJsonArray("to_user_ids", new JsonArray()), recipients);
              if (ReadHorizons.rank(after) > ReadHorizons.rank(before)) {
                doc.put("status", after);
                doc.getJsonArray("status_history")
                    .add(new JsonObject().put("status", after).put("timestamp", at));
              }
              doc.put("updated_at", at);
              long from =
                  MessageActions.READ.equals(status) ? moved.oldRead() : moved.oldDelivered();
              return store.save(doc).compose(v -> covered(conv, user, status, at, from, seq, true));
            });
  }

  /** After sends: each sender whose read horizon moved has read what others sent before. */
  Future<Void> afterSends(String conv, List<ReadHorizons.Moved> moved) {
    Future<Void> chain = Future.succeededFuture();
    for (ReadHorizons.Moved m : moved) {
      if (m.seq() - m.oldRead() > 1) {
        chain =
            chain.compose(
                v ->
                    covered(
                        conv,
                        m.userId(),
                        MessageActions.READ,
                        m.at(),
                        m.oldRead(),
                        m.seq(),
                        false));
      }
    }
    return chain;
  }

  /**
   * Status events for the messages in {@code (from, to]} that {@code reader} received: to each
   * one's author, and (when {@code toReader}) the one of message {@code to} to the reader.
   */
  private Future<Void> covered(
      String conv, String reader, String status, String at, long from, long to, boolean toReader) {
    List<Long> seqs = new ArrayList<>();
    for (long s = Math.max(from + 1, to - MAX_EVENTS + 1); s <= to; s++) {
      seqs.add(s);
    }
    return store
        .messages(conv, seqs)
        .compose(
            docs -> {
              List<JsonObject> received = new ArrayList<>();
              for (JsonObject d : docs) {
                if (!reader.equals(d.getString("from_user_id"))
                    && d.getJsonArray("to_user_ids", new JsonArray()).contains(reader)
                    && !MessageActions.FAILED.equals(d.getString("status"))) {
                  received.add(d);
                }
              }
              if (received.isEmpty()) {
                return Future.succeededFuture();
              }
              return horizons
                  .covering(conv, received)
                  .compose(
                      covering -> {
                        List<Map.Entry<String, JsonObject>> events = new ArrayList<>();
                        for (JsonObject d : received) {
                          JsonObject view = ReadHorizons.apply(d, covering);
                          JsonObject event =
                              new JsonObject()
                                  .put(Envelopes.TYPE, Envelopes.STATUS)
                                  .put("message_id", d.getString("message_id"))
                                  .put("conversation_id", conv)
                                  .put("sequence_number", d.getLong("sequence_number"))
                                  .put("user_id", reader)
                                  .put("status", status)
                                  .put("at", at)
                                  .put("message_status", view.getString("status"));
                          events.add(
                              new AbstractMap.SimpleEntry<>(d.getString("from_user_id"), event));
                          if (toReader && d.getLong("sequence_number") == to) {
                            events.add(new AbstractMap.SimpleEntry<>(reader, event));
                          }
                        }
                        return deliver.apply(events);
                      });
            });
  }
}
