package io.chat4all.webhooks;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.VerticleBase;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.MessageConsumer;
import java.time.Instant;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Attempts deliveries on this node. Deliveries live in PostgreSQL; a node claims due ones with a
 * lease (so any node can take over what a dead node held) — at most {@code
 * max_concurrency_per_webhook} in flight per webhook across the cluster and {@code max_in_flight}
 * on this node, the head of each (webhook, ordering key) only, so events of one conversation reach
 * a webhook in order and one slow endpoint only ever holds its own few slots. A finished attempt
 * pulls that webhook's next deliveries at once; new deliveries wake it ({@link #WAKE}); a timer
 * fires retries that are due soon; a periodic poll picks up everything else (due retries, leases of
 * dead nodes, deliveries of webhooks turned on again).
 */
public class DeliveryScheduler extends VerticleBase {
  private static final Logger LOG = LoggerFactory.getLogger(DeliveryScheduler.class);

  /** Local address: a webhook id (its deliveries may be due) or an empty body (any may be). */
  public static final String WAKE = "chat4all.webhooks.wake";

  /** Retries due within this are fired by a timer on this node; later ones by the poll. */
  private static final long TIMER_MAX_MS = 600_000;

  private final DeliveryStore store;
  private final WebhooksConfig config;
  private final String node;
  private final WebhookMetrics metrics;
  private WebhookSender sender;
  private MessageConsumer<String> wakes;
  private long pollTimer = -1;
  private long depthTimer = -1;
  private int inFlight;
  private final Map<String, Integer> inFlightByWebhook = new HashMap<>();
  private final Set<String> pulling = new HashSet<>();
  private final Set<String> again = new HashSet<>();
  private boolean polling;
  private boolean stopping;
  private Promise<Void> drained;

  public DeliveryScheduler(DeliveryStore store, WebhooksConfig config, String node) {
    this.store = Objects.requireNonNull(store);
    this.config = Objects.requireNonNull(config);
    this.node = Objects.requireNonNull(node);
    this.metrics = new WebhookMetrics();
  }

  /** Wakes the scheduler of this node for {@code webhookId} (null: for every webhook). */
  public static void wake(io.vertx.core.Vertx vertx, String webhookId) {
    vertx
        .eventBus()
        .publish(
            WAKE, webhookId == null ? "" : webhookId, new DeliveryOptions().setLocalOnly(true));
  }

  @Override
  public Future<?> start() {
    sender = new WebhookSender(vertx, config);
    wakes =
        vertx
            .eventBus()
            .localConsumer(
                WAKE,
                msg -> {
                  String id = msg.body();
                  if (id == null || id.isEmpty()) {
                    poll();
                  } else {
                    pull(id);
                  }
                });
    pollTimer = vertx.setPeriodic(config.pollIntervalMs(), t -> poll());
    // the depth gauges follow every fifth poll (at least every 10 s)
    depthTimer =
        vertx.setPeriodic(Math.min(10_000, config.pollIntervalMs() * 5), t -> refreshDepths());
    return wakes.completion();
  }

  @Override
  public Future<?> stop() {
    stopping = true;
    vertx.cancelTimer(pollTimer);
    vertx.cancelTimer(depthTimer);
    drained = Promise.promise();
    if (inFlight == 0) {
      drained.tryComplete();
    }
    // attempts in flight get their time; what is left is taken over by another node's poll
    long grace = vertx.setTimer(config.timeoutMs() + 1000, t -> drained.tryComplete());
    return drained
        .future()
        .compose(x -> wakes.unregister())
        .compose(x -> sender.close())
        .onComplete(x -> vertx.cancelTimer(grace));
  }

  /** Claims whatever is due over all webhooks, up to this node's free capacity. */
  private void poll() {
    int free = config.maxInFlight() - inFlight;
    if (stopping || polling || free <= 0) {
      return;
    }
    polling = true;
    store
        .claim(null, node, config.leaseMs(), config.maxConcurrencyPerWebhook(), free)
        .onComplete(
            ar -> {
              polling = false;
              if (ar.failed()) {
                LOG.warn("cannot claim due webhook deliveries: {}", ar.cause().toString());
                return;
              }
              ar.result().forEach(this::attempt);
            });
  }

