package io.chat4all.webhooks;

import io.chat4all.codecs.Wire;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.pgclient.PgException;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;

/**
 * The delivery queue and log in PostgreSQL ({@code webhook_deliveries}, {@code webhook_attempts}):
 * one row per webhook and event, made once however often the event is seen; claimed by one node at
 * a time with a lease; attempted in {@code seq} order per webhook and ordering key.
 */
public final class DeliveryStore {
  public static final String PENDING = "pending";
  public static final String DELIVERED = "delivered";
  public static final String DEAD = "dead";

  /** Webhooks created up to this long after an event still get it (clocks of nodes differ). */
  private static final int CREATED_SLACK_SECONDS = 10;

  private static final String FAN_OUT =
      "INSERT INTO webhook_deliveries"
          + " (delivery_id, webhook_id, event_id, event_type, ordering_key, body, event_at)"
          + " SELECT gen_random_uuid(), w.webhook_id, $1::text, $2::text, $3::text,"
          + " $4::text, $5::timestamptz FROM webhooks w"
          + " WHERE w.is_active AND ($2::text = ANY (w.events) OR '*' = ANY (w.events))"
          + " AND w.created_at <= $5::timestamptz + make_interval(secs => "
          + CREATED_SLACK_SECONDS
          + ") AND (w.is_global OR w.user_id = ANY ($6::uuid[])"
          + "  OR ($7::uuid IS NOT NULL AND EXISTS (SELECT 1 FROM conversation_members m"
          + "      WHERE m.conversation_id = $7 AND m.user_id = w.user_id))"
          + "  OR ($8::uuid IS NOT NULL AND EXISTS (SELECT 1 FROM conversation_members a"
          + "      JOIN conversation_members b ON b.conversation_id = a.conversation_id"
          + "      WHERE a.user_id = $8 AND b.user_id = w.user_id)))"
          + " ON CONFLICT (webhook_id, event_id) DO NOTHING RETURNING webhook_id";

  /**
   * Claims due deliveries: the head (lowest seq) of each (webhook, ordering key) among pending
   * ones, if due and not leased, at most as many per webhook as its free concurrency across the
   * cluster, earliest due first; $1 one webhook (or null for all), $2 lease ms, $3 node, $4
   * concurrency per webhook, $5 limit. The heads are found by a loose index scan (one index probe
   * per group), so a long backlog of one group costs nothing.
   */
  private static String claimSql(boolean oneWebhook) {
    String f = oneWebhook ? "p.webhook_id = $1::uuid" : "$1::uuid IS NULL";
    return "WITH RECURSIVE heads AS ("
        + " (SELECT p.webhook_id, p.ordering_key, p.seq FROM webhook_deliveries p"
        + "  WHERE p.status = 'pending' AND "
        + f
        + "  ORDER BY p.webhook_id, p.ordering_key, p.seq LIMIT 1)"
        + " UNION ALL"
        + " SELECT n.webhook_id, n.ordering_key, n.seq FROM heads h CROSS JOIN LATERAL ("
        + "  SELECT p.webhook_id, p.ordering_key, p.seq FROM webhook_deliveries p"
        + "  WHERE p.status = 'pending' AND "
        + f
        + "  AND (p.webhook_id, p.ordering_key) > (h.webhook_id, h.ordering_key)"
        + "  ORDER BY p.webhook_id, p.ordering_key, p.seq LIMIT 1) n"
        + "), due AS ("
        + " SELECT d.delivery_id, d.webhook_id, d.next_attempt_at, row_number() OVER"
        + "  (PARTITION BY d.webhook_id ORDER BY d.next_attempt_at, d.seq) AS rank"
        + " FROM heads h JOIN webhook_deliveries d ON d.seq = h.seq"
        + " WHERE d.next_attempt_at <= now() AND (d.lease_until IS NULL OR d.lease_until < now())"
        + ")"
        + " UPDATE webhook_deliveries d"
        + " SET lease_until = now() + $2::bigint * interval '1 millisecond', leased_by = $3"
        + " FROM webhooks w WHERE d.delivery_id IN ("
        + "  SELECT due.delivery_id FROM due"
        + "  JOIN webhooks cw ON cw.webhook_id = due.webhook_id AND cw.is_active"
        + "  WHERE due.rank <= $4::int - (SELECT count(*) FROM webhook_deliveries l"
        + "   WHERE l.webhook_id = due.webhook_id AND l.status = 'pending'"
        + "   AND l.lease_until IS NOT NULL AND l.lease_until > now())"
        + "  ORDER BY due.next_attempt_at LIMIT $5::int)"
        + " AND d.status = 'pending' AND (d.lease_until IS NULL OR d.lease_until < now())"
        + " AND w.webhook_id = d.webhook_id AND w.is_active"
        + " RETURNING d.delivery_id, d.webhook_id, d.event_type, d.body, d.attempts,"
        + " d.round_start, d.event_at, w.url, w.secret,"
        + " CASE WHEN w.previous_secret_expires_at > now() THEN w.previous_secret END AS previous";
  }

