package io.chat4all.channels.delivery;

import io.chat4all.codecs.Topics;
import io.chat4all.codecs.Wire;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.kafka.client.producer.KafkaProducer;
import io.vertx.kafka.client.producer.KafkaProducerRecord;
import java.time.Instant;
import java.util.List;

/**
 * The outcome of a channel delivery as the message pipeline applies it: a record on {@code
 * message.delivered} (or {@code message.read}) keyed by conversation, like a client's mark, plus
 * the channel and the provider's id(s), so the message's {@code channel_delivery.<channel>} and the
 * recipient's status move and the sender sees it live and in history. Given-up sends also go to the
 * channel's dead-letter topic.
 */
public final class StatusRecords {
  private final KafkaProducer<String, String> producer;
  private final String topicPrefix;

  public StatusRecords(KafkaProducer<String, String> producer, String topicPrefix) {
    this.producer = producer;
    this.topicPrefix = topicPrefix == null ? "" : topicPrefix;
  }

  /**
   * A status of {@code message} (its API view: message_id, conversation_id, sequence_number) for
   * {@code userId} on {@code channel}.
   */
  public static JsonObject status(
      JsonObject message, String userId, String channel, String status, Instant at) {
    return new JsonObject()
        .put("message_id", message.getString("message_id"))
        .put("conversation_id", message.getString("conversation_id"))
        .put("sequence_number", message.getLong("sequence_number"))
        .put("user_id", userId)
        .put("status", status)
        .put("at", Wire.timestamp(at))
        .put("channel", channel);
  }

  public Future<Void> sent(
      JsonObject message, String userId, String channel, List<String> providerIds, Instant at) {
    return produce(
        Topics.MESSAGE_DELIVERED,
        status(message, userId, channel, "sent", at)
            .put("external_message_id", providerIds.get(0))
            .put("external_message_ids", new JsonArray(providerIds)));
  }

  /** {@code failure}: {reason, error_class, provider_code, error, attempts}. */
  public Future<Void> failed(
      JsonObject message, String userId, String channel, JsonObject failure, Instant at) {
    return produce(
        Topics.MESSAGE_DELIVERED,
        status(message, userId, channel, "failed", at)
            .put("reason", failure.getString("reason"))
            .put("provider_code", failure.getString("provider_code")));
  }

  /** A provider receipt ({@code delivered} or {@code read}) of an outbound message. */
  public Future<Void> receipt(JsonObject status) {
    return produce(
        "read".equals(status.getString("status")) ? Topics.MESSAGE_READ : Topics.MESSAGE_DELIVERED,
        status);
  }

  /** The original outbound record plus why it was given up, on the channel's dead-letter topic. */
  public Future<Void> deadLetter(
      String channel, String key, JsonObject record, JsonObject failure) {
    return producer
        .send(
            KafkaProducerRecord.create(
                Topics.name(topicPrefix, Topics.deadLetter(channel)),
                key,
                record.copy().put("failure", failure).encode()))
        .mapEmpty();
  }

  private Future<Void> produce(String topic, JsonObject status) {
    return producer
        .send(
            KafkaProducerRecord.create(
                Topics.name(topicPrefix, topic),
                status.getString("conversation_id"),
                status.encode()))
        .mapEmpty();
  }
}
