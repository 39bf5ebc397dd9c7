package io.chat4all.channels.host;

import io.chat4all.channel.spi.PluginDescriptor;
import io.chat4all.codecs.ErrorCode;
import io.chat4all.codecs.ServiceException;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.core.shareddata.Lock;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The cluster-wide plugin operations behind {@code /v1/admin/plugins}: upload a jar once (checked,
 * stored in S3 by content hash, recorded in PostgreSQL), activate a version or roll back, disable
 * and enable a channel, remove it. Each change of a channel runs under the cluster lock {@code
 * chat4all.plugins.<channel>} (one at a time across the cluster) and ends with a {@value
 * PluginHost#CHANGED} notice so every node converges at once (a node that misses it catches up at
 * its next periodic reconcile).
 */
public final class PluginAdmin {
  private static final Logger LOG = LoggerFactory.getLogger(PluginAdmin.class);
  private static final Pattern CHANNEL = Pattern.compile("[a-z][a-z0-9_-]{1,31}");
  private static final long LOCK_WAIT_MS = 10_000;

  private final Vertx vertx;
  private final Pool pg;
  private final JarObjects objects;
  private final PluginHost host;
  private final PluginListing listing;

  /**
   * @param members the ids of the cluster's live nodes (this node alone when not clustered)
   */
  public PluginAdmin(
      Vertx vertx,
      Pool pg,
      JarObjects objects,
      PluginHost host,
      Supplier<Future<List<String>>> members) {
    this.vertx = vertx;
    this.pg = pg;
    this.objects = objects;
    this.host = host;
    this.listing = new PluginListing(vertx, pg, host, members);
  }

  /** The whole state: every channel (stored or on some node) and every node. */
  public Future<JsonObject> list() {
    return listing.list();
  }

  /** One channel (404 when neither stored nor on any node). */
  public Future<JsonObject> describe(String channel) {
    return listing.describe(channel);
  }

  public PluginHost host() {
    return host;
  }

  static ServiceException notFound(String what) {
    return new ServiceException(ErrorCode.NOT_FOUND, what);
  }

  static String channelId(String raw) {
    if (raw == null || !CHANNEL.matcher(raw).matches()) {
      throw notFound("no such channel");
    }
    return raw;
  }

  // --- upload ---

  /**
   * Takes an uploaded jar (a temporary file of the host's store): checks it, stores it in S3 and
   * PostgreSQL and, when {@code activate}, makes it the channel's jar on every node.
   *
   * @return {@code {created, version: {...}, channel: {...}}}
   */
  public Future<JsonObject> upload(Path tmp, String user, boolean activate) {
    long max = host.hostConfig().maxJarBytes();
    ContentStore store = host.store();
    return vertx
        .executeBlocking(() -> checked(store, tmp, max), false)
        .compose(
            c -> {
              String channel = c.descriptor().channel();
              return locked(channel, () -> save(c, user, activate))
                  .compose(
                      created ->
                          describe(channel)
                              .otherwise(new JsonObject().put("channel", channel))
                              .map(
                                  ch ->
                                      new JsonObject()
                                          .put("created", created)
                                          .put("activated", activate)
                                          .put("version", versionJson(c))
                                          .put("channel", ch)));
            });
  }

  private static JsonObject versionJson(Checked c) {
    return c.descriptor()
        .toJson()
        .put("sha256", c.stored().sha256())
        .put("size_bytes", c.stored().size());
  }

  /** Stores a checked jar (S3, then its row) unless it is there already; true when new. */
  private Future<Boolean> save(Checked c, String user, boolean activate) {
    PluginDescriptor d = c.descriptor();
    String sha = c.stored().sha256();
    return pg.preparedQuery(
            "SELECT sha256 FROM channel_plugin_versions WHERE channel = $1 AND version = $2")
        .execute(Tuple.of(d.channel(), d.version()))
        .compose(
            rows -> {
              String existing = rows.size() == 0 ? null : rows.iterator().next().getString(0);
              if (existing != null && !existing.equals(sha)) {
                return Future.failedFuture(
                    new ServiceException(
                        ErrorCode.CONFLICT,
                        d.channel()
                            + " "
                            + d.version()
                            + " was already uploaded with different content; give the new jar a"
                            + " new version",
                        new JsonObject().put("field", "version")));
              }
              boolean created = existing == null;
              Future<Void> saved =
                  created
                      ? objects.put(sha, c.stored().path()).compose(x -> insertVersion(c, user))
                      : Future.succeededFuture();
              return saved
                  .compose(x -> activate ? point(d.channel(), sha, user) : Future.succeededFuture())
                  .map(x -> created);
            });
  }

