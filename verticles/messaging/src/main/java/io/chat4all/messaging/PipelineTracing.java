package io.chat4all.messaging;

import io.chat4all.codecs.Tracing;
import io.chat4all.web.obs.Meters;
import io.opentelemetry.api.trace.SpanContext;
import io.opentelemetry.api.trace.SpanKind;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.kafka.client.consumer.KafkaConsumerRecord;
import io.vertx.kafka.client.producer.KafkaHeader;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

/**
 * The pipeline's spans and meters: one {@code pipeline process} span per conversation and batch,
 * child of the send's trace (its record's {@code traceparent} header; the batch's other records
 * become links), a span per MongoDB write, and the processed / send→stored meters.
 */
final class PipelineTracing {
  private PipelineTracing() {}

  static Future<Void> process(
      Vertx vertx,
      String conv,
      List<KafkaConsumerRecord<String, String>> records,
      PipelineFailures.Apply apply) {
    if (!Tracing.enabled(vertx)) {
      return apply.apply(conv, records);
    }
    List<SpanContext> parents = new ArrayList<>();
    for (KafkaConsumerRecord<String, String> r : records) {
      SpanContext parent = Tracing.remoteParent(vertx, key -> header(r, key));
      if (parent != null) {
        parents.add(parent);
      }
    }
    return Tracing.inNewSpan(
        vertx,
        "pipeline process",
        SpanKind.CONSUMER,
        parents.isEmpty() ? null : parents.get(0),
        parents,
        Map.of(
            "chat4all.conversation_id",
            conv,
            "messaging.batch.message_count",
            Integer.toString(records.size())),
        () -> apply.apply(conv, records));
  }

  /** A MongoDB write as a child span of the current one. */
  static Future<Void> write(Vertx vertx, String collection, Supplier<Future<Void>> write) {
    return Tracing.child(
        vertx,
        "mongodb insert " + collection,
        SpanKind.CLIENT,
        Map.of("db.system", "mongodb", "db.collection.name", collection),
        write);
  }

  /** Counts the newly stored messages and their send→stored time. */
  static void stored(List<JsonObject> newDocs) {
    Instant now = Instant.now();
    for (JsonObject d : newDocs) {
      Duration latency = null;
      try {
        latency = Duration.between(Instant.parse(d.getString("created_at")), now);
      } catch (RuntimeException unparsable) {
        // no latency for a message without a readable created_at
      }
      Meters.processed(d.getString("source_channel"), latency);
    }
  }

  static String sourceChannel(String rawValue) {
    try {
      return new JsonObject(rawValue).getString("source_channel");
    } catch (RuntimeException e) {
      return null;
    }
  }

  private static String header(KafkaConsumerRecord<String, String> r, String key) {
    List<KafkaHeader> headers = r.headers();
    if (headers == null) {
      return null;
    }
    for (KafkaHeader h : headers) {
      if (key.equals(h.key()) && h.value() != null) {
        return h.value().toString();
      }
    }
    return null;
  }
}
