package io.chat4all.channel.meta.messaging;

import io.chat4all.channel.spi.InboundEvent;
import io.chat4all.channel.spi.InboundMedia;
import io.chat4all.channel.spi.MediaKind;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.net.URI;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Messenger Platform webhook bodies ({@code {"object":"page"|"instagram","entry":[{"id",
 * "time","messaging":[…]}]}}) as inbound events. Each {@code messaging} item is one event:
 *
 * <ul>
 *   <li>{@code message} from a contact → {@link InboundEvent.Message} keyed by its {@code mid}
 *       (text, {@code attachments[].payload.url}, {@code reply_to.mid});
 *   <li>{@code message.is_echo} (our own send, or the page's inbox) → {@link InboundEvent.Echo};
 *   <li>{@code message.is_deleted} (Instagram: the contact unsent it) → {@link
 *       InboundEvent.Deleted};
 *   <li>{@code delivery {mids?, watermark}} / {@code read {watermark}} (Messenger) → {@link
 *       InboundEvent.Watermark} delivered / read;
 *   <li>{@code read {mid}} (Instagram) → {@link InboundEvent.Receipt} read;
 *   <li>anything else (postbacks, reactions, referrals, optins) → {@link InboundEvent.Ignored}.
 * </ul>
 */
public final class MessagingEvents {
  private MessagingEvents() {}

  /**
   * The events of one webhook body.
   *
   * @param expectedObject {@code page} (Messenger) or {@code instagram}
   * @throws IllegalArgumentException when the body is not a Messenger Platform webhook of that
   *     object
   */
  public static List<InboundEvent> parse(String expectedObject, JsonObject body) {
    if (body == null || !expectedObject.equals(body.getValue("object"))) {
      throw new IllegalArgumentException("expected a webhook of object \"" + expectedObject + "\"");
    }
    if (!(body.getValue("entry") instanceof JsonArray entries)) {
      throw new IllegalArgumentException("no entry list");
    }
    List<InboundEvent> out = new ArrayList<>();
    for (Object e : entries) {
      if (!(e instanceof JsonObject entry)) {
        throw new IllegalArgumentException("an entry is not an object");
      }
      Object messaging = entry.getValue("messaging");
      if (messaging == null) {
        // changes[] (feed, comments) or standby: not messages of this connector
        out.add(
            new InboundEvent.Ignored(
                "entry:" + entry.getValue("id") + ":" + entry.getValue("time"), "no messaging"));
        continue;
      }
      if (!(messaging instanceof JsonArray items)) {
        throw new IllegalArgumentException("messaging is not a list");
      }
      for (Object i : items) {
        if (!(i instanceof JsonObject item)) {
          throw new IllegalArgumentException("a messaging item is not an object");
        }
        out.add(event(item));
      }
    }
    return out;
  }

  static InboundEvent event(JsonObject item) {
    String sender = id(item.getValue("sender"));
    String recipient = id(item.getValue("recipient"));
    Instant at = millis(item.getValue("timestamp"));
    JsonObject message = item.getValue("message") instanceof JsonObject m ? m : null;
    if (message != null) {
      String mid = message.getString("mid");
      if (mid == null || mid.isEmpty()) {
        throw new IllegalArgumentException("a message without mid");
      }
      if (Boolean.TRUE.equals(message.getValue("is_echo"))) {
        return new InboundEvent.Echo("echo:" + mid, mid);
      }
      if (sender == null) {
        throw new IllegalArgumentException("a message without sender.id");
      }
      if (Boolean.TRUE.equals(message.getValue("is_deleted"))) {
        return new InboundEvent.Deleted("deleted:" + mid, mid, sender, at);
      }
      return message(mid, sender, at, message);
    }
    if (item.getValue("delivery") instanceof JsonObject d) {
      return watermark("delivery", sender, InboundEvent.Status.DELIVERED, d, item);
    }
    if (item.getValue("read") instanceof JsonObject r) {
      String mid = r.getString("mid");
      if (mid != null && r.getValue("watermark") == null) {
        // Instagram: a read of one message
        return new InboundEvent.Receipt(
            "read:" + mid, mid, InboundEvent.Status.READ, sender, null, null, at);
      }
      return watermark("read", sender, InboundEvent.Status.READ, r, item);
    }
    String kind =
        item.fieldNames().stream()
            .filter(k -> !k.equals("sender") && !k.equals("recipient") && !k.equals("timestamp"))
            .sorted()
            .findFirst()
            .orElse("unknown");
    return new InboundEvent.Ignored(
        kind + ":" + sender + ":" + recipient + ":" + item.getValue("timestamp"),
        kind + " not handled");
  }

  private static InboundEvent watermark(
      String kind, String sender, InboundEvent.Status status, JsonObject o, JsonObject item) {
    if (sender == null) {
      throw new IllegalArgumentException(kind + " without sender.id");
    }
    Instant w = millis(o.getValue("watermark"));
    if (w == null) {
      throw new IllegalArgumentException(kind + " without watermark");
    }
    return new InboundEvent.Watermark(
        kind + ":" + sender + ":" + w.toEpochMilli(), sender, status, w);
  }

  private static InboundEvent.Message message(
      String mid, String sender, Instant at, JsonObject message) {
    String text = message.getString("text");
    List<InboundMedia> media = new ArrayList<>();
    List<String> skipped = new ArrayList<>();
    if (message.getValue("attachments") instanceof JsonArray atts) {
      for (Object a : atts) {
        if (!(a instanceof JsonObject att)) {
          continue;
        }
        String type = att.getString("type", "");
        JsonObject payload = att.getValue("payload") instanceof JsonObject p ? p : new JsonObject();
        String url = payload.getString("url");
        MediaKind kind = kind(type);
        if (kind != null && url != null && !url.isEmpty() && !payload.containsKey("sticker_id")) {
          media.add(new InboundMedia(kind, url, filename(url, type), null, -1));
        } else if (type.equals("fallback")
            || type.equals("share")
            || type.equals("story_mention")
            || type.equals("ig_reel")
            || type.equals("reel")) {
          String link = url == null ? payload.getString("title") : url;
          text = text == null ? link : text + (link == null ? "" : "\n" + link);
        } else {
          skipped.add(
              payload.containsKey("sticker_id") ? "sticker" : type.isEmpty() ? "attachment" : type);
        }
      }
    }
    String reply = null;
    if (message.getValue("reply_to") instanceof JsonObject r) {
      reply = r.getString("mid");
    }
    String notice = skipped.isEmpty() ? null : "a " + String.join(", ", skipped) + " was not shown";
    return new InboundEvent.Message(
        mid, mid, sender, sender, null, null, text, media, reply, at, notice);
  }

  private static MediaKind kind(String type) {
    return switch (type) {
      case "image" -> MediaKind.IMAGE;
      case "video" -> MediaKind.VIDEO;
      case "audio" -> MediaKind.AUDIO;
      case "file" -> MediaKind.DOCUMENT;
      default -> null;
    };
  }

  /** The last path segment of the URL when it looks like a file name, else the kind. */
  static String filename(String url, String type) {
    try {
      String path = URI.create(url).getPath();
      if (path != null) {
        String last = path.substring(path.lastIndexOf('/') + 1);
        if (last.matches("[A-Za-z0-9._-]{1,200}\\.[A-Za-z0-9]{1,8}")) {
          return last;
        }
      }
    } catch (IllegalArgumentException ignored) {
      // not a URI: the kind below
    }
    return type.toLowerCase(Locale.ROOT);
  }

  private static String id(Object o) {
    if (o instanceof JsonObject j) {
      Object id = j.getValue("id");
      return id == null ? null : id.toString();
    }
    return null;
  }

  private static Instant millis(Object o) {
    return o instanceof Number n ? Instant.ofEpochMilli(n.longValue()) : null;
  }
}
