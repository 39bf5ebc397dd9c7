package io.chat4all.node.settings;

import io.chat4all.codecs.ErrorCode;
import io.chat4all.codecs.ServiceException;
import io.chat4all.codecs.Wire;
import io.chat4all.web.RuntimeSettings;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.SqlConnection;
import io.vertx.sqlclient.Tuple;
import java.time.OffsetDateTime;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;

/**
 * The runtime settings in PostgreSQL: {@code runtime_settings} (the overrides in force, each with a
 * version), {@code runtime_settings_audit} (every change) and {@code admin_users}.
 */
public final class SettingsStore {
  /** How a write names the version it read. */
  public enum Precondition {
    /** No expectation: the write applies over whatever is stored. */
    NONE,
    /** The {@code version} field of the body: a stale one is 409 {@code conflict}. */
    BODY,
    /** The {@code If-Match} header: a stale one is 412 {@code precondition_failed}. */
    IF_MATCH
  }

  private final Pool pg;

  public SettingsStore(Pool pg) {
    this.pg = pg;
  }

  /** Everything stored, as one snapshot. */
  public Future<RuntimeSettings.Snapshot> load() {
    Future<io.vertx.sqlclient.RowSet<Row>> settings =
        pg.query(
                "SELECT kind, name, value::text AS value, version, updated_by, updated_at FROM"
                    + " runtime_settings")
            .execute();
    Future<io.vertx.sqlclient.RowSet<Row>> admins =
        pg.query("SELECT username FROM admin_users").execute();
    Future<io.vertx.sqlclient.RowSet<Row>> revision =
        pg.query("SELECT COALESCE(MAX(id), 0) AS rev FROM runtime_settings_audit").execute();
    return Future.all(settings, admins, revision)
        .map(
            x -> {
              Map<String, RuntimeSettings.Override> flags = new HashMap<>();
              Map<String, RuntimeSettings.Override> limits = new HashMap<>();
              for (Row r : settings.result()) {
                RuntimeSettings.Override o =
                    new RuntimeSettings.Override(
                        json(r.getString("value")),
                        r.getLong("version"),
                        r.getString("updated_by"),
                        time(r.getOffsetDateTime("updated_at")));
                ("flag".equals(r.getString("kind")) ? flags : limits).put(r.getString("name"), o);
              }
              Set<String> names = new HashSet<>();
              for (Row r : admins.result()) {
                names.add(r.getString("username"));
              }
              long rev = revision.result().iterator().next().getLong("rev");
              return new RuntimeSettings.Snapshot(
                  Map.copyOf(flags), Map.copyOf(limits), Set.copyOf(names), rev);
            });
  }

  /**
   * Stores {@code value} (null: back to the default) for {@code kind/name} when the stored version
   * is {@code expected} (unless {@code how} is NONE), and audits it. The new version.
   */
  public Future<Long> put(
      String kind, String name, JsonObject value, long expected, Precondition how, String user) {
    return pg.withTransaction(
        conn ->
            conn.preparedQuery(
                    "SELECT value::text AS value, version FROM runtime_settings WHERE kind = $1 AND"
                        + " name = $2 FOR UPDATE")
                .execute(Tuple.of(kind, name))
                .compose(
                    rows -> {
                      Row row = rows.size() == 0 ? null : rows.iterator().next();
                      long current = row == null ? 0 : row.getLong("version");
                      String old = row == null ? null : row.getString("value");
                      if (how != Precondition.NONE && expected != current) {
                        return Future.failedFuture(stale(how, expected, current));
                      }
                      long next = current + 1;
                      return write(conn, kind, name, value, next, user)
                          .compose(x -> audit(conn, kind, name, old, value, current, next, user))
                          .map(next);
                    }));
  }

