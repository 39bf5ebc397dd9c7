package io.chat4all.realtime;

import io.chat4all.codecs.ErrorCode;
import io.chat4all.codecs.ServiceException;
import io.chat4all.web.RouteModule;
import io.chat4all.web.TokenVerifier;
import io.vertx.core.Vertx;
import io.vertx.ext.web.Router;

/**
 * The real-time edge on the node's router: the WebSocket JSON protocol at {@code /v1/ws} (the
 * socket authenticates itself with its first frame) and the SockJS event-bus bridge at {@code
 * /eventbus}.
 */
public final class RealtimeGateway implements RouteModule {
  public static final String WS_PATH = "/v1/ws";
  public static final String BRIDGE_PATH = "/eventbus";

  private final Vertx vertx;
  private final TokenVerifier verifier;
  private final ClientActions actions;
  private final RealtimeConfig config;
  private final Presence presence;

  public RealtimeGateway(
      Vertx vertx,
      TokenVerifier verifier,
      ClientActions actions,
      RealtimeConfig config,
      Presence presence) {
    this.vertx = vertx;
    this.verifier = verifier;
    this.actions = actions;
    this.config = config;
    this.presence = presence;
  }

  @Override
  public void mount(Router router) {
    // first on the router: the upgrade must happen before any asynchronous handler (the /v1 body
    // handler and rate limits would let the request be read); the socket authenticates itself
    router
        .get(WS_PATH)
        .order(-1)
        .handler(
            ctx -> {
              String upgrade = ctx.request().getHeader("Upgrade");
              if (upgrade == null || !upgrade.equalsIgnoreCase("websocket")) {
                ctx.fail(
                    new ServiceException(
                        ErrorCode.BAD_REQUEST, "this endpoint only accepts a WebSocket upgrade"));
                return;
              }
              ctx.request()
                  .toWebSocket()
                  .onSuccess(
                      ws ->
                          new WsConnection(vertx, ws, verifier, actions, config, presence).start())
                  .onFailure(ctx::fail);
            });
    if (presence != null) {
      presence.mount(router);
    }
    router
        .route(BRIDGE_PATH + "/*")
        .subRouter(EventBusBridge.router(vertx, verifier, config, presence));
  }
}
