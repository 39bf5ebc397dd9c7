package io.chat4all.embedded;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.time.Duration;

/** Port helpers: free-port selection, clear "port in use" errors, readiness waits. */
public final class Ports {
  private Ports() {}

  /**
   * A port that is free right now on {@code host}, taken below the kernel's ephemeral range so that
   * outgoing connections (which take their local ports from that range) cannot grab it between this
   * check and the server's bind.
   */
  public static int free(String host) {
    ServerSocket socket = bindFree(host);
    try {
      return socket.getLocalPort();
    } finally {
      try {
        socket.close();
      } catch (IOException ignored) {
        // closed
      }
    }
  }

  /**
   * Ports this process handed out already: a port is free again once the probe lets it go, and two
   * picks in a row (the cluster ports of several nodes a test starts) could otherwise get the same
   * one, the second server then failing "address already in use".
   */
  private static final java.util.Set<Integer> HANDED_OUT =
      java.util.concurrent.ConcurrentHashMap.newKeySet();

  private static final int MAX_REMEMBERED = 4096;

  /**
   * Binds a free port outside the ephemeral range, never one this process handed out before (falls
   * back to any free port).
   */
  static ServerSocket bindFree(String host) {
    int[] range = nonEphemeralRange();
    java.util.concurrent.ThreadLocalRandom random =
        java.util.concurrent.ThreadLocalRandom.current();
    for (int attempt = 0; attempt < 100; attempt++) {
      int port = random.nextInt(range[0], range[1]);
      if (HANDED_OUT.contains(port)) {
        continue;
      }
      ServerSocket socket = tryBind(host, port);
      if (socket != null) {
        if (HANDED_OUT.size() > MAX_REMEMBERED) {
          HANDED_OUT.clear();
        }
        HANDED_OUT.add(port);
        return socket;
      }
    }
    try {
      return new ServerSocket(0, 50, InetAddress.getByName(host));
    } catch (IOException e) {
      throw new EmbeddedStartException(
          "cannot find a free port on " + host + ": " + e.getMessage(), e);
    }
  }

  /**
   * {@code port} bound on {@code host}, or null if it is not free. Bound without SO_REUSEADDR: a
   * port that still has connections in TIME_WAIT (left by a server that bound it without
   * SO_REUSEADDR) is passed over, since the server it is picked for (Hazelcast, a node restarted on
   * it) would be refused "address already in use" for up to a minute.
   */
  static ServerSocket tryBind(String host, int port) {
    try {
      ServerSocket socket = new ServerSocket();
      try {
        socket.setReuseAddress(false);
        socket.bind(new InetSocketAddress(InetAddress.getByName(host), port), 50);
        return socket;
      } catch (IOException taken) {
        socket.close();
        return null;
      }
    } catch (IOException e) {
      return null;
    }
  }

  /**
   * [from, to) outside the ephemeral port range of this machine (Linux: ip_local_port_range): below
   * it when there is room (the usual 32768-60999 leaves 10000-32767), else above it.
   */
  static int[] nonEphemeralRange() {
    int low = 32768;
    int high = 60999;
    try {
      String[] parts =
          java.nio.file.Files.readString(
                  java.nio.file.Path.of("/proc/sys/net/ipv4/ip_local_port_range"))
              .trim()
              .split("\\s+");
      low = Integer.parseInt(parts[0]);
      high = Integer.parseInt(parts[1]);
    } catch (IOException | RuntimeException ignored) {
      // not Linux: keep the IANA default
    }
    return nonEphemeralRange(low, high);
  }

  static int[] nonEphemeralRange(int low, int high) {
    if (low >= 12000) {
      return new int[] {Math.min(10000, low - 2000), low};
    }
    if (high <= 63535) {
      return new int[] {high + 1, 65536};
    }
    // the ephemeral range covers (nearly) every port: no choice keeps clear of it
    return new int[] {10000, 12000};
  }

  /**
   * Ports picked for one start: each free port stays bound until {@link #close()}, so two servers
   * of the same start never get the same port.
   */
  public static final class Reservation implements AutoCloseable {
    private final java.util.List<ServerSocket> held = new java.util.ArrayList<>();

    /**
     * {@code configured} if non-zero (after checking it is free), else a free port held until
     * close.
     */
    public int choose(String server, String key, String host, int configured) {
      if (configured != 0) {
        return Ports.choose(server, key, host, configured);
      }
      ServerSocket socket = bindFree(host);
      held.add(socket);
      return socket.getLocalPort();
    }

    @Override
    public void close() {
      for (ServerSocket s : held) {
        try {
          s.close();
        } catch (IOException ignored) {
          // already closed
        }
      }
      held.clear();
    }
  }

  /** {@code configured} if non-zero (after checking it is free), else a free port. */
  public static int choose(String server, String key, String host, int configured) {
    if (configured == 0) {
      return free(host);
    }
    try (ServerSocket socket = new ServerSocket()) {
      socket.setReuseAddress(true);
      socket.bind(new InetSocketAddress(InetAddress.getByName(host), configured));
      return configured;
    } catch (IOException e) {
      throw new EmbeddedStartException(
          "port "
              + configured
              + " for the embedded "
              + server
              + " on "
              + host
              + " is already in use: stop whatever holds it or set "
              + key
              + " to another port (0 picks a free one)",
          e);
    }
  }

  /** Waits until something accepts TCP connections on host:port. */
  public static void awaitListening(String server, String host, int port, Duration timeout)
      throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    IOException last = null;
    while (System.nanoTime() < deadline) {
      try (Socket socket = new Socket()) {
        socket.connect(new InetSocketAddress(host, port), 500);
        return;
      } catch (IOException e) {
        last = e;
        Thread.sleep(50);
      }
    }
    throw new EmbeddedStartException(
        "embedded "
            + server
            + " did not accept connections on "
            + host
            + ":"
            + port
            + " within "
            + timeout,
        last);
  }
}
