package io.chat4all.channels.delivery;

import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.kafka.client.common.TopicPartition;
import io.vertx.kafka.client.consumer.KafkaConsumerRecord;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One outbound record being delivered: which message to which recipient on which channel, and where
 * it sits in Kafka (its offset is committed only once it is done).
 */
final class Item {
  private static final Logger LOG = LoggerFactory.getLogger(DeliveryVerticle.class);

  final TopicPartition partition;
  final long offset;
  final String recordKey;
  final JsonObject record;
  final String channel;
  final JsonObject message;
  final String recipient;
  final String channelUserId;

  /** The trace of the send (its record's traceparent), or null. */
  io.opentelemetry.api.trace.SpanContext trace;

  /** The partition's state it was read into (its offset is marked done there). */
  PartitionState state;

  /** The provider ids once the provider accepted it (the remaining steps then only record it). */
  List<String> sentIds;

  /**
   * The item of an outbound record of {@code channel} (the topic's), with its send's trace; null
   * (logged) for a record that is not JSON or lacks the message, recipient or channel id.
   */
  static Item from(
      Vertx vertx, KafkaConsumerRecord<String, String> r, TopicPartition tp, String channel) {
    JsonObject value;
    try {
      value = new JsonObject(r.value());
    } catch (RuntimeException e) {
      LOG.warn(
          "dropping a malformed outbound record at {}-{}@{}", r.topic(), r.partition(), r.offset());
      return null;
    }
    Item item = new Item(tp, r.offset(), r.key(), value, channel);
    item.trace = DeliveryTracing.parent(vertx, r);
    if (channel == null || !item.valid()) {
      LOG.warn(
          "dropping an outbound record without message, recipient or channel id at {}-{}@{}",
          r.topic(),
          r.partition(),
          r.offset());
      return null;
    }
    return item;
  }

  Item(TopicPartition partition, long offset, String recordKey, JsonObject record, String channel) {
    this.partition = partition;
    this.offset = offset;
    this.recordKey = recordKey;
    this.record = record;
    this.channel = channel;
    this.message = record.getJsonObject("message");
    this.recipient = record.getString("recipient_user_id");
    this.channelUserId = record.getString("channel_user_id");
  }

  /** Whether the record has what a send needs. */
  boolean valid() {
    return message != null
        && message.getString("message_id") != null
        && message.getString("conversation_id") != null
        && message.getValue("sequence_number") instanceof Number
        && recipient != null
        && channelUserId != null;
  }

  String messageId() {
    return message.getString("message_id");
  }

  String storeKey() {
    return DeliveryStore.key(channel, messageId(), recipient);
  }
}
