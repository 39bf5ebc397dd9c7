package io.chat4all.channel.whatsapp;

import io.chat4all.channel.meta.GraphClient;
import io.chat4all.channel.spi.Capabilities.MediaTransfer;
import io.chat4all.channel.spi.ConnectorException;
import io.chat4all.channel.spi.ErrorClass;
import io.chat4all.channel.spi.MediaKind;
import io.chat4all.channel.spi.OutboundMedia;
import io.chat4all.channel.spi.OutboundMessage;
import io.chat4all.channel.spi.SendResult;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Builds and sends the {@code POST /{phone_number_id}/messages} calls of one outbound message: the
 * window check, templates, text, media (by link or uploaded first), captions WhatsApp cannot carry
 * sent as a text after the medium, and the size limits.
 */
final class Outbound {
  static final int MAX_TEXT = 4096;
  static final int MAX_CAPTION = 1024;
  private static final Set<String> IMAGE_TYPES = Set.of("image/jpeg", "image/png");
  private static final Set<String> VIDEO_TYPES = Set.of("video/mp4", "video/3gpp");
  private static final Set<String> AUDIO_TYPES =
      Set.of("audio/aac", "audio/amr", "audio/mpeg", "audio/mp4", "audio/ogg");

  private final GraphClient graph;
  private final String phoneNumberId;
  private final Clock clock;
  private final MediaTransfer preferred;
  private final boolean oversizeAsLink;
  private final long uploadTimeoutMs;

  Outbound(
      GraphClient graph,
      String phoneNumberId,
      Clock clock,
      MediaTransfer preferred,
      boolean oversizeAsLink,
      long uploadTimeoutMs) {
    this.graph = graph;
    this.phoneNumberId = phoneNumberId;
    this.clock = clock;
    this.preferred = preferred;
    this.oversizeAsLink = oversizeAsLink;
    this.uploadTimeoutMs = uploadTimeoutMs;
  }

  Future<SendResult> send(OutboundMessage m) {
    String to = m.recipientChannelId();
    if (to == null || to.isBlank()) {
      return refuse(ErrorClass.PERMANENT, "no WhatsApp id (wa_id) for the recipient");
    }
    JsonObject template = m.metadata().getJsonObject("template");
    if (template != null) {
      // a template may open a conversation: allowed outside the window
      return post(base(to, m.replyToProviderMessageId(), "template", template(template)))
          .map(SendResult::of);
    }
    Instant last = m.lastInboundAt();
    if (last == null) {
      // the host keeps the last inbound time of every contact: null means never wrote
      return refuse(
          ErrorClass.WINDOW_CLOSED,
          "the contact never wrote on WhatsApp: only a template (metadata.template) may be sent");
    }
    if (Duration.between(last, clock.instant()).compareTo(WhatsAppConnector.WINDOW) > 0) {
      return refuse(
          ErrorClass.WINDOW_CLOSED,
          "the contact last wrote at "
              + last
              + ", more than 24 hours ago: only a template (metadata.template) may be sent");
    }
    String text = m.text();
    if (m.media() == null) {
      if (text == null || text.isEmpty()) {
        return refuse(ErrorClass.PERMANENT, "a text message needs text");
      }
      if (text.length() > MAX_TEXT) {
        return refuse(ErrorClass.PERMANENT, "a WhatsApp text has at most 4096 characters");
      }
      return sendText(to, text, m.replyToProviderMessageId()).map(SendResult::of);
    }
    return sendMedia(to, m.media(), text, m.replyToProviderMessageId());
  }

  private static <T> Future<T> refuse(ErrorClass c, String message) {
    return Future.failedFuture(ConnectorException.of(c, null, message));
  }

  private JsonObject base(String to, String replyTo, String type, JsonObject content) {
    JsonObject body =
        new JsonObject()
            .put("messaging_product", "whatsapp")
            .put("recipient_type", "individual")
            .put("to", to)
            .put("type", type)
            .put(type, content);
    if (replyTo != null && replyTo.startsWith("wamid.")) {
      body.put("context", new JsonObject().put("message_id", replyTo));
    }
    return body;
  }

  /** {@code metadata.template} as Graph wants it ({@code language} may be given as a code). */
  private static JsonObject template(JsonObject t) {
    JsonObject out = t.copy();
    if (out.getValue("language") instanceof String code) {
      out.put("language", new JsonObject().put("code", code));
    }
    if (out.getValue("language") == null) {
      out.put("language", new JsonObject().put("code", "en_US"));
    }
    if (out.getValue("components") != null && !(out.getValue("components") instanceof JsonArray)) {
      out.remove("components");
    }
    return out;
  }