  private static final String CLAIM_ONE = claimSql(true);
  private static final String CLAIM_ALL = claimSql(false);

  private static final String RECORD =
      "WITH a AS (INSERT INTO webhook_attempts"
          + " (delivery_id, attempt, started_at, duration_ms, status_code, error)"
          + " VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING),"
          // a success ends the webhook's failing streak, in the same round trip
          + " h AS (UPDATE webhooks SET failing_since = NULL WHERE webhook_id = $10"
          + "  AND failing_since IS NOT NULL AND $7::text = 'delivered')"
          + " UPDATE webhook_deliveries SET attempts = GREATEST(attempts, $2), status = $7::text,"
          + " next_attempt_at = $8, lease_until = NULL, leased_by = NULL, last_status_code = $5,"
          + " last_error = $6, last_duration_ms = $4, last_attempt_at = $3,"
          + " delivered_at = CASE WHEN $7::text = 'delivered' THEN now() ELSE delivered_at END"
          + " WHERE delivery_id = $1 AND status = 'pending' AND leased_by = $9";

  /** A failure: remember since when; disable when that is longer ago than $2 seconds. */
  private static final String FAILING =
      "UPDATE webhooks SET failing_since = COALESCE(failing_since, now()),"
          + " is_active = is_active"
          + "  AND NOT COALESCE(failing_since < now() - make_interval(secs => $2::bigint), false),"
          + " disabled_at = CASE WHEN is_active AND failing_since < now() - make_interval(secs => $2::bigint)"
          + "  THEN now() ELSE disabled_at END,"
          + " disabled_reason = CASE WHEN is_active AND failing_since < now() - make_interval(secs => $2::bigint)"
          + "  THEN 'deliveries failed continuously since ' || to_char(failing_since AT TIME ZONE 'UTC',"
          + "  'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') || '; last error: ' || $3::text ELSE disabled_reason END"
          + " WHERE webhook_id = $1 RETURNING (disabled_at = now()) AS disabled_now";

  private final Pool pg;

  public DeliveryStore(Pool pg) {
    this.pg = pg;
  }

  /** A delivery claimed for an attempt, with what sending it needs. */
  public record Claimed(
      UUID deliveryId,
      UUID webhookId,
      String eventType,
      String body,
      int attempts,
      int roundStart,
      Instant eventAt,
      String url,
      String secret,
      String previousSecret) {}

  /** Deliveries of {@code event} for every webhook that may see it; the webhooks that got one. */
  public Future<Set<String>> fanOut(WebhookEvent event) {
    UUID[] audience =
        event.audience().stream()
            .map(DeliveryStore::uuidOrNull)
            .filter(u -> u != null)
            .toArray(UUID[]::new);
    Tuple t =
        Tuple.of(
                event.id(),
                event.type(),
                event.orderingKey(),
                event.body().encode(),
                OffsetDateTime.ofInstant(event.createdAt(), ZoneOffset.UTC))
            .addArrayOfUUID(audience)
            .addUUID(uuidOrNull(event.conversationId()))
            .addUUID(uuidOrNull(event.sharingWith()));
    return pg.preparedQuery(FAN_OUT)
        .execute(t)
        .map(
            rows -> {
              Set<String> webhooks = new LinkedHashSet<>();
              rows.forEach(r -> webhooks.add(r.getUUID(0).toString()));
              return webhooks;
            });
  }

  /** The earliest creation time of an active webhook, or null when there is none. */
  public Future<Instant> earliestActive() {
    return pg.query("SELECT min(created_at) FROM webhooks WHERE is_active")
        .execute()
        .map(
            rows -> {
              OffsetDateTime t = rows.iterator().next().getOffsetDateTime(0);
              return t == null ? null : t.toInstant();
            });
  }

