package io.chat4all.channel.telegram;

import io.chat4all.channel.spi.InboundEvent;
import io.chat4all.channel.spi.InboundMedia;
import io.chat4all.channel.spi.MediaKind;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * Bot API {@code Update} objects as inbound events. A message in a private chat becomes {@link
 * InboundEvent.Message} (the chat id is where replies go); everything else the bot may receive
 * (edits, group and channel posts, callbacks, membership changes) is {@link InboundEvent.Ignored}.
 * The dedup key is the {@code update_id}; provider message ids are {@code <chat_id>:<message_id>}
 * because Telegram numbers messages per chat.
 */
final class Updates {
  /** Largest file a bot may download through getFile. */
  static final long DOWNLOAD_LIMIT = 20L * 1024 * 1024;

  private Updates() {}

  /**
   * One update as an event.
   *
   * @throws IllegalArgumentException when it is not an Update (no integer update_id, a message
   *     without chat, fields of the wrong type)
   */
  static InboundEvent parse(Object value) {
    if (!(value instanceof JsonObject update)) {
      throw new IllegalArgumentException("an update must be a JSON object");
    }
    try {
      return parseUpdate(update);
    } catch (ClassCastException e) {
      throw new IllegalArgumentException("an update field has the wrong type");
    }
  }

  /** The update_id of an update (validated). */
  static long updateId(JsonObject update) {
    Object id = update.getValue("update_id");
    if (!(id instanceof Number n) || n.doubleValue() != Math.rint(n.doubleValue())) {
      throw new IllegalArgumentException("update_id is missing or not an integer");
    }
    return n.longValue();
  }

  private static InboundEvent parseUpdate(JsonObject update) {
    String key = Long.toString(updateId(update));
    JsonObject msg = update.getJsonObject("message");
    if (msg == null) {
      String kind =
          update.fieldNames().stream().filter(f -> !f.equals("update_id")).findFirst().orElse("?");
      return new InboundEvent.Ignored(key, "update kind " + kind + " is not handled");
    }
    JsonObject chat = msg.getJsonObject("chat");
    if (chat == null || !(chat.getValue("id") instanceof Number)) {
      throw new IllegalArgumentException("message.chat.id is missing");
    }
    if (!(msg.getValue("message_id") instanceof Number)) {
      throw new IllegalArgumentException("message.message_id is missing");
    }
    if (!"private".equals(chat.getString("type"))) {
      return new InboundEvent.Ignored(key, "messages in " + chat.getString("type") + " chats");
    }
    JsonObject from = msg.getJsonObject("from", new JsonObject());
    if (from.getBoolean("is_bot", false)) {
      return new InboundEvent.Ignored(key, "messages from bots");
    }
    String chatId = Long.toString(chat.getLong("id"));
    String messageId = chatId + ":" + msg.getLong("message_id");
    String text = msg.getString("text");
    if (text == null) {
      text = msg.getString("caption");
    }
    List<InboundMedia> media = new ArrayList<>();
    List<String> notices = new ArrayList<>();
    media(msg, media, notices);
    if (text == null && media.isEmpty() && notices.isEmpty()) {
      notices.add("a Telegram message of a kind that cannot be shown here (" + kind(msg) + ")");
    }
    JsonObject replyTo = msg.getJsonObject("reply_to_message");
    String reply =
        replyTo != null && replyTo.getValue("message_id") instanceof Number n
            ? chatId + ":" + n.longValue()
            : null;
    String name =
        join(
            from.getString("first_name", chat.getString("first_name")),
            from.getString("last_name", chat.getString("last_name")));
    Instant sentAt =
        msg.getValue("date") instanceof Number d ? Instant.ofEpochSecond(d.longValue()) : null;
    return new InboundEvent.Message(
        key,
        messageId,
        chatId,
        chatId,
        name,
        from.getString("username", chat.getString("username")),
        text,
        media,
        reply,
        sentAt,
        notices.isEmpty() ? null : String.join("; ", notices));
  }

  private static void media(JsonObject msg, List<InboundMedia> media, List<String> notices) {
    JsonArray photo = msg.getJsonArray("photo");
    if (photo != null && !photo.isEmpty()) {
      // sizes come smallest first: the last is the original resolution
      add(media, notices, MediaKind.IMAGE, photo.getJsonObject(photo.size() - 1), "photo.jpg");
    }
    add(media, notices, MediaKind.DOCUMENT, msg.getJsonObject("document"), "document");
    add(media, notices, MediaKind.VIDEO, msg.getJsonObject("video"), "video.mp4");
    add(media, notices, MediaKind.AUDIO, msg.getJsonObject("audio"), "audio");
    add(media, notices, MediaKind.AUDIO, msg.getJsonObject("voice"), "voice.ogg");
  }

  private static void add(
      List<InboundMedia> media,
      List<String> notices,
      MediaKind kind,
      JsonObject file,
      String defaultName) {
    if (file == null || file.getString("file_id") == null) {
      return;
    }
    long size = file.getValue("file_size") instanceof Number n ? n.longValue() : -1;
    String name = file.getString("file_name", defaultName);
    if (size > DOWNLOAD_LIMIT) {
      notices.add(
          "the attachment "
              + name
              + " ("
              + size
              + " bytes) is larger than the 20 MB a Telegram bot may download; ask for a smaller"
              + " file or a link");
      return;
    }
    media.add(new InboundMedia(kind, file.getString("file_id"), name, mime(file, kind), size));
  }

  private static String mime(JsonObject file, MediaKind kind) {
    String m = file.getString("mime_type");
    if (m != null) {
      return m;
    }
    return switch (kind) {
      case IMAGE -> "image/jpeg";
      case VIDEO -> "video/mp4";
      case AUDIO -> "audio/ogg";
      case DOCUMENT -> "application/octet-stream";
    };
  }

  private static String kind(JsonObject msg) {
    for (String k :
        List.of("sticker", "animation", "location", "contact", "poll", "dice", "venue")) {
      if (msg.containsKey(k)) {
        return k;
      }
    }
    return "unknown";
  }

  private static String join(String a, String b) {
    if (a == null) {
      return b;
    }
    return b == null ? a : a + " " + b;
  }
}
