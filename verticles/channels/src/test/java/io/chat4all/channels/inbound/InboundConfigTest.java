package io.chat4all.channels.inbound;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

/**
 * {@code channels.inbound.media_stall_timeout_ms} is read as a whole number in its range or refused
 * by name.
 */
class InboundConfigTest {
  static InboundConfig with(Object stall) {
    JsonObject inbound = new JsonObject();
    if (stall != null) {
      inbound.put("media_stall_timeout_ms", stall);
    }
    return InboundConfig.from(
        new JsonObject().put("inbound", inbound), 4000, "", "127.0.0.1:9092", "");
  }

  @Test
  void theStallTimeoutIsAWholeNumberFrom100MsToAnHour() {
    assertThat(with(null).mediaStallTimeoutMs()).isEqualTo(30_000L);
    assertThat(with(100).mediaStallTimeoutMs()).isEqualTo(100L);
    assertThat(with("45000").mediaStallTimeoutMs()).isEqualTo(45_000L);
    assertThat(with(3_600_000L).mediaStallTimeoutMs()).isEqualTo(3_600_000L);
    for (Object bad :
        new Object[] {
          99,
          3_600_001,
          -1,
          0,
          1.5,
          "soon",
          "",
          "12\u0000",
          false,
          Long.MAX_VALUE,
          1e300,
          "99999999999999999999",
          new JsonObject()
        }) {
      assertThatThrownBy(() -> with(bad))
          .as(String.valueOf(bad))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("channels.inbound.media_stall_timeout_ms");
    }
  }
}