  /** Claims the due deliveries of one webhook, up to its free slots on this node. */
  private void pull(String webhookId) {
    if (stopping) {
      return;
    }
    if (pulling.contains(webhookId)) {
      again.add(webhookId);
      return;
    }
    int free =
        Math.min(
            config.maxConcurrencyPerWebhook() - inFlightByWebhook.getOrDefault(webhookId, 0),
            config.maxInFlight() - inFlight);
    if (free <= 0) {
      return; // an attempt of this webhook ends soon and pulls again
    }
    pulling.add(webhookId);
    store
        .claim(webhookId, node, config.leaseMs(), config.maxConcurrencyPerWebhook(), free)
        .onComplete(
            ar -> {
              pulling.remove(webhookId);
              if (ar.failed()) {
                LOG.warn(
                    "cannot claim deliveries of webhook {}: {}", webhookId, ar.cause().toString());
              } else {
                ar.result().forEach(this::attempt);
              }
              if (again.remove(webhookId)) {
                pull(webhookId);
              }
            });
  }

  private void attempt(DeliveryStore.Claimed c) {
    String webhook = c.webhookId().toString();
    inFlight++;
    inFlightByWebhook.merge(webhook, 1, Integer::sum);
    int attempt = c.attempts() + 1;
    sender
        .send(c, attempt)
        .compose(o -> settle(c, attempt, o))
        .onComplete(
            ar -> {
              if (ar.failed()) {
                LOG.warn(
                    "cannot record attempt {} of delivery {}: {}",
                    attempt,
                    c.deliveryId(),
                    ar.cause().toString());
              }
              inFlight--;
              inFlightByWebhook.computeIfPresent(webhook, (k, n) -> n <= 1 ? null : n - 1);
              if (stopping) {
                if (inFlight == 0 && drained != null) {
                  drained.tryComplete();
                }
                return;
              }
              pull(webhook);
            });
  }

  /** Records the outcome: delivered, a retry at its time, or dead after the last attempt. */
  private Future<Void> settle(DeliveryStore.Claimed c, int attempt, WebhookSender.Outcome o) {
    String status;
    long delay = 0;
    if (o.delivered()) {
      status = DeliveryStore.DELIVERED;
    } else if (attempt - c.roundStart() >= config.maxAttempts()) {
      status = DeliveryStore.DEAD;
    } else {
      status = DeliveryStore.PENDING;
      delay = retryDelay(attempt - c.roundStart(), o.retryAfterMs());
    }
    Instant next = Instant.now().plusMillis(delay);
    long wait = delay;
    metrics.attempted(o, status, Instant.now().toEpochMilli() - c.eventAt().toEpochMilli());
    if (!o.delivered()) {
      LOG.debug(
          "delivery {} attempt {} to webhook {} failed ({}): {}",
          c.deliveryId(),
          attempt,
          c.webhookId(),
          status,
          o.error());
    }
    return store
        .record(c, node, attempt, o, status, next, config.disableAfterFailingSeconds())
        .map(
            disabledNow -> {
              if (disabledNow) {
                metrics.disabled();
                LOG.warn(
                    "webhook {} disabled: its deliveries kept failing (last: {})",
                    c.webhookId(),
                    o.error());
              }
              if (DeliveryStore.DEAD.equals(status)) {
                LOG.info(
                    "delivery {} to webhook {} is dead after {} attempts (last: {})",
                    c.deliveryId(),
                    c.webhookId(),
                    attempt,
                    o.error());
              }
              if (DeliveryStore.PENDING.equals(status) && wait <= TIMER_MAX_MS) {
                String webhook = c.webhookId().toString();
                vertx.setTimer(Math.max(1, wait), t -> pull(webhook));
              }
              return null;
            });
  }

  /**
   * The wait before the next attempt after {@code failedInRound} failures of this round: the
   * schedule's entry randomised by ± the jitter, or a longer Retry-After (capped).
   */
  long retryDelay(int failedInRound, Long retryAfterMs) {
    List<Long> schedule = config.retryScheduleMs();
    long base = schedule.get(Math.min(failedInRound, schedule.size()) - 1);
    double jitter = config.retryJitterPercent() / 100.0;
    long delay =
        Math.round(base * (1 + jitter * (2 * ThreadLocalRandom.current().nextDouble() - 1)));
    if (retryAfterMs != null) {
      delay = Math.max(delay, Math.min(retryAfterMs, config.maxRetryAfterSeconds() * 1000L));
    }
    return Math.max(0, delay);
  }

  private void refreshDepths() {
    store
        .queueDepths()
        .onSuccess(metrics::queueDepths)
        .onFailure(err -> LOG.debug("queue depths not refreshed: {}", err.toString()));
  }
}
