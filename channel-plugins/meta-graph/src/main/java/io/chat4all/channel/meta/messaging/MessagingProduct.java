package io.chat4all.channel.meta.messaging;

import io.chat4all.channel.spi.Capabilities.ReceiptKind;
import io.chat4all.channel.spi.MediaKind;
import java.util.Map;
import java.util.Set;

/**
 * What differs between the Messenger Platform products a {@link MessagingConnector} serves.
 *
 * @param channel channel id ({@code messenger}, {@code instagram})
 * @param displayName the product's name in messages
 * @param webhookObject the {@code object} of its webhook bodies ({@code page}, {@code instagram})
 * @param defaultBaseUrl the Graph host
 * @param accountKey the config key of the account id the Send API is called on ({@code page_id},
 *     {@code ig_account_id})
 * @param tokenKey the config key of the access token
 * @param maxText longest text
 * @param maxBytes largest attachment per kind (by link and by upload alike)
 * @param receipts what the provider reports
 */
public record MessagingProduct(
    String channel,
    String displayName,
    String webhookObject,
    String defaultBaseUrl,
    String accountKey,
    String tokenKey,
    int maxText,
    Map<MediaKind, Long> maxBytes,
    Set<ReceiptKind> receipts) {

  private static final long MB = 1024L * 1024;

  /** Attachments: 25 MB, images 8 MB (both products). */
  public static final Map<MediaKind, Long> LIMITS =
      Map.of(
          MediaKind.IMAGE, 8 * MB,
          MediaKind.VIDEO, 25 * MB,
          MediaKind.AUDIO, 25 * MB,
          MediaKind.DOCUMENT, 25 * MB);

  /** Facebook Messenger: a Page, PSIDs, delivery and read watermarks. */
  public static final MessagingProduct MESSENGER =
      new MessagingProduct(
          "messenger",
          "Messenger",
          "page",
          "https://graph.facebook.com",
          "page_id",
          "page_access_token",
          2000,
          LIMITS,
          Set.of(ReceiptKind.SENT, ReceiptKind.DELIVERED, ReceiptKind.READ_WATERMARK));

  /** Instagram Messaging: a professional account, IGSIDs, reads of single messages. */
  public static final MessagingProduct INSTAGRAM =
      new MessagingProduct(
          "instagram",
          "Instagram",
          "instagram",
          "https://graph.instagram.com",
          "ig_account_id",
          "access_token",
          1000,
          LIMITS,
          Set.of(ReceiptKind.SENT, ReceiptKind.READ));
}
