package io.chat4all.node;

import io.chat4all.channels.ConnectorRegistry;
import io.chat4all.channels.host.PluginHost;
import io.chat4all.codecs.SharedJsonCodec;
import io.chat4all.codecs.Tracing;
import io.chat4all.embedded.EmbeddedBackends;
import io.chat4all.embedded.EmbeddedSettings;
import io.chat4all.node.backends.BackendClients;
import io.chat4all.node.cluster.Clustering;
import io.chat4all.node.cluster.NodeRegistry;
import io.chat4all.node.config.NodeConfig;
import io.chat4all.node.edge.GrpcEdgeVerticle;
import io.chat4all.node.edge.HttpEdgeVerticle;
import io.chat4all.node.obs.LogSetup;
import io.chat4all.node.obs.MetricsRegistries;
import io.chat4all.node.obs.NodeMetrics;
import io.chat4all.node.obs.TracingSetup;
import io.chat4all.realtime.Presence;
import io.opentelemetry.sdk.OpenTelemetrySdk;
import io.opentelemetry.sdk.trace.export.SpanExporter;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.healthchecks.HealthChecks;
import io.vertx.micrometer.MicrometerMetricsOptions;
import io.vertx.micrometer.VertxPrometheusOptions;
import io.vertx.spi.cluster.hazelcast.HazelcastClusterManager;
import io.vertx.tracing.opentelemetry.OpenTelemetryOptions;
import io.vertx.tracing.opentelemetry.OpenTelemetryTracingFactory;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One Chat4All node: (in embedded mode) its backing servers, a Vert.x instance (clustered on
 * Hazelcast when configured), the backend clients and the verticles. {@link #start} and {@link
 * #close} block: call them from a plain thread (main, a shutdown hook, a test), never an event
 * loop.
 */
public final class Node implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(Node.class);
  public static final String VERSION =
      Node.class.getPackage().getImplementationVersion() == null
          ? "0.1.0-SNAPSHOT"
          : Node.class.getPackage().getImplementationVersion();

  private final NodeConfig config;
  private final EmbeddedBackends embedded;
  private final Vertx vertx;
  private final BackendClients clients;
  private final String nodeId;
  private final int httpPort;
  private final int grpcPort;
  private HttpEdgeVerticle http;
  private WebChat webChat = WebChat.DISABLED;
  private PluginHost plugins;
  private Presence presence;
  private OpenTelemetrySdk otel;
  private volatile boolean closed;

  /** Whether this node serves the web chat at {@code /}. */
  public enum WebChat {
    SERVED,
    /** {@code http.frontend_enabled} is false */
    DISABLED,
    /** the build skipped the frontend ({@code -Dfrontend.skip}) */
    NOT_BUILT
  }

  private Node(
      NodeConfig config,
      EmbeddedBackends embedded,
      Vertx vertx,
      BackendClients clients,
      String nodeId,
      int httpPort,
      int grpcPort) {
    this.config = config;
    this.embedded = embedded;
    this.vertx = vertx;
    this.clients = clients;
    this.nodeId = nodeId;
    this.httpPort = httpPort;
    this.grpcPort = grpcPort;
  }

  /** Starts a node; on failure everything started so far is stopped again and the error thrown. */
  public static Node start(NodeConfig initial) {
    return start(initial, null);
  }

  /**
   * Starts a node whose spans (when {@code tracing.enabled}) go to {@code spanExporter} instead of
   * the OTLP endpoint: for embedding and tests.
   */
  public static Node start(NodeConfig initial, SpanExporter spanExporter) {
    EmbeddedBackends embedded = null;
    OpenTelemetrySdk otel = null;
    Vertx vertx = null;
    BackendClients clients = null;
    // no node of a cluster may start without the shared signing key: check before anything starts
    if (!initial.embeddedBackends()) {
      ServiceSettings.jwtSecret(initial);
    }
    try {
      NodeConfig config = initial;
      if (initial.embeddedBackends()) {
        NodeConfig.Embedded e = initial.embedded();
        embedded =
            EmbeddedBackends.start(
                new EmbeddedSettings(
                    initial.dataDir(),
                    e.host(),
                    e.kafkaPort(),
                    e.kafkaControllerPort(),
                    initial.kafka().partitions(),
                    e.postgresPort(),
                    e.mongoPort(),
                    e.redisPort(),
                    e.s3Port(),
                    "chat4all",
                    "chat4all-secret"));
        JsonObject merged =
            initial
                .raw()
                .copy()
                .mergeIn(new JsonObject(toJsonMap(embedded.endpoints().asConfig())), true);
        config = NodeConfig.from(merged);
        AdminBootstrap.writeEndpoints(initial.dataDir(), embedded.endpoints().asConfig());
      }

      VertxOptions options =
          new VertxOptions()
              .setMetricsOptions(
                  new MicrometerMetricsOptions()
                      .setEnabled(true)
                      .setJvmMetricsEnabled(true)
                      .setPrometheusOptions(new VertxPrometheusOptions().setEnabled(true)));
      TracingSetup tracing = TracingSetup.from(config.raw());
      io.vertx.core.VertxBuilder builder =
          Vertx.builder().with(options).withMetrics(MetricsRegistries.factory());
      if (tracing.enabled()) {
        otel = tracing.build(config.node().id(), VERSION, spanExporter);
        options.setTracingOptions(new OpenTelemetryOptions());
        builder = builder.with(options).withTracer(new OpenTelemetryTracingFactory(otel));
      }
      HazelcastClusterManager clusterManager = null;
      if (config.cluster().enabled()) {
        clusterManager = Clustering.clusterManager(config.cluster());
        options
            .getEventBusOptions()
            .setHost(config.cluster().host())
            .setPort(config.cluster().busPort())
            .setClusterPublicHost(config.cluster().host());
        vertx =
            await(
                builder.withClusterManager(clusterManager).buildClustered(),
                Duration.ofSeconds(60),
                "joining the cluster");
      } else {
        vertx = builder.build();
      }
      // bodies from other nodes name it, whichever services this node runs
      SharedJsonCodec.registerOn(vertx.eventBus());
      if (otel != null) {
        Tracing.install(vertx, otel);
      }
      String nodeId =
          clusterManager != null
              ? clusterManager.getNodeId()
              : config.node().id().isBlank() ? UUID.randomUUID().toString() : config.node().id();
      LogSetup.nodeId(nodeId);

      clients = BackendClients.create(vertx, config);
      await(
          clients.prepare(),
          Duration.ofSeconds(60),
          "preparing the backends (schema, topics, bucket)");
      HealthChecks readiness = HealthChecks.create(vertx);
      clients.registerReadiness(readiness);

      NodeRegistry registry =
          new NodeRegistry(
              nodeId,
              clusterManager,
              new JsonObject().put("version", VERSION).put("http_host", config.http().host()));
      if (clusterManager != null) {
        registry.withInfo(
            "cluster_address", config.cluster().host() + ":" + config.cluster().port());
        // what identifies this node across restarts (node.id, else its fixed cluster address; the
        // Kafka static member id too): the entry a crash of it left behind is replaced
        String stableId = Services.membership(config).instanceId();
        if (stableId != null) {
          registry.withInfo("stable_id", stableId);
        }
      }
      Services services =
          await(
              Services.deploy(vertx, config, clients, nodeId, registry),
              Duration.ofSeconds(60),
              "deploying the services");
      // not ready while the message pipeline is stuck retrying (a store or the broker failing)
      readiness.register(
          "pipeline",
          p -> {
            JsonObject stall = services.pipeline.stall();
            p.complete(
                stall == null
                    ? io.vertx.ext.healthchecks.Status.OK()
                    : io.vertx.ext.healthchecks.Status.KO(stall));
          });
      PluginHost plugins = services.plugins;
      readiness.register(
          "plugins", p -> p.complete(io.vertx.ext.healthchecks.Status.OK(plugins.readiness())));
      HttpEdgeVerticle http =
          new HttpEdgeVerticle(
              config.http(),
              config.maxBodyBytes(),
              config.httpLimits(),
              readiness,
              registry,
              services.security,
              services.routes);
      http.setShutdownGraceSeconds(config.node().shutdownGraceSeconds());
      GrpcEdgeVerticle grpc =
          new GrpcEdgeVerticle(config.grpc(), config.grpcLimits(), nodeId, VERSION, services.grpc);
      grpc.setShutdownGraceSeconds(config.node().shutdownGraceSeconds());
      await(
          vertx.deployVerticle(http),
          Duration.ofSeconds(30),
          "starting the HTTP server on port " + config.http().port());
      await(
          vertx.deployVerticle(grpc),
          Duration.ofSeconds(30),
          "starting the gRPC server on port " + config.grpc().port());
      registry.withInfo("http_port", http.actualPort()).withInfo("grpc_port", grpc.actualPort());
      await(vertx.deployVerticle(registry), Duration.ofSeconds(30), "registering the node");

      NodeMetrics.register(vertx, readiness);
      Node node =
          new Node(config, embedded, vertx, clients, nodeId, http.actualPort(), grpc.actualPort());
      node.otel = otel;
      node.http = http;
      node.webChat =
          services.webChat == null
              ? WebChat.DISABLED
              : services.webChat.available() ? WebChat.SERVED : WebChat.NOT_BUILT;
      node.plugins = plugins;
      node.presence = services.presence;
      return node;
    } catch (RuntimeException | Error e) {
      stopQuietly(clients, vertx, embedded);
      closeTracing(vertx, otel);
      throw e;
    }
  }

  @SuppressWarnings("unchecked")
  private static Map<String, Object> toJsonMap(Map<String, Object> map) {
    return (Map<String, Object>) (Map<?, ?>) map;
  }

  static <T> T await(Future<T> future, Duration timeout, String what) {
    try {
      return future
          .toCompletionStage()
          .toCompletableFuture()
          .get(timeout.toMillis(), TimeUnit.MILLISECONDS);
    } catch (java.util.concurrent.TimeoutException e) {
      throw new NodeStartException(
          what + " did not finish within " + timeout.toSeconds() + " s", e);
    } catch (java.util.concurrent.ExecutionException e) {
      Throwable cause = e.getCause();
      throw new NodeStartException(what + " failed: " + describe(cause), cause);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new NodeStartException(what + " was interrupted", e);
    }
  }

  private static String describe(Throwable t) {
    if (t instanceof java.net.BindException
        || (t != null
            && t.getMessage() != null
            && t.getMessage().contains("Address already in use"))) {
      return "the port is already in use";
    }
    return t == null
        ? "unknown error"
        : t.getMessage() == null ? t.getClass().getSimpleName() : t.getMessage();
  }

  private static void closeTracing(Vertx vertx, OpenTelemetrySdk otel) {
    if (vertx != null) {
      Tracing.uninstall(vertx);
    }
    if (otel != null) {
      otel.shutdown().join(10, TimeUnit.SECONDS);
    }
  }

  private static void stopQuietly(BackendClients clients, Vertx vertx, EmbeddedBackends embedded) {
    if (clients != null) {
      try {
        clients.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
      } catch (Exception e) {
        LOG.warn("closing backend clients failed", e);
      }
    }
    if (vertx != null) {
      try {
        vertx.close().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
      } catch (Exception e) {
        LOG.warn("closing vert.x failed", e);
      }
    }
    if (embedded != null) {
      embedded.close();
    }
  }

  public NodeConfig config() {
    return config;
  }

  public Vertx vertx() {
    return vertx;
  }

  public BackendClients clients() {
    return clients;
  }

  public String nodeId() {
    return nodeId;
  }

  public int httpPort() {
    return httpPort;
  }

  /** The REST routes this node serves ("METHOD /v1/path/{param}"). */
  public java.util.SortedSet<String> apiRoutes() {
    return http.apiRoutes();
  }

  public int grpcPort() {
    return grpcPort;
  }

  /** The node's connector registry (its plugin host). */
  public ConnectorRegistry connectors() {
    return plugins;
  }

  /** The plugin host itself (state, scans), for operators' tools and tests. */
  public PluginHost pluginHost() {
    return plugins;
  }

  public WebChat webChat() {
    return webChat;
  }

  /**
   * The sockets the edges closed are unmarking their users in Redis (and announcing those who went
   * offline): let that finish before the clients close, or the users look online until the presence
   * sweep. Bounded by the shutdown grace.
   */
  private void awaitPresenceUnmarks() {
    if (presence == null) {
      return;
    }
    try {
      presence
          .settled()
          .toCompletionStage()
          .toCompletableFuture()
          .get(config.node().shutdownGraceSeconds() + 5L, TimeUnit.SECONDS);
    } catch (Exception e) {
      LOG.warn("presence unmarks still running at shutdown: {}", e.toString());
    }
  }

  /** Drains and stops the verticles, closes the clients, then stops the embedded servers. */
  @Override
  public synchronized void close() {
    if (closed) {
      return;
    }
    closed = true;
    LOG.info("node {} stopping", nodeId);
    List<String> deployments = List.copyOf(vertx.deploymentIDs());
    for (String id : deployments) {
      try {
        vertx
            .undeploy(id)
            .toCompletionStage()
            .toCompletableFuture()
            .get(config.node().shutdownGraceSeconds() + 5L, TimeUnit.SECONDS);
      } catch (Exception e) {
        LOG.warn("undeploying {} failed", id, e);
      }
    }
    awaitPresenceUnmarks();
    // the consumers are closed; hand their partitions over now rather than after the session
    io.chat4all.node.backends.StaticMembers.leave(
        config.kafka(), Services.membership(config).instanceId(), 5_000);
    stopQuietly(clients, vertx, embedded);
    closeTracing(vertx, otel);
    LOG.info("node {} stopped", nodeId);
  }
}
