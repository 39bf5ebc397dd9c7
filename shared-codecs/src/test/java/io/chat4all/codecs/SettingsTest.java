package io.chat4all.codecs;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.vertx.core.json.JsonObject;
import java.math.BigInteger;
import org.junit.jupiter.api.Test;

class SettingsTest {
  @Test
  void onlyExactWholeNumbersAndTheirTextCount() {
    assertThat(Settings.whole(5)).isEqualTo(5L);
    assertThat(Settings.whole(5.0)).isEqualTo(5L);
    assertThat(Settings.whole(" 42 ")).isEqualTo(42L);
    assertThat(Settings.whole(Long.MAX_VALUE)).isEqualTo(Long.MAX_VALUE);
    assertThat(Settings.whole("-7")).isEqualTo(-7L);
    for (Object no :
        new Object[] {
          1.5,
          1e300,
          new BigInteger("99999999999999999999"),
          "99999999999999999999",
          "soon",
          "",
          "12\u0000",
          true,
          new JsonObject(),
          Double.NaN
        }) {
      assertThat(Settings.whole(no)).as(String.valueOf(no)).isNull();
    }
  }

  @Test
  void aSettingIsItsDefaultWhenAbsentElseWithinItsRangeOrRefusedByName() {
    JsonObject s = new JsonObject().put("a", "250").put("b", 9).put("c", "x").put("d", 2.5);
    assertThat(Settings.within(s, "sec", "a", 1, 100, 1000)).isEqualTo(250L);
    assertThat(Settings.within(s, "sec", "absent", 7, 100, 1000)).isEqualTo(7L);
    assertThat(Settings.within(null, "sec", "a", 7, 100, 1000)).isEqualTo(7L);
    assertThat(Settings.intWithin(s, "sec", "b", 1, 1, 10)).isEqualTo(9);
    assertThatThrownBy(() -> Settings.within(s, "sec", "b", 1, 10, 20))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("sec.b must be a whole number from 10 to 20, got 9");
    for (String key : new String[] {"c", "d"}) {
      assertThatThrownBy(() -> Settings.within(s, "sec", key, 1, 0, 10))
          .hasMessageStartingWith("sec." + key + " must be a whole number from 0 to 10");
    }
  }

  @Test
  void offIsZeroOrAValueWithinTheRange() {
    JsonObject s = new JsonObject().put("off", 0).put("on", "8192").put("low", 10).put("x", "y");
    assertThat(Settings.offOrWithin(s, "m", "off", 5, 8192, 1L << 32)).isZero();
    assertThat(Settings.offOrWithin(s, "m", "on", 5, 8192, 1L << 32)).isEqualTo(8192L);
    assertThat(Settings.offOrWithin(s, "m", "absent", 5, 8192, 1L << 32)).isEqualTo(5L);
    for (String key : new String[] {"low", "x"}) {
      assertThatThrownBy(() -> Settings.offOrWithin(s, "m", key, 5, 8192, 1L << 32))
          .hasMessageStartingWith(
              "m." + key + " must be 0 (off) or a whole number from 8192 to 4294967296");
    }
    assertThatThrownBy(() -> Settings.section(new JsonObject().put("top", 1), null, "top"))
        .hasMessage("top must be a section");
  }

  @Test
  void aListIsItsDefaultWhenAbsentElseItsItemsAsTrimmedTextOrRefusedByName() {
    JsonObject s =
        new JsonObject()
            .put("l", new io.vertx.core.json.JsonArray().add(" a ").add(30))
            .put("t", "a,b")
            .put("n", new io.vertx.core.json.JsonArray().add(new JsonObject()));
    assertThat(Settings.texts(s, "sec", "l", java.util.List.of())).containsExactly("a", "30");
    assertThat(Settings.texts(s, "sec", "absent", java.util.List.of("d"))).containsExactly("d");
    assertThat(Settings.texts(null, "sec", "l", java.util.List.of())).isEmpty();
    // text is a comma-separated list, as the config loader reads one from the environment
    assertThat(Settings.texts(s, "sec", "t", java.util.List.of())).containsExactly("a", "b");
    s.put("f", true).put("num", 3);
    for (String bad : new String[] {"f", "num"}) {
      assertThatThrownBy(() -> Settings.texts(s, "sec", bad, java.util.List.of()))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageStartingWith("sec." + bad + " must be a list");
    }
    assertThatThrownBy(() -> Settings.texts(s, "sec", "n", java.util.List.of()))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("sec.n must be a list of text values");
  }
}
