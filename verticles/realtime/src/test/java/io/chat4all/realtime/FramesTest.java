package io.chat4all.realtime;

import static org.assertj.core.api.Assertions.assertThat;

import io.chat4all.codecs.EncodedOnce;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * {@link Frames}: an envelope's frame says what {@link JsonObject#encode} says, field for field and
 * in order, whether its message was encoded for an earlier frame or not; and {@link Cursors} reads
 * exactly the cursors the feed hands out.
 */
class FramesTest {
  static JsonObject message(String text) {
    return new JsonObject()
        .put("message_id", "m-1")
        .put("conversation_id", "c-1")
        .put("sequence_number", 7L)
        .put("payload", new JsonObject().put("type", "text").put("text", text))
        .put("to_user_ids", new JsonArray().add("u-2").add("u-3"))
        .put("edited", false)
        .put("file", null);
  }

  static JsonObject envelope(JsonObject message, String cursor) {
    // as the pipeline builds them: a shallow map per recipient around one message
    return new JsonObject(new LinkedHashMap<>(Map.of()))
        .put("type", "message")
        .put("message", message)
        .put("cursor", cursor);
  }

  @Test
  void aFrameIsTheEnvelopesJsonForEveryRecipientOfOneMessage() {
    JsonObject plain = message("hello \"there\" \\ \n\t\u0001 é ✓");
    JsonObject shared = EncodedOnce.of(plain);
    for (String cursor : new String[] {"MTAtMQ", "MTAtMg", "MTEtMA"}) {
      for (JsonObject m : new JsonObject[] {shared, plain}) {
        JsonObject envelope = envelope(m, cursor);
        String frame = Frames.envelope(envelope);
        assertThat(frame).isEqualTo(envelope.encode());
        assertThat(new JsonObject(frame)).isEqualTo(envelope);
      }
    }
  }

  @Test
  void aSharedMessageIsEncodedOnceAndStaysAPlainJsonObject() {
    JsonObject plain = message("one");
    JsonObject shared = EncodedOnce.of(plain);
    assertThat(EncodedOnce.of(shared)).isSameAs(shared);
    assertThat(shared).isEqualTo(plain).hasSameHashCodeAs(plain);
    assertThat(plain).isEqualTo(shared);
    assertThat(shared.getClass()).isEqualTo(JsonObject.class);
    String first = EncodedOnce.encode(shared);
    assertThat(EncodedOnce.encode(shared)).isSameAs(first).isEqualTo(plain.encode());
    // a plain object is encoded each time: a change shows
    assertThat(EncodedOnce.encode(plain)).isNotSameAs(EncodedOnce.encode(plain));
    plain.put("edited", true);
    assertThat(EncodedOnce.encode(plain)).contains("\"edited\":true");
    assertThat(new JsonObject(Frames.envelope(envelope(shared, "MTAtMQ"))).getJsonObject("message"))
        .isEqualTo(message("one"));
  }

  @Test
  void framesWithoutAMessageAndOtherFieldsAreWrittenAsJson() {
    JsonObject status =
        new JsonObject()
            .put("type", "status")
            .put("cursor", "MTAtMQ")
            .put("status", new JsonObject().put("event", "READ").put("sequence_number", 3));
    assertThat(Frames.envelope(status)).isEqualTo(status.encode());
    JsonObject odd =
        new JsonObject()
            .put("type", "message")
            .put("message", message("x"))
            .put("n", 1.5)
            .put("flag", true)
            .put("none", null)
            .put("list", new JsonArray().add(1).add("two"));
    assertThat(new JsonObject(Frames.envelope(odd))).isEqualTo(odd);
    assertThat(Frames.envelope(odd)).isEqualTo(odd.encode());
  }

  static String cursor(String id) {
    return Base64.getUrlEncoder()
        .withoutPadding()
        .encodeToString(id.getBytes(StandardCharsets.UTF_8));
  }

  @Test
  void cursorsAreReadAsStreamIdsAndNothingElse() {
    assertThat(Cursors.parse(cursor("1733300000000-0"))).containsExactly(1733300000000L, 0L);
    assertThat(Cursors.parse(cursor("18446744073709551615-12")))
        .containsExactly(-1L, 12L); // the largest unsigned id
    for (String bad :
        new String[] {
          "",
          "-",
          "1-",
          "-1",
          "1-2-3",
          "1--2",
          "a-1",
          "1-b",
          " 1-2",
          "1-2 ",
          "+1-2",
          "1-+2",
          "18446744073709551616-0",
          "123456789012345678901-0",
          "0-123456789012345678901",
          "1_2"
        }) {
      assertThat(Cursors.parse(cursor(bad))).as(bad).isNull();
    }
    assertThat(Cursors.parse(null)).isNull();
    assertThat(Cursors.parse("not base64!")).isNull();
    assertThat(Cursors.parse("A".repeat(65))).isNull();
    assertThat(Cursors.compare(Cursors.parse(cursor("10-2")), Cursors.parse(cursor("9-30"))))
        .isPositive();
    assertThat(Cursors.compare(Cursors.parse(cursor("10-2")), Cursors.parse(cursor("10-10"))))
        .isNegative();
  }
}
