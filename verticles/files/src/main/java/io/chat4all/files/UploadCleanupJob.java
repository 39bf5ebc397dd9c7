package io.chat4all.files;

import io.chat4all.codecs.LockedPeriodicJob;
import io.chat4all.codecs.Wire;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import java.time.Instant;
import java.util.List;
import java.util.Objects;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Expires abandoned uploads (aborted in S3, marked {@code expired}) and resumes verifications a
 * node stopped in the middle of (their lease ran out). Runs on a timer on every node but works on
 * one node of the cluster at a time: a cluster-wide lock, the seed's leader election for the file
 * cleanup job done with Hazelcast.
 */
public class UploadCleanupJob extends LockedPeriodicJob<JsonObject> {
  private static final Logger LOG = LoggerFactory.getLogger(UploadCleanupJob.class);
  public static final String LOCK = "chat4all.files.cleanup";
  private static final int BATCH = 100;

  private final FileStore store;
  private final FilesVerticle files;

  public UploadCleanupJob(FileStore store, FilesVerticle files, long periodMs) {
    super(LOCK, periodMs);
    this.store = Objects.requireNonNull(store, "store");
    this.files = Objects.requireNonNull(files, "files");
  }

  /** One pass: {expired, resumed} counts. */
  @Override
  protected Future<JsonObject> pass() {
    String now = Wire.timestamp(Instant.now());
    Future<Integer> expired =
        store.due(FileStore.UPLOADING, "expires_at", now, BATCH).compose(docs -> each(docs, true));
    Future<Integer> resumed =
        expired.compose(
            x ->
                store
                    .due(FileStore.VERIFYING, "verify_until", now, BATCH)
                    .compose(docs -> each(docs, false)));
    return resumed
        .map(r -> new JsonObject().put("expired", expired.result()).put("resumed", r))
        .onSuccess(
            r -> {
              if (r.getInteger("expired") + r.getInteger("resumed") > 0) {
                LOG.info("file cleanup: {}", r.encode());
              }
            });
  }

  @Override
  protected JsonObject skipped() {
    return new JsonObject().put("expired", 0).put("resumed", 0);
  }

  private Future<Integer> each(List<JsonObject> docs, boolean expire) {
    Future<Integer> chain = Future.succeededFuture(0);
    for (JsonObject doc : docs) {
      chain =
          chain.compose(
              count ->
                  (expire ? files.expire(doc) : resume(doc))
                      .map(done -> done ? count + 1 : count)
                      .recover(
                          err -> {
                            LOG.warn(
                                "file cleanup of {} failed: {}",
                                doc.getString("file_id"),
                                err.getMessage());
                            return Future.succeededFuture(count);
                          }));
    }
    return chain;
  }

  private Future<Boolean> resume(JsonObject doc) {
    // renew the lease first so no other pass picks the same file up meanwhile
    return store
        .transition(
            doc.getString("file_id"),
            FileStore.VERIFYING,
            new JsonObject()
                .put("upload_status", FileStore.VERIFYING)
                .put(
                    "verify_until",
                    Wire.timestamp(
                        Instant.now().plusSeconds(300 + doc.getLong("size_bytes") / 10_000_000L))))
        .compose(d -> d == null ? Future.succeededFuture(false) : files.finish(d).map(true));
  }
}
