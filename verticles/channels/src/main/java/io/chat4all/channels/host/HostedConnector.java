package io.chat4all.channels.host;

import io.chat4all.channel.spi.ChannelConnector;
import io.chat4all.channel.spi.ConnectorDescriptor;
import io.chat4all.channel.spi.PluginDescriptor;
import io.chat4all.channels.ActiveConnector;
import io.chat4all.channels.ConnectorGoneException;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.internal.ContextInternal;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;

/**
 * One loaded connector: its class loader, the instance, the Vert.x deployment it runs in, and the
 * count of calls in flight. It takes work until {@link #drain} is called; then every new call fails
 * with {@link ConnectorGoneException} (the caller asks the registry for the new active connector)
 * and the drain completes when the calls in flight have finished.
 */
final class HostedConnector implements ActiveConnector {
  private final String sha256;
  private final PluginDescriptor jar;
  private final ConnectorDescriptor descriptor;
  private final AtomicInteger inFlight = new AtomicInteger();
  private final Promise<Void> drained = Promise.promise();
  private volatile boolean accepting = true;
  private volatile PluginClassLoader loader;
  private volatile ChannelConnector connector;
  private volatile ContextInternal context;
  volatile String deploymentId;

  HostedConnector(
      String sha256,
      PluginDescriptor jar,
      ConnectorDescriptor descriptor,
      PluginClassLoader loader,
      ChannelConnector connector) {
    this.sha256 = sha256;
    this.jar = jar;
    this.descriptor = descriptor;
    this.loader = loader;
    this.connector = connector;
  }

  String sha256() {
    return sha256;
  }

  PluginClassLoader loader() {
    return loader;
  }

  ChannelConnector connector() {
    return connector;
  }

  /** Set by the deployment when it starts: the context every call runs on. */
  void bind(ContextInternal context) {
    this.context = context;
  }

  int inFlight() {
    return inFlight.get();
  }

  boolean accepting() {
    return accepting;
  }

  @Override
  public String channel() {
    return jar.channel();
  }

  @Override
  public String version() {
    return jar.version();
  }

  @Override
  public ConnectorDescriptor descriptor() {
    return descriptor;
  }

  private boolean enter() {
    inFlight.incrementAndGet();
    if (!accepting || connector == null) {
      exit();
      return false;
    }
    return true;
  }

  private void exit() {
    if (inFlight.decrementAndGet() == 0 && !accepting) {
      drained.tryComplete();
    }
  }

  private ConnectorGoneException gone() {
    return new ConnectorGoneException(channel(), version());
  }

  @Override
  public <T> Future<T> call(Function<ChannelConnector, Future<T>> fn) {
    return call(fn, null);
  }

  @Override
  public <T> Future<T> call(Function<ChannelConnector, Future<T>> fn, Future<?> heldUntil) {
    ContextInternal caller = (ContextInternal) Vertx.currentContext();
    Promise<T> result = caller != null ? caller.promise() : Promise.promise();
    if (!enter()) {
      result.fail(gone());
      return result.future();
    }
    ChannelConnector c = connector;
    ContextInternal on = context;
    Runnable run =
        () -> {
          Future<T> f;
          try {
            f = fn.apply(c);
            if (f == null) {
              f = Future.failedFuture(new NullPointerException("the connector call returned null"));
            }
          } catch (Throwable t) {
            f = Future.failedFuture(t);
          }
          f.onComplete(
              ar -> {
                if (ar.succeeded() && heldUntil != null) {
                  heldUntil.onComplete(done -> exit());
                } else {
                  exit();
                }
                result.handle(ar);
              });
        };
    if (on == null) {
      exit();
      result.fail(gone());
    } else if (on.isRunningOnContext()) {
      run.run();
    } else {
      on.runOnContext(v -> run.run());
    }
    return result.future();
  }

  @Override
  public <T> T callNow(Function<ChannelConnector, T> fn) {
    if (!enter()) {
      throw gone();
    }
    Thread t = Thread.currentThread();
    ClassLoader before = t.getContextClassLoader();
    t.setContextClassLoader(loader);
    try {
      return fn.apply(connector);
    } finally {
      t.setContextClassLoader(before);
      exit();
    }
  }

  /**
   * Stops taking new calls and waits (at most {@code timeoutMs}) for those in flight; the future
   * holds how many were still running when it gave up (0 after a clean drain).
   */
  Future<Integer> drain(long timeoutMs) {
    accepting = false;
    if (inFlight.get() == 0) {
      drained.tryComplete();
    }
    return drained
        .future()
        .timeout(timeoutMs, TimeUnit.MILLISECONDS)
        .map(v -> 0)
        .otherwise(err -> inFlight.get());
  }

  /** Drops the references to the plugin's classes and closes its class loader. */
  void unload() {
    accepting = false;
    connector = null;
    context = null;
    PluginClassLoader l = loader;
    loader = null;
    if (l != null) {
      try {
        l.close();
      } catch (java.io.IOException ignored) {
        // the jar file handle is released on a best-effort basis
      }
    }
  }

  @Override
  public String toString() {
    return "connector "
        + jar.channel()
        + " "
        + jar.version()
        + " ("
        + sha256.substring(0, 12)
        + ")";
  }
}
