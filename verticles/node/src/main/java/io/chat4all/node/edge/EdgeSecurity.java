package io.chat4all.node.edge;

import io.chat4all.web.Authn;
import io.chat4all.web.Principal;
import io.chat4all.web.RateLimiter;
import io.chat4all.web.TokenVerifier;
import io.vertx.core.Future;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.function.IntSupplier;

/**
 * What every {@code /v1} request passes before its route: a per-IP rate limit, bearer-token
 * authentication (except on the public paths: registration, login, refresh, the API document) and a
 * per-user rate limit. Limits are counted in Redis, so they hold across the cluster.
 */
public final class EdgeSecurity {
  /** Paths served without an access token. */
  public static final Set<String> PUBLIC_PATHS =
      Set.of("/v1/auth/register", "/v1/auth/token", "/v1/auth/refresh", "/v1/openapi.json");

  private final TokenVerifier verifier;
  private final RateLimiter limiter;
  private final IntSupplier perUserPerMinute;
  private final IntSupplier perIpPerMinute;

  /**
   * @param perUserPerMinute the per-user limit in force (read at every request: a runtime setting)
   * @param perIpPerMinute the per-IP limit in force
   */
  public EdgeSecurity(
      TokenVerifier verifier,
      RateLimiter limiter,
      IntSupplier perUserPerMinute,
      IntSupplier perIpPerMinute) {
    this.verifier = Objects.requireNonNull(verifier, "verifier");
    this.limiter = Objects.requireNonNull(limiter, "limiter");
    this.perUserPerMinute = Objects.requireNonNull(perUserPerMinute, "perUserPerMinute");
    this.perIpPerMinute = Objects.requireNonNull(perIpPerMinute, "perIpPerMinute");
  }

  /**
   * The token verifier for gRPC calls: the same check plus the per-user rate limit (gRPC has no
   * router to hang the limits on).
   */
  public TokenVerifier rateLimited() {
    return token ->
        verifier
            .verify(token)
            .compose(
                p -> limiter.hit("user:" + p.userId(), perUserPerMinute.getAsInt(), 60).map(p));
  }

  void install(Router router) {
    // the socket endpoints run before the /v1 handlers (the upgrade must not let the request be
    // read): the WebSocket upgrade and every SockJS request (info, sessions, transports) count
    // against the same per-IP limit here, the request held paused while Redis answers
    router
        .route()
        .order(HttpEdgeVerticle.FIRST + 1)
        .handler(
            ctx -> {
              String path = ctx.normalizedPath();
              if (!isSocketPath(path)) {
                ctx.next();
                return;
              }
              boolean upgrade = "websocket".equalsIgnoreCase(ctx.request().getHeader("Upgrade"));
              ctx.request().pause();
              limiter
                  .hit(
                      "ip:" + ctx.request().remoteAddress().hostAddress(),
                      perIpPerMinute.getAsInt(),
                      60)
                  .onSuccess(
                      v -> {
                        ctx.next();
                        if (!upgrade) {
                          ctx.request().resume();
                        }
                      })
                  .onFailure(
                      e -> {
                        ctx.request().resume();
                        ctx.fail(e);
                      });
            });
    router.route("/v1/*").handler(this::admit);
  }

  /** {@code /v1/ws} and the SockJS bridge {@code /eventbus/…}. */
  static boolean isSocketPath(String path) {
    return path != null
        && (path.equals("/v1/ws") || path.equals("/eventbus") || path.startsWith("/eventbus/"));
  }

  /**
   * The per-IP limit, the token and the per-user limit, in that order of answers, in one Redis
   * round trip: the token is checked on this node (signature, expiry, this node's copy of the
   * revocations), then both counters are counted by one script (the user's only when the IP is
   * within its limit and the token is good).
   */
  private void admit(RoutingContext ctx) {
    RateLimiter.Hit ip =
        new RateLimiter.Hit(
            "ip:" + ctx.request().remoteAddress().hostAddress(), perIpPerMinute.getAsInt(), 60);
    if (PUBLIC_PATHS.contains(ctx.normalizedPath())) {
      limiter.hits(List.of(ip)).onSuccess(v -> ctx.next()).onFailure(ctx::fail);
      return;
    }
    Authn.verify(verifier, ctx.request().getHeader("Authorization"))
        .transform(
            token -> {
              if (token.failed()) {
                // a bad token still counts against the IP, and the IP's limit answers first
                return limiter
                    .hits(List.of(ip))
                    .compose(v -> Future.<Principal>failedFuture(token.cause()));
              }
              Principal p = token.result();
              return limiter
                  .hits(
                      List.of(
                          ip,
                          new RateLimiter.Hit(
                              "user:" + p.userId(), perUserPerMinute.getAsInt(), 60)))
                  .map(p);
            })
        .onSuccess(
            (Principal p) -> {
              ctx.put(Principal.CONTEXT_KEY, p);
              io.chat4all.codecs.LogContext.userId(p.userId());
              ctx.next();
            })
        .onFailure(ctx::fail);
  }
}
