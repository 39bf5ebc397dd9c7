package io.chat4all.channels.inbound;

import io.chat4all.channel.spi.ErrorClass;
import io.chat4all.channel.spi.InboundEvent;
import io.chat4all.channel.spi.InboundMedia;
import io.chat4all.channel.spi.MediaKind;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Inbound events as the JSON records of {@code channel.inbound}: {@code {channel, kind, dedup_key,
 * received_at, …}} with the fields of a message, a receipt, a watermark or a deletion. Echoes and
 * ignored events are never written.
 */
final class InboundCodec {
  private InboundCodec() {}

  /** The record of {@code e}, or null for an event that is not kept (echo, ignored). */
  static JsonObject encode(String channel, InboundEvent e, Instant receivedAt) {
    JsonObject o =
        new JsonObject()
            .put("channel", channel)
            .put("dedup_key", e.dedupKey())
            .put("received_at", receivedAt.toString());
    if (e instanceof InboundEvent.Message m) {
      JsonArray media = new JsonArray();
      for (InboundMedia im : m.media()) {
        media.add(
            new JsonObject()
                .put("kind", im.kind().name().toLowerCase(Locale.ROOT))
                .put("ref", im.ref())
                .put("filename", im.filename())
                .put("mime_type", im.mimeType())
                .put("size_bytes", im.sizeBytes()));
      }
      o.put("kind", "message")
          .put("provider_message_id", m.providerMessageId())
          .put("provider_user_id", m.providerUserId())
          .put("provider_chat_id", m.providerChatId())
          .put("display_name", m.displayName())
          .put("username", m.username())
          .put("text", m.text())
          .put("media", media)
          .put("reply_to", m.replyToProviderMessageId())
          .put("sent_at", m.sentAt() == null ? null : m.sentAt().toString())
          .put("notice", m.notice());
    } else if (e instanceof InboundEvent.Receipt r) {
      o.put("kind", "receipt")
          .put("provider_message_id", r.providerMessageId())
          .put("status", r.status().name().toLowerCase(Locale.ROOT))
          .put("provider_user_id", r.providerUserId())
          .put(
              "error_class",
              r.errorClass() == null ? null : r.errorClass().name().toLowerCase(Locale.ROOT))
          .put("provider_code", r.providerCode())
          .put("at", r.at() == null ? null : r.at().toString());
    } else if (e instanceof InboundEvent.Watermark w) {
      o.put("kind", "watermark")
          .put("provider_user_id", w.providerUserId())
          .put("status", w.status().name().toLowerCase(Locale.ROOT))
          .put("watermark", w.watermark().toString());
    } else if (e instanceof InboundEvent.Deleted d) {
      o.put("kind", "deleted")
          .put("provider_message_id", d.providerMessageId())
          .put("provider_user_id", d.providerUserId())
          .put("at", d.at() == null ? null : d.at().toString());
    } else {
      return null; // echoes of our own sends and ignored events are not kept
    }
    return o;
  }

  /** The event a record holds (the inverse of {@link #encode}). */
  static InboundEvent decode(JsonObject o) {
    String key = o.getString("dedup_key");
    return switch (o.getString("kind", "")) {
      case "message" -> {
        List<InboundMedia> media = new ArrayList<>();
        for (Object x : o.getJsonArray("media", new JsonArray())) {
          JsonObject m = (JsonObject) x;
          media.add(
              new InboundMedia(
                  MediaKind.valueOf(m.getString("kind").toUpperCase(Locale.ROOT)),
                  m.getString("ref"),
                  m.getString("filename"),
                  m.getString("mime_type"),
                  m.getLong("size_bytes", -1L)));
        }
        yield new InboundEvent.Message(
            key,
            o.getString("provider_message_id"),
            o.getString("provider_user_id"),
            o.getString("provider_chat_id"),
            o.getString("display_name"),
            o.getString("username"),
            o.getString("text"),
            media,
            o.getString("reply_to"),
            instant(o.getString("sent_at")),
            o.getString("notice"));
      }
      case "receipt" ->
          new InboundEvent.Receipt(
              key,
              o.getString("provider_message_id"),
              status(o.getString("status")),
              o.getString("provider_user_id"),
              o.getString("error_class") == null
                  ? null
                  : ErrorClass.valueOf(o.getString("error_class").toUpperCase(Locale.ROOT)),
              o.getString("provider_code"),
              instant(o.getString("at")));
      case "watermark" ->
          new InboundEvent.Watermark(
              key,
              o.getString("provider_user_id"),
              status(o.getString("status")),
              instant(o.getString("watermark")));
      case "deleted" ->
          new InboundEvent.Deleted(
              key,
              o.getString("provider_message_id"),
              o.getString("provider_user_id"),
              instant(o.getString("at")));
      default -> throw new IllegalArgumentException("unknown inbound kind " + o.getString("kind"));
    };
  }

  private static InboundEvent.Status status(String s) {
    return InboundEvent.Status.valueOf(s.toUpperCase(Locale.ROOT));
  }

  private static Instant instant(String s) {
    return s == null ? null : Instant.parse(s);
  }

  /** The record key: one contact's events share a partition and keep their order. */
  static String key(String channel, InboundEvent e) {
    String user = null;
    if (e instanceof InboundEvent.Message m) {
      user = m.providerUserId();
    } else if (e instanceof InboundEvent.Receipt r) {
      user = r.providerUserId();
    } else if (e instanceof InboundEvent.Watermark w) {
      user = w.providerUserId();
    } else if (e instanceof InboundEvent.Deleted d) {
      user = d.providerUserId();
    }
    return channel + ":" + (user == null ? e.dedupKey() : user);
  }
}
