package io.chat4all.channel.meta;

import static org.assertj.core.api.Assertions.assertThat;

import io.chat4all.channel.spi.ErrorClass;
import io.chat4all.channel.spi.Signatures;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

class MetaGraphLibTest {
  private static JsonObject err(int code, Integer sub) {
    JsonObject e = new JsonObject().put("code", code).put("message", "m");
    if (sub != null) {
      e.put("error_subcode", sub);
    }
    return new JsonObject().put("error", e);
  }

  @Test
  void classifiesByCodeNotStatus() {
    for (int c : new int[] {4, 17, 32, 613, 80007, 130429, 131048, 131056}) {
      assertThat(GraphErrors.classify(400, err(c, null)).errorClass())
          .isEqualTo(ErrorClass.THROTTLED);
    }
    assertThat(GraphErrors.classify(401, err(190, null)).errorClass()).isEqualTo(ErrorClass.AUTH);
    assertThat(GraphErrors.classify(400, err(10, 2018278)).errorClass())
        .isEqualTo(ErrorClass.WINDOW_CLOSED);
    assertThat(GraphErrors.classify(400, err(131047, null)).errorClass())
        .isEqualTo(ErrorClass.WINDOW_CLOSED);
    assertThat(GraphErrors.classify(400, err(551, null)).errorClass())
        .isEqualTo(ErrorClass.RECIPIENT_UNAVAILABLE);
    assertThat(GraphErrors.classify(400, err(131052, null)).errorClass())
        .isEqualTo(ErrorClass.MEDIA_REJECTED);
    // WhatsApp Cloud API codes
    for (int c : new int[] {130429, 131056, 80007, 4, 131048, 133016}) {
      assertThat(GraphErrors.classify(400, err(c, null)).errorClass())
          .isEqualTo(ErrorClass.THROTTLED);
    }
    assertThat(GraphErrors.classify(400, err(131053, null)).errorClass())
        .isEqualTo(ErrorClass.RETRYABLE);
    for (int c : new int[] {100, 368, 131051, 132000}) {
      assertThat(GraphErrors.classify(400, err(c, null)).errorClass())
          .isEqualTo(ErrorClass.PERMANENT);
    }
    assertThat(GraphErrors.errorClass(131047)).isEqualTo(ErrorClass.WINDOW_CLOSED);
    assertThat(GraphErrors.classify(429, null).errorClass()).isEqualTo(ErrorClass.THROTTLED);
    assertThat(GraphErrors.classify(401, null).errorClass()).isEqualTo(ErrorClass.AUTH);
    JsonObject detailed = err(131047, null);
    detailed
        .getJsonObject("error")
        .put("error_data", new JsonObject().put("details", "more than 24 hours"))
        .put("fbtrace_id", "Atr4");
    assertThat(GraphErrors.classify(400, detailed).getMessage())
        .contains("more than 24 hours")
        .contains("Atr4");
    assertThat(GraphErrors.classify(500, err(2, null)).errorClass())
        .isEqualTo(ErrorClass.RETRYABLE);
    assertThat(GraphErrors.classify(400, err(100, null)).errorClass())
        .isEqualTo(ErrorClass.PERMANENT);
    assertThat(GraphErrors.classify(400, err(10, 2018278)).providerCode()).isEqualTo("10/2018278");
    assertThat(GraphErrors.classify(503, null).errorClass()).isEqualTo(ErrorClass.RETRYABLE);
  }

  @Test
  void signatureUsesRawBytes() {
    Buffer raw = Buffer.buffer("{\"a\": 1}");
    String sig = "sha256=" + Signatures.hmacSha256Hex("secret", raw);
    assertThat(MetaWebhooks.signatureValid("secret", sig, raw)).isTrue();
    assertThat(MetaWebhooks.signatureValid("secret", sig, Buffer.buffer("{\"a\":1}"))).isFalse();
    assertThat(MetaWebhooks.signatureValid("other", sig, raw)).isFalse();
    assertThat(MetaWebhooks.signatureValid("secret", null, raw)).isFalse();
  }

  @Test
  void handshake() {
    assertThat(MetaWebhooks.handshake("vt", "subscribe", "vt", "123").status()).isEqualTo(200);
    assertThat(MetaWebhooks.handshake("vt", "subscribe", "vt", "123").body()).isEqualTo("123");
    assertThat(MetaWebhooks.handshake("vt", "subscribe", "no", "123").status()).isEqualTo(403);
    assertThat(MetaWebhooks.handshake("", "subscribe", "", "123").status()).isEqualTo(403);
  }
}
