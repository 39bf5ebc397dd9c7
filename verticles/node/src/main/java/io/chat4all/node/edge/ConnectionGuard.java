package io.chat4all.node.edge;

import io.chat4all.node.config.NodeConfig;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpConnection;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.net.SocketAddress;
import io.vertx.core.net.impl.ConnectionBase;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Cuts off the slow and the too many clients of one server (HTTP or gRPC):
 *
 * <ul>
 *   <li>at most {@code max_connections_per_ip} open connections per client IP: a connection over
 *       the cap is closed as soon as it opens;
 *   <li>a new connection must complete its first request head within {@code
 *       request_header_timeout_seconds};
 *   <li>a connection with no request in progress (between keep-alive requests, or an HTTP/2
 *       connection without a stream) must start its next request within {@code
 *       idle_timeout_seconds};
 *   <li>optionally, a request whose body makes no progress for {@code idle_timeout_seconds} is
 *       reset (for HTTP/2, where one busy stream keeps the connection from being idle).
 * </ul>
 *
 * The idle timeout proper (no byte in either direction) is the server's own ({@code
 * HttpServerOptions.setIdleTimeout}); so is the timer of each connection, which runs on the
 * connection's event loop like every method here but {@link #openConnections}.
 */
final class ConnectionGuard {
  private static final Logger LOG = LoggerFactory.getLogger(ConnectionGuard.class);

  private final Vertx vertx;
  private final String server;
  private final NodeConfig.Limits limits;
  private final ConcurrentHashMap<String, Integer> perIp = new ConcurrentHashMap<>();
  private final ConcurrentHashMap<HttpConnection, State> connections = new ConcurrentHashMap<>();

  /** One open connection. */
  private static final class State {
    final String ip;
    int inProgress;
    boolean upgraded;
    boolean closed;
    long timer = -1;

    State(String ip) {
      this.ip = ip;
    }
  }

  ConnectionGuard(Vertx vertx, String server, NodeConfig.Limits limits) {
    this.vertx = vertx;
    this.server = server;
    this.limits = limits;
  }

  /** The server's connection handler. */
  void connected(HttpConnection conn) {
    String ip = ip(conn.remoteAddress());
    State state = new State(ip);
    int open = perIp.merge(ip, 1, Integer::sum);
    connections.put(conn, state);
    onClose(conn, () -> closed(conn, state));
    int max = limits.maxConnectionsPerIp();
    if (max > 0 && open > max) {
      LOG.debug("{}: closing a connection from {}: {} already open", server, ip, max);
      conn.close();
      return;
    }
    arm(conn, state, limits.headerTimeoutSeconds(), "no complete request head");
  }

  /**
   * A request whose head is complete; returns what to run (once or more) when it is over: its
   * response ended or its stream closed. With {@code watchBody}, a request body that makes no
   * progress for the idle timeout gets its stream reset.
   */
  Runnable started(HttpServerRequest request, boolean watchBody) {
    HttpConnection conn = request.connection();
    State state = conn == null ? null : connections.get(conn);
    if (state == null) {
      return () -> {};
    }
    state.inProgress++;
    cancel(state);
    long stallTimer = watchBody ? watchBody(request) : -1;
    boolean[] over = {false};
    return () -> {
      if (over[0]) {
        return;
      }
      over[0] = true;
      if (stallTimer >= 0) {
        vertx.cancelTimer(stallTimer);
      }
      state.inProgress--;
      if (request.response().getStatusCode() == 101) {
        state.upgraded = true; // a WebSocket now: its own timers apply
      }
      if (state.inProgress == 0 && !state.upgraded) {
        arm(conn, state, limits.idleTimeoutSeconds(), "no request in progress");
      }
    };
  }

  /**
   * The idle time a keep-alive client is told ({@code Keep-Alive: timeout=N}): below {@code
   * idle_timeout_seconds} by a sixth of it (at least a second), so that a client honouring it lets
   * an idle connection go before the server closes it, instead of racing the close with its next
   * request.
   */
  static int keepAliveHintSeconds(NodeConfig.Limits limits) {
    int idle = limits.idleTimeoutSeconds();
    return Math.max(1, idle - Math.max(1, idle / 6));
  }

  /** Connections currently open from {@code ip} (for tests and diagnostics). */
  int openConnections(String ip) {
    return perIp.getOrDefault(ip, 0);
  }

  private long watchBody(HttpServerRequest request) {
    long idleMs = limits.idleTimeoutSeconds() * 1000L;
    long[] progress = {request.bytesRead(), System.nanoTime()};
    return vertx.setPeriodic(
        Math.max(250, idleMs / 4),
        id -> {
          if (request.isEnded() || request.response().ended() || request.response().closed()) {
            vertx.cancelTimer(id);
            return;
          }
          long read = request.bytesRead();
          long now = System.nanoTime();
          if (read != progress[0]) {
            progress[0] = read;
            progress[1] = now;
          } else if (now - progress[1] >= idleMs * 1_000_000L) {
            vertx.cancelTimer(id);
            LOG.debug(
                "{}: resetting {} from {}: its body made no progress for {} s",
                server,
                request.path(),
                ip(request.remoteAddress()),
                limits.idleTimeoutSeconds());
            request.response().reset(8); // CANCEL
          }
        });
  }

  private void arm(HttpConnection conn, State state, int seconds, String why) {
    cancel(state);
    if (state.closed) {
      return;
    }
    state.timer =
        vertx.setTimer(
            seconds * 1000L,
            t -> {
              state.timer = -1;
              if (!state.closed && state.inProgress == 0 && !state.upgraded) {
                LOG.debug(
                    "{}: closing a connection from {}: {} within {} s",
                    server,
                    state.ip,
                    why,
                    seconds);
                conn.close();
              }
            });
  }

  private void cancel(State state) {
    if (state.timer >= 0) {
      vertx.cancelTimer(state.timer);
      state.timer = -1;
    }
  }

  private void closed(HttpConnection conn, State state) {
    if (state.closed) {
      return;
    }
    state.closed = true;
    cancel(state);
    connections.remove(conn);
    perIp.computeIfPresent(state.ip, (k, v) -> v <= 1 ? null : v - 1);
  }

  /**
   * Runs {@code action} on the connection's event loop when its channel closes. Not {@link
   * HttpConnection#closeHandler}: a connection upgraded to a WebSocket leaves the HTTP connection
   * object behind, which then never hears of the close.
   */
  private static void onClose(HttpConnection conn, Runnable action) {
    if (conn instanceof ConnectionBase base) {
      base.channel().closeFuture().addListener(f -> base.context().runOnContext(v -> action.run()));
    } else {
      conn.closeHandler(v -> action.run());
    }
  }

  private static String ip(SocketAddress address) {
    if (address == null) {
      return "?";
    }
    String host = address.hostAddress();
    return host == null ? String.valueOf(address) : host;
  }
}
