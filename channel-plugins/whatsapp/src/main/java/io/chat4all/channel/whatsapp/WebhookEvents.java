package io.chat4all.channel.whatsapp;

import io.chat4all.channel.meta.GraphErrors;
import io.chat4all.channel.spi.ErrorClass;
import io.chat4all.channel.spi.InboundEvent;
import io.chat4all.channel.spi.InboundMedia;
import io.chat4all.channel.spi.MediaKind;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * A WhatsApp Cloud API webhook body ({@code {"object":"whatsapp_business_account","entry":[{"id",
 * "changes":[{"field":"messages","value":{…}}]}]}}) → inbound events. In a value: {@code
 * metadata.phone_number_id} (another number's events are ignored), {@code contacts[]} (profile
 * names by {@code wa_id}), {@code messages[]} (dedup key: the wamid) and {@code statuses[]} (dedup
 * key: wamid + status). Messages our own number sent (coexistence echoes, {@code
 * smb_message_echoes}) are echoes.
 */
final class WebhookEvents {
  private WebhookEvents() {}

  static List<InboundEvent> parse(JsonObject body, String phoneNumberId) {
    if (!"whatsapp_business_account".equals(body.getValue("object"))
        || !(body.getValue("entry") instanceof JsonArray entries)) {
      throw new IllegalArgumentException(
          "not a WhatsApp Business Account webhook (object, entry[])");
    }
    List<InboundEvent> events = new ArrayList<>();
    for (Object e : entries) {
      if (!(e instanceof JsonObject entry)
          || !(entry.getValue("changes") instanceof JsonArray changes)) {
        throw new IllegalArgumentException("an entry without changes[]");
      }
      for (Object ch : changes) {
        if (!(ch instanceof JsonObject change)
            || !(change.getValue("value") instanceof JsonObject value)) {
          throw new IllegalArgumentException("a change without value");
        }
        change(entry, change.getString("field", ""), value, phoneNumberId, events);
      }
    }
    return events;
  }

  private static void change(
      JsonObject entry,
      String field,
      JsonObject value,
      String phoneNumberId,
      List<InboundEvent> events) {
    JsonObject metadata = value.getJsonObject("metadata", new JsonObject());
    String number = metadata.getString("phone_number_id");
    String key = "change:" + entry.getString("id", "?") + ":" + field;
    if (number != null && phoneNumberId != null && !number.equals(phoneNumberId)) {
      events.add(new InboundEvent.Ignored(key + ":" + number, "another phone number: " + number));
      return;
    }
    if (field.equals("smb_message_echoes") || field.equals("message_echoes")) {
      for (Object o : array(value, "message_echoes")) {
        if (o instanceof JsonObject echo && echo.getString("id") != null) {
          events.add(new InboundEvent.Echo(echo.getString("id"), echo.getString("id")));
        }
      }
      return;
    }
    if (!field.equals("messages")) {
      events.add(new InboundEvent.Ignored(key + ":" + value.hashCode(), "field " + field));
      return;
    }
    Map<String, String> names = new HashMap<>();
    for (Object o : array(value, "contacts")) {
      if (o instanceof JsonObject c && c.getString("wa_id") != null) {
        names.put(
            c.getString("wa_id"), c.getJsonObject("profile", new JsonObject()).getString("name"));
      }
    }
    String ours = digits(metadata.getString("display_phone_number"));
    for (Object o : array(value, "messages")) {
      if (o instanceof JsonObject m && m.getString("id") != null && m.getString("from") != null) {
        events.add(message(m, names, ours));
      }
    }
    for (Object o : array(value, "statuses")) {
      if (o instanceof JsonObject s && s.getString("id") != null) {
        events.add(status(s));
      }
    }
  }

  private static JsonArray array(JsonObject o, String key) {
    return o.getValue(key) instanceof JsonArray a ? a : new JsonArray();
  }

  private static String digits(String s) {
    return s == null ? null : s.replaceAll("[^0-9]", "");
  }

  private static Instant time(Object ts) {
    try {
      long secs =
          ts instanceof Number n ? n.longValue() : ts == null ? -1 : Long.parseLong(ts.toString());
      return secs < 0 ? null : Instant.ofEpochSecond(secs);
    } catch (NumberFormatException e) {
      return null;
    }
  }

