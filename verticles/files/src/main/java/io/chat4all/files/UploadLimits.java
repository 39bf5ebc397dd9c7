package io.chat4all.files;

import io.vertx.core.Future;

/**
 * The limits a new upload is checked against, read at each initiation so that they can change at
 * run time (the node backs them with the cluster's runtime settings); {@link #of} keeps the
 * configured ones.
 */
public interface UploadLimits {
  /** Largest file accepted, in bytes. */
  long maxSizeBytes();

  /** Bytes a user may hold in uploads and files (0 = unlimited). */
  long userQuotaBytes();

  /** Counts one initiation for {@code userId}; fails ({@code rate_limited}) when too many. */
  Future<Void> admit(String userId);

  /** The configured limits, with no rate limit on initiations. */
  static UploadLimits of(FilesConfig config) {
    return new UploadLimits() {
      @Override
      public long maxSizeBytes() {
        return config.maxSizeBytes();
      }

      @Override
      public long userQuotaBytes() {
        return config.userQuotaBytes();
      }

      @Override
      public Future<Void> admit(String userId) {
        return Future.succeededFuture();
      }
    };
  }
}
