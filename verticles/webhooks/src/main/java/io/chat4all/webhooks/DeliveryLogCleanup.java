package io.chat4all.webhooks;

import io.chat4all.codecs.LockedPeriodicJob;
import io.vertx.core.Future;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Hourly, on one node (cluster lock): removes delivered and dead deliveries older than {@code
 * webhooks.log_retention_days} from the delivery log. Pending ones stay whatever their age.
 */
public class DeliveryLogCleanup extends LockedPeriodicJob<Integer> {
  private static final Logger LOG = LoggerFactory.getLogger(DeliveryLogCleanup.class);

  private final DeliveryStore store;
  private final int retentionDays;

  public DeliveryLogCleanup(DeliveryStore store, int retentionDays, long periodMs) {
    super("chat4all.webhooks.log-cleanup", periodMs);
    this.store = store;
    this.retentionDays = retentionDays;
  }

  @Override
  protected Future<Integer> pass() {
    return store
        .cleanup(retentionDays)
        .onSuccess(n -> LOG.debug("removed {} old webhook deliveries", n))
        .onFailure(err -> LOG.warn("webhook delivery log cleanup failed: {}", err.toString()));
  }

  @Override
  protected Integer skipped() {
    return -1;
  }
}