  private record Checked(ContentStore.Stored stored, PluginDescriptor descriptor) {}

  /** Hashes the upload into the store and inspects and trial-loads it (worker thread). */
  private static Checked checked(ContentStore store, Path tmp, long max) {
    ContentStore.Stored stored;
    try {
      stored = store.adopt(tmp, max);
    } catch (PluginRefused tooLarge) {
      throw new ServiceException(ErrorCode.PAYLOAD_TOO_LARGE, tooLarge.getMessage());
    }
    try {
      PluginDescriptor d = PluginJar.inspect(stored.path());
      ConnectorLoader.trial(stored.path(), stored.sha256(), d);
      return new Checked(stored, d);
    } catch (PluginRefused refused) {
      store.delete(stored.sha256());
      throw new ServiceException(
          ErrorCode.VALIDATION_FAILED,
          "not a usable connector jar: " + refused.getMessage(),
          new JsonObject().put("field", "body").put("reason", refused.getMessage()));
    }
  }

  private Future<Void> insertVersion(Checked c, String user) {
    PluginDescriptor d = c.descriptor();
    return pg.preparedQuery(
            "INSERT INTO channel_plugin_versions (sha256, channel, version, name, spi_version,"
                + " main_class, size_bytes, s3_key, uploaded_by) VALUES ($1, $2, $3, $4, $5, $6, $7,"
                + " $8, $9) ON CONFLICT (sha256) DO NOTHING")
        .execute(
            Tuple.from(
                List.of(
                    c.stored().sha256(),
                    d.channel(),
                    d.version(),
                    d.name(),
                    d.spiVersion(),
                    d.mainClass(),
                    c.stored().size(),
                    JarObjects.key(c.stored().sha256()),
                    user)))
        .mapEmpty();
  }

  /** Makes {@code sha256} the channel's jar (the one before becomes {@code previous}). */
  private Future<Void> point(String channel, String sha256, String user) {
    return pg.preparedQuery(
            "INSERT INTO channel_plugins (channel, active_sha256, enabled, updated_by)"
                + " VALUES ($1, $2, TRUE, $3) ON CONFLICT (channel) DO UPDATE SET"
                + " previous_sha256 = CASE WHEN channel_plugins.active_sha256 IS DISTINCT FROM"
                + " EXCLUDED.active_sha256 THEN COALESCE(channel_plugins.active_sha256,"
                + " channel_plugins.previous_sha256) ELSE channel_plugins.previous_sha256 END,"
                + " active_sha256 = EXCLUDED.active_sha256, revision = channel_plugins.revision + 1,"
                + " updated_by = EXCLUDED.updated_by, updated_at = NOW()")
        .execute(Tuple.of(channel, sha256, user))
        .compose(x -> notice(channel));
  }

  private Future<Void> notice(String channel) {
    vertx
        .eventBus()
        .publish(PluginHost.CHANGED, new JsonObject().put("channel", channel).put("retry", true));
    return Future.succeededFuture();
  }

  // --- activate, roll back, disable, enable, remove ---

  public Future<JsonObject> activate(String channel, String version, String user) {
    return locked(
            channel,
            () ->
                pg.preparedQuery(
                        "SELECT sha256 FROM channel_plugin_versions WHERE channel = $1 AND"
                            + " version = $2")
                    .execute(Tuple.of(channel, version))
                    .compose(
                        rows ->
                            rows.size() == 0
                                ? Future.failedFuture(
                                    notFound(
                                        "no uploaded version "
                                            + version
                                            + " of channel "
                                            + channel))
                                : point(channel, rows.iterator().next().getString(0), user)))
        .compose(x -> describe(channel));
  }

  public Future<JsonObject> rollback(String channel, String user) {
    return locked(
            channel,
            () ->
                catalogRow(channel)
                    .compose(
                        row -> {
                          String previous = row.getString("previous_sha256");
                          if (previous == null) {
                            return Future.failedFuture(
                                new ServiceException(
                                    ErrorCode.CONFLICT,
                                    "channel "
                                        + channel
                                        + " has no earlier version to roll back to"));
                          }
                          return point(channel, previous, user);
                        }))
        .compose(x -> describe(channel));
  }

