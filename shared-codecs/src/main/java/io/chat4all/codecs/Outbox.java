package io.chat4all.codecs;

import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.json.JsonObject;
import java.time.Instant;
import java.util.UUID;

/**
 * The transactional outbox: a service that changes state and must tell Kafka about it writes the
 * event together with the change, never after it — into the PostgreSQL table {@code outbox} in the
 * same transaction, or into the {@value #FIELD} array of the MongoDB document it updates (in the
 * same update). The outbox relay (one node at a time, under a cluster lock) publishes what it finds
 * and then removes it: a crash between the two means the event is published twice, never lost, so
 * every event carries an {@value #EVENT_ID} for consumers to drop repeats.
 */
public final class Outbox {
  private Outbox() {}

  /** Stable id of an event, the same in every copy the relay may publish. */
  public static final String EVENT_ID = "event_id";

  /** Insert of one PostgreSQL outbox row: $1 physical topic, $2 record key, $3 JSON value. */
  public static final String INSERT_SQL =
      "INSERT INTO outbox (topic, record_key, payload) VALUES ($1, $2, $3)";

  /** The array field of a MongoDB document holding events not yet published. */
  public static final String FIELD = "outbox";

  /** {@link Addresses#OUTBOX_NUDGE} bodies: which store has new events. */
  public static final String POSTGRES = "postgres";

  public static final String MONGO = "mongo";

  /** The value with a fresh {@value #EVENT_ID} (unless it has one). */
  public static JsonObject withEventId(JsonObject value) {
    if (value.getString(EVENT_ID) == null) {
      value.put(EVENT_ID, UUID.randomUUID().toString());
    }
    return value;
  }

  /**
   * An entry of a document's {@value #FIELD} array: {@code {id, topic, key, value, at}} with the
   * value encoded as the record's text.
   */
  public static JsonObject entry(String topic, String key, JsonObject value) {
    JsonObject v = withEventId(value);
    return new JsonObject()
        .put("id", v.getString(EVENT_ID))
        .put("topic", topic)
        .put("key", key)
        .put("value", v.encode())
        .put("at", Wire.timestamp(Instant.now()));
  }

  /** Tells this node's relay that {@code store} has new events (after the commit). */
  public static void nudge(Vertx vertx, String store) {
    vertx
        .eventBus()
        .publish(
            Addresses.OUTBOX_NUDGE,
            new JsonObject().put("store", store),
            new DeliveryOptions().setLocalOnly(true));
  }
}
