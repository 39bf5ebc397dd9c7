package io.chat4all.channel.spi;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.util.Map;
import java.util.Set;

/**
 * What a channel can do; the host uses it before calling the connector (a text too long, a medium
 * of a kind the channel lacks or above its limits fails fast without a provider call).
 *
 * @param maxTextLength longest text in characters (UTF-16 code units as most providers count)
 * @param mediaByLink largest file per kind the provider fetches itself from a (presigned) URL; a
 *     kind absent here cannot be sent by link
 * @param mediaByUpload largest file per kind the connector can upload as bytes; a kind absent here
 *     cannot be uploaded
 * @param preferred how media goes when both are possible
 * @param receipts the receipt kinds the provider reports
 * @param window the messaging-window policy
 * @param inboundModes how inbound events arrive
 * @param replies whether a reply can quote an earlier provider message
 */
public record Capabilities(
    int maxTextLength,
    Map<MediaKind, Long> mediaByLink,
    Map<MediaKind, Long> mediaByUpload,
    MediaTransfer preferred,
    Set<ReceiptKind> receipts,
    MessagingWindow window,
    Set<InboundMode> inboundModes,
    boolean replies) {

  public Capabilities {
    mediaByLink = Map.copyOf(mediaByLink);
    mediaByUpload = Map.copyOf(mediaByUpload);
    receipts = Set.copyOf(receipts);
    inboundModes = Set.copyOf(inboundModes);
  }

  /** How media is handed to the provider. */
  public enum MediaTransfer {
    LINK,
    UPLOAD
  }

  /** Receipt kinds a provider can report. */
  public enum ReceiptKind {
    SENT,
    DELIVERED,
    READ,
    READ_WATERMARK
  }

  /** How inbound events arrive. */
  public enum InboundMode {
    WEBHOOK,
    POLLING
  }

  /**
   * Messaging-window policy: after {@code freeForm} since the contact's last inbound message,
   * free-form messages are refused ({@link ErrorClass#WINDOW_CLOSED}); {@code tagged} is the longer
   * window some providers allow for tagged messages (e.g. a human agent), zero when none. {@link
   * #NONE} is a channel without a window.
   */
  public record MessagingWindow(Duration freeForm, Duration tagged) {
    public static final MessagingWindow NONE = new MessagingWindow(Duration.ZERO, Duration.ZERO);

    public boolean limited() {
      return !freeForm.isZero();
    }
  }

  /** Whether a medium of this kind and size can go by the given transfer. */
  public boolean allows(MediaKind kind, long size, MediaTransfer transfer) {
    Long max = (transfer == MediaTransfer.LINK ? mediaByLink : mediaByUpload).get(kind);
    return max != null && size <= max;
  }

  public JsonObject toJson() {
    JsonObject link = new JsonObject();
    mediaByLink.forEach((k, v) -> link.put(k.name().toLowerCase(), v));
    JsonObject upload = new JsonObject();
    mediaByUpload.forEach((k, v) -> upload.put(k.name().toLowerCase(), v));
    JsonArray r = new JsonArray();
    receipts.stream().map(k -> k.name().toLowerCase()).sorted().forEach(r::add);
    JsonArray in = new JsonArray();
    inboundModes.stream().map(k -> k.name().toLowerCase()).sorted().forEach(in::add);
    return new JsonObject()
        .put("max_text_length", maxTextLength)
        .put("media_by_link_max_bytes", link)
        .put("media_by_upload_max_bytes", upload)
        .put("media_preferred", preferred.name().toLowerCase())
        .put("receipts", r)
        .put(
            "window",
            new JsonObject()
                .put("free_form_seconds", window.freeForm().toSeconds())
                .put("tagged_seconds", window.tagged().toSeconds()))
        .put("inbound_modes", in)
        .put("replies", replies);
  }
}
