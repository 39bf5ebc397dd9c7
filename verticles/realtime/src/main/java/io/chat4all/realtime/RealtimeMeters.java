package io.chat4all.realtime;

import io.chat4all.codecs.Tracing;
import io.chat4all.web.obs.Meters;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.opentelemetry.api.trace.SpanKind;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The gateway's meters and span: {@code chat4all_sockets_active{kind}} (open {@code websocket} and
 * {@code sockjs} sockets on this node), {@code chat4all_presence_online} (users online across the
 * cluster, read from Redis every 15 s) and the {@code live push} span (WebSocket or gRPC subscribe)
 * around a live envelope handed to a socket.
 */
final class RealtimeMeters {
  static final String WEBSOCKET = "websocket";
  static final String SOCKJS = "sockjs";
  private static final Map<String, AtomicLong> SOCKETS = new ConcurrentHashMap<>();
  private static final AtomicLong ONLINE = new AtomicLong();
  private static final long PRESENCE_EVERY_MS = 15_000;
  static final String GAP_READS = "chat4all.feed.gap_reads";

  static {
    SOCKETS.put(WEBSOCKET, new AtomicLong());
    SOCKETS.put(SOCKJS, new AtomicLong());
  }

  private RealtimeMeters() {}

  private static AtomicLong socket(String kind) {
    return SOCKETS.computeIfAbsent(kind, k -> new AtomicLong());
  }

  /** Registers the gauges with the node's registry (each node start: the registry may be new). */
  static void register(Vertx vertx, Presence presence) {
    SOCKETS.forEach(
        (kind, n) ->
            Gauge.builder(Meters.SOCKETS_ACTIVE, n, AtomicLong::get)
                .description("Open real-time sockets on this node by kind")
                .tag("kind", kind)
                .strongReference(true)
                .register(Meters.registry()));
    Gauge.builder(Meters.PRESENCE_ONLINE, ONLINE, AtomicLong::get)
        .description("Users online across the cluster (with a live socket on some node)")
        .strongReference(true)
        .register(Meters.registry());
    if (presence != null) {
      watchPresence(vertx, presence);
    }
  }

  /** A subscriber read its feed's messages for entries whose live envelope had not come. */
  static void gapRead() {
    Counter.builder(GAP_READS)
        .description(
            "Reads of a subscriber's feed with its messages, for entries whose live envelope had"
                + " not come within realtime.gap_grace_ms")
        .register(Meters.registry())
        .increment();
  }

  static void opened(String kind) {
    socket(kind).incrementAndGet();
  }

  static void closed(String kind) {
    socket(kind).updateAndGet(n -> Math.max(0, n - 1));
  }

  /** Runs the live push in a span, child of the event-bus delivery of the envelope. */
  static void pushed(Vertx vertx, Runnable push) {
    Tracing.child(
        vertx,
        "live push",
        SpanKind.PRODUCER,
        Map.of(),
        () -> {
          push.run();
          return Future.succeededFuture();
        });
  }

  private static void watchPresence(Vertx vertx, Presence presence) {
    Runnable read =
        () ->
            presence
                .onlineCount()
                .onSuccess(ONLINE::set)
                .onFailure(
                    e -> {
                      /* kept */
                    });
    vertx.setPeriodic(1000, PRESENCE_EVERY_MS, t -> read.run());
  }
}
