package io.chat4all.channels.inbound;

import io.chat4all.channel.spi.InboundEvent;
import io.chat4all.codecs.Topics;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.vertx.kafka.client.producer.KafkaProducer;
import io.vertx.kafka.client.producer.KafkaProducerRecord;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * Makes inbound events durable: one record per kept event on {@code channel.inbound} (idempotent
 * producer, {@code acks=all}); the future completes once Kafka has all of them. Whatever answers
 * the provider (the webhook) or moves a polling offset waits for it.
 */
final class InboundWriter {
  private final KafkaProducer<String, String> producer;
  private final String topic;

  InboundWriter(KafkaProducer<String, String> producer, String topicPrefix) {
    this.producer = producer;
    this.topic = Topics.name(topicPrefix, Topics.CHANNEL_INBOUND);
  }

  /** How many events were kept (echoes and ignored events are not). */
  Future<Integer> write(String channel, List<InboundEvent> events) {
    Instant now = Instant.now();
    List<Future<?>> sends = new ArrayList<>();
    for (InboundEvent e : events) {
      JsonObject record = InboundCodec.encode(channel, e, now);
      if (record != null) {
        sends.add(
            producer.send(
                KafkaProducerRecord.create(topic, InboundCodec.key(channel, e), record.encode())));
      }
    }
    return Future.all(sends).map(sends.size());
  }
}