  private Future<String> sendText(String to, String text, String replyTo) {
    return post(base(to, replyTo, "text", new JsonObject().put("body", text)));
  }

  private Future<String> post(JsonObject body) {
    return graph.post(phoneNumberId + "/messages", body).map(Outbound::wamid);
  }

  private static String wamid(JsonObject answer) {
    JsonArray messages = answer.getJsonArray("messages");
    if (messages != null
        && !messages.isEmpty()
        && messages.getValue(0) instanceof JsonObject first
        && first.getString("id") != null) {
      return first.getString("id");
    }
    throw ConnectorException.of(
        ErrorClass.RETRYABLE, null, "the Cloud API accepted the message without messages[0].id");
  }

  /** The WhatsApp message type a file goes as (a type WhatsApp does not play goes as document). */
  static String type(OutboundMedia media) {
    String mime = media.mimeType() == null ? "" : media.mimeType().toLowerCase(Locale.ROOT);
    return switch (media.kind()) {
      case IMAGE -> IMAGE_TYPES.contains(mime) ? "image" : "document";
      case VIDEO -> VIDEO_TYPES.contains(mime) ? "video" : "document";
      case AUDIO -> AUDIO_TYPES.contains(mime.replaceFirst(";.*$", "")) ? "audio" : "document";
      case DOCUMENT -> "document";
    };
  }

  private static MediaKind kindOf(String type) {
    return switch (type) {
      case "image" -> MediaKind.IMAGE;
      case "video" -> MediaKind.VIDEO;
      case "audio" -> MediaKind.AUDIO;
      default -> MediaKind.DOCUMENT;
    };
  }

  private Future<SendResult> sendMedia(
      String to, OutboundMedia media, String text, String replyTo) {
    String type = type(media);
    long limit = WhatsAppConnector.LIMITS.get(kindOf(type));
    if (media.sizeBytes() > limit) {
      if (oversizeAsLink && media.link() != null) {
        String line = media.filename() + " (" + media.sizeBytes() + " bytes): " + media.link();
        String body = text == null || text.isBlank() ? line : text + "\n" + line;
        if (body.length() > MAX_TEXT) {
          body = line;
        }
        return sendText(to, body, replyTo).map(SendResult::of);
      }
      return refuse(
          ErrorClass.MEDIA_TOO_LARGE,
          "a WhatsApp "
              + type
              + " has at most "
              + limit
              + " bytes; "
              + media.filename()
              + " has "
              + media.sizeBytes());
    }
    boolean captionFits =
        !type.equals("audio") && (text == null || text.isEmpty() || text.length() <= MAX_CAPTION);
    String caption = captionFits && text != null && !text.isEmpty() ? text : null;
    boolean textAfter = !captionFits && text != null && !text.isEmpty();
    boolean byLink =
        media.link() != null && (preferred == MediaTransfer.LINK || media.open() == null);
    Future<JsonObject> content;
    if (byLink) {
      content = Future.succeededFuture(new JsonObject().put("link", media.link()));
    } else if (media.open() != null) {
      content = upload(media).map(id -> new JsonObject().put("id", id));
    } else {
      return refuse(ErrorClass.MEDIA_REJECTED, "the file has neither a link nor bytes to upload");
    }
    return content
        .compose(
            c -> {
              if (caption != null) {
                c.put("caption", caption);
              }
              if (type.equals("document") && media.filename() != null) {
                c.put("filename", media.filename());
              }
              return post(base(to, replyTo, type, c));
            })
        .compose(
            id -> {
              List<String> ids = new ArrayList<>(List.of(id));
              if (!textAfter) {
                return Future.succeededFuture(ids);
              }
              return sendText(
                      to, text.length() > MAX_TEXT ? text.substring(0, MAX_TEXT) : text, null)
                  .map(
                      second -> {
                        ids.add(second);
                        return ids;
                      });
            })
        .map(SendResult::new);
  }

  /** {@code POST /{phone_number_id}/media} (multipart); the media id. */
  private Future<String> upload(OutboundMedia media) {
    Map<String, String> fields = new LinkedHashMap<>();
    String mime = media.mimeType() == null ? "application/octet-stream" : media.mimeType();
    fields.put("messaging_product", "whatsapp");
    fields.put("type", mime);
    return media
        .open()
        .get()
        .compose(
            stream ->
                graph.upload(
                    phoneNumberId + "/media",
                    fields,
                    "file",
                    media.filename(),
                    mime,
                    media.sizeBytes(),
                    stream,
                    uploadTimeoutMs))
        .map(
            answer -> {
              String id = answer.getString("id");
              if (id == null) {
                throw ConnectorException.of(
                    ErrorClass.RETRYABLE, null, "the media upload was answered without an id");
              }
              return id;
            });
  }
}
