package io.chat4all.channels.inbound;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.chat4all.channels.delivery.DeliveryConfig;
import io.chat4all.channels.identity.IdentityConfig;
import io.vertx.core.json.JsonObject;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;

/**
 * The {@code channels} settings (inbound, delivery, verification) are each read as a whole number
 * in its range, a name or a section, or refused naming the key — never a {@code
 * ClassCastException}, a truncated fraction or a wrapped number.
 */
class InboundConfigTest {
  static final Object[] NOT_WHOLE = {
    1.5,
    "soon",
    "",
    "12\u0000",
    false,
    Long.MAX_VALUE,
    1e300,
    "99999999999999999999",
    new JsonObject()
  };

  static InboundConfig with(Object stall) {
    JsonObject inbound = new JsonObject();
    if (stall != null) {
      inbound.put("media_stall_timeout_ms", stall);
    }
    return inbound(new JsonObject().put("inbound", inbound));
  }

  static InboundConfig inbound(JsonObject channels) {
    return InboundConfig.from(channels, 4000, "", "127.0.0.1:9092", "");
  }

  static DeliveryConfig delivery(JsonObject channels) {
    return DeliveryConfig.from(channels, "", "127.0.0.1:9092", "");
  }

  @Test
  void theStallTimeoutIsAWholeNumberFrom100MsToAnHour() {
    assertThat(with(null).mediaStallTimeoutMs()).isEqualTo(30_000L);
    assertThat(with(100).mediaStallTimeoutMs()).isEqualTo(100L);
    assertThat(with("45000").mediaStallTimeoutMs()).isEqualTo(45_000L);
    assertThat(with(3_600_000L).mediaStallTimeoutMs()).isEqualTo(3_600_000L);
    for (Object bad : new Object[] {99, 3_600_001, -1, 0}) {
      refused(() -> with(bad), bad, "channels.inbound.media_stall_timeout_ms");
    }
    for (Object bad : NOT_WHOLE) {
      refused(() -> with(bad), bad, "channels.inbound.media_stall_timeout_ms");
    }
  }

  @Test
  void everyInboundSettingIsCheckedByName() {
    InboundConfig d = inbound(new JsonObject());
    assertThat(d.maxBodyBytes()).isEqualTo(1_048_576);
    assertThat(d.consumerGroup()).isEqualTo("chat4all-inbound");
    assertThat(d.dedupTtlSeconds()).isEqualTo(604_800);
    assertThat(d.claimTtlSeconds()).isEqualTo(120);
    assertThat(d.maxMediaBytes()).isEqualTo(20L << 20);
    InboundConfig t =
        inbound(
            new JsonObject()
                .put("webhook_max_body_bytes", "2048")
                .put(
                    "inbound",
                    new JsonObject()
                        .put("dedup_ttl_seconds", "3600")
                        .put("claim_ttl_seconds", 30.0)
                        .put("max_media_bytes", "1000")));
    assertThat(t.maxBodyBytes()).isEqualTo(2048);
    assertThat(t.dedupTtlSeconds()).isEqualTo(3600);
    assertThat(t.claimTtlSeconds()).isEqualTo(30);
    assertThat(t.maxMediaBytes()).isEqualTo(1000L);
    for (String key : new String[] {"dedup_ttl_seconds", "claim_ttl_seconds", "max_media_bytes"}) {
      for (Object bad : withOutOfRange(NOT_WHOLE, 0, -5)) {
        JsonObject channels = new JsonObject().put("inbound", new JsonObject().put(key, bad));
        refused(() -> inbound(channels), bad, "channels.inbound." + key);
      }
    }
    for (Object bad : withOutOfRange(NOT_WHOLE, 1023, 1L << 31)) {
      JsonObject channels = new JsonObject().put("webhook_max_body_bytes", bad);
      refused(() -> inbound(channels), bad, "channels.webhook_max_body_bytes");
    }
    for (Object bad : new Object[] {"", " ", 7, "in\nbound", "x".repeat(256)}) {
      JsonObject channels =
          new JsonObject().put("inbound", new JsonObject().put("consumer_group", bad));
      refused(() -> inbound(channels), bad, "channels.inbound.consumer_group");
    }
    refused(() -> inbound(new JsonObject().put("inbound", 5)), 5, "channels.inbound");
  }

  @Test
  void everyDeliverySettingIsCheckedByName() {
    DeliveryConfig d = delivery(new JsonObject());
    assertThat(d.maxAttempts()).isEqualTo(8);
    assertThat(d.mediaLinkTtlSeconds()).isEqualTo(3600);
    assertThat(
            delivery(new JsonObject().put("delivery", new JsonObject().put("max_in_flight", "4")))
                .maxInFlight())
        .isEqualTo(4);
    for (String key :
        new String[] {
          "max_attempts",
          "backoff_base_ms",
          "backoff_max_ms",
          "send_timeout_ms",
          "max_in_flight",
          "max_buffered_per_partition",
          "commit_interval_ms",
          "lease_ms",
          "media_link_ttl_seconds",
          "breaker_max_failures",
          "breaker_reset_timeout_ms"
        }) {
      for (Object bad : withOutOfRange(NOT_WHOLE, 0, -1)) {
        refused(
            () -> delivery(new JsonObject().put("delivery", new JsonObject().put(key, bad))),
            bad,
            "channels.delivery." + key);
      }
    }
    // past a presigned link's seven days, and an int overflow that used to wrap
    for (Object bad : new Object[] {59, 604_801, 4_294_970_896L}) {
      refused(
          () ->
              delivery(
                  new JsonObject()
                      .put("delivery", new JsonObject().put("media_link_ttl_seconds", bad))),
          bad,
          "channels.delivery.media_link_ttl_seconds");
    }
    refused(
        () ->
            delivery(
                new JsonObject()
                    .put("delivery", new JsonObject().put("consumer_group", "a\u0000"))),
        "a\\0",
        "channels.delivery.consumer_group");
    refused(() -> delivery(new JsonObject().put("delivery", "x")), "x", "channels.delivery");
  }

  @Test
  void everyVerificationSettingIsCheckedByName() {
    IdentityConfig d = IdentityConfig.from(new JsonObject());
    assertThat(d.codeTtlSeconds()).isEqualTo(600);
    assertThat(d.text()).isEqualTo(IdentityConfig.DEFAULT_TEXT);
    Consumer<JsonObject> from = v -> IdentityConfig.from(new JsonObject().put("verification", v));
    for (String key :
        new String[] {
          "code_ttl_seconds", "resend_interval_seconds", "max_attempts", "send_timeout_ms"
        }) {
      for (Object bad : withOutOfRange(NOT_WHOLE, -1, 1L << 40)) {
        refused(
            () -> from.accept(new JsonObject().put(key, bad)), bad, "channels.verification." + key);
      }
    }
    for (Object bad : new Object[] {7, "no code here", "{code}" + "x".repeat(1000)}) {
      refused(
          () -> from.accept(new JsonObject().put("text", bad)), bad, "channels.verification.text");
    }
  }

  static Object[] withOutOfRange(Object[] base, Object... more) {
    Object[] all = java.util.Arrays.copyOf(base, base.length + more.length);
    System.arraycopy(more, 0, all, base.length, more.length);
    return all;
  }

  static void refused(
      org.assertj.core.api.ThrowableAssert.ThrowingCallable call, Object bad, String key) {
    assertThatThrownBy(call)
        .as(key + " = " + bad)
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining(key);
  }
}
