package io.chat4all.channels.host;

import io.chat4all.channel.spi.Health;
import io.chat4all.channel.spi.PluginDescriptor;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import java.util.concurrent.TimeUnit;

/**
 * One convergence pass of one channel: compare what should run with what runs, and load, start and
 * switch, or take the connector out of service. Called by {@link PluginHost} on its context, one
 * pass per channel at a time.
 */
final class Lifecycle {
  private Lifecycle() {}

  static Future<Void> converge(PluginHost host, String channel) {
    DesiredState.Want want = host.want(channel);
    HostedConnector current = host.current(channel);
    if (want == null || want.sha256() == null) {
      boolean disabled = want != null && !want.enabled();
      return host.deactivate(
          channel,
          disabled ? PluginState.DISABLED : PluginState.STOPPED,
          disabled ? "disabled" : "no jar for the channel");
    }
    PluginRecord r = host.record(want.sha256());
    if (!want.enabled()) {
      return host.deactivate(channel, PluginState.DISABLED, "disabled")
          .onSuccess(
              x -> {
                if (r != null
                    && r.hosted == null
                    && r.retiring == null
                    && r.state != PluginState.FAILED) {
                  r.to(PluginState.DISABLED, null);
                }
              });
    }
    if (current != null && current.sha256().equals(want.sha256())) {
      return Future.succeededFuture();
    }
    boolean retry = host.takeRetry(channel);
    if (r != null && r.retiring != null) {
      // rolled back to a connector still draining: start it again once it has stopped
      return r.retiring.compose(x -> converge(host, channel));
    }
    if (r != null && (r.hosted != null || (r.state == PluginState.FAILED && !retry))) {
      return Future.succeededFuture();
    }
    return prepare(host, want, r)
        .compose(
            rec -> rec == null ? Future.succeededFuture() : start(host, channel, rec, current));
  }

  /** The record of the wanted jar with its descriptor, fetching the jar from the cluster first. */
  private static Future<PluginRecord> prepare(
      PluginHost host, DesiredState.Want want, PluginRecord known) {
    if (known != null && known.descriptor != null) {
      return Future.succeededFuture(known);
    }
    PluginRecord r =
        host.putRecord(new PluginRecord(want.sha256(), null, 0, want.channel(), want.version()));
    r.sources.add("cluster");
    Vertx vertx = host.vertx();
    ContentStore store = host.store();
    Future<Void> fetched =
        store.has(want.sha256())
            ? Future.succeededFuture()
            : host.cluster().fetch(want.sha256(), store);
    return onHost(
        host,
        fetched
            .recover(
                err -> {
                  // transient (storage down): the next reconcile tries again
                  r.to(PluginState.DISCOVERED, "download failed: " + ConnectorLoader.describe(err));
                  return Future.failedFuture(err);
                })
            .compose(
                x ->
                    vertx.executeBlocking(
                        () -> PluginJar.inspect(store.path(want.sha256())), false))
            .map(
                (PluginDescriptor d) -> {
                  if (!d.channel().equals(want.channel())) {
                    throw new PluginRefused(
                        "the jar is for channel " + d.channel() + ", not " + want.channel());
                  }
                  PluginRecord full =
                      new PluginRecord(want.sha256(), d, r.size, want.channel(), d.version());
                  full.sources.addAll(r.sources);
                  return full;
                })
            .transform(
                ar -> {
                  if (ar.succeeded()) {
                    PluginRecord full = ar.result();
                    full.to(PluginState.VALIDATED, null);
                    host.replaceRecord(full);
                    return Future.succeededFuture(full);
                  }
                  if (ar.cause() instanceof PluginRefused refused) {
                    r.fail(refused.getMessage());
                  }
                  return Future.succeededFuture(null);
                }));
  }

  /** Loads and starts the record's jar, then makes it the channel's connector. */
  private static Future<Void> start(
      PluginHost host, String channel, PluginRecord r, HostedConnector current) {
    Vertx vertx = host.vertx();
    HostConfig config = host.hostConfig();
    boolean requireHealthy = current != null;
    return onHost(
            host,
            ConnectorLoader.load(
                vertx,
                host.store().path(r.sha256),
                r.sha256,
                r.descriptor,
                config.startTimeoutMs()))
        .compose(
            h -> {
              r.hosted = h;
              r.to(PluginState.LOADED, null);
              HostConnectorContext ctx =
                  new HostConnectorContext(
                      vertx,
                      h.descriptor(),
                      config.channel(channel),
                      config.webhookUrl(channel),
                      host.clock(),
                      host.registry());
              r.to(PluginState.STARTING, null);
              host.publish();
              return onHost(
                      host,
                      ConnectorLoader.deploy(
                              vertx, h, ctx, config.startTimeoutMs(), config.stopTimeoutMs())
                          .compose(v -> healthy(h, config, requireHealthy)))
                  .map(v -> h);
            })
        .transform(
            ar -> {
              if (ar.succeeded()) {
                host.switchTo(channel, ar.result(), r);
                return Future.<Void>succeededFuture();
              }
              HostedConnector h = r.hosted;
              r.hosted = null;
              String why =
                  ar.cause() instanceof java.util.concurrent.TimeoutException
                      ? "loading did not finish within " + config.startTimeoutMs() + " ms"
                      : ConnectorLoader.describe(ar.cause());
              r.fail(why);
              host.publish();
              return h == null || h.deploymentId == null
                  ? Future.<Void>succeededFuture()
                  : ConnectorLoader.undeploy(vertx, h, config.stopTimeoutMs()).<Void>mapEmpty();
            });
  }

  /**
   * The connector's first health check; a replacement must be healthy before traffic switches to it
   * (a first connector is switched on either way: there is nothing else to serve).
   */
  private static Future<Void> healthy(HostedConnector h, HostConfig config, boolean required) {
    Future<Health> checked =
        h.<Health>call(c -> c.health()).timeout(config.startTimeoutMs(), TimeUnit.MILLISECONDS);
    return checked
        .recover(err -> Future.succeededFuture(Health.down(ConnectorLoader.describe(err))))
        .compose(
            health -> {
              if (required && (health == null || !health.healthy())) {
                return Future.failedFuture(
                    new PluginRefused(
                        "started but not healthy: "
                            + (health == null ? "no health" : health.detail())));
              }
              return Future.succeededFuture();
            });
  }

  private static <T> Future<T> onHost(PluginHost host, Future<T> f) {
    Promise<T> p = host.here().promise();
    f.onComplete(p);
    return p.future();
  }
}
