package io.chat4all.messaging;

import io.chat4all.codecs.Envelopes;
import io.chat4all.codecs.Topics;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import java.util.AbstractMap;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The pipeline's records other than sends: edits and deletes ({@code message.updated}), channel
 * statuses and receipts ({@code message.delivered} / {@code message.read}), each applied to its
 * stored message.
 */
final class Updates {
  private final MessageStore store;
  private final ReadHorizons horizons;
  private final Receipts receipts;
  private final ChannelStatuses channelStatuses;
  private final Fanout fanout;
  private final MessagingConfig config;

  Updates(
      MessageStore store,
      ReadHorizons horizons,
      Receipts receipts,
      ChannelStatuses channelStatuses,
      Fanout fanout,
      MessagingConfig config) {
    this.store = store;
    this.horizons = horizons;
    this.receipts = receipts;
    this.channelStatuses = channelStatuses;
    this.fanout = fanout;
    this.config = config;
  }

  Future<Void> apply(String conv, Members members, String topic, JsonObject record) {
    long seq = record.getLong("sequence_number", 0L);
    return store
        .message(conv, seq)
        .compose(
            doc -> {
              if (doc == null
                  || !record.getString("message_id", "").equals(doc.getString("message_id"))
                  || PipelineFailures.isFailed(doc)) {
                return Future.succeededFuture(); // a failed message takes no statuses or edits
              }
              if (topic.equals(config.topic(Topics.MESSAGE_UPDATED))) {
                return applyUpdateRecord(conv, members, doc, record);
              }
              if (record.getString("channel") != null) {
                return channelStatuses.apply(conv, doc, record);
              }
              return receipts.mark(conv, doc, record);
            });
  }

  /** Applies an edit or delete record to a stored message (pure; used for replies too). */
  static JsonObject applyUpdate(JsonObject doc, JsonObject record) {
    JsonObject payload = doc.getJsonObject("payload");
    if ("delete".equals(record.getString("op"))) {
      doc.put("is_deleted", true);
      payload.remove("text");
      payload.remove("file_reference");
      payload.remove("metadata");
    } else {
      payload.put("text", record.getString("text"));
      doc.put("is_edited", true);
    }
    doc.put("updated_at", record.getString("at"));
    return doc;
  }

  private Future<Void> applyUpdateRecord(
      String conv, Members members, JsonObject doc, JsonObject record) {
    if (doc.getBoolean("is_deleted", false)) {
      return Future.succeededFuture();
    }
    JsonObject updated = applyUpdate(doc.copy(), record);
    long seq = doc.getLong("sequence_number");
    return store
        .save(updated)
        .compose(
            v ->
                store.insertAll(
                    MessageStore.HISTORY,
                    List.of(
                        new JsonObject()
                            .put(
                                "_id",
                                doc.getString("_id")
                                    + ":"
                                    + record.getString("op")
                                    + ":"
                                    + record.getString("at"))
                            .put("conversation_id", conv)
                            .put("sequence_number", seq)
                            .put("message_id", doc.getString("message_id"))
                            .put("event", record.getString("op"))
                            .put("at", record.getString("at")))))
        .compose(v -> horizons.updateSnippet(conv, updated))
        .compose(v -> horizons.covering(conv, List.of(updated)))
        .compose(
            covering -> {
              JsonObject message = MessageStore.toApi(ReadHorizons.apply(updated, covering));
              List<Map.Entry<String, JsonObject>> deliveries = new ArrayList<>();
              for (Map.Entry<String, Long> m : members.joinedSeq().entrySet()) {
                if (m.getValue() < seq) {
                  deliveries.add(
                      new AbstractMap.SimpleEntry<>(
                          m.getKey(),
                          new JsonObject()
                              .put(Envelopes.TYPE, Envelopes.MESSAGE_UPDATED)
                              .put("message", message)));
                }
              }
              return fanout
                  .deliver(deliveries)
                  .compose(
                      v ->
                          fanout.stored(
                              conv,
                              new JsonObject()
                                  .put(Envelopes.TYPE, Envelopes.MESSAGE_UPDATED)
                                  .put("message", message)));
            });
  }
}
