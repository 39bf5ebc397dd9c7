package io.chat4all.messaging;

import io.chat4all.codecs.Envelopes;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Stored messages as the API shows them: storage fields removed and each recipient's status derived
 * from the read horizons ({@link ReadHorizons}); and change-feed pages with their message
 * references filled in.
 */
final class MessageViews {
  private final MessageStore store;
  private final ReadHorizons horizons;

  MessageViews(MessageStore store, ReadHorizons horizons) {
    this.store = store;
    this.horizons = horizons;
  }

  /** Stored messages of one conversation as the API shows them, statuses derived (in order). */
  Future<List<JsonObject>> of(String conv, List<JsonObject> docs) {
    return horizons
        .covering(conv, docs)
        .map(
            covering -> {
              List<JsonObject> out = new ArrayList<>(docs.size());
              for (JsonObject d : docs) {
                out.add(MessageStore.toApi(ReadHorizons.apply(d, covering)));
              }
              return out;
            });
  }

  /**
   * The feed keeps references to messages: each message envelope of a page gets the message as it
   * is now (edited, deleted, statuses derived); one whose message is gone (retention) is left out.
   */
  Future<JsonObject> hydrate(JsonObject page) {
    JsonArray items = page.getJsonArray("items", new JsonArray());
    Map<String, Set<Long>> wanted = new LinkedHashMap<>();
    for (Object o : items) {
      JsonObject ref = messageRef((JsonObject) o);
      if (ref != null) {
        wanted
            .computeIfAbsent(ref.getString("conversation_id"), k -> new LinkedHashSet<>())
            .add(ref.getLong("sequence_number"));
      }
    }
    if (wanted.isEmpty()) {
      return Future.succeededFuture(page);
    }
    Map<String, JsonObject> current = new HashMap<>();
    List<Future<?>> loads = new ArrayList<>();
    for (Map.Entry<String, Set<Long>> e : wanted.entrySet()) {
      loads.add(
          store
              .messages(e.getKey(), new ArrayList<>(e.getValue()))
              .compose(docs -> of(e.getKey(), docs))
              .onSuccess(
                  views ->
                      views.forEach(
                          m ->
                              current.put(
                                  m.getString("conversation_id")
                                      + ":"
                                      + m.getLong("sequence_number"),
                                  m))));
    }
    return Future.all(loads)
        .map(
            x -> {
              JsonArray out = new JsonArray();
              for (Object o : items) {
                JsonObject envelope = (JsonObject) o;
                JsonObject ref = messageRef(envelope);
                if (ref == null) {
                  out.add(envelope);
                  continue;
                }
                JsonObject m =
                    current.get(
                        ref.getString("conversation_id") + ":" + ref.getLong("sequence_number"));
                if (m != null && m.getString("message_id").equals(ref.getString("message_id"))) {
                  envelope.remove(FeedStore.MESSAGE_REF);
                  out.add(envelope.put("message", m));
                }
              }
              return page.put("items", out);
            });
  }

  /** The message an envelope refers to ({@code message_ref}, or its message in older entries). */
  private static JsonObject messageRef(JsonObject envelope) {
    JsonObject ref = envelope.getJsonObject(FeedStore.MESSAGE_REF);
    if (ref == null
        && (Envelopes.MESSAGE.equals(envelope.getString(Envelopes.TYPE))
            || Envelopes.MESSAGE_UPDATED.equals(envelope.getString(Envelopes.TYPE)))
        && envelope.getValue("message") instanceof JsonObject m) {
      ref = m;
    }
    return ref == null
            || ref.getString("conversation_id") == null
            || ref.getValue("sequence_number") == null
            || ref.getString("message_id") == null
        ? null
        : ref;
  }
}
