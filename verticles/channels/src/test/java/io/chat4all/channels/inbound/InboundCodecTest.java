package io.chat4all.channels.inbound;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.chat4all.channel.spi.ErrorClass;
import io.chat4all.channel.spi.InboundEvent;
import io.chat4all.channel.spi.InboundMedia;
import io.chat4all.channel.spi.MediaKind;
import io.vertx.core.json.JsonObject;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Inbound events survive the trip through channel.inbound unchanged. */
class InboundCodecTest {
  static final Instant NOW = Instant.parse("2026-01-02T03:04:05Z");

  @Test
  void messagesReceiptsWatermarksAndDeletionsRoundTrip() {
    List<InboundEvent> events =
        List.of(
            new InboundEvent.Message(
                "42",
                "7:9",
                "7",
                "7",
                "Ann Lee",
                "ann",
                "hi",
                List.of(new InboundMedia(MediaKind.IMAGE, "f1", "p.jpg", "image/jpeg", 123)),
                "7:3",
                NOW,
                null),
            new InboundEvent.Receipt(
                "r1",
                "mid.1",
                InboundEvent.Status.FAILED,
                "psid",
                ErrorClass.WINDOW_CLOSED,
                "131047",
                NOW),
            new InboundEvent.Watermark("w1", "psid", InboundEvent.Status.READ, NOW),
            new InboundEvent.Deleted("d1", "m_del", "igsid", NOW));
    for (InboundEvent e : events) {
      JsonObject record = InboundCodec.encode("x", e, NOW);
      assertThat(record.getString("channel")).isEqualTo("x");
      assertThat(InboundCodec.decode(new JsonObject(record.encode()))).isEqualTo(e);
    }
    assertThat(InboundCodec.key("telegram", events.get(0))).isEqualTo("telegram:7");
    // a deletion shares the partition of its contact's messages (it must follow them)
    assertThat(InboundCodec.key("instagram", events.get(3))).isEqualTo("instagram:igsid");
  }

  @Test
  void echoesAndIgnoredEventsAreNotKeptAndUnknownKindsAreRefused() {
    assertThat(InboundCodec.encode("x", new InboundEvent.Echo("e", "m"), NOW)).isNull();
    assertThat(InboundCodec.encode("x", new InboundEvent.Ignored("i", "edit"), NOW)).isNull();
    assertThatThrownBy(() -> InboundCodec.decode(new JsonObject().put("kind", "other")))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void inboundMessageIdsAreStablePerEventAndPart() {
    assertThat(InboundProcessor.messageId("telegram", "42", 0))
        .isEqualTo(InboundProcessor.messageId("telegram", "42", 0))
        .isNotEqualTo(InboundProcessor.messageId("telegram", "42", 1))
        .isNotEqualTo(InboundProcessor.messageId("telegram", "43", 0))
        .isNotEqualTo(InboundProcessor.messageId("whatsapp", "42", 0));
  }
}
