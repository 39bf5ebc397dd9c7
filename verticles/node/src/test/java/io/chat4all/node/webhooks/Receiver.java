package io.chat4all.node.webhooks;

import io.chat4all.testkit.Await;
import io.vertx.core.MultiMap;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Predicate;

/**
 * A real HTTP webhook receiver on a free loopback port: records every request (per path) and
 * answers each path from a script of replies (then its default, 200): a status with headers, or a
 * hang (no answer until the client gives up).
 */
public final class Receiver implements AutoCloseable {

  /** One received request. */
  public record Hit(String path, MultiMap headers, String body, long receivedAtMs) {
    public JsonObject json() {
      return new JsonObject(body);
    }

    public String header(String name) {
      return headers.get(name);
    }
  }

  /** How to answer one request. */
  public record Reply(int status, Map<String, String> headers, boolean hangs) {
    public static Reply status(int status) {
      return new Reply(status, Map.of(), false);
    }

    public static Reply status(int status, Map<String, String> headers) {
      return new Reply(status, headers, false);
    }

    public static Reply hang() {
      return new Reply(0, Map.of(), true);
    }
  }

  private final HttpServer server;
  private final Map<String, List<Hit>> hits = new ConcurrentHashMap<>();
  private final Map<String, Deque<Reply>> scripts = new ConcurrentHashMap<>();
  private final Map<String, Reply> defaults = new ConcurrentHashMap<>();
  private final Map<String, Integer> hanging = new ConcurrentHashMap<>();

  private Receiver(Vertx vertx) {
    this.server = vertx.createHttpServer().requestHandler(this::handle);
  }

  public static Receiver start(Vertx vertx) {
    Receiver r = new Receiver(vertx);
    Await.result(r.server.listen(0, "127.0.0.1"));
    return r;
  }

  public int port() {
    return server.actualPort();
  }

  public String url(String path) {
    return "http://127.0.0.1:" + port() + path;
  }

  /** The next requests to {@code path} get these replies, in order. */
  public Receiver script(String path, Reply... replies) {
    Deque<Reply> q = scripts.computeIfAbsent(path, p -> new ArrayDeque<>());
    synchronized (q) {
      q.addAll(List.of(replies));
    }
    return this;
  }

  /** Requests to {@code path} beyond its script get {@code reply}. */
  public Receiver otherwise(String path, Reply reply) {
    defaults.put(path, reply);
    return this;
  }

  private void handle(HttpServerRequest req) {
    String path = req.path();
    req.body()
        .onSuccess(
            body -> {
              Hit hit =
                  new Hit(
                      path,
                      MultiMap.caseInsensitiveMultiMap().addAll(req.headers()),
                      body.toString(),
                      System.currentTimeMillis());
              List<Hit> list = hits.computeIfAbsent(path, p -> new ArrayList<>());
              synchronized (list) {
                list.add(hit);
                list.notifyAll();
              }
              Reply reply = next(path);
              if (reply.hangs()) {
                hanging.merge(path, 1, Integer::sum);
                req.connection().closeHandler(v -> hanging.merge(path, -1, Integer::sum));
                return;
              }
              var resp = req.response().setStatusCode(reply.status());
              reply.headers().forEach(resp::putHeader);
              resp.end("{}");
            });
  }

  private Reply next(String path) {
    Deque<Reply> q = scripts.get(path);
    if (q != null) {
      synchronized (q) {
        if (!q.isEmpty()) {
          return q.poll();
        }
      }
    }
    return defaults.getOrDefault(path, Reply.status(200));
  }

  /** The requests to {@code path} so far. */
  public List<Hit> hits(String path) {
    List<Hit> list = hits.computeIfAbsent(path, p -> new ArrayList<>());
    synchronized (list) {
      return List.copyOf(list);
    }
  }

  /** Requests to {@code path} that hang and whose connection is still open. */
  public int hanging(String path) {
    return hanging.getOrDefault(path, 0);
  }

  /** Waits until {@code path} has at least {@code n} requests; returns them. */
  public List<Hit> awaitHits(String path, int n, Duration timeout) {
    return awaitMatching(path, h -> true, n, timeout);
  }

  /** Waits until {@code path} has {@code n} requests matching {@code p}; returns those. */
  public List<Hit> awaitMatching(String path, Predicate<Hit> p, int n, Duration timeout) {
    List<Hit> list = hits.computeIfAbsent(path, k -> new ArrayList<>());
    long deadline = System.nanoTime() + timeout.toNanos();
    synchronized (list) {
      while (true) {
        List<Hit> matching = list.stream().filter(p).toList();
        if (matching.size() >= n) {
          return matching;
        }
        long left = (deadline - System.nanoTime()) / 1_000_000;
        if (left <= 0) {
          throw new AssertionError(
              "receiver path " + path + ": " + matching.size() + " of " + n + " requests: " + list);
        }
        try {
          list.wait(left);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          throw new AssertionError(e);
        }
      }
    }
  }

  @Override
  public void close() {
    Await.result(server.close());
  }
}
