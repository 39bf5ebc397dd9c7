package io.chat4all.webhooks;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** The documented signature recipe, checked against an independently computed value. */
class SignaturesTest {
  static final byte[] BODY =
      "{\"id\":\"e1\",\"type\":\"ping\",\"created_at\":\"2025-01-15T10:00:00.000Z\",\"data\":{}}"
          .getBytes(StandardCharsets.UTF_8);

  @Test
  void theSignatureIsHmacSha256OfTimestampDotBodyInHex() {
    // printf '%s' '1736935200.<body>' | openssl dgst -sha256 -hmac whsec_test
    assertThat(Signatures.sign("whsec_test", 1736935200L, BODY))
        .isEqualTo("463a82cd2752e216a94d0cdac882dc591ff314e21de522a2f00adf44aa34bbad");
  }

  @Test
  void aHeaderWithTwoSecretsVerifiesWithEitherAndNothingElse() {
    String header = Signatures.header("whsec_new", "whsec_old", 1700000000L, BODY);
    assertThat(header).matches("v1=[0-9a-f]{64},v1=[0-9a-f]{64}");
    assertThat(Signatures.verify("whsec_new", header, 1700000000L, BODY)).isTrue();
    assertThat(Signatures.verify("whsec_old", header, 1700000000L, BODY)).isTrue();
    assertThat(Signatures.verify("whsec_other", header, 1700000000L, BODY)).isFalse();
    assertThat(Signatures.verify("whsec_new", header, 1700000001L, BODY)).isFalse();
    byte[] tampered = BODY.clone();
    tampered[10] ^= 1;
    assertThat(Signatures.verify("whsec_new", header, 1700000000L, tampered)).isFalse();
  }

  @Test
  void secretsAreRandomAndPrefixed() {
    String a = Signatures.newSecret();
    assertThat(a).startsWith("whsec_").hasSize(6 + 43);
    assertThat(Signatures.newSecret()).isNotEqualTo(a);
  }
}