  public Future<JsonObject> setEnabled(String channel, boolean enabled, String user) {
    return locked(
            channel,
            () ->
                known(channel)
                    .compose(
                        x ->
                            pg.preparedQuery(
                                    "INSERT INTO channel_plugins (channel, enabled, updated_by)"
                                        + " VALUES ($1, $2, $3) ON CONFLICT (channel) DO UPDATE SET"
                                        + " enabled = EXCLUDED.enabled, revision ="
                                        + " channel_plugins.revision + 1, updated_by ="
                                        + " EXCLUDED.updated_by, updated_at = NOW()")
                                .execute(Tuple.of(channel, enabled, user)))
                    .compose(x -> notice(channel)))
        .compose(x -> describe(channel));
  }

  /**
   * Forgets the channel cluster-wide: its desired state and uploaded versions (rows and S3
   * objects). Every node stops its connector, unless a jar of the channel lies in its own plugins
   * folder.
   */
  public Future<JsonObject> remove(String channel, String user) {
    List<String> shas = new ArrayList<>();
    return locked(
            channel,
            () ->
                storedAtAll(channel)
                    .compose(
                        row ->
                            pg.withTransaction(
                                tx ->
                                    tx.preparedQuery(
                                            "DELETE FROM channel_plugins WHERE channel = $1")
                                        .execute(Tuple.of(channel))
                                        .compose(
                                            x ->
                                                tx.preparedQuery(
                                                        "DELETE FROM channel_plugin_versions WHERE"
                                                            + " channel = $1 RETURNING sha256")
                                                    .execute(Tuple.of(channel)))
                                        .map(
                                            rows -> {
                                              rows.forEach(r -> shas.add(r.getString(0)));
                                              return null;
                                            })))
                    .compose(x -> notice(channel)))
        .map(
            x -> {
              for (String sha : shas) {
                objects
                    .delete(sha)
                    .onFailure(e -> LOG.warn("deleting plugin object {} failed", sha, e));
              }
              // this node's copies of versions never activated here are nobody's record
              host.forgetCopies(shas);
              LOG.info("channel {} removed by {}", channel, user);
              return new JsonObject().put("channel", channel).put("removed_versions", shas.size());
            });
  }

  private Future<Row> catalogRow(String channel) {
    return pg.preparedQuery("SELECT * FROM channel_plugins WHERE channel = $1")
        .execute(Tuple.of(channel))
        .compose(
            rows ->
                rows.size() == 0
                    ? Future.failedFuture(notFound("no such channel: " + channel))
                    : Future.succeededFuture(rows.iterator().next()));
  }

  /**
   * Succeeds when the cluster holds a desired state or an uploaded version of the channel (a
   * version uploaded with {@code activate=false} and never activated has no desired state yet).
   */
  private Future<Void> storedAtAll(String channel) {
    return pg.preparedQuery(
            "SELECT EXISTS (SELECT 1 FROM channel_plugins WHERE channel = $1)"
                + " OR EXISTS (SELECT 1 FROM channel_plugin_versions WHERE channel = $1)")
        .execute(Tuple.of(channel))
        .compose(
            rows ->
                Boolean.TRUE.equals(rows.iterator().next().getBoolean(0))
                    ? Future.<Void>succeededFuture()
                    : Future.failedFuture(notFound("no such channel: " + channel)));
  }

  /** Succeeds when the cluster stored the channel or some node has a jar of it. */
  private Future<Void> known(String channel) {
    return catalogRow(channel)
        .<Void>mapEmpty()
        .recover(
            notStored ->
                listing
                    .nodes()
                    .compose(
                        nodes -> {
                          for (JsonObject n : nodes) {
                            for (Object o : n.getJsonArray("channels", new JsonArray())) {
                              if (channel.equals(((JsonObject) o).getString("channel"))) {
                                return Future.succeededFuture();
                              }
                            }
                          }
                          return Future.failedFuture(notFound("no such channel: " + channel));
                        }));
  }

  private <T> Future<T> locked(String channel, Supplier<Future<T>> op) {
    return vertx
        .sharedData()
        .getLockWithTimeout("chat4all.plugins." + channel, LOCK_WAIT_MS)
        .recover(
            busy ->
                Future.failedFuture(
                    new ServiceException(
                        ErrorCode.CONFLICT,
                        "another plugin operation on channel " + channel + " is in progress")))
        .compose((Lock lock) -> op.get().onComplete(x -> lock.release()));
  }
}
