package io.chat4all.bench;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.http.WebSocket;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.http.WebSocketClientOptions;
import io.vertx.core.http.WebSocketConnectOptions;
import io.vertx.core.json.JsonObject;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The client side of {@code bench realtime}'s idle sockets, in its own process (so the node's
 * process holds only server ends): opens {@code --count} authenticated {@code /v1/ws} sockets to
 * {@code --port} from the given local addresses with the tokens of {@code --tokens} (a file, one a
 * line), pings them so they stay open, and counts the presence frames of {@code --watch} on them.
 *
 * <p>Lines on stdout: {@code OPENED <open> <failed> <millis> <first error>} once, then {@code
 * PRESENCE <sockets that got it> <nanoTime of the last arrival>} every 200 ms once any arrived.
 * Reading {@code quit} on stdin (or its end) exits.
 */
public final class SocketClients {
  /** Held for the life of the process: a client nothing refers to is closed with its sockets. */
  private static final List<WebSocketClient> CLIENTS = new ArrayList<>();

  public static void main(String[] args) throws Exception {
    int port = arg(args, "--port", 0);
    int count = arg(args, "--count", 1000);
    String watch = str(args, "--watch", "");
    List<String> tokens = Files.readAllLines(Path.of(str(args, "--tokens", "tokens.txt")));
    String[] addresses = str(args, "--addresses", "127.0.0.2").split(",");
    Vertx vertx = Vertx.vertx();
    List<WebSocketClient> clients = CLIENTS;
    for (String a : addresses) {
      clients.add(
          vertx.createWebSocketClient(
              new WebSocketClientOptions()
                  .setLocalAddress(a)
                  .setMaxConnections(count + 10)
                  .setConnectTimeout(60_000)
                  .setDefaultHost("127.0.0.1")
                  .setDefaultPort(port)));
    }
    List<WebSocket> held = java.util.Collections.synchronizedList(new ArrayList<>());
    AtomicInteger next = new AtomicInteger();
    AtomicInteger failed = new AtomicInteger();
    AtomicReference<String> firstError = new AtomicReference<>("");
    java.util.Set<WebSocket> gotPresence = ConcurrentHashMap.newKeySet();
    AtomicLong lastAt = new AtomicLong();
    long t0 = System.nanoTime();
    List<Future<Void>> lanes = new ArrayList<>();
    for (int l = 0; l < 64; l++) {
      Promise<Void> lane = Promise.promise();
      lanes.add(lane.future());
      lane(
          clients,
          tokens,
          count,
          port,
          watch,
          next,
          held,
          failed,
          firstError,
          gotPresence,
          lastAt,
          lane);
    }
    Future.join(new ArrayList<>(lanes)).toCompletionStage().toCompletableFuture().get();
    long ms = (System.nanoTime() - t0) / 1_000_000;
    System.out.println(
        "OPENED " + held.size() + " " + failed.get() + " " + ms + " " + firstError.get());
    System.out.flush();
    // a socket that sends nothing for realtime.idle_timeout_ms is closed: ping well within it
    vertx.setPeriodic(
        30_000,
        t -> {
          synchronized (held) {
            for (WebSocket w : held) {
              if (!w.isClosed()) {
                w.writeTextMessage("{\"type\":\"ping\"}");
              }
            }
          }
        });
    vertx.setPeriodic(
        200,
        t -> {
          if (!gotPresence.isEmpty()) {
            System.out.println("PRESENCE " + gotPresence.size() + " " + lastAt.get());
            System.out.flush();
          }
        });
    BufferedReader in = new BufferedReader(new InputStreamReader(System.in));
    String line;
    while ((line = in.readLine()) != null && !line.strip().equals("quit")) {
      // wait
    }
    System.exit(0);
  }

  private static void lane(
      List<WebSocketClient> clients,
      List<String> tokens,
      int count,
      int port,
      String watch,
      AtomicInteger next,
      List<WebSocket> held,
      AtomicInteger failed,
      AtomicReference<String> firstError,
      java.util.Set<WebSocket> gotPresence,
      AtomicLong lastAt,
      Promise<Void> lane) {
    int i = next.getAndIncrement();
    if (i >= count || failed.get() > 50) {
      lane.complete();
      return;
    }
    clients
        .get(i % clients.size())
        .connect(new WebSocketConnectOptions().setHost("127.0.0.1").setPort(port).setURI("/v1/ws"))
        .compose(
            sock -> {
              Promise<WebSocket> ready = Promise.promise();
              sock.textMessageHandler(
                  text -> {
                    JsonObject f = new JsonObject(text);
                    String type = f.getString("type");
                    if ("ready".equals(type)) {
                      ready.tryComplete(sock);
                    } else if ("presence".equals(type) && watch.equals(f.getString("user_id"))) {
                      if (gotPresence.add(sock)) {
                        lastAt.set(System.nanoTime());
                      }
                    } else if ("error".equals(type) && !ready.future().isComplete()) {
                      ready.tryFail(f.encode());
                      sock.close();
                    }
                  });
              sock.closeHandler(v -> ready.tryFail("closed before ready"));
              sock.writeTextMessage(
                  new JsonObject()
                      .put("type", "auth")
                      .put("token", tokens.get(i % tokens.size()))
                      .encode());
              return ready.future();
            })
        .onComplete(
            ar -> {
              if (ar.succeeded()) {
                held.add(ar.result());
              } else {
                failed.incrementAndGet();
                firstError.compareAndSet("", String.valueOf(ar.cause().getMessage()));
              }
              lane(
                  clients,
                  tokens,
                  count,
                  port,
                  watch,
                  next,
                  held,
                  failed,
                  firstError,
                  gotPresence,
                  lastAt,
                  lane);
            });
  }

  private static int arg(String[] args, String name, int def) {
    String s = str(args, name, null);
    return s == null ? def : Integer.parseInt(s);
  }

  private static String str(String[] args, String name, String def) {
    for (int i = 0; i < args.length - 1; i++) {
      if (args[i].equals(name)) {
        return args[i + 1];
      }
    }
    return def;
  }
}
