package io.chat4all.webhooks;

import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

/** Webhook rows in PostgreSQL ({@code webhooks}); every read and change is scoped to the owner. */
final class WebhookStore {
  private static final String COLUMNS =
      "webhook_id, url, events, description, is_global, is_active, failing_since, disabled_at,"
          + " disabled_reason, created_at, updated_at,"
          + " CASE WHEN previous_secret_expires_at > now() THEN previous_secret_expires_at END"
          + " AS previous_secret_expires_at";

  private final Pool pg;

  WebhookStore(Pool pg) {
    this.pg = pg;
  }

  /**
   * Inserts a webhook unless the owner already has {@code max}; the new webhook, or null when the
   * owner is at the limit. The count and the insert are one statement under a lock on the owner's
   * user row, so concurrent creates cannot pass the limit.
   */
  Future<JsonObject> insert(
      UUID owner,
      String url,
      List<String> events,
      String description,
      boolean global,
      String secret,
      int max) {
    return pg.withTransaction(
        conn ->
            conn.preparedQuery("SELECT 1 FROM users WHERE user_id = $1 FOR UPDATE")
                .execute(Tuple.of(owner))
                .compose(
                    x ->
                        conn.preparedQuery(
                                "INSERT INTO webhooks (user_id, url, events, description,"
                                    + " is_global, secret)"
                                    + " SELECT $1::uuid, $2::text, $3::text[], $4::text, $5::boolean, $6::text"
                                    + " WHERE (SELECT count(*) FROM webhooks WHERE user_id = $1) < $7"
                                    + " RETURNING "
                                    + COLUMNS)
                            .execute(
                                Tuple.of(
                                    owner,
                                    url,
                                    events.toArray(String[]::new),
                                    description,
                                    global,
                                    secret,
                                    max)))
                .map(rows -> rows.size() == 0 ? null : view(rows.iterator().next())));
  }

  Future<List<JsonObject>> list(UUID owner) {
    return pg.preparedQuery(
            "SELECT "
                + COLUMNS
                + " FROM webhooks WHERE user_id = $1 ORDER BY created_at, webhook_id")
        .execute(Tuple.of(owner))
        .map(
            rows -> {
              List<JsonObject> out = new ArrayList<>();
              rows.forEach(r -> out.add(view(r)));
              return out;
            });
  }

  /** The owner's webhook, or null. */
  Future<JsonObject> get(UUID owner, UUID id) {
    return pg.preparedQuery(
            "SELECT " + COLUMNS + " FROM webhooks WHERE webhook_id = $1 AND user_id = $2")
        .execute(Tuple.of(id, owner))
        .map(rows -> rows.size() == 0 ? null : view(rows.iterator().next()));
  }

  /**
   * Applies the given changes (null = unchanged); turning a webhook on clears why it was off. The
   * updated webhook, or null when the owner has no such webhook.
   */
  Future<JsonObject> update(
      UUID owner,
      UUID id,
      String url,
      List<String> events,
      String description,
      boolean descriptionGiven,
      Boolean active) {
    return pg.preparedQuery(
            "UPDATE webhooks SET url = COALESCE($3, url), events = COALESCE($4, events),"
                + " description = CASE WHEN $5 THEN $6 ELSE description END,"
                + " is_active = COALESCE($7, is_active),"
                + " failing_since = CASE WHEN $7 IS NOT NULL THEN NULL ELSE failing_since END,"
                + " disabled_at = CASE WHEN $7 IS NOT NULL THEN NULL ELSE disabled_at END,"
                + " disabled_reason = CASE WHEN $7 IS NOT NULL THEN NULL ELSE disabled_reason END,"
                + " updated_at = now() WHERE webhook_id = $1 AND user_id = $2 RETURNING "
                + COLUMNS)
        .execute(
            Tuple.of(
                id,
                owner,
                url,
                events == null ? null : events.toArray(String[]::new),
                descriptionGiven,
                description,
                active))
        .map(rows -> rows.size() == 0 ? null : view(rows.iterator().next()));
  }

  /** True when the owner's webhook existed and is gone (its deliveries with it). */
  Future<Boolean> delete(UUID owner, UUID id) {
    return pg.preparedQuery("DELETE FROM webhooks WHERE webhook_id = $1 AND user_id = $2")
        .execute(Tuple.of(id, owner))
        .map(r -> r.rowCount() == 1);
  }

  /**
   * Replaces the secret; the old one keeps signing (next to the new one) until {@code overlap}
   * seconds from now. The updated webhook, or null.
   */
  Future<JsonObject> rotate(UUID owner, UUID id, String secret, long overlapSeconds) {
    return pg.preparedQuery(
            "UPDATE webhooks SET previous_secret = CASE WHEN $4::bigint > 0 THEN secret END,"
                + " previous_secret_expires_at = CASE WHEN $4 > 0"
                + "  THEN now() + make_interval(secs => $4::bigint) END,"
                + " secret = $3, updated_at = now() WHERE webhook_id = $1 AND user_id = $2"
                + " RETURNING "
                + COLUMNS)
        .execute(Tuple.of(id, owner, secret, overlapSeconds))
        .map(rows -> rows.size() == 0 ? null : view(rows.iterator().next()));
  }

  private static JsonObject view(Row r) {
    JsonArray events = new JsonArray();
    for (String e : r.getArrayOfStrings("events")) {
      events.add(e);
    }
    return new JsonObject()
        .put("webhook_id", r.getUUID("webhook_id").toString())
        .put("url", r.getString("url"))
        .put("events", events)
        .put("description", r.getString("description"))
        .put("global", r.getBoolean("is_global"))
        .put("active", r.getBoolean("is_active"))
        .put("failing_since", ts(r.getOffsetDateTime("failing_since")))
        .put("disabled_at", ts(r.getOffsetDateTime("disabled_at")))
        .put("disabled_reason", r.getString("disabled_reason"))
        .put("previous_secret_expires_at", ts(r.getOffsetDateTime("previous_secret_expires_at")))
        .put("created_at", ts(r.getOffsetDateTime("created_at")))
        .put("updated_at", ts(r.getOffsetDateTime("updated_at")));
  }

  private static String ts(OffsetDateTime t) {
    return DeliveryStore.ts(t);
  }
}
