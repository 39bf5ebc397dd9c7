package io.chat4all.web;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import io.chat4all.codecs.ErrorCode;
import io.chat4all.codecs.ServiceException;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The store-safety rules on decoded JSON, exactly as the edges see request bodies. */
class StoreSafeTest {

  static String nested(int levels) {
    StringBuilder b = new StringBuilder();
    for (int i = 0; i < levels - 1; i++) {
      b.append("{\"a\":");
    }
    b.append("{\"x\":1}");
    b.append("}".repeat(levels - 1));
    return b.toString();
  }

  static ServiceException refused(JsonObject o) {
    ServiceException e =
        catchThrowableOfType(ServiceException.class, () -> StoreSafe.document("metadata", o));
    assertThat(e).as("refused: %s", o.encode()).isNotNull();
    assertThat(e.code()).isEqualTo(ErrorCode.VALIDATION_FAILED);
    return e;
  }

  @ParameterizedTest(name = "{0} → field {1}")
  @CsvSource(
      delimiter = '|',
      value = {
        "{\"k\\u0000y\":1}|metadata",
        "{\"k\":\"a\\u0000b\"}|metadata.k",
        "{\"n\":18446744073709551616}|metadata.n",
        "{\"n\":-9223372036854775809}|metadata.n",
        "{\"n\":1e400}|metadata.n",
        "{\"n\":-1e400}|metadata.n",
        "{\"$gt\":1}|metadata",
        "{\"a\":{\"b.c\":1}}|metadata.a",
        "{\"\":1}|metadata",
        "{\"k\":\"\\ud800\"}|metadata.k",
        "{\"k\":\"x\\udc00\"}|metadata.k",
        "{\"\\ud800\":1}|metadata",
        "{\"l\":[1,{\"$x\":1}]}|metadata.l[1]",
        "{\"l\":[\"ok\",\"a\\u0000\"]}|metadata.l[1]",
      })
  void refusesWhatAStoreCannotHold(String json, String field) {
    ServiceException e = refused(new JsonObject(json));
    assertThat(e.details().getString("field")).isEqualTo(field);
    assertThat(e.getMessage()).startsWith(field + " ");
  }

  @Test
  void boundsTheNesting() {
    assertThatCode(() -> StoreSafe.document("m", new JsonObject(nested(StoreSafe.MAX_DEPTH))))
        .doesNotThrowAnyException();
    ServiceException e = refused(new JsonObject(nested(StoreSafe.MAX_DEPTH + 1)));
    assertThat(e.getMessage()).contains("nests too deeply");
    refused(new JsonObject(nested(150)));
    // arrays count as levels too
    refused(new JsonObject("{\"l\":" + "[".repeat(40) + "]".repeat(40) + "}"));
  }

  @Test
  void acceptsTheEdgesOfWhatFits() {
    JsonObject ok =
        new JsonObject(
            "{\"max\":9223372036854775807,\"min\":-9223372036854775808,\"d\":1.7976931348623157e308,"
                + "\"tiny\":4.9e-324,\"t\":\"olá 👋 \\uffff\",\"b\":true,\"z\":null,\"l\":[1,\"x\",[]],"
                + "\"a-b_c:d$\":1}");
    assertThatCode(() -> StoreSafe.document("m", ok)).doesNotThrowAnyException();
  }

  @Test
  void textRefusesNulAndLoneSurrogatesOnly() {
    assertThat(StoreSafe.textProblem("plain, ünïcödé, 😀, tabs\tand\nnewlines")).isNull();
    assertThat(StoreSafe.textProblem("a\u0000b")).contains("NUL");
    assertThat(StoreSafe.textProblem("\ud83d")).contains("surrogate");
    assertThat(StoreSafe.textProblem("\ude00x")).contains("surrogate");
    assertThat(StoreSafe.textProblem("\ude00\ud83d")).contains("surrogate");
  }

  @Test
  void bodiesCheckEveryStringField() {
    JsonObject body = new JsonObject().put("name", "a\u0000b").put("ok", "fine");
    ServiceException e =
        catchThrowableOfType(ServiceException.class, () -> Bodies.string(body, "name", 1, 10));
    assertThat(e.details().getString("field")).isEqualTo("name");
    assertThat(Bodies.optionalString(body, "ok", 1, 10)).isEqualTo("fine");
    JsonObject withMeta = new JsonObject().put("meta", new JsonObject().put("$where", 1));
    e =
        catchThrowableOfType(
            ServiceException.class, () -> Bodies.optionalObject(withMeta, "meta", 4096));
    assertThat(e.details().getString("field")).isEqualTo("meta");
  }
}
