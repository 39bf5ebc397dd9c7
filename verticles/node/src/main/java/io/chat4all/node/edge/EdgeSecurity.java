package io.chat4all.node.edge;

import io.chat4all.web.Authn;
import io.chat4all.web.Principal;
import io.chat4all.web.RateLimiter;
import io.chat4all.web.TokenVerifier;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
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
    router
        .route("/v1/*")
        .handler(
            ctx ->
                limiter
                    .hit(
                        "ip:" + ctx.request().remoteAddress().hostAddress(),
                        perIpPerMinute.getAsInt(),
                        60)
                    .onSuccess(v -> ctx.next())
                    .onFailure(ctx::fail));
    router.route("/v1/*").handler(this::authenticate);
  }

  private void authenticate(RoutingContext ctx) {
    if (PUBLIC_PATHS.contains(ctx.normalizedPath())) {
      ctx.next();
      return;
    }
    Authn.verify(verifier, ctx.request().getHeader("Authorization"))
        .compose(p -> limiter.hit("user:" + p.userId(), perUserPerMinute.getAsInt(), 60).map(p))
        .onSuccess(
            (Principal p) -> {
              ctx.put(Principal.CONTEXT_KEY, p);
              io.chat4all.codecs.LogContext.userId(p.userId());
              ctx.next();
            })
        .onFailure(ctx::fail);
  }
}
