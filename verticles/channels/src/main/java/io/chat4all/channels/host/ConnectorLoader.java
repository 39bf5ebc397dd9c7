package io.chat4all.channels.host;

import io.chat4all.channel.spi.ChannelConnector;
import io.chat4all.channel.spi.ConnectorDescriptor;
import io.chat4all.channel.spi.PluginDescriptor;
import io.chat4all.channel.spi.Spi;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Modifier;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/**
 * Loads a validated jar into its own {@link PluginClassLoader}, instantiates and checks its main
 * class, and deploys it as a Vert.x deployment with that class loader.
 */
final class ConnectorLoader {
  private ConnectorLoader() {}

  /**
   * Class-loads and instantiates the jar's connector (on a worker: static initialisers may block).
   * Fails with {@link PluginRefused} when the main class is not a usable {@link ChannelConnector}
   * or its {@link ChannelConnector#descriptor()} disagrees with the jar's descriptor.
   */
  static Future<HostedConnector> load(
      Vertx vertx, Path jar, String sha256, PluginDescriptor d, long timeoutMs) {
    return vertx
        .executeBlocking(() -> loadBlocking(jar, sha256, d), false)
        .timeout(timeoutMs, TimeUnit.MILLISECONDS);
  }

  /**
   * Loads the jar's connector once and unloads it again (blocking): the checks of {@link #load} for
   * an upload, before it is stored for the cluster.
   */
  static void trial(Path jar, String sha256, PluginDescriptor d) {
    loadBlocking(jar, sha256, d).unload();
  }

  private static HostedConnector loadBlocking(Path jar, String sha256, PluginDescriptor d) {
    String label = d.channel() + "-" + d.version() + "-" + sha256.substring(0, 12);
    PluginClassLoader loader =
        new PluginClassLoader(label, jar, ConnectorLoader.class.getClassLoader());
    Thread t = Thread.currentThread();
    ClassLoader before = t.getContextClassLoader();
    t.setContextClassLoader(loader);
    try {
      Class<?> cls;
      try {
        cls = Class.forName(d.mainClass(), true, loader);
      } catch (ClassNotFoundException | LinkageError e) {
        throw new PluginRefused("cannot load main class " + d.mainClass() + ": " + e);
      }
      if (!ChannelConnector.class.isAssignableFrom(cls)) {
        throw new PluginRefused(
            "main class "
                + d.mainClass()
                + " does not implement "
                + ChannelConnector.class.getName());
      }
      if (!Modifier.isPublic(cls.getModifiers()) || Modifier.isAbstract(cls.getModifiers())) {
        throw new PluginRefused("main class " + d.mainClass() + " must be public and concrete");
      }
      ChannelConnector connector;
      try {
        connector = (ChannelConnector) cls.getConstructor().newInstance();
      } catch (NoSuchMethodException e) {
        throw new PluginRefused(
            "main class " + d.mainClass() + " has no public no-argument constructor");
      } catch (InvocationTargetException e) {
        throw new PluginRefused("the connector's constructor failed: " + e.getCause());
      } catch (ReflectiveOperationException | LinkageError e) {
        throw new PluginRefused("cannot instantiate " + d.mainClass() + ": " + e);
      }
      ConnectorDescriptor cd;
      try {
        cd = connector.descriptor();
      } catch (RuntimeException | LinkageError e) {
        throw new PluginRefused("descriptor() failed: " + e);
      }
      if (cd == null) {
        throw new PluginRefused("descriptor() returned null");
      }
      if (!d.channel().equals(cd.channel()) || !d.version().equals(cd.version())) {
        throw new PluginRefused(
            "descriptor() says "
                + cd.channel()
                + " "
                + cd.version()
                + " but the jar's "
                + Spi.DESCRIPTOR_RESOURCE
                + " says "
                + d.channel()
                + " "
                + d.version());
      }
      if (cd.capabilities() == null) {
        throw new PluginRefused("descriptor() has no capabilities");
      }
      return new HostedConnector(sha256, d, cd, loader, connector);
    } catch (RuntimeException | Error e) {
      try {
        loader.close();
      } catch (java.io.IOException ignored) {
        // best effort
      }
      throw e instanceof PluginRefused pr ? pr : new PluginRefused("cannot load the jar: " + e, e);
    } finally {
      t.setContextClassLoader(before);
    }
  }

  /**
   * Deploys the connector with its class loader and waits (at most {@code startTimeoutMs}) for its
   * start. On failure or timeout nothing of it stays deployed or loaded.
   */
  static Future<Void> deploy(
      Vertx vertx,
      HostedConnector h,
      HostConnectorContext context,
      long startTimeoutMs,
      long stopTimeoutMs) {
    Future<String> deployed =
        vertx.deployVerticle(
            new ConnectorVerticle(h, context, stopTimeoutMs),
            new DeploymentOptions().setClassLoader(h.loader()));
    return deployed
        .timeout(startTimeoutMs, TimeUnit.MILLISECONDS)
        .<Void>map(
            id -> {
              h.deploymentId = id;
              return null;
            })
        .recover(
            err -> {
              deployed.onComplete(
                  ar -> {
                    if (ar.succeeded()) {
                      vertx.undeploy(ar.result()).onComplete(x -> h.unload());
                    } else {
                      h.unload();
                    }
                  });
              String why =
                  err instanceof java.util.concurrent.TimeoutException
                      ? "start did not finish within " + startTimeoutMs + " ms"
                      : "start failed: " + describe(err);
              return Future.failedFuture(new PluginRefused(why, err));
            });
  }

  /** Undeploys (stop with its timeout) and unloads; never fails. */
  static Future<String> undeploy(Vertx vertx, HostedConnector h, long stopTimeoutMs) {
    String id = h.deploymentId;
    Future<Void> stopped =
        id == null
            ? Future.succeededFuture()
            : vertx.undeploy(id).timeout(stopTimeoutMs + 1000, TimeUnit.MILLISECONDS);
    return stopped.transform(
        ar -> {
          h.deploymentId = null;
          h.unload();
          return Future.succeededFuture(
              ar.succeeded() ? null : "stop failed: " + describe(ar.cause()));
        });
  }

  static String describe(Throwable t) {
    if (t == null) {
      return "unknown error";
    }
    String m = t.getMessage();
    return m == null || m.isBlank() ? t.getClass().getSimpleName() : m;
  }
}