  /** A delivery of {@code event} to one webhook (the test endpoint's ping); its id. */
  public Future<String> insertOne(UUID webhookId, WebhookEvent event) {
    UUID id = UUID.randomUUID();
    return pg.preparedQuery(
            "INSERT INTO webhook_deliveries (delivery_id, webhook_id, event_id, event_type,"
                + " ordering_key, body, event_at) VALUES ($1, $2, $3, $4, $5, $6, $7)")
        .execute(
            Tuple.of(
                id,
                webhookId,
                event.id(),
                event.type(),
                event.orderingKey(),
                event.body().encode(),
                OffsetDateTime.ofInstant(event.createdAt(), ZoneOffset.UTC)))
        .map(id.toString());
  }

  /** Claims up to {@code limit} due deliveries (of one webhook, or of all when null). */
  public Future<List<Claimed>> claim(
      String webhookId, String node, long leaseMs, int perWebhook, int limit) {
    return pg.preparedQuery(webhookId == null ? CLAIM_ALL : CLAIM_ONE)
        .execute(
            Tuple.tuple()
                .addUUID(webhookId == null ? null : UUID.fromString(webhookId))
                .addLong(leaseMs)
                .addString(node)
                .addInteger(perWebhook)
                .addInteger(limit))
        .map(
            rows -> {
              List<Claimed> out = new ArrayList<>();
              for (Row r : rows) {
                out.add(
                    new Claimed(
                        r.getUUID("delivery_id"),
                        r.getUUID("webhook_id"),
                        r.getString("event_type"),
                        r.getString("body"),
                        r.getInteger("attempts"),
                        r.getInteger("round_start"),
                        r.getOffsetDateTime("event_at").toInstant(),
                        r.getString("url"),
                        r.getString("secret"),
                        r.getString("previous")));
              }
              return out;
            });
  }

  /**
   * Records attempt {@code attempt} and the delivery's new state; on a failure also the webhook's
   * health (true when this failure disabled it).
   */
  public Future<Boolean> record(
      Claimed c,
      String node,
      int attempt,
      WebhookSender.Outcome o,
      String status,
      Instant nextAttemptAt,
      long disableAfterSeconds) {
    String error = o.error() == null ? null : truncate(o.error(), 500);
    Tuple t =
        Tuple.of(
                c.deliveryId(),
                attempt,
                OffsetDateTime.ofInstant(o.startedAt(), ZoneOffset.UTC),
                (int) Math.min(Integer.MAX_VALUE, o.durationMs()),
                o.statusCode() <= 0 ? null : o.statusCode(),
                error,
                status,
                OffsetDateTime.ofInstant(nextAttemptAt, ZoneOffset.UTC))
            .addString(node)
            .addUUID(c.webhookId());
    Future<?> saved =
        pg.preparedQuery(RECORD)
            .execute(t)
            .recover(
                err ->
                    err instanceof PgException pe && "23503".equals(pe.getSqlState())
                        ? Future.succeededFuture() // the webhook was deleted meanwhile
                        : Future.failedFuture(err));
    if (o.delivered()) {
      return saved.map(false);
    }
    return saved
        .compose(
            x ->
                pg.preparedQuery(FAILING)
                    .execute(
                        Tuple.of(
                            c.webhookId(),
                            disableAfterSeconds,
                            error == null ? "HTTP " + o.statusCode() : error)))
        .map(rows -> rows.size() == 1 && Boolean.TRUE.equals(rows.iterator().next().getBoolean(0)));
  }

  /** Pending deliveries per webhook (cluster-wide). */
  public Future<Map<String, Long>> queueDepths() {
    return pg.query(
            "SELECT webhook_id, count(*) FROM webhook_deliveries WHERE status = 'pending'"
                + " GROUP BY webhook_id")
        .execute()
        .map(
            rows -> {
              Map<String, Long> out = new LinkedHashMap<>();
              rows.forEach(r -> out.put(r.getUUID(0).toString(), r.getLong(1)));
              return out;
            });
  }

  /** Deletes delivered and dead deliveries older than {@code days}; how many. */
  public Future<Integer> cleanup(int days) {
    return pg.preparedQuery(
            "DELETE FROM webhook_deliveries WHERE status <> 'pending'"
                + " AND created_at < now() - make_interval(days => $1)")
        .execute(Tuple.of(days))
        .map(r -> r.rowCount());
  }

  // --- the delivery log ---

  private static final String LOG_COLUMNS =
      "delivery_id, seq, event_id, event_type, status, attempts, next_attempt_at,"
          + " last_status_code, last_error, last_duration_ms, last_attempt_at, delivered_at,"
          + " created_at, event_at";

