package io.chat4all.channels.host;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The gauge {@code chat4all.plugins.state} (tags {@code channel}, {@code state}): how many jars of
 * the channel are in that state on this node (so {@code state="active"} is 1 while the channel is
 * served). A (channel, state) pair seen once stays registered and drops to 0.
 */
final class PluginMetrics {
  static final String GAUGE = "chat4all.plugins.state";
  private final MeterRegistry registry;
  private final Map<List<String>, AtomicInteger> values = new ConcurrentHashMap<>();

  PluginMetrics(MeterRegistry registry) {
    this.registry = registry;
  }

  void update(Collection<PluginRecord> records) {
    Map<List<String>, Integer> counts = new HashMap<>();
    for (PluginRecord r : records) {
      String channel = r.channel() == null ? "unknown" : r.channel();
      counts.merge(List.of(channel, r.state.wireName()), 1, Integer::sum);
    }
    values.forEach((k, v) -> v.set(counts.getOrDefault(k, 0)));
    counts.forEach(
        (k, n) ->
            values
                .computeIfAbsent(
                    k,
                    key -> {
                      AtomicInteger holder = new AtomicInteger();
                      if (registry != null) {
                        Gauge.builder(GAUGE, holder, AtomicInteger::get)
                            .description("connector jars per channel and lifecycle state")
                            .tag("channel", key.get(0))
                            .tag("state", key.get(1))
                            .register(registry);
                      }
                      return holder;
                    })
                .set(n));
  }
}
