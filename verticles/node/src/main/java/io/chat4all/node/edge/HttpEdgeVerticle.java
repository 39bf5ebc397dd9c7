package io.chat4all.node.edge;

import io.chat4all.codecs.ErrorCode;
import io.chat4all.codecs.LogContext;
import io.chat4all.codecs.ServiceException;
import io.chat4all.node.cluster.NodeRegistry;
import io.chat4all.node.config.NodeConfig;
import io.chat4all.web.HttpErrors;
import io.chat4all.web.RouteModule;
import io.chat4all.web.StoreSafe;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.ext.healthchecks.HealthChecks;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.BodyHandler;
import io.vertx.ext.web.healthchecks.HealthCheckHandler;
import java.util.List;
import java.util.Objects;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

/**
 * The node's HTTP edge on one port: the REST API modules, {@code /health/live}, {@code
 * /health/ready} (every backend really answering), {@code /health/cluster} (the members and whether
 * each answers on the event bus) and {@code /metrics} (Prometheus). Every response carries an
 * {@code X-Request-Id}; every error is the JSON error body.
 */
public class HttpEdgeVerticle extends VerticleBase {
  public static final String REQUEST_ID = "X-Request-Id";
  private static final org.slf4j.Logger ACCESS =
      org.slf4j.LoggerFactory.getLogger("io.chat4all.access");

  /** Order of the edge's first handler: before every route, the WebSocket upgrade included. */
  static final int FIRST = -1000;

  private final NodeConfig.Listen listen;
  private final int maxBodyBytes;
  private final NodeConfig.Limits limits;

  /** The largest WebSocket frame read whole (4 × the gateway's 256 KiB message limit). */
  static final int MAX_WEBSOCKET_FRAME_BYTES = 1 << 20;

  /** The largest piece of a request body handed to a handler at once. */
  static final int BODY_PIECE_BYTES = 64 * 1024;

  private final HealthChecks readiness;
  private final NodeRegistry registry;
  private final List<RouteModule> modules;
  private final EdgeSecurity security;
  private HttpServer server;
  private Router router;
  private int shutdownGraceSeconds = 10;

  public HttpEdgeVerticle(
      NodeConfig.Listen listen,
      int maxBodyBytes,
      NodeConfig.Limits limits,
      HealthChecks readiness,
      NodeRegistry registry,
      EdgeSecurity security,
      List<RouteModule> modules) {
    this.security = Objects.requireNonNull(security, "security");
    this.listen = Objects.requireNonNull(listen, "listen");
    this.maxBodyBytes = maxBodyBytes;
    this.limits = Objects.requireNonNull(limits, "limits");
    this.readiness = Objects.requireNonNull(readiness, "readiness");
    this.registry = Objects.requireNonNull(registry, "registry");
    this.modules = List.copyOf(modules);
  }

  @Override
  public final Future<?> start() {
    return doStart();
  }