  /**
   * A stale version: 412 for If-Match, 409 for the body's version; the details name the current
   * version so the caller can re-read and retry.
   */
  static ServiceException stale(Precondition how, long expected, long current) {
    JsonObject details =
        new JsonObject().put("field", "version").put("expected", expected).put("current", current);
    return how == Precondition.IF_MATCH
        ? new ServiceException(
            ErrorCode.PRECONDITION_FAILED,
            "If-Match names version " + expected + " but the setting is at version " + current,
            details)
        : new ServiceException(
            ErrorCode.CONFLICT,
            "version " + expected + " is stale: the setting is at version " + current,
            details);
  }

  private static Future<Void> write(
      SqlConnection conn, String kind, String name, JsonObject value, long version, String user) {
    return conn.preparedQuery(
            "INSERT INTO runtime_settings (kind, name, value, version, updated_by, updated_at)"
                + " VALUES ($1, $2, $3::text::jsonb, $4, $5, NOW()) ON CONFLICT (kind, name) DO"
                + " UPDATE SET value = EXCLUDED.value, version = EXCLUDED.version, updated_by ="
                + " EXCLUDED.updated_by, updated_at = NOW()")
        .execute(Tuple.of(kind, name, value == null ? null : value.encode(), version, user))
        .mapEmpty();
  }

  private static Future<Void> audit(
      SqlConnection conn,
      String kind,
      String name,
      String old,
      JsonObject value,
      long oldVersion,
      long newVersion,
      String user) {
    return conn.preparedQuery(
            "INSERT INTO runtime_settings_audit (kind, name, old_value, new_value, old_version,"
                + " new_version, changed_by) VALUES ($1, $2, $3::text::jsonb, $4::text::jsonb, $5,"
                + " $6, $7)")
        .execute(
            Tuple.from(
                new Object[] {
                  kind,
                  name,
                  old,
                  value == null ? null : value.encode(),
                  oldVersion,
                  newVersion,
                  user
                }))
        .mapEmpty();
  }

  /**
   * Audit entries, newest first: at most {@code limit}, with an id below {@code before} (0: from
   * the newest), optionally of one kind and name.
   */
  public Future<JsonObject> audit(String kind, String name, long before, int limit) {
    StringBuilder sql =
        new StringBuilder(
            "SELECT id, kind, name, old_value::text AS old_value, new_value::text AS new_value,"
                + " old_version, new_version, changed_by, changed_at FROM runtime_settings_audit"
                + " WHERE ($1 = 0 OR id < $1)");
    Tuple args = Tuple.of(before);
    if (kind != null) {
      sql.append(" AND kind = $2");
      args.addString(kind);
    }
    if (name != null) {
      sql.append(" AND name = $").append(args.size() + 1);
      args.addString(name);
    }
    sql.append(" ORDER BY id DESC LIMIT ").append(limit + 1);
    return pg.preparedQuery(sql.toString())
        .execute(args)
        .map(
            rows -> {
              JsonArray items = new JsonArray();
              long last = 0;
              boolean more = false;
              for (Row r : rows) {
                if (items.size() == limit) {
                  more = true;
                  break;
                }
                last = r.getLong("id");
                items.add(
                    new JsonObject()
                        .put("id", last)
                        .put("kind", r.getString("kind"))
                        .put("name", r.getString("name"))
                        .put("old_value", json(r.getString("old_value")))
                        .put("new_value", json(r.getString("new_value")))
                        .put("old_version", r.getLong("old_version"))
                        .put("new_version", r.getLong("new_version"))
                        .put("changed_by", r.getString("changed_by"))
                        .put("changed_at", time(r.getOffsetDateTime("changed_at"))));
              }
              return new JsonObject()
                  .put("items", items)
                  .put("next_cursor", more ? Long.toString(last) : null);
            });
  }

  private static JsonObject json(String text) {
    return text == null ? null : new JsonObject(text);
  }

  private static String time(OffsetDateTime t) {
    return t == null ? null : Wire.timestamp(t.toInstant());
  }
}
