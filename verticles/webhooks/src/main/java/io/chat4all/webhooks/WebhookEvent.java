package io.chat4all.webhooks;

import io.chat4all.codecs.Envelopes;
import io.chat4all.codecs.Outbox;
import io.chat4all.codecs.Topics;
import io.chat4all.codecs.Wire;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.UUID;

/**
 * One event as webhooks see it, made from a Kafka record of the platform: its stable id (the same
 * for every copy of the record, so a replayed or re-published record is delivered once), type,
 * time, data, and who may see it — members of {@code conversationId}, the users in {@code
 * audience}, and users sharing a conversation with {@code sharingWith}.
 *
 * @param orderingKey events of one key reach a webhook in order (the conversation, else the user or
 *     file)
 */
public record WebhookEvent(
    String id,
    String type,
    Instant createdAt,
    JsonObject data,
    String orderingKey,
    String conversationId,
    List<String> audience,
    String sharingWith) {

  public static final String MESSAGE_CREATED = "message.created";
  public static final String MESSAGE_UPDATED = "message.updated";
  public static final String MESSAGE_STATUS = "message.status";
  public static final String CONVERSATION_CREATED = "conversation.created";
  public static final String CONVERSATION_MEMBERS_CHANGED = "conversation.members_changed";
  public static final String FILE_UPLOADED = "file.uploaded";
  public static final String USER_PRESENCE = "user.presence";
  public static final String PING = "ping";
  public static final String ALL = "*";

  /** The event types a webhook can subscribe to (besides {@value #ALL}). */
  public static final Set<String> TYPES =
      Set.of(
          MESSAGE_CREATED,
          MESSAGE_UPDATED,
          MESSAGE_STATUS,
          CONVERSATION_CREATED,
          CONVERSATION_MEMBERS_CHANGED,
          FILE_UPLOADED,
          USER_PRESENCE);

  /** The Kafka topics (logical names) the dispatcher reads. */
  public static final List<String> TOPICS =
      List.of(
          Topics.MESSAGE_STORED,
          Topics.CONVERSATION_CREATED,
          Topics.CONVERSATION_MEMBERS_CHANGED,
          Topics.FILE_UPLOADED,
          Topics.USER_PRESENCE);

  /** The delivery body: {@code {id, type, created_at, data}}. */
  public JsonObject body() {
    return new JsonObject()
        .put("id", id)
        .put("type", type)
        .put("created_at", Wire.timestamp(createdAt))
        .put("data", data);
  }

  /**
   * The event of a record of logical topic {@code topic}, or null when webhooks do not see it
   * (unknown envelope type, malformed value).
   *
   * @param coordinates "topic-partition@offset", the id of records that carry none
   */
  public static WebhookEvent from(
      String topic, String key, JsonObject value, long timestampMs, String coordinates) {
    Instant recordTime = Instant.ofEpochMilli(timestampMs);
    switch (topic) {
      case Topics.MESSAGE_STORED:
        return fromStored(key, value, recordTime);
      case Topics.CONVERSATION_CREATED:
      case Topics.CONVERSATION_MEMBERS_CHANGED:
        {
          String conv = value.getString("conversation_id", key);
          JsonObject data = value.copy();
          data.remove(Outbox.EVENT_ID);
          boolean created = topic.equals(Topics.CONVERSATION_CREATED);
          // a creation names every member; a change names the users it concerns (a removed
          // member still learns of it), the others are the members when it is dispatched
          return new WebhookEvent(
              value.getString(Outbox.EVENT_ID, nameId(topic + ":" + coordinates)),
              created ? CONVERSATION_CREATED : CONVERSATION_MEMBERS_CHANGED,
              time(value.getString("at"), recordTime),
              data,
              conv,
              created ? null : conv,
              strings(value.getJsonArray("user_ids")),
              null);
        }
      case Topics.FILE_UPLOADED:
        {
          JsonObject data = value.copy();
          data.remove(Outbox.EVENT_ID);
          data.remove("storage"); // where the bytes sit is the platform's business
          String uploader = value.getString("uploaded_by");
          return new WebhookEvent(
              value.getString(Outbox.EVENT_ID, nameId(topic + ":" + coordinates)),
              FILE_UPLOADED,
              time(value.getString("completed_at"), recordTime),
              data,
              "file:" + value.getString("file_id", key),
              value.getString("conversation_id"),
              uploader == null ? List.of() : List.of(uploader),
              null);
        }
      case Topics.USER_PRESENCE:
        {
          String user = value.getString("user_id", key);
          if (user == null) {
            return null;
          }
          JsonObject data =
              new JsonObject()
                  .put("user_id", user)
                  .put("status", value.getString("status"))
                  .put("last_seen", value.getString("last_seen"));
          String at = value.getString("at");
          return new WebhookEvent(
              nameId(USER_PRESENCE + ":" + user + ":" + value.getString("status") + ":" + at),
              USER_PRESENCE,
              time(at, recordTime),
              data,
              "user:" + user,
              null,
              List.of(user),
              user);
        }
      default:
        return null;
    }
  }

  private static WebhookEvent fromStored(String key, JsonObject value, Instant recordTime) {
    String envelope = value.getString(Envelopes.TYPE, "");
    JsonObject message = value.getJsonObject("message");
    switch (envelope) {
      case Envelopes.MESSAGE:
        if (message == null) {
          return null;
        }
        return messageEvent(
            MESSAGE_CREATED,
            nameId(MESSAGE_CREATED + ":" + message.getString("message_id")),
            message.getString("created_at"),
            message,
            key,
            recordTime);
      case Envelopes.MESSAGE_UPDATED:
        if (message == null) {
          return null;
        }
        return messageEvent(
            MESSAGE_UPDATED,
            nameId(
                MESSAGE_UPDATED
                    + ":"
                    + message.getString("message_id")
                    + ":"
                    + message.getString("updated_at")
                    + ":"
                    + message.getBoolean("is_deleted", false)),
            message.getString("updated_at"),
            message,
            key,
            recordTime);
      case Envelopes.STATUS:
        {
          JsonObject data = value.copy();
          data.remove(Envelopes.TYPE);
          data.remove(Envelopes.CURSOR);
          return messageEvent(
              MESSAGE_STATUS,
              nameId(
                  MESSAGE_STATUS
                      + ":"
                      + value.getString("message_id")
                      + ":"
                      + value.getString("user_id")
                      + ":"
                      + value.getString("status")
                      + ":"
                      + value.getString("channel", "")),
              value.getString("at"),
              data,
              key,
              recordTime);
        }
      default:
        return null;
    }
  }

  /**
   * A message event: seen by its author and recipients as stored (members when it was numbered), so
   * a user who joins later never sees it, whenever it is dispatched. A status event carries no
   * recipient list: the conversation's members see it.
   */
  private static WebhookEvent messageEvent(
      String type, String id, String at, JsonObject data, String key, Instant recordTime) {
    String conv = data.getString("conversation_id", key);
    JsonArray to = data.getJsonArray("to_user_ids");
    if (to == null) {
      List<String> audience = new ArrayList<>();
      if (data.getString("user_id") != null) {
        audience.add(data.getString("user_id"));
      }
      // a send that failed is only its author's business (the others never saw the message)
      boolean failed = "failed".equals(data.getString("message_status"));
      return new WebhookEvent(
          id,
          type,
          time(at, recordTime),
          data,
          conv,
          failed ? null : conv,
          List.copyOf(audience),
          null);
    }
    List<String> audience = new ArrayList<>(strings(to));
    if (data.getString("from_user_id") != null) {
      audience.add(data.getString("from_user_id"));
    }
    return new WebhookEvent(
        id, type, time(at, recordTime), data, conv, null, List.copyOf(audience), null);
  }

  /** A ping of the test endpoint. */
  public static WebhookEvent ping(String webhookId) {
    String id = UUID.randomUUID().toString();
    return new WebhookEvent(
        id,
        PING,
        Instant.now(),
        new JsonObject()
            .put("webhook_id", webhookId)
            .put("message", "a test event sent on request; answer 2xx"),
        "ping:" + id,
        null,
        List.of(),
        null);
  }

  /** A UUID derived from {@code name} (the same name always gives the same id). */
  static String nameId(String name) {
    return UUID.nameUUIDFromBytes(name.getBytes(StandardCharsets.UTF_8)).toString();
  }

  private static Instant time(String at, Instant fallback) {
    if (at == null) {
      return fallback;
    }
    try {
      return Instant.parse(at);
    } catch (RuntimeException e) {
      return fallback;
    }
  }

  private static List<String> strings(JsonArray array) {
    List<String> out = new ArrayList<>();
    if (array != null) {
      for (Object o : array) {
        if (o instanceof String s) {
          out.add(s);
        }
      }
    }
    return List.copyOf(out);
  }
}
