package io.chat4all.web;

import io.chat4all.codecs.ErrorCode;
import io.chat4all.codecs.ServiceException;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.ext.web.RoutingContext;

/** Bearer-token authentication for REST routes and gRPC calls. */
public final class Authn {
  private Authn() {}

  /** The token of an {@code Authorization: Bearer <token>} header value, or null. */
  public static String bearer(String header) {
    if (header == null) {
      return null;
    }
    String h = header.trim();
    if (h.length() > 7 && h.regionMatches(true, 0, "Bearer ", 0, 7)) {
      String token = h.substring(7).trim();
      return token.isEmpty() ? null : token;
    }
    return null;
  }

  /** Verifies the header's token; fails {@code unauthenticated} when there is none. */
  public static Future<Principal> verify(TokenVerifier verifier, String authorizationHeader) {
    String token = bearer(authorizationHeader);
    if (token == null) {
      return Future.failedFuture(
          new ServiceException(
              ErrorCode.UNAUTHENTICATED,
              "an Authorization: Bearer <access token> header is required"));
    }
    if (token.length() > 4096) {
      return Future.failedFuture(new ServiceException(ErrorCode.TOKEN_INVALID));
    }
    return verifier.verify(token);
  }

  /** Route handler: puts the {@link Principal} into the context or fails the request with 401. */
  public static Handler<RoutingContext> handler(TokenVerifier verifier) {
    return ctx ->
        verify(verifier, ctx.request().getHeader("Authorization"))
            .onSuccess(
                p -> {
                  ctx.put(Principal.CONTEXT_KEY, p);
                  ctx.next();
                })
            .onFailure(ctx::fail);
  }

  /** The authenticated caller (after {@link #handler}). */
  public static Principal principal(RoutingContext ctx) {
    Principal p = ctx.get(Principal.CONTEXT_KEY);
    if (p == null) {
      throw new ServiceException(ErrorCode.UNAUTHENTICATED);
    }
    return p;
  }
}
