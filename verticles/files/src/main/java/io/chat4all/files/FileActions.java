package io.chat4all.files;

/** Actions of the files service on {@link io.chat4all.codecs.Addresses#FILES}. */
public final class FileActions {
  private FileActions() {}

  public static final String INITIATE = "initiate";
  public static final String STATUS = "status";

  /** Checks a chunk may be stored now; answers where it goes (key, upload id, exact size). */
  public static final String CHUNK_BEGIN = "chunk_begin";

  /** Records a chunk S3 has stored (number, size, SHA-256, ETag). */
  public static final String CHUNK_STORED = "chunk_stored";

  public static final String COMPLETE = "complete";
  public static final String ABORT = "abort";
  public static final String DOWNLOAD = "download";

  /** A completed file the user may share into a conversation: its file_reference. */
  public static final String SHARE = "share";

  /**
   * For channel delivery only (no REST or gRPC route): where a connector gets a completed file the
   * recipient may see: {@code {file, link (public presigned GET), internal_url (presigned GET of
   * the node's own S3 endpoint, for streaming an upload)}}, each valid {@code link_ttl_seconds}.
   */
  public static final String MEDIA_SOURCE = "media_source";

  /** Header a chunk's SHA-256 (lowercase hex) travels in. */
  public static final String CHECKSUM_HEADER = "X-Checksum-SHA256";
}
