package io.chat4all.channels.host;

import io.chat4all.channel.spi.ChannelConnector;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.internal.ContextInternal;
import java.util.concurrent.TimeUnit;

/**
 * The Vert.x deployment of one connector (deployed with the plugin's class loader): its start runs
 * the connector's start, its stop the connector's stop (with a timeout) and then closes the
 * connector's HTTP client.
 */
final class ConnectorVerticle extends VerticleBase {
  private HostedConnector hosted;
  private HostConnectorContext connectorContext;
  private final long stopTimeoutMs;

  ConnectorVerticle(HostedConnector hosted, HostConnectorContext context, long stopTimeoutMs) {
    this.hosted = hosted;
    this.connectorContext = context;
    this.stopTimeoutMs = stopTimeoutMs;
  }

  @Override
  public Future<?> start() {
    hosted.bind((ContextInternal) context);
    ChannelConnector c = hosted.connector();
    Future<Void> started;
    try {
      started = c.start(connectorContext);
    } catch (RuntimeException e) {
      started = Future.failedFuture(e);
    }
    return started == null
        ? Future.failedFuture(new IllegalStateException("start returned null"))
        : started;
  }

  @Override
  public Future<?> stop() {
    ChannelConnector c = hosted.connector();
    Future<Void> stopped;
    try {
      stopped = c == null ? Future.succeededFuture() : c.stop();
    } catch (RuntimeException e) {
      stopped = Future.failedFuture(e);
    }
    if (stopped == null) {
      stopped = Future.succeededFuture();
    }
    HostConnectorContext ctx = connectorContext;
    Future<Void> done =
        stopped
            .timeout(stopTimeoutMs, TimeUnit.MILLISECONDS)
            .eventually(() -> ctx.close().otherwiseEmpty());
    return done.onComplete(
        x -> {
          // nothing here may keep the plugin's classes reachable once undeployed
          hosted = null;
          connectorContext = null;
        });
  }
}
