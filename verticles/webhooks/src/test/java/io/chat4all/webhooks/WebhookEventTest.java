package io.chat4all.webhooks;

import static org.assertj.core.api.Assertions.assertThat;

import io.chat4all.codecs.Topics;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

/** Kafka records → webhook events: types, stable ids, audiences, what data leaves out. */
class WebhookEventTest {
  static final String CONV = "11111111-1111-1111-1111-111111111111";

  static JsonObject message() {
    return new JsonObject()
        .put("message_id", "22222222-2222-2222-2222-222222222222")
        .put("conversation_id", CONV)
        .put("from_user_id", "a")
        .put("to_user_ids", new JsonArray().add("b").add("c"))
        .put("created_at", "2025-01-15T10:00:00.000Z")
        .put("updated_at", "2025-01-15T10:00:00.000Z");
  }

  @Test
  void aStoredMessageIsMessageCreatedForItsAuthorAndRecipientsWithAStableId() {
    JsonObject record = new JsonObject().put("type", "message").put("message", message());
    WebhookEvent e = WebhookEvent.from(Topics.MESSAGE_STORED, CONV, record, 0, "t-0@1");
    WebhookEvent replayed = WebhookEvent.from(Topics.MESSAGE_STORED, CONV, record, 99, "t-0@7");
    assertThat(e.type()).isEqualTo("message.created");
    assertThat(e.id()).isEqualTo(replayed.id());
    assertThat(e.audience()).containsExactlyInAnyOrder("a", "b", "c");
    assertThat(e.conversationId()).isNull();
    assertThat(e.orderingKey()).isEqualTo(CONV);
    assertThat(e.body().getString("created_at")).isEqualTo("2025-01-15T10:00:00.000Z");
    assertThat(e.body().getJsonObject("data")).isEqualTo(message());
  }

  @Test
  void editsAndStatusesAreTheirOwnEvents() {
    JsonObject edited =
        message().put("updated_at", "2025-01-15T10:05:00.000Z").put("is_edited", true);
    WebhookEvent u =
        WebhookEvent.from(
            Topics.MESSAGE_STORED,
            CONV,
            new JsonObject().put("type", "message_updated").put("message", edited),
            0,
            "x");
    assertThat(u.type()).isEqualTo("message.updated");
    WebhookEvent s =
        WebhookEvent.from(
            Topics.MESSAGE_STORED,
            CONV,
            new JsonObject()
                .put("type", "status")
                .put("message_id", "m")
                .put("conversation_id", CONV)
                .put("user_id", "b")
                .put("status", "read")
                .put("at", "2025-01-15T10:06:00.000Z"),
            0,
            "x");
    assertThat(s.type()).isEqualTo("message.status");
    assertThat(s.conversationId()).isEqualTo(CONV);
    assertThat(s.audience()).containsExactly("b");
    assertThat(s.data().containsKey("type")).isFalse();
    assertThat(u.id()).isNotEqualTo(s.id());
    assertThat(
            WebhookEvent.from(
                Topics.MESSAGE_STORED, CONV, new JsonObject().put("type", "typing"), 0, "x"))
        .isNull();
  }

  @Test
  void outboxEventsUseTheirEventIdAndFilesHideTheirStorage() {
    JsonObject created =
        new JsonObject()
            .put("event_id", "e-1")
            .put("event", "conversation_created")
            .put("conversation_id", CONV)
            .put("user_ids", new JsonArray().add("a").add("b"));
    WebhookEvent c = WebhookEvent.from(Topics.CONVERSATION_CREATED, CONV, created, 0, "x");
    assertThat(c.id()).isEqualTo("e-1");
    assertThat(c.audience()).containsExactly("a", "b");
    assertThat(c.conversationId()).isNull();
    assertThat(c.data().containsKey("event_id")).isFalse();
    WebhookEvent m =
        WebhookEvent.from(
            Topics.CONVERSATION_MEMBERS_CHANGED,
            CONV,
            created.copy().put("event_id", "e-2"),
            0,
            "x");
    assertThat(m.conversationId()).isEqualTo(CONV);

    WebhookEvent f =
        WebhookEvent.from(
            Topics.FILE_UPLOADED,
            "f1",
            new JsonObject()
                .put("event_id", "e-3")
                .put("file_id", "f1")
                .put("uploaded_by", "a")
                .put("conversation_id", CONV)
                .put("storage", new JsonObject().put("bucket", "b").put("key", "k")),
            0,
            "x");
    assertThat(f.type()).isEqualTo("file.uploaded");
    assertThat(f.data().containsKey("storage")).isFalse();
    assertThat(f.audience()).containsExactly("a");
    assertThat(f.conversationId()).isEqualTo(CONV);
    assertThat(f.orderingKey()).isEqualTo("file:f1");

    WebhookEvent p =
        WebhookEvent.from(
            Topics.USER_PRESENCE,
            "u",
            new JsonObject()
                .put("user_id", "u")
                .put("status", "online")
                .put("at", "2025-01-15T10:00:00.000Z"),
            0,
            "x");
    assertThat(p.sharingWith()).isEqualTo("u");
    assertThat(p.orderingKey()).isEqualTo("user:u");
  }
}
