package io.chat4all.node.fuzz;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Many slow and half-open connections held open against the HTTP port at once while a fuzzer runs:
 * request heads that stop halfway, JSON bodies that stop after a few bytes, requests whose client
 * half-closes its side right after the head, and connections that never send a byte. A slot the
 * server closes is opened again at once, so the mob stands for the whole run.
 *
 * <p>What each kind must see: a stalled head is closed within the header timeout; a stalled body
 * gets 408 {@code request_timeout} within the body timeout, then the close; a request whose client
 * half-closed its side is answered or dropped, and its connection closed, never left open; a silent
 * connection is left to the idle timeout (not waited for here). Nothing gets a 5xx. {@link #stop()}
 * reports every slot that broke its rule, each with what it got.
 */
final class SlowMob {
  enum Kind {
    STALLED_HEAD,
    STALLED_BODY,
    HALF_CLOSED,
    SILENT
  }

  private final int port;
  private final String token;
  private final Duration cutOff;
  private final List<Slot> slots = new ArrayList<>();
  private final List<String> violations = new CopyOnWriteArrayList<>();
  private final Map<Kind, AtomicInteger> opened = new EnumMap<>(Kind.class);
  private final Map<Kind, AtomicInteger> cut = new EnumMap<>(Kind.class);
  private volatile boolean running = true;
  private Thread watcher;

  /**
   * @param perKind connections of each kind held open at once
   * @param cutOff how long a stalled head or body or a half-closed request may stay open (its
   *     timeout and slack)
   */
  SlowMob(int port, String token, int perKind, Duration cutOff) {
    this.port = port;
    this.token = token;
    this.cutOff = cutOff;
    for (Kind k : Kind.values()) {
      opened.put(k, new AtomicInteger());
      cut.put(k, new AtomicInteger());
      for (int i = 0; i < perKind; i++) {
        slots.add(new Slot(k));
      }
    }
  }

  SlowMob start() {
    for (Slot s : slots) {
      s.open();
    }
    watcher = new Thread(this::watch, "slow-mob");
    watcher.setDaemon(true);
    watcher.start();
    return this;
  }

  /** Stops the watcher, closes every slot, and answers the violations seen. */
  List<String> stop() throws InterruptedException {
    running = false;
    watcher.join(30_000);
    for (Slot s : slots) {
      s.close();
    }
    return List.copyOf(violations);
  }

  /** How many connections of {@code k} were opened over the run. */
  int opened(Kind k) {
    return opened.get(k).get();
  }

  /** How many connections of {@code k} the server ended as its rule says. */
  int cut(Kind k) {
    return cut.get(k).get();
  }

  private void watch() {
    while (running) {
      for (Slot s : slots) {
        if (!running) {
          return;
        }
        s.check();
      }
    }
  }

  private final class Slot {
    final Kind kind;
    Socket socket;
    InputStream in;
    long openedAt;
    final StringBuilder got = new StringBuilder();

    Slot(Kind kind) {
      this.kind = kind;
    }

    void open() {
      got.setLength(0);
      try {
        socket = new Socket();
        socket.connect(new InetSocketAddress("127.0.0.1", port), 5000);
        socket.setTcpNoDelay(true);
        in = socket.getInputStream();
        openedAt = System.nanoTime();
        opened.get(kind).incrementAndGet();
        String text =
            switch (kind) {
              case STALLED_HEAD -> "POST /v1/messages HTTP/1.1\r\nHost: x\r\nX-Partial: ";
              case STALLED_BODY ->
                  "POST /v1/messages HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer "
                      + token
                      + "\r\nContent-Type: application/json\r\nContent-Length: 400\r\n\r\n"
                      + "{\"conversation_id\":";
              case HALF_CLOSED -> "GET /health/live HTTP/1.1\r\nHost: x\r\n\r\n";
              case SILENT -> "";
            };
        if (!text.isEmpty()) {
          socket.getOutputStream().write(text.getBytes(StandardCharsets.ISO_8859_1));
          socket.getOutputStream().flush();
        }
        if (kind == Kind.HALF_CLOSED) {
          socket.shutdownOutput();
        }
      } catch (IOException e) {
        violations.add(kind + ": could not connect or write while the fuzzer ran: " + e);
        socket = null;
      }
    }

    /** Reads what is there without waiting; on the server's close, judges and opens again. */
    void check() {
      if (socket == null) {
        return;
      }
      boolean closed;
      byte[] buf = new byte[4096];
      try {
        socket.setSoTimeout(1);
        int n = in.read(buf);
        closed = n < 0;
        if (n > 0 && got.length() < 4096) {
          got.append(new String(buf, 0, n, StandardCharsets.ISO_8859_1));
        }
      } catch (SocketTimeoutException e) {
        closed = false;
      } catch (IOException reset) {
        closed = true;
      }
      long age = System.nanoTime() - openedAt;
      if (closed) {
        judge(age);
        close();
        open();
      } else if (kind != Kind.SILENT && age > cutOff.toNanos()) {
        violations.add(
            kind + ": still open after " + cutOff.toSeconds() + " s, got so far: " + got);
        close();
        open();
      }
    }

    private void judge(long ageNanos) {
      String answer = got.toString();
      boolean ok =
          switch (kind) {
            case STALLED_HEAD -> {
              // closed without an answer, or with a 4xx: never a success, never a 5xx
              String status = answer.lines().findFirst().orElse("");
              yield answer.isEmpty() || status.matches("HTTP/1\\.1 4\\d\\d.*");
            }
            case STALLED_BODY ->
                answer.startsWith("HTTP/1.1 408") && answer.contains("\"request_timeout\"");
            case HALF_CLOSED -> answer.isEmpty() || answer.startsWith("HTTP/1.1 200");
            case SILENT -> true;
          };
      if (ok) {
        cut.get(kind).incrementAndGet();
      } else {
        violations.add(
            kind
                + ": closed after "
                + Duration.ofNanos(ageNanos).toMillis()
                + " ms with "
                + (answer.isEmpty() ? "no answer" : answer.lines().findFirst().orElse("")));
      }
    }

    void close() {
      try {
        if (socket != null) {
          socket.close();
        }
      } catch (IOException ignored) {
        // closing a socket the server already closed
      }
    }
  }
}
