package io.chat4all.messaging;

import io.chat4all.codecs.LockedPeriodicJob;
import io.chat4all.codecs.Wire;
import io.vertx.core.Future;
import java.time.Instant;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Deletes messages past their ttl_expire_at. Real MongoDB does it with the TTL index; the embedded
 * server ignores TTL, so this job runs on a timer, on one node of the cluster at a time (a
 * cluster-wide lock).
 */
public class RetentionJob extends LockedPeriodicJob<Long> {
  private static final Logger LOG = LoggerFactory.getLogger(RetentionJob.class);
  public static final String LOCK = "chat4all.retention";
  private final MessageStore store;

  public RetentionJob(MessageStore store, long periodMs) {
    super(LOCK, periodMs);
    this.store = store;
  }

  /** Deletes the messages whose ttl_expire_at has passed; how many. */
  @Override
  protected Future<Long> pass() {
    return store
        .deleteExpired(Wire.timestamp(Instant.now()))
        .onSuccess(
            n -> {
              if (n > 0) {
                LOG.info("retention: deleted {} expired messages", n);
              }
            });
  }

  @Override
  protected Long skipped() {
    return 0L;
  }
}
