package io.chat4all.channel.spi;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.vertx.core.buffer.Buffer;
import org.junit.jupiter.api.Test;

class SpiTest {

  @Test
  void spiVersionsOfTheSameMajorAndNoNewerMinorAreCompatible() {
    assertThat(Spi.VERSION).isEqualTo("1.1");
    assertThat(Spi.compatible("1.0")).isTrue();
    assertThat(Spi.compatible("1.1")).isTrue();
    assertThat(Spi.compatible(" 1.1 ")).isTrue();
    assertThat(Spi.compatible("1.2")).isFalse();
    assertThat(Spi.compatible("1.9")).isFalse();
    assertThat(Spi.compatible("1.-1")).isFalse();
    assertThat(Spi.compatible("2.0")).isFalse();
    assertThat(Spi.compatible("0.9")).isFalse();
    assertThat(Spi.compatible("1")).isFalse();
    assertThat(Spi.compatible("x.y")).isFalse();
    assertThat(Spi.compatible(null)).isFalse();
  }

  @Test
  void descriptorIsParsedAndEachBadFieldIsNamed() {
    PluginDescriptor d =
        PluginDescriptor.parse(
            "{\"channel\":\"telegram\",\"version\":\"1.0.0\",\"spi_version\":\"1.0\","
                + "\"main_class\":\"a.b.C\"}");
    assertThat(d.channel()).isEqualTo("telegram");
    assertThat(d.name()).isEqualTo("telegram");
    assertThatThrownBy(() -> PluginDescriptor.parse("nope")).hasMessageContaining("JSON");
    assertThatThrownBy(
            () ->
                PluginDescriptor.parse(
                    "{\"channel\":\"Tele gram\",\"version\":\"1\",\"spi_version\":\"1.0\","
                        + "\"main_class\":\"a.B\"}"))
        .hasMessageContaining("'channel'");
    assertThatThrownBy(
            () -> PluginDescriptor.parse("{\"channel\":\"telegram\",\"spi_version\":\"1.0\"}"))
        .hasMessageContaining("'version'");
    assertThatThrownBy(
            () ->
                PluginDescriptor.parse(
                    "{\"channel\":\"telegram\",\"version\":\"1\",\"spi_version\":\"1.0\","
                        + "\"main_class\":\"a..B\"}"))
        .hasMessageContaining("'main_class'");
  }

  @Test
  void hmacMatchesAKnownVectorAndComparesInConstantTime() {
    // RFC 4231 test case 2
    assertThat(Signatures.hmacSha256Hex("Jefe", Buffer.buffer("what do ya want for nothing?")))
        .isEqualTo("5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
    assertThat(Signatures.constantTimeEquals("abc", "abc")).isTrue();
    assertThat(Signatures.constantTimeEquals("abc", "abd")).isFalse();
    assertThat(Signatures.constantTimeEquals(null, "abd")).isFalse();
  }
}
