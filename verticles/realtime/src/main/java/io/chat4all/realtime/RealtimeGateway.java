package io.chat4all.realtime;

import io.chat4all.codecs.ErrorCode;
import io.chat4all.codecs.ServiceException;
import io.chat4all.web.RouteModule;
import io.chat4all.web.TokenVerifier;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.ServerWebSocket;
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
    RealtimeMeters.register(vertx, presence);
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
              ServiceException refused = checkUpgrade(ctx.request());
              if (refused != null) {
                if (refused.code() == ErrorCode.UPGRADE_REQUIRED) {
                  ctx.response().putHeader("Sec-WebSocket-Version", "13");
                }
                ctx.fail(refused);
                return;
              }
              ctx.request()
                  .toWebSocket()
                  .onSuccess(
                      ws -> {
                        keepAlive(ws);
                        new WsConnection(vertx, ws, verifier, actions, config, presence).start();
                      })
                  .onFailure(ctx::fail);
            });
    if (presence != null) {
      presence.mount(router);
    }
    router
        .route(BRIDGE_PATH + "/*")
        .subRouter(EventBusBridge.router(vertx, verifier, config, presence));
  }

  /**
   * What the WebSocket handshake would refuse, as an error of the model (the handshaker's own
   * answers have no JSON body and its failures no error code); null for a valid RFC 6455 upgrade.
   */
  static ServiceException checkUpgrade(HttpServerRequest request) {
    String upgrade = request.getHeader(HttpHeaders.UPGRADE);
    if (upgrade == null || !upgrade.equalsIgnoreCase("websocket")) {
      return new ServiceException(
          ErrorCode.BAD_REQUEST, "this endpoint only accepts a WebSocket upgrade");
    }
    String connection = request.getHeader(HttpHeaders.CONNECTION);
    if (connection == null || !hasToken(connection, "upgrade")) {
      return new ServiceException(
          ErrorCode.BAD_REQUEST, "a WebSocket upgrade needs the header Connection: Upgrade");
    }
    if (!"13".equals(trim(request.getHeader("Sec-WebSocket-Version")))) {
      return new ServiceException(
          ErrorCode.UPGRADE_REQUIRED, "only WebSocket version 13 (RFC 6455) is supported");
    }
    String key = trim(request.getHeader("Sec-WebSocket-Key"));
    if (key == null || key.isEmpty()) {
      return new ServiceException(
          ErrorCode.BAD_REQUEST, "a WebSocket upgrade needs a Sec-WebSocket-Key header");
    }
    String length = trim(request.getHeader(HttpHeaders.CONTENT_LENGTH));
    if (request.headers().contains(HttpHeaders.TRANSFER_ENCODING)
        || (length != null && !length.equals("0"))) {
      return new ServiceException(ErrorCode.BAD_REQUEST, "a WebSocket upgrade has no body");
    }
    return null;
  }

  private static boolean hasToken(String header, String token) {
    for (String part : header.split(",")) {
      if (part.trim().equalsIgnoreCase(token)) {
        return true;
      }
    }
    return false;
  }

  private static String trim(String value) {
    return value == null ? null : value.trim();
  }

  /**
   * Pings the socket every {@code realtime.ping_interval_ms}: the connection is then never idle for
   * the HTTP server's idle timeout, which would cut it without a close frame. (Whether the client
   * is still there is the socket's own idle timeout.)
   */
  private void keepAlive(ServerWebSocket ws) {
    vertx.setPeriodic(
        config.pingIntervalMs(),
        id -> {
          if (ws.isClosed()) {
            vertx.cancelTimer(id);
          } else {
            ws.writePing(Buffer.buffer());
          }
        });
  }
}
