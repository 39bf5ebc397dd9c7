package io.chat4all.messaging;

import io.chat4all.codecs.Addresses;
import io.chat4all.codecs.EncodedOnce;
import io.chat4all.codecs.Envelopes;
import io.chat4all.codecs.SharedJsonCodec;
import io.chat4all.codecs.Topics;
import io.chat4all.codecs.Wire;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.kafka.client.producer.KafkaProducer;
import io.vertx.kafka.client.producer.KafkaProducerRecord;
import java.time.Instant;
import java.util.AbstractMap;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * What the pipeline publishes once its writes are durable: every recipient's change-feed entry and
 * live envelope, the records for the channel connectors ({@code message.outbound.<channel>}) and
 * for consumers of stored facts ({@code message.stored}).
 */
final class Fanout {
  private final Vertx vertx;
  private final FeedStore feed;
  private final KafkaProducer<String, String> producer;
  private final MessagingConfig config;

  Fanout(
      Vertx vertx, FeedStore feed, KafkaProducer<String, String> producer, MessagingConfig config) {
    this.vertx = vertx;
    this.feed = feed;
    this.producer = producer;
    this.config = config;
    SharedJsonCodec.registerOn(vertx.eventBus());
  }

  /** Stored messages to their members (feeds, live), their channels and {@code message.stored}. */
  Future<Void> route(String conv, Members members, List<JsonObject> docs) {
    List<Map.Entry<String, JsonObject>> deliveries = new ArrayList<>();
    List<Future<?>> outbound = new ArrayList<>();
    for (JsonObject d : docs) {
      long seq = d.getLong("sequence_number");
      JsonObject message = MessageStore.toApi(d);
      if (PipelineFailures.isFailed(d)) {
        // only its sender hears of a failed message: the placeholder, then why it failed
        String from = d.getString("from_user_id");
        deliveries.add(
            new AbstractMap.SimpleEntry<>(
                from,
                new JsonObject().put(Envelopes.TYPE, Envelopes.MESSAGE).put("message", message)));
        deliveries.add(new AbstractMap.SimpleEntry<>(from, PipelineFailures.failedEnvelope(d)));
        outbound.add(stored(conv, PipelineFailures.failedEnvelope(d)));
        continue;
      }
      for (Map.Entry<String, Long> m : members.joinedSeq().entrySet()) {
        if (m.getValue() < seq) {
          deliveries.add(
              new AbstractMap.SimpleEntry<>(
                  m.getKey(),
                  new JsonObject().put(Envelopes.TYPE, Envelopes.MESSAGE).put("message", message)));
        }
      }
      outbound.addAll(outbound(d, message, members));
      outbound.add(
          stored(
              conv,
              new JsonObject().put(Envelopes.TYPE, Envelopes.MESSAGE).put("message", message)));
    }
    return deliver(deliveries).compose(v -> Future.all(outbound)).mapEmpty();
  }

  /**
   * Records for the channel connectors, one per recipient and channel: a contact is reached on the
   * channel they came from without the sender naming it; {@code channels} on the send adds other
   * linked channels of the recipients. Keyed by recipient, so one recipient's records keep their
   * order.
   */
  private List<Future<?>> outbound(JsonObject doc, JsonObject message, Members members) {
    JsonArray requested = doc.getJsonArray("target_channels", new JsonArray());
    boolean all = requested.contains("all");
    List<Future<?>> sends = new ArrayList<>();
    for (Object uid : doc.getJsonArray("to_user_ids")) {
      Map<String, String> linked = members.channels().getOrDefault((String) uid, Map.of());
      Set<String> reachedOn = members.contactChannels().getOrDefault((String) uid, Set.of());
      for (Map.Entry<String, String> ch : linked.entrySet()) {
        if (all || requested.contains(ch.getKey()) || reachedOn.contains(ch.getKey())) {
          JsonObject record =
              new JsonObject()
                  .put("message", message)
                  .put("recipient_user_id", uid)
                  .put("channel", ch.getKey())
                  .put("channel_user_id", ch.getValue())
                  // for the stored→delivered latency
                  .put("stored_at", Wire.timestamp(Instant.now()));
          sends.add(
              producer.send(
                  KafkaProducerRecord.create(
                      config.topic(Topics.outbound(ch.getKey())), (String) uid, record.encode())));
        }
      }
    }
    return sends;
  }

  /** What was applied, on {@code message.stored} (for consumers of stored facts: webhooks). */
  Future<Void> stored(String conv, JsonObject envelope) {
    return producer
        .send(
            KafkaProducerRecord.create(
                config.topic(Topics.MESSAGE_STORED), conv, envelope.encode()))
        .mapEmpty();
  }

  /** Each status event of a receipt once (the author's and the reader's copy are one event). */
  Future<Void> storedStatuses(List<Map.Entry<String, JsonObject>> events) {
    Set<JsonObject> once = java.util.Collections.newSetFromMap(new java.util.IdentityHashMap<>());
    List<Future<?>> sends = new ArrayList<>();
    for (Map.Entry<String, JsonObject> e : events) {
      if (once.add(e.getValue())) {
        sends.add(stored(e.getValue().getString("conversation_id"), e.getValue()));
      }
    }
    return Future.all(sends).mapEmpty();
  }

  /**
   * Appends each envelope to its user's feed (a message once per feed, however often it is routed),
   * then publishes it (with the cursor) live.
   */
  Future<Void> deliver(List<Map.Entry<String, JsonObject>> deliveries) {
    return feed.append(deliveries)
        .map(
            cursors -> {
              // one message object per message, whose encoding its recipients' frames share
              Map<JsonObject, JsonObject> shared = new java.util.IdentityHashMap<>();
              for (int i = 0; i < deliveries.size(); i++) {
                // shallow: the message inside is shared by the recipients' envelopes, and is
                // handed to this node's consumers as is (encoded for other nodes): nothing
                // changes an envelope or its message once published
                JsonObject envelope =
                    new JsonObject(
                            new java.util.LinkedHashMap<>(deliveries.get(i).getValue().getMap()))
                        .put(Envelopes.CURSOR, cursors.get(i));
                if (envelope.getValue("message") instanceof JsonObject message) {
                  envelope.put("message", shared.computeIfAbsent(message, EncodedOnce::of));
                }
                vertx
                    .eventBus()
                    .publish(
                        Addresses.user(deliveries.get(i).getKey()),
                        envelope,
                        SharedJsonCodec.options());
              }
              return null;
            });
  }

  /** Status events of receipts: to the feeds and live, then on {@code message.stored}. */
  Future<Void> announce(List<Map.Entry<String, JsonObject>> events) {
    return deliver(events).compose(v -> storedStatuses(events));
  }
}
