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
 * The pipeline's side of channel delivery: status records that carry a {@code channel} (written by
 * delivery and by provider receipts on {@code message.delivered} / {@code message.read}). Each
 * updates the message's {@code channel_delivery.<channel>} ({@link ChannelDelivery}); {@code sent}
 * and {@code failed} also set the recipient's {@code recipient_status} (with the channel and the
 * reason), a provider's {@code delivered} / {@code read} is a mark like a client's ({@link
 * Receipts}: it moves the contact's horizon). The author and the recipient get a {@code status}
 * envelope with the channel's view. A redelivered record changes nothing.
 */
final class ChannelStatuses {
  private final MessageStore store;
  private final Receipts receipts;
  private final Function<List<Map.Entry<String, JsonObject>>, Future<Void>> deliver;

  ChannelStatuses(
      MessageStore store,
      Receipts receipts,
      Function<List<Map.Entry<String, JsonObject>>, Future<Void>> deliver) {
    this.store = store;
    this.receipts = receipts;
    this.deliver = deliver;
  }

  Future<Void> apply(String conv, JsonObject doc, JsonObject record) {
    String user = record.getString("user_id");
    String status = record.getString("status");
    String channel = record.getString("channel");
    if (user == null
        || user.equals(doc.getString("from_user_id"))
        || !doc.getJsonArray("to_user_ids", new JsonArray()).contains(user)) {
      return Future.succeededFuture(); // not a recipient of this message
    }
    boolean channelChanged = ChannelDelivery.apply(doc, record);
    boolean moved = false;
    if (MessageActions.SENT.equals(status) || MessageActions.FAILED.equals(status)) {
      JsonObject recipients = doc.getJsonObject("recipient_status", new JsonObject());
      JsonObject current = recipients.getJsonObject(user);
      String was = current == null ? null : current.getString("status");
      // a failure on a channel is final there; another channel or a client may still reach them,
      // and a failure on one channel does not undo a send another channel made
      String wasOn = current == null ? null : current.getString("channel");
      moved =
          ChannelDelivery.moves(was, status)
              && !(MessageActions.FAILED.equals(was) && channel.equals(wasOn))
              && !(MessageActions.FAILED.equals(status) && wasOn != null && !channel.equals(wasOn));
      if (moved) {
        String at = record.getString("at");
        JsonObject entry =
            new JsonObject().put("status", status).put("at", at).put("channel", channel);
        JsonObject history =
            new JsonObject()
                .put("status", status)
                .put("timestamp", at)
                .put("user_id", user)
                .put("channel", channel);
        if (record.getString("reason") != null) {
          entry.put("reason", record.getString("reason"));
          history.put("details", new JsonObject().put("reason", record.getString("reason")));
        }
        recipients.put(user, entry);
        doc.put("recipient_status", recipients);
        doc.getJsonArray("status_history").add(history);
      }
    }
    Future<Void> saved =
        channelChanged || moved
            ? store
                .save(doc.put("updated_at", record.getString("at")))
                .compose(v -> deliver.apply(envelopes(conv, doc, record)))
            : Future.succeededFuture();
    if (MessageActions.DELIVERED.equals(status) || MessageActions.READ.equals(status)) {
      return saved.compose(v -> receipts.mark(conv, doc, record));
    }
    return saved;
  }

  private static List<Map.Entry<String, JsonObject>> envelopes(
      String conv, JsonObject doc, JsonObject record) {
    String channel = record.getString("channel");
    String user = record.getString("user_id");
    JsonObject recipient =
        doc.getJsonObject("recipient_status", new JsonObject()).getJsonObject(user);
    JsonObject envelope =
        new JsonObject()
            .put(Envelopes.TYPE, Envelopes.STATUS)
            .put("message_id", doc.getString("message_id"))
            .put("conversation_id", conv)
            .put("sequence_number", doc.getLong("sequence_number"))
            .put("user_id", user)
            .put(
                "status",
                recipient == null ? record.getString("status") : recipient.getString("status"))
            .put("at", record.getString("at"))
            .put("message_status", doc.getString("status"))
            .put("channel", channel)
            .put("channel_status", record.getString("status"))
            .put("channel_delivery", doc.getJsonObject("channel_delivery").getJsonObject(channel));
    if (record.getString("reason") != null) {
      envelope.put("reason", record.getString("reason"));
    }
    List<Map.Entry<String, JsonObject>> out = new ArrayList<>();
    out.add(new AbstractMap.SimpleEntry<>(doc.getString("from_user_id"), envelope));
    out.add(new AbstractMap.SimpleEntry<>(user, envelope));
    return out;
  }
}
