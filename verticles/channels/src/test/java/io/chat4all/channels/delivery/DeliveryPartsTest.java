package io.chat4all.channels.delivery;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.chat4all.channel.spi.ConnectorException;
import io.chat4all.channel.spi.ErrorClass;
import io.chat4all.channels.ConnectorGoneException;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** The pure parts of delivery: offsets, backoff, configuration, what the breaker counts. */
class DeliveryPartsTest {

  @Test
  void anOffsetIsCommittableOnlyWhenEverythingBeforeItIsDone() {
    PartitionState ps = new PartitionState();
    assertThat(ps.committable()).isEqualTo(-1);
    ps.track(10);
    ps.track(11);
    ps.track(12);
    assertThat(ps.committable()).isEqualTo(10);
    ps.done(11); // a later record finished first (another recipient): still 10
    assertThat(ps.committable()).isEqualTo(10);
    ps.done(10);
    assertThat(ps.committable()).isEqualTo(12);
    ps.committed(12);
    assertThat(ps.committable()).isEqualTo(-1);
    ps.done(12);
    assertThat(ps.committable()).isEqualTo(13);
  }

  static DeliveryConfig config(JsonObject delivery) {
    return DeliveryConfig.from(
        new JsonObject()
            .put("delivery", delivery)
            .put("whatsapp", new JsonObject().put("enabled", false)),
        "t1.",
        "localhost:9092",
        "p:");
  }

  @Test
  void backoffGrowsWithJitterUpToTheMaxAndNeverUndercutsRetryAfter() {
    DeliveryConfig c =
        config(new JsonObject().put("backoff_base_ms", 100).put("backoff_max_ms", 1000));
    Sender s =
        new Sender(c, null, null, null, null, null, "me", new DeliveryMetrics(), (ch, u) -> true);
    for (int i = 0; i < 200; i++) {
      assertThat(s.delay(1, null)).isBetween(50L, 100L);
      assertThat(s.delay(3, null)).isBetween(200L, 400L);
      assertThat(s.delay(30, null)).isBetween(500L, 1000L);
      assertThat(s.delay(1, Duration.ofSeconds(3))).isBetween(3000L, 3100L);
    }
  }

  @Test
  void configurationNamesTheBadKeyAndTellsChannelsFromTopics() {
    DeliveryConfig c = config(new JsonObject());
    assertThat(c.disabled()).containsExactly("whatsapp");
    assertThat(c.channelOf("t1.message.outbound.telegram")).isEqualTo("telegram");
    assertThat(c.channelOf("t1.message.outbound.telegram.dlq")).isNull();
    assertThat(c.channelOf("t1.message.sent")).isNull();
    assertThatThrownBy(() -> config(new JsonObject().put("max_attempts", 0)))
        .hasMessageContaining("channels.delivery.max_attempts");
    assertThatThrownBy(
            () -> config(new JsonObject().put("backoff_base_ms", 500).put("backoff_max_ms", 10)))
        .hasMessageContaining("channels.delivery.backoff_max_ms");
    assertThatThrownBy(
            () -> config(new JsonObject().put("send_timeout_ms", 5000).put("lease_ms", 5000)))
        .hasMessageContaining("channels.delivery.lease_ms");
  }

  @Test
  void theBreakerCountsOnlyTransientProviderFailures() {
    BreakerPolicy p = BreakerPolicy.INSTANCE;
    assertThat(p.test(Future.succeededFuture())).isFalse();
    assertThat(p.test(Future.failedFuture(new IllegalStateException("connection reset")))).isTrue();
    assertThat(p.test(Future.failedFuture(ConnectorException.of(ErrorClass.RETRYABLE, "502", "x"))))
        .isTrue();
    assertThat(
            p.test(
                Future.failedFuture(
                    ConnectorException.throttled("429", Duration.ofSeconds(1), "slow down"))))
        .isFalse();
    assertThat(
            p.test(
                Future.failedFuture(
                    ConnectorException.of(ErrorClass.RECIPIENT_UNAVAILABLE, "403", "blocked"))))
        .isFalse();
    assertThat(p.test(Future.failedFuture(new ConnectorGoneException("telegram", "1")))).isFalse();
  }
}
