package io.chat4all.channel.spi;

import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.streams.ReadStream;
import java.util.function.Supplier;

/**
 * The file of a media message going out.
 *
 * @param kind media kind
 * @param fileId the platform's file id
 * @param filename original file name
 * @param mimeType MIME type
 * @param sizeBytes exact size
 * @param sha256 hex SHA-256 of the bytes (null when unknown)
 * @param link a presigned download URL the provider can fetch (valid for at least an hour); null
 *     when the host has none
 * @param open opens the bytes as a stream (from S3, never buffered whole) for an upload; the caller
 *     must consume or close it
 */
public record OutboundMedia(
    MediaKind kind,
    String fileId,
    String filename,
    String mimeType,
    long sizeBytes,
    String sha256,
    String link,
    Supplier<Future<ReadStream<Buffer>>> open) {}