  private static InboundEvent message(JsonObject m, Map<String, String> names, String ours) {
    String wamid = m.getString("id");
    String from = m.getString("from");
    if (ours != null && !ours.isEmpty() && ours.equals(digits(from))) {
      return new InboundEvent.Echo(wamid, wamid); // our own number's message coming back
    }
    String type = m.getString("type", "");
    String text = null;
    String notice = null;
    List<InboundMedia> media = new ArrayList<>();
    switch (type) {
      case "text" -> text = m.getJsonObject("text", new JsonObject()).getString("body");
      case "image", "video", "audio", "document", "sticker" -> {
        JsonObject f = m.getJsonObject(type, new JsonObject());
        text = f.getString("caption");
        if (f.getString("id") != null) {
          media.add(
              new InboundMedia(
                  kind(type),
                  f.getString("id"),
                  f.getString("filename"),
                  f.getString("mime_type"),
                  -1));
        }
      }
      case "button" -> text = m.getJsonObject("button", new JsonObject()).getString("text");
      case "interactive" -> {
        JsonObject i = m.getJsonObject("interactive", new JsonObject());
        JsonObject reply =
            i.getJsonObject("button_reply", i.getJsonObject("list_reply", new JsonObject()));
        text = reply.getString("title");
      }
      case "reaction" -> {
        return new InboundEvent.Ignored(wamid, "reaction");
      }
      case "location" -> {
        JsonObject l = m.getJsonObject("location", new JsonObject());
        notice =
            "a location: "
                + l.getValue("latitude")
                + ","
                + l.getValue("longitude")
                + (l.getString("name") != null ? " (" + l.getString("name") + ")" : "");
      }
      default -> notice = "a WhatsApp message of a kind not shown here (" + type + ")";
    }
    String replyTo = m.getValue("context") instanceof JsonObject ctx ? ctx.getString("id") : null;
    return new InboundEvent.Message(
        wamid,
        wamid,
        from,
        from,
        names.get(from),
        null,
        text,
        media,
        replyTo,
        time(m.getValue("timestamp")),
        notice);
  }

  private static MediaKind kind(String type) {
    return switch (type) {
      case "image", "sticker" -> MediaKind.IMAGE;
      case "video" -> MediaKind.VIDEO;
      case "audio" -> MediaKind.AUDIO;
      default -> MediaKind.DOCUMENT;
    };
  }

  private static InboundEvent status(JsonObject s) {
    String wamid = s.getString("id");
    String status = s.getString("status", "").toLowerCase(Locale.ROOT);
    InboundEvent.Status st =
        switch (status) {
          case "sent" -> InboundEvent.Status.SENT;
          case "delivered" -> InboundEvent.Status.DELIVERED;
          case "read" -> InboundEvent.Status.READ;
          case "failed" -> InboundEvent.Status.FAILED;
          default -> null;
        };
    String key = wamid + ":" + status;
    if (st == null) {
      return new InboundEvent.Ignored(key, "status " + status);
    }
    ErrorClass errorClass = null;
    String code = null;
    if (st == InboundEvent.Status.FAILED) {
      JsonObject error =
          array(s, "errors").isEmpty() || !(array(s, "errors").getValue(0) instanceof JsonObject e)
              ? new JsonObject()
              : e;
      Integer c = error.getValue("code") instanceof Number n ? n.intValue() : null;
      errorClass = c == null ? ErrorClass.RETRYABLE : GraphErrors.errorClass(c);
      code = c == null ? null : c.toString();
    }
    return new InboundEvent.Receipt(
        key,
        wamid,
        st,
        s.getString("recipient_id"),
        errorClass,
        code,
        time(s.getValue("timestamp")));
  }

  /** A file name for an inbound medium WhatsApp gave none for. */
  static String defaultName(MediaKind kind, String id, String mime) {
    String ext =
        switch (mime == null ? "" : mime.replaceFirst(";.*$", "").toLowerCase(Locale.ROOT)) {
          case "image/jpeg" -> ".jpg";
          case "image/png" -> ".png";
          case "image/webp" -> ".webp";
          case "video/mp4" -> ".mp4";
          case "video/3gpp" -> ".3gp";
          case "audio/ogg" -> ".ogg";
          case "audio/mpeg" -> ".mp3";
          case "audio/aac" -> ".aac";
          case "audio/amr" -> ".amr";
          case "audio/mp4" -> ".m4a";
          case "application/pdf" -> ".pdf";
          default -> "";
        };
    return kind.name().toLowerCase(Locale.ROOT) + "-" + id + ext;
  }
}
