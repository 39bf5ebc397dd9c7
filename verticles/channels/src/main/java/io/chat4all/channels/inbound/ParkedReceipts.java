package io.chat4all.channels.inbound;

import io.chat4all.channel.spi.ErrorClass;
import io.chat4all.channel.spi.InboundEvent;
import io.chat4all.channels.delivery.DeliveryStore;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.function.BiFunction;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Receipts that arrive before their send is recorded. A provider may report "delivered" within
 * milliseconds of accepting a message, before the delivery has stored the provider id it answered;
 * such a receipt is kept in MongoDB ({@link DeliveryStore#PARKED_RECEIPTS}) and tried again a few
 * times soon after, then by a periodic sweep (which also covers a node that stopped meanwhile),
 * until it applies or is older than the maximum age (receipts of messages sent outside the platform
 * never apply).
 */
final class ParkedReceipts {
  private static final Logger LOG = LoggerFactory.getLogger(ParkedReceipts.class);
  private static final long[] RETRY_MS = {500, 2_000, 8_000};
  static final long MAX_AGE_MS = 24 * 3600_000L;
  private static final int SWEEP_BATCH = 500;

  private final Vertx vertx;
  private final DeliveryStore store;
  private final BiFunction<String, InboundEvent.Receipt, Future<Boolean>> apply;

  /**
   * @param apply applies a receipt; true when it applied (or never can: nothing to keep), false
   *     when its send is not recorded (yet)
   */
  ParkedReceipts(
      Vertx vertx,
      DeliveryStore store,
      BiFunction<String, InboundEvent.Receipt, Future<Boolean>> apply) {
    this.vertx = vertx;
    this.store = store;
    this.apply = apply;
  }

  /** Keeps {@code r} (durably, before the inbound record is committed) and tries it again soon. */
  Future<Void> park(String channel, InboundEvent.Receipt r) {
    JsonObject doc = encode(r);
    return store.parkReceipt(channel, doc).onSuccess(v -> retry(channel, r, id(channel, doc), 0));
  }

  private void retry(String channel, InboundEvent.Receipt r, String id, int attempt) {
    if (attempt >= RETRY_MS.length) {
      return; // the sweep goes on trying
    }
    vertx.setTimer(
        RETRY_MS[attempt],
        t ->
            apply
                .apply(channel, r)
                .onComplete(
                    ar -> {
                      if (ar.succeeded() && ar.result()) {
                        store.unparkReceipt(id);
                      } else {
                        retry(channel, r, id, attempt + 1);
                      }
                    }));
  }

  /** Tries the oldest parked receipts once; those past the maximum age are dropped. */
  Future<Void> sweep() {
    long now = System.currentTimeMillis();
    return store
        .parkedReceipts(SWEEP_BATCH)
        .compose(
            docs -> {
              List<Future<?>> all = new ArrayList<>();
              for (JsonObject d : docs) {
                String id = d.getString("_id");
                if (now - d.getLong("parked_at_ms", now) > MAX_AGE_MS) {
                  LOG.debug("receipt {} never matched a send: dropped", id);
                  all.add(store.unparkReceipt(id));
                  continue;
                }
                all.add(
                    apply
                        .apply(d.getString("channel"), decode(d))
                        .compose(
                            done -> done ? store.unparkReceipt(id) : Future.succeededFuture()));
              }
              return Future.join(all).mapEmpty();
            });
  }

  private static String id(String channel, JsonObject doc) {
    return channel + ":" + doc.getString("provider_message_id") + ":" + doc.getString("status");
  }

  static JsonObject encode(InboundEvent.Receipt r) {
    return new JsonObject()
        .put("dedup_key", r.dedupKey())
        .put("provider_message_id", r.providerMessageId())
        .put("status", r.status().name())
        .put("provider_user_id", r.providerUserId())
        .put("error_class", r.errorClass() == null ? null : r.errorClass().name())
        .put("provider_code", r.providerCode())
        .put("at_ms", r.at() == null ? null : r.at().toEpochMilli())
        .put("parked_at_ms", System.currentTimeMillis());
  }

  static InboundEvent.Receipt decode(JsonObject d) {
    Long at = d.getLong("at_ms");
    String ec = d.getString("error_class");
    return new InboundEvent.Receipt(
        d.getString("dedup_key"),
        d.getString("provider_message_id"),
        InboundEvent.Status.valueOf(d.getString("status")),
        d.getString("provider_user_id"),
        ec == null ? null : ErrorClass.valueOf(ec),
        d.getString("provider_code"),
        at == null ? null : Instant.ofEpochMilli(at));
  }
}
