package io.chat4all.channels.delivery;

import io.vertx.core.json.JsonObject;
import io.vertx.kafka.client.common.TopicPartition;
import java.util.List;

/**
 * One outbound record being delivered: which message to which recipient on which channel, and where
 * it sits in Kafka (its offset is committed only once it is done).
 */
final class Item {
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