  /** A page of a webhook's deliveries, newest first; {@code beforeSeq} null for the first page. */
  public Future<JsonObject> page(UUID webhookId, String status, Long beforeSeq, int limit) {
    return pg.preparedQuery(
            "SELECT "
                + LOG_COLUMNS
                + " FROM webhook_deliveries WHERE webhook_id = $1"
                + " AND ($2::text IS NULL OR status = $2) AND ($3::bigint IS NULL OR seq < $3)"
                + " ORDER BY seq DESC LIMIT $4")
        .execute(Tuple.of(webhookId, status, beforeSeq, limit + 1))
        .map(
            rows -> {
              List<JsonObject> items = new ArrayList<>();
              Long last = null;
              for (Row r : rows) {
                if (items.size() == limit) {
                  return Wire.page(items, Long.toString(last));
                }
                items.add(logEntry(r));
                last = r.getLong("seq");
              }
              return Wire.page(items, null);
            });
  }

  /** One delivery of the webhook with its attempts, or null. */
  public Future<JsonObject> get(UUID webhookId, UUID deliveryId) {
    return pg.preparedQuery(
            "SELECT "
                + LOG_COLUMNS
                + ", body FROM webhook_deliveries WHERE webhook_id = $1 AND delivery_id = $2")
        .execute(Tuple.of(webhookId, deliveryId))
        .compose(
            rows -> {
              if (rows.size() == 0) {
                return Future.succeededFuture(null);
              }
              Row row = rows.iterator().next();
              JsonObject d = logEntry(row).put("body", new JsonObject(row.getString("body")));
              return pg.preparedQuery(
                      "SELECT attempt, started_at, duration_ms, status_code, error"
                          + " FROM webhook_attempts WHERE delivery_id = $1 ORDER BY attempt")
                  .execute(Tuple.of(deliveryId))
                  .map(
                      attempts -> {
                        JsonArray list = new JsonArray();
                        for (Row a : attempts) {
                          list.add(
                              new JsonObject()
                                  .put("attempt", a.getInteger("attempt"))
                                  .put("started_at", ts(a.getOffsetDateTime("started_at")))
                                  .put("duration_ms", a.getInteger("duration_ms"))
                                  .put("status_code", a.getInteger("status_code"))
                                  .put("error", a.getString("error")));
                        }
                        return d.put("attempt_log", list);
                      });
            });
  }

  /**
   * Schedules deliveries again now, each with a new round of retries: one ({@code deliveryId}), or
   * every dead one created since {@code since}. How many.
   */
  public Future<Integer> redeliver(UUID webhookId, UUID deliveryId, Instant since) {
    String where = deliveryId != null ? "delivery_id = $2" : "status = 'dead' AND created_at >= $2";
    Object second =
        deliveryId != null ? deliveryId : OffsetDateTime.ofInstant(since, ZoneOffset.UTC);
    return pg.preparedQuery(
            "UPDATE webhook_deliveries SET status = 'pending', round_start = attempts,"
                + " next_attempt_at = now(), delivered_at = NULL"
                + " WHERE webhook_id = $1 AND (lease_until IS NULL OR lease_until < now()) AND "
                + where)
        .execute(Tuple.of(webhookId, second))
        .map(r -> r.rowCount());
  }

  private static JsonObject logEntry(Row r) {
    return new JsonObject()
        .put("delivery_id", r.getUUID("delivery_id").toString())
        .put("event_id", r.getString("event_id"))
        .put("event_type", r.getString("event_type"))
        .put("status", r.getString("status"))
        .put("attempts", r.getInteger("attempts"))
        .put(
            "next_attempt_at",
            PENDING.equals(r.getString("status"))
                ? ts(r.getOffsetDateTime("next_attempt_at"))
                : null)
        .put("last_status_code", r.getInteger("last_status_code"))
        .put("last_error", r.getString("last_error"))
        .put("last_duration_ms", r.getInteger("last_duration_ms"))
        .put("last_attempt_at", ts(r.getOffsetDateTime("last_attempt_at")))
        .put("delivered_at", ts(r.getOffsetDateTime("delivered_at")))
        .put("event_at", ts(r.getOffsetDateTime("event_at")))
        .put("created_at", ts(r.getOffsetDateTime("created_at")));
  }

  static String ts(OffsetDateTime t) {
    return t == null ? null : Wire.timestamp(t.toInstant());
  }

  private static String truncate(String s, int max) {
    return s.length() <= max ? s : s.substring(0, max);
  }

  private static UUID uuidOrNull(String s) {
    if (s == null) {
      return null;
    }
    try {
      return UUID.fromString(s);
    } catch (IllegalArgumentException e) {
      return null;
    }
  }
}
