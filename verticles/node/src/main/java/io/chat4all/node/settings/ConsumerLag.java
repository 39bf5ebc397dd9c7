package io.chat4all.node.settings;

import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.kafka.admin.KafkaAdminClient;
import io.vertx.kafka.admin.ListOffsetsResultInfo;
import io.vertx.kafka.admin.OffsetSpec;
import io.vertx.kafka.client.common.TopicPartition;
import io.vertx.kafka.client.consumer.OffsetAndMetadata;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The lag of the node's Kafka consumer groups (pipeline, outbound delivery, inbound, webhooks): per
 * partition with a committed offset, the log end minus the commit, from the Kafka admin client.
 */
public final class ConsumerLag {
  private final KafkaAdminClient admin;
  private final Map<String, String> groups;

  /**
   * @param groups role ({@code pipeline}, …) → the consumer group id (with the topic prefix)
   */
  public ConsumerLag(KafkaAdminClient admin, Map<String, String> groups) {
    this.admin = admin;
    this.groups = groups;
  }

  /**
   * {@code {groups: [{role, group_id, lag, partitions: [{topic, partition, committed, end,
   * lag}]}]}}.
   */
  public Future<JsonObject> describe() {
    List<Future<JsonObject>> each = new ArrayList<>();
    groups.forEach((role, group) -> each.add(group(role, group)));
    return Future.all(each)
        .map(
            x -> {
              JsonArray out = new JsonArray();
              each.forEach(f -> out.add(f.result()));
              return new JsonObject().put("groups", out);
            });
  }

  private Future<JsonObject> group(String role, String group) {
    return admin
        .listConsumerGroupOffsets(group)
        .compose(
            committed -> {
              Map<TopicPartition, OffsetSpec> ask = new HashMap<>();
              committed.keySet().forEach(tp -> ask.put(tp, OffsetSpec.LATEST));
              Future<Map<TopicPartition, ListOffsetsResultInfo>> ends =
                  ask.isEmpty() ? Future.succeededFuture(Map.of()) : admin.listOffsets(ask);
              return ends.map(end -> render(role, group, committed, end));
            });
  }

  private static JsonObject render(
      String role,
      String group,
      Map<TopicPartition, OffsetAndMetadata> committed,
      Map<TopicPartition, ListOffsetsResultInfo> end) {
    List<TopicPartition> tps = new ArrayList<>(committed.keySet());
    tps.sort(
        Comparator.comparing(TopicPartition::getTopic).thenComparing(TopicPartition::getPartition));
    JsonArray parts = new JsonArray();
    long total = 0;
    for (TopicPartition tp : tps) {
      long at = committed.get(tp).getOffset();
      ListOffsetsResultInfo e = end.get(tp);
      long last = e == null ? at : e.getOffset();
      long lag = Math.max(0, last - at);
      total += lag;
      parts.add(
          new JsonObject()
              .put("topic", tp.getTopic())
              .put("partition", tp.getPartition())
              .put("committed", at)
              .put("end", last)
              .put("lag", lag));
    }
    return new JsonObject()
        .put("role", role)
        .put("group_id", group)
        .put("lag", total)
        .put("partitions", parts);
  }
}
