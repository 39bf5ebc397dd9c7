package io.chat4all.channel.spi;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.streams.ReadStream;

/**
 * An inbound attachment being downloaded.
 *
 * @param stream the bytes (paused; the host resumes it); ends with an error when more than the
 *     allowed size arrives
 * @param mimeType MIME type (the provider's, or the one announced in {@link InboundMedia})
 * @param sizeBytes announced size, or -1 when unknown
 * @param filename name to store it under
 */
public record MediaDownload(
    ReadStream<Buffer> stream, String mimeType, long sizeBytes, String filename) {}
