package io.chat4all.channels.host;

import io.vertx.core.Future;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import java.util.HashMap;
import java.util.Map;

/** The cluster's desired plugin state in PostgreSQL ({@code channel_plugins}), jars in S3. */
public final class PgDesiredState implements DesiredState {
  private final Pool pg;
  private final JarObjects objects;

  public PgDesiredState(Pool pg, JarObjects objects) {
    this.pg = pg;
    this.objects = objects;
  }

  @Override
  public Future<Map<String, Want>> load() {
    return pg.query(
            "SELECT c.channel, c.active_sha256, v.version, c.enabled FROM channel_plugins c"
                + " LEFT JOIN channel_plugin_versions v ON v.sha256 = c.active_sha256")
        .execute()
        .map(
            rows -> {
              Map<String, Want> out = new HashMap<>();
              for (Row r : rows) {
                String channel = r.getString("channel");
                out.put(
                    channel,
                    new Want(
                        channel,
                        r.getString("active_sha256"),
                        r.getString("version"),
                        r.getBoolean("enabled")));
              }
              return out;
            });
  }

  @Override
  public Future<Void> fetch(String sha256, ContentStore store) {
    return objects.download(sha256, store);
  }
}
