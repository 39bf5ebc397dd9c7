package io.chat4all.webhooks;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.chat4all.codecs.ErrorCode;
import io.chat4all.codecs.ServiceException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Edge validation of webhook requests and settings. */
class WebhookRequestsTest {

  static JsonObject create(String url) {
    return new JsonObject().put("url", url).put("events", new JsonArray().add("*"));
  }

  static String field(Runnable r) {
    try {
      r.run();
    } catch (ServiceException e) {
      assertThat(e.code()).isEqualTo(ErrorCode.VALIDATION_FAILED);
      return e.details().getString("field");
    }
    throw new AssertionError("accepted");
  }

  @Test
  void httpsIsRequiredUnlessHttpIsAllowed() {
    assertThat(field(() -> WebhookRequests.create(create("http://example.com/h"), false)))
        .isEqualTo("url");
    assertThat(WebhookRequests.create(create("http://example.com/h"), true).getString("url"))
        .isEqualTo("http://example.com/h");
    assertThat(WebhookRequests.create(create("HTTPS://example.com/h?a=1"), false).getString("url"))
        .isEqualTo("HTTPS://example.com/h?a=1");
  }

  @Test
  void badUrlsAreRefusedByShape() {
    for (String url :
        List.of(
            "https://",
            "https:///path",
            "mailto:x@example.com",
            "https://u:p@example.com/",
            "https://example.com/#f",
            "https://example.com:0/",
            "https://example.com:99999/",
            "https://exa mple.com/",
            "https://example.com/\n",
            "https://" + "a".repeat(2050) + ".com/")) {
      assertThat(field(() -> WebhookRequests.create(create(url), true))).as(url).isEqualTo("url");
    }
  }

  @Test
  void eventsAreKnownTypesOrStar() {
    JsonObject ok =
        WebhookRequests.create(
            new JsonObject()
                .put("url", "https://example.com/h")
                .put(
                    "events",
                    new JsonArray()
                        .add("message.status")
                        .add("user.presence")
                        .add("message.status")),
            false);
    assertThat(ok.getJsonArray("events")).containsExactly("message.status", "user.presence");
    assertThatThrownBy(
            () ->
                WebhookRequests.create(
                    new JsonObject()
                        .put("url", "https://example.com/h")
                        .put("events", new JsonArray().add("ping")),
                    false))
        .isInstanceOf(ServiceException.class)
        .hasMessageContaining("unknown event types [ping]");
  }

  @Test
  void durationsAndSettings() {
    assertThat(WebhooksConfig.durationMs("200ms")).isEqualTo(200);
    assertThat(WebhooksConfig.durationMs("30s")).isEqualTo(30_000);
    assertThat(WebhooksConfig.durationMs("30")).isEqualTo(30_000);
    assertThat(WebhooksConfig.durationMs("2m")).isEqualTo(120_000);
    assertThat(WebhooksConfig.durationMs("3h")).isEqualTo(10_800_000);
    assertThat(WebhooksConfig.durationMs("1d")).isEqualTo(86_400_000);
    assertThat(WebhooksConfig.durationMs("soon")).isEqualTo(-1);
    WebhooksConfig defaults = WebhooksConfig.from(null, null, null, "", "k:9092");
    assertThat(defaults.problem()).isNull();
    assertThat(defaults.maxAttempts()).isEqualTo(9);
    assertThat(defaults.allowHttp()).isFalse();
    assertThat(defaults.allowPrivateAddresses()).isFalse();
    WebhooksConfig bad =
        WebhooksConfig.from(
            new JsonObject().put("retry_schedule", new JsonArray().add("1s").add("later")),
            null,
            null,
            "",
            "k:9092");
    assertThat(bad.problem()[0]).isEqualTo("webhooks.retry_schedule");
    WebhooksConfig admins =
        WebhooksConfig.from(
            null, null, new JsonObject().put("usernames", new JsonArray().add(" Root ")), "", "");
    assertThat(admins.adminUsernames()).containsExactly("root");
  }

  @Test
  void retryAfterIsReadAsSecondsOrADate() {
    assertThat(WebhookSender.retryAfterMs("120")).isEqualTo(120_000L);
    assertThat(WebhookSender.retryAfterMs("-1")).isNull();
    assertThat(WebhookSender.retryAfterMs("soon")).isNull();
    assertThat(WebhookSender.retryAfterMs("Wed, 21 Oct 2015 07:28:00 GMT")).isZero();
    assertThat(WebhookSender.retryAfterMs(null)).isNull();
  }
}