  protected Future<HttpServer> doStart() {
    ConnectionGuard guard = new ConnectionGuard(vertx, "http", limits);
    String keepAliveHint = "timeout=" + ConnectionGuard.keepAliveHintSeconds(limits);
    List<java.util.regex.Pattern> streamed =
        modules.stream().map(RouteModule::streamedBodies).filter(Objects::nonNull).toList();
    Router router = Router.router(vertx);
    router
        .route()
        .order(FIRST)
        .handler(
            ctx -> {
              String id = ctx.request().getHeader(REQUEST_ID);
              if (id == null || id.isBlank() || id.length() > 128) {
                id = UUID.randomUUID().toString();
              }
              ctx.put("request_id", id);
              LogContext.requestId(id);
              ctx.response().putHeader(REQUEST_ID, id);
              if (ctx.request().getHeader(HttpHeaders.UPGRADE) == null) {
                // tell keep-alive clients when an idle connection is closed, a little before it
                // is: a client reusing one the moment the server closes it can wait for an answer
                // that never comes (its request written to a connection already going away)
                ctx.response().putHeader(HttpHeaders.KEEP_ALIVE, keepAliveHint);
              }
              Runnable over = guard.started(ctx.request(), false);
              long started = System.nanoTime();
              ctx.addEndHandler(
                  ar -> {
                    over.run();
                    // the path only: query strings may carry tokens (SockJS, downloads)
                    if (ACCESS.isDebugEnabled()) {
                      ACCESS.debug(
                          "{} {} -> {} in {} ms",
                          ctx.request().method(),
                          ctx.request().path(),
                          ctx.response().getStatusCode(),
                          (System.nanoTime() - started) / 1_000_000);
                    }
                  });
              if (!isStreamed(streamed, ctx.request().path())) {
                bodyDeadline(ctx);
              }
              ctx.next();
            });
    BodyHandler bodies = BodyHandler.create(false).setBodyLimit(maxBodyBytes);
    router.route("/v1/*").handler(io.chat4all.web.FormBodies.refuse());
    router
        .route("/v1/*")
        .handler(
            ctx -> {
              if (isStreamed(streamed, ctx.request().path())) {
                // streamed by its route: hold the bytes until that route reads them
                ctx.request().pause();
                ctx.next();
                return;
              }
              bodies.handle(ctx);
            });
    security.install(router);
    // every query parameter is text a store can hold (or 400 naming it), whatever the route
    router.route("/v1/*").handler(StoreSafe::queryParameters);

    router
        .get("/health/live")
        .handler(
            HealthCheckHandler.create(vertx)
                .register("node", p -> p.complete(io.vertx.ext.healthchecks.Status.OK())));
    router.get("/health/ready").handler(HealthCheckHandler.createWithHealthChecks(readiness));
    router
        .get("/health/cluster")
        .handler(
            ctx ->
                registry
                    .describe()
                    .onComplete(
                        r -> {
                          if (r.succeeded()) {
                            ctx.json(r.result());
                          } else {
                            ctx.fail(r.cause());
                          }
                        }));
    router.get("/metrics").handler(io.chat4all.node.obs.MetricsRegistries::scrape);

    for (RouteModule module : modules) {
      module.mount(router);
    }
    this.router = router;

    router.route().failureHandler(HttpErrors::handle);
    router.errorHandler(404, HttpErrors::handle);
    router.errorHandler(405, HttpErrors::handle);
    router.errorHandler(413, HttpErrors::handle);

    HttpServerOptions options =
        new HttpServerOptions()
            .setHost(listen.host())
            .setPort(listen.port())
            .setCompressionSupported(true)
            .setMaxFormAttributeSize(maxBodyBytes)
            // a request body reaches its handler in pieces of up to this (Vert.x's default is
            // 8 KiB): a file chunk's bytes are hashed and forwarded to S3 piece by piece, and every
            // piece costs a buffer, a digest call and a write to the storage connection
            .setMaxChunkSize(BODY_PIECE_BYTES)
            // HTTP/1.1 (and WebSocket) only: HTTP/2 is the gRPC port's. Without cleartext HTTP/2
            // detection every connection is an HTTP connection, counted and timed, from its first
            // moment on.
            .setHttp2ClearTextEnabled(false)
            // a frame up to this is read whole, so a message over the gateway's 256 KiB limit sent
            // as one frame (as browsers do) gets the close handshake with 1009; only a frame past
            // this is cut off at the transport (its 1009 close frame then races the TCP close)
            .setMaxWebSocketFrameSize(MAX_WEBSOCKET_FRAME_BYTES)
            .setIdleTimeout(limits.idleTimeoutSeconds())
            .setIdleTimeoutUnit(TimeUnit.SECONDS)
            // every response of this server is written on its connection's event loop (the
            // router's handlers, event-bus replies and executeBlocking results all come back to
            // it), so a connection needs no cross-thread outbound queue: without this each
            // connection allocates one (a 1,025-slot first chunk, ≈ 4 KB), and a WebSocket keeps
            // the connection it was upgraded from for its whole life (docs/benchmarks.md, Sockets)
            .setStrictThreadMode(true);
    InvalidRequests invalid =
        new InvalidRequests(options.getMaxInitialLineLength(), options.getMaxHeaderSize());
    return vertx
        .createHttpServer(options)
        .connectionHandler(guard::connected)
        .invalidRequestHandler(invalid::handle)
        .requestHandler(router)
        .listen()
        .onSuccess(s -> server = s);
  }

  private static boolean isStreamed(List<java.util.regex.Pattern> streamed, String path) {
    for (java.util.regex.Pattern p : streamed) {
      if (path != null && p.matcher(path).matches()) {
        return true;
      }
    }
    return false;
  }

  /**
   * A body the edge reads whole must be complete within {@code request_body_timeout_seconds} of its
   * head; a trickling one gets 408 {@code request_timeout} and its connection closes. (A body that
   * stops altogether also meets the idle timeout; streamed bodies only that one.)
   */
  private void bodyDeadline(RoutingContext ctx) {
    HttpServerRequest request = ctx.request();
    boolean hasBody =
        request.headers().contains(HttpHeaders.TRANSFER_ENCODING)
            || (request.getHeader(HttpHeaders.CONTENT_LENGTH) != null
                && !"0".equals(request.getHeader(HttpHeaders.CONTENT_LENGTH).trim()));
    if (!hasBody || request.isEnded()) {
      return;
    }
    int seconds = limits.bodyTimeoutSeconds();
    long timer =
        vertx.setTimer(
            seconds * 1000L,
            t -> {
              if (request.isEnded() || ctx.response().headWritten()) {
                return;
              }
              ctx.response().putHeader(HttpHeaders.CONNECTION, "close");
              HttpErrors.send(
                      ctx,
                      new ServiceException(
                          ErrorCode.REQUEST_TIMEOUT,
                          "the request body did not arrive within " + seconds + " s"))
                  .onComplete(v -> request.connection().close());
            });
    ctx.addEndHandler(ar -> vertx.cancelTimer(timer));
  }

  /** The bound port (differs from the configured one when that is 0). */
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

  /**
   * The API routes ({@code /v1/*} and the channel webhooks {@code /webhooks/*}) as "METHOD /path"
   * with OpenAPI-style parameters ({@code /v1/users/{user_id}}), for checking them against the
   * OpenAPI document.
   */
  public java.util.SortedSet<String> apiRoutes() {
    java.util.SortedSet<String> out = new java.util.TreeSet<>();
    for (io.vertx.ext.web.Route route : router.getRoutes()) {
      String path = route.getPath();
      if (path == null
          || !(path.startsWith("/v1/") || path.startsWith("/webhooks/"))
          || path.endsWith("*")
          || route.methods() == null) {
        continue;
      }
      String openApiPath = path.replaceAll(":([A-Za-z0-9_]+)", "{$1}");
      for (io.vertx.core.http.HttpMethod m : route.methods()) {
        out.add(m.name() + " " + openApiPath);
      }
    }
    return out;
  }

  public int actualPort() {
    return server == null ? -1 : server.actualPort();
  }
}
