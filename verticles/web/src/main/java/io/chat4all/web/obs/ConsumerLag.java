package io.chat4all.web.obs;

import io.micrometer.core.instrument.MultiGauge;
import io.micrometer.core.instrument.Tags;
import io.vertx.core.Vertx;
import io.vertx.kafka.client.consumer.KafkaConsumer;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.kafka.common.Metric;
import org.apache.kafka.common.MetricName;

/**
 * The gauge {@code chat4all_consumer_lag{group, topic, partition}}: records behind the end of each
 * partition a consumer of this node reads (the Kafka client's own {@code records-lag}), refreshed
 * every few seconds; partitions the consumer no longer reads drop out.
 */
public final class ConsumerLag {
  static final long EVERY_MS = 5_000;
  private final MultiGauge gauge;
  private final String group;
  private final KafkaConsumer<?, ?> consumer;

  private ConsumerLag(String group, KafkaConsumer<?, ?> consumer) {
    this.group = group;
    this.consumer = consumer;
    this.gauge =
        MultiGauge.builder(Meters.CONSUMER_LAG)
            .description("Records a consumer group of this node has not read yet, per partition")
            .baseUnit("records")
            .register(Meters.registry());
  }

  /** Watches {@code consumer} (named {@code group} on the gauge); returns the timer id. */
  public static long watch(Vertx vertx, String group, KafkaConsumer<?, ?> consumer) {
    ConsumerLag lag = new ConsumerLag(group, consumer);
    return vertx.setPeriodic(EVERY_MS / 5, EVERY_MS, t -> lag.refresh());
  }

  void refresh() {
    Map<MetricName, ? extends Metric> metrics;
    try {
      metrics = consumer.asStream().unwrap().metrics();
    } catch (RuntimeException closed) {
      return;
    }
    List<MultiGauge.Row<?>> rows = new ArrayList<>();
    for (Map.Entry<MetricName, ? extends Metric> e : metrics.entrySet()) {
      MetricName n = e.getKey();
      if (!"records-lag".equals(n.name())
          || !"consumer-fetch-manager-metrics".equals(n.group())
          || n.tags().get("partition") == null) {
        continue;
      }
      Object v = e.getValue().metricValue();
      if (v instanceof Number num && !Double.isNaN(num.doubleValue())) {
        rows.add(
            MultiGauge.Row.of(
                Tags.of(
                    "group", group,
                    "topic", n.tags().get("topic"),
                    "partition", n.tags().get("partition")),
                num.doubleValue()));
      }
    }
    gauge.register(rows, true);
  }
}
