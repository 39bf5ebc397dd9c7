package io.chat4all.files;

import io.chat4all.codecs.Settings;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/** The {@code files} section of the node configuration plus the S3 and Kafka facts it needs. */
public record FilesConfig(
    long maxSizeBytes,
    long chunkSizeBytes,
    long maxChunkSizeBytes,
    List<String> allowedMimeTypes,
    long userQuotaBytes,
    int uploadTtlSeconds,
    int cleanupIntervalSeconds,
    long syncVerifyMaxBytes,
    int downloadUrlTtlSeconds,
    S3 s3,
    String topicPrefix) {

  /** S3's smallest part (every part but the last). */
  public static final long MIN_CHUNK_BYTES = 5L * 1024 * 1024;

  /** S3's largest part count per multipart upload. */
  public static final int MAX_CHUNKS = 10_000;

  /** Where the bytes go: the endpoint the node talks to and the one put into download URLs. */
  public record S3(
      String endpoint,
      String publicEndpoint,
      String region,
      String accessKey,
      String secretKey,
      String bucket,
      boolean pathStyle,
      String encryption,
      String kmsKeyId) {
    public String effectivePublicEndpoint() {
      return publicEndpoint == null || publicEndpoint.isBlank() ? endpoint : publicEndpoint;
    }
  }

  public static FilesConfig from(JsonObject section, S3 s3, String topicPrefix) {
    List<String> mimes = new ArrayList<>();
    for (String m : Settings.texts(section, "files", "allowed_mime_types", List.of())) {
      mimes.add(m.toLowerCase(Locale.ROOT));
    }
    return new FilesConfig(
        Settings.longOf(section, "files", "max_size_bytes", 10L * 1024 * 1024 * 1024),
        Settings.longOf(section, "files", "chunk_size_bytes", 8L * 1024 * 1024),
        Settings.longOf(section, "files", "max_chunk_size_bytes", 64L * 1024 * 1024),
        List.copyOf(mimes),
        Settings.longOf(section, "files", "user_quota_bytes", 50L * 1024 * 1024 * 1024),
        Settings.intOf(section, "files", "upload_ttl_seconds", 86400),
        Settings.intOf(section, "files", "cleanup_interval_seconds", 300),
        Settings.longOf(section, "files", "sync_verify_max_bytes", 64L * 1024 * 1024),
        Settings.intOf(section, "files", "download_url_ttl_seconds", 300),
        s3,
        topicPrefix == null ? "" : topicPrefix);
  }

  /**
   * The problem with these settings, or null: the key and what is wrong (the node refuses to start
   * with it).
   */
  public String[] problem() {
    if (chunkSizeBytes < MIN_CHUNK_BYTES) {
      return new String[] {"files.chunk_size_bytes", "must be at least 5 MiB (S3's part minimum)"};
    }
    if (maxChunkSizeBytes < chunkSizeBytes) {
      return new String[] {"files.max_chunk_size_bytes", "must be at least files.chunk_size_bytes"};
    }
    if (maxChunkSizeBytes > 5L * 1024 * 1024 * 1024) {
      return new String[] {
        "files.max_chunk_size_bytes", "must be at most 5 GiB (S3's part maximum)"
      };
    }
    if (maxSizeBytes < 1) {
      return new String[] {"files.max_size_bytes", "must be positive"};
    }
    if (maxSizeBytes > maxChunkSizeBytes * MAX_CHUNKS) {
      return new String[] {
        "files.max_size_bytes",
        "must fit in 10,000 chunks of files.max_chunk_size_bytes ("
            + maxChunkSizeBytes * MAX_CHUNKS
            + ")"
      };
    }
    if (userQuotaBytes < 0) {
      return new String[] {"files.user_quota_bytes", "must not be negative"};
    }
    if (uploadTtlSeconds < 60) {
      return new String[] {"files.upload_ttl_seconds", "must be at least 60"};
    }
    if (cleanupIntervalSeconds < 1) {
      return new String[] {"files.cleanup_interval_seconds", "must be positive"};
    }
    if (downloadUrlTtlSeconds < 1 || downloadUrlTtlSeconds > 7 * 24 * 3600) {
      return new String[] {
        "files.download_url_ttl_seconds", "must be between 1 and 604800 (S3's presign maximum)"
      };
    }
    for (String m : allowedMimeTypes) {
      if (!m.matches("[a-z0-9][a-z0-9!#$&^_.+-]*/([a-z0-9][a-z0-9!#$&^_.+-]*|\\*)")) {
        return new String[] {"files.allowed_mime_types", "\"" + m + "\" is not a MIME type"};
      }
    }
    return null;
  }

  /** The chunk size for a file of {@code size} bytes: the configured one, grown to fit. */
  public long chunkSizeFor(long size) {
    long c = chunkSizeBytes;
    long mib = 1024 * 1024;
    while ((size + c - 1) / c > MAX_CHUNKS) {
      c += mib;
    }
    return c;
  }

  public boolean mimeAllowed(String mime) {
    if (allowedMimeTypes.isEmpty()) {
      return true;
    }
    String m = mime.toLowerCase(Locale.ROOT);
    for (String a : allowedMimeTypes) {
      if (a.equals(m) || (a.endsWith("/*") && m.startsWith(a.substring(0, a.length() - 1)))) {
        return true;
      }
    }
    return false;
  }
}
