package io.chat4all.channel.spi;

/**
 * An attachment of an inbound message; the host fetches it through {@link
 * ChannelConnector#fetchMedia} and stores it as a platform file.
 *
 * @param kind media kind
 * @param ref the provider's reference to fetch it (Telegram {@code file_id}, Graph media id or URL)
 * @param filename file name when the provider gives one, else null
 * @param mimeType MIME type when known, else null
 * @param sizeBytes size when the provider tells it before download, else -1
 */
public record InboundMedia(
    MediaKind kind, String ref, String filename, String mimeType, long sizeBytes) {}
