package io.chat4all.node.edge;

import io.chat4all.codecs.Wire;
import io.chat4all.node.config.NodeConfig;
import io.chat4all.proto.v1.NodeServiceGrpcService;
import io.chat4all.proto.v1.NodeServiceService;
import io.chat4all.proto.v1.PingReply;
import io.chat4all.proto.v1.PingRequest;
import io.chat4all.web.GrpcModule;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.grpc.reflection.ReflectionService;
import io.vertx.grpc.server.GrpcServer;
import java.time.Instant;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.TimeUnit;

/**
 * The node's gRPC edge (h2c) on its own port: {@code chat4all.v1.NodeService} plus every module's
 * services, with server reflection so generic tools can discover them.
 */
public class GrpcEdgeVerticle extends VerticleBase {
  private final NodeConfig.Listen listen;
  private final NodeConfig.Limits limits;
  private final String nodeId;
  private final String version;
  private final List<GrpcModule> modules;
  private HttpServer server;
  private int shutdownGraceSeconds = 10;

  public GrpcEdgeVerticle(
      NodeConfig.Listen listen,
      NodeConfig.Limits limits,
      String nodeId,
      String version,
      List<GrpcModule> modules) {
    this.listen = Objects.requireNonNull(listen, "listen");
    this.limits = Objects.requireNonNull(limits, "limits");
    this.nodeId = Objects.requireNonNull(nodeId, "nodeId");
    this.version = Objects.requireNonNull(version, "version");
    this.modules = List.copyOf(modules);
  }

  @Override
  public final Future<?> start() {
    return doStart();
  }

  protected Future<HttpServer> doStart() {
    // services see a view that decodes their messages: a body that is not the method's message is
    // answered INVALID_ARGUMENT instead of the stream being reset
    GrpcServer grpc = new DecodingGrpcServer(GrpcServer.server(vertx));
    grpc.addService(
        NodeServiceGrpcService.of(
            new NodeServiceService() {
              @Override
              public Future<PingReply> ping(PingRequest request) {
                return Future.succeededFuture(
                    PingReply.newBuilder()
                        .setNodeId(nodeId)
                        .setVersion(version)
                        .setTime(Wire.timestamp(Instant.now()))
                        .setEcho(request.getEcho())
                        .build());
              }
            }));
    for (GrpcModule module : modules) {
      module.register(grpc);
    }
    grpc.addService(ReflectionService.v1());
    ConnectionGuard guard = new ConnectionGuard(vertx, "grpc", limits);
    return vertx
        .createHttpServer(
            new HttpServerOptions()
                .setHost(listen.host())
                .setPort(listen.port())
                .setIdleTimeout(limits.idleTimeoutSeconds())
                .setIdleTimeoutUnit(TimeUnit.SECONDS))
        .connectionHandler(guard::connected)
        .requestHandler(
            request -> {
              // one stalled call must not hold its stream while others keep the connection busy
              Runnable over = guard.started(request, true);
              request.response().endHandler(v -> over.run());
              request.response().closeHandler(v -> over.run());
              grpc.handle(request);
            })
        .listen()
        .onSuccess(s -> server = s);
  }

  @Override
  public Future<?> stop() {
    // graceful: stop accepting, let in-flight requests finish within the grace period
    return server == null
        ? Future.succeededFuture()
        : server.shutdown(shutdownGraceSeconds, TimeUnit.SECONDS);
  }

  /** Seconds in-flight requests get to finish when the node stops. */
  public void setShutdownGraceSeconds(int seconds) {
    this.shutdownGraceSeconds = seconds;
  }

  public int actualPort() {
    return server == null ? -1 : server.actualPort();
  }
}
