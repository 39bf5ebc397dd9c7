package io.chat4all.bench;

import io.chat4all.node.Node;
import io.chat4all.node.config.ConfigLoader;
import io.chat4all.node.config.NodeConfig;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.http.WebSocket;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.http.WebSocketClientOptions;
import io.vertx.core.http.WebSocketConnectOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import java.util.function.Supplier;
import org.HdrHistogram.ConcurrentHistogram;
import org.HdrHistogram.Histogram;

/**
 * {@code ./chat4all bench realtime}: against an embedded node in the same JVM, measures (1) the
 * send→receive latency of REST sends received on {@code /v1/ws} sockets, open loop at 50 % and 80 %
 * of the closed-loop durable send rate, latency counted from each send's intended time; (2) how
 * many authenticated idle sockets the node holds and the heap per connection; (3) group fan-out
 * deliveries per second. Prints a Markdown report.
 */
public final class RealtimeBench {
  private final int seconds;
  private final int concurrency;
  private final int conversations;
  private final int socketCap;
  private final int addresses;
  private final int groupSize;
  private final int groupMessages;
  private Vertx vertx;
  private HttpClient client;
  private int port;

  /** message_id → intended send time (nanoTime) of the open-loop phase in progress. */
  private final Map<String, Long> intended = new ConcurrentHashMap<>();

  private final AtomicReference<Histogram> phase = new AtomicReference<>();

  private RealtimeBench(String[] args) {
    seconds = intArg(args, "--seconds", 15);
    concurrency = intArg(args, "--concurrency", 64);
    conversations = intArg(args, "--conversations", 32);
    socketCap = intArg(args, "--sockets", 20_000);
    addresses = intArg(args, "--addresses", 8);
    groupSize = intArg(args, "--group", 50);
    groupMessages = intArg(args, "--group-messages", 200);
  }

  private static int intArg(String[] args, String name, int def) {
    for (int i = 0; i < args.length - 1; i++) {
      if (args[i].equals(name)) {
        return Integer.parseInt(args[i + 1]);
      }
    }
    return def;
  }

  public static void main(String[] args) throws Exception {
    new RealtimeBench(args).run();
    System.exit(0);
  }

  private static <T> T await(Future<T> f) throws Exception {
    return f.toCompletionStage().toCompletableFuture().get(300, TimeUnit.SECONDS);
  }

  private static void log(String s) {
    System.err.println(java.time.LocalTime.now() + " bench: " + s);
  }

  private void run() throws Exception {
    Path data = Files.createTempDirectory("chat4all-bench");
    JsonObject cfg = ConfigLoader.defaults();
    cfg.put("data_dir", data.toString());
    // every benchmark client connects from 127.0.0.1: no per-IP connection cap
    cfg.getJsonObject("http")
        .put("port", 0)
        .put("host", "127.0.0.1")
        .put("max_connections_per_ip", 0);
    cfg.getJsonObject("grpc").put("port", 0).put("host", "127.0.0.1");
    cfg.getJsonObject("rate_limit").put("per_user_per_minute", 0).put("per_ip_per_minute", 0);
    cfg.getJsonObject("auth").put("password_iterations", 1000);
    log("starting an embedded node under " + data + " ...");
    Node node = Node.start(NodeConfig.from(cfg));
    port = node.httpPort();
    vertx = Vertx.vertx();
    client =
        vertx.createHttpClient(
            new HttpClientOptions()
                .setKeepAlive(true)
                .setTcpNoDelay(true)
                .setDefaultHost("127.0.0.1"),
            new PoolOptions().setHttp1MaxSize(concurrency).setMaxWaitQueueSize(-1));
    WebSocketClient ws = wsClient("127.0.0.1", 10_000);
    List<String> rows = new ArrayList<>();
    try {
      // 1. private conversations, each receiver on a socket
      log("creating " + conversations + " private conversations and receiver sockets ...");
      List<String[]> senders = new ArrayList<>();
      List<WebSocket> receivers = new ArrayList<>();
      for (int i = 0; i < conversations; i++) {
        String a = login("rt_a" + i);
        String b = login("rt_b" + i);
        String bId = userId(b);
        String conv =
            await(
                    json(
                        HttpMethod.POST,
                        "/v1/conversations",
                        a,
                        new JsonObject()
                            .put("type", "private")
                            .put("member_ids", new JsonArray().add(bId))))
                .getString("conversation_id");
        senders.add(new String[] {a, conv});
        receivers.add(await(openSocket(ws, b, this::onReceiverFrame)));
      }
      AtomicLong counter = new AtomicLong();
      Supplier<String[]> nextSend =
          () -> {
            String[] s = senders.get((int) (counter.getAndIncrement() % senders.size()));
            String id = UUID.randomUUID().toString();
            return new String[] {s[0], SendBench.sampleBody(s[1], id), id};
          };

      log("measuring durable sends, closed loop ...");
      long before = storedTotal(node);
      double maxRate = closedLoop(nextSend, 10);
      awaitDrained(node, before + counter.get(), 120);
      rows.add(
          String.format(
              "| durable sends, closed loop (%d connections, REST) | %.0f sends/s |",
              concurrency, maxRate));
      for (int pct : new int[] {50, 80}) {
        int rate = (int) Math.max(20, maxRate * pct / 100.0);
        log("open loop at " + rate + " sends/s (" + pct + " %) for " + seconds + " s ...");
        Histogram h = new ConcurrentHistogram(TimeUnit.SECONDS.toMicros(120), 3);
        phase.set(h);
        long[] res = openLoop(nextSend, rate, seconds);
        long t0 = System.nanoTime();
        while (!intended.isEmpty() && System.nanoTime() - t0 < TimeUnit.SECONDS.toNanos(60)) {
          Thread.sleep(50);
        }
        int missing = intended.size();
        intended.clear();
        boolean met = h.getValueAtPercentile(99) <= 200_000;
        rows.add(
            String.format(
                "| send→receive at %d %% (%d sends/s × %d s): p50 / p99 / p99.9 / max | %.1f /"
                    + " %.1f / %.1f / %.1f ms (%d received, %d failed sends, %d not received;"
                    + " p99 goal ≤ 200 ms %s) |",
                pct,
                rate,
                seconds,
                h.getValueAtPercentile(50) / 1000.0,
                h.getValueAtPercentile(99) / 1000.0,
                h.getValueAtPercentile(99.9) / 1000.0,
                h.getMaxValue() / 1000.0,
                h.getTotalCount(),
                res[1],
                missing,
                met ? "met" : "not met"));
      }
      phase.set(null);
      for (WebSocket r : receivers) {
        r.close();
      }

      // 2. group fan-out
      rows.add(groupFanOut(ws));

      // 3. idle sockets
      rows.addAll(idleSockets());

      System.out.println();
      System.out.println("## Realtime (`./chat4all bench realtime`)");
      System.out.println();
      System.out.println("| measure | value |");
      System.out.println("|---|---|");
      rows.forEach(System.out::println);
      System.out.println();
    } finally {
      await(vertx.close());
      node.close();
    }
  }

  private void onReceiverFrame(JsonObject f) {
    if (!"message".equals(f.getString("type")) || f.getJsonObject("message") == null) {
      return;
    }
    Long t = intended.remove(f.getJsonObject("message").getString("message_id"));
    Histogram h = phase.get();
    if (t != null && h != null) {
      h.recordValue(Math.max(0, (System.nanoTime() - t) / 1000));
    }
  }

  private String groupFanOut(WebSocketClient ws) throws Exception {
    log("group fan-out: " + groupSize + " members, " + groupMessages + " messages ...");
    String owner = login("rt_g0");
    List<String> tokens = new ArrayList<>();
    tokens.add(owner);
    JsonArray ids = new JsonArray();
    for (int i = 1; i < groupSize; i++) {
      String t = login("rt_g" + i);
      tokens.add(t);
      ids.add(userId(t));
    }
    String conv =
        await(
                json(
                    HttpMethod.POST,
                    "/v1/conversations",
                    owner,
                    new JsonObject()
                        .put("type", "group")
                        .put("name", "bench group")
                        .put("member_ids", ids)))
            .getString("conversation_id");
    AtomicLong delivered = new AtomicLong();
    AtomicLong lastAt = new AtomicLong();
    List<WebSocket> socks = new ArrayList<>();
    for (String t : tokens) {
      socks.add(
          await(
              openSocket(
                  ws,
                  t,
                  f -> {
                    if ("message".equals(f.getString("type"))
                        && f.getJsonObject("message") != null
                        && conv.equals(f.getJsonObject("message").getString("conversation_id"))) {
                      delivered.incrementAndGet();
                      lastAt.set(System.nanoTime());
                    }
                  })));
    }
    long expected = (long) groupSize * groupMessages;
    AtomicInteger issued = new AtomicInteger();
    AtomicInteger failed = new AtomicInteger();
    long t0 = System.nanoTime();
    List<Future<Void>> lanes = new ArrayList<>();
    for (int l = 0; l < 16; l++) {
      Promise<Void> lane = Promise.promise();
      lanes.add(lane.future());
      vertx.getOrCreateContext().runOnContext(v -> groupLane(owner, conv, issued, failed, lane));
    }
    await(Future.join(new ArrayList<>(lanes)));
    double sendSecs = (System.nanoTime() - t0) / 1e9;
    long waitStart = System.nanoTime();
    long seen = -1;
    long seenAt = System.nanoTime();
    while (delivered.get() < expected) {
      long d = delivered.get();
      if (d != seen) {
        seen = d;
        seenAt = System.nanoTime();
      } else if (System.nanoTime() - seenAt > TimeUnit.SECONDS.toNanos(30)
          || System.nanoTime() - waitStart > TimeUnit.SECONDS.toNanos(180)) {
        break;
      }
      Thread.sleep(20);
    }
    double secs = (lastAt.get() - t0) / 1e9;
    for (WebSocket s : socks) {
      s.close();
    }
    return String.format(
        "| group fan-out: %d members on sockets, %d messages (REST, 16 in flight) | %.0f"
            + " deliveries/s (%d of %d delivered in %.2f s; sends took %.2f s, %d failed) |",
        groupSize,
        groupMessages,
        delivered.get() / secs,
        delivered.get(),
        expected,
        secs,
        sendSecs,
        failed.get());
  }

  private void groupLane(
      String token, String conv, AtomicInteger issued, AtomicInteger failed, Promise<Void> lane) {
    if (issued.getAndIncrement() >= groupMessages) {
      lane.complete();
      return;
    }
    post(token, SendBench.sampleBody(conv, UUID.randomUUID().toString()))
        .onComplete(
            ar -> {
              if (ar.failed() || ar.result() != 202) {
                failed.incrementAndGet();
              }
              groupLane(token, conv, issued, failed, lane);
            });
  }

  private List<String> idleSockets() throws Exception {
    long limit = openFilesLimit();
    long used = openFiles();
    // client and server ends are both in this JVM: two descriptors per connection
    long budget = Math.max(0, (limit - used - 1024) / 2);
    int target = (int) Math.min(socketCap, budget);
    log(
        "idle sockets: ulimit -n "
            + limit
            + ", "
            + used
            + " descriptors in use, opening "
            + target
            + " (cap "
            + socketCap
            + ") ...");
    int users = 100;
    List<String> tokens = new ArrayList<>();
    for (int i = 0; i < users; i++) {
      tokens.add(login("rt_idle" + i));
    }
    List<WebSocketClient> clients = new ArrayList<>();
    for (int a = 0; a < addresses; a++) {
      clients.add(wsClient("127.0.0." + (2 + a), target + 10));
    }
    MemoryMXBean mem = ManagementFactory.getMemoryMXBean();
    long heapBefore = heapAfterGc(mem);
    List<WebSocket> held = Collections.synchronizedList(new ArrayList<>());
    AtomicInteger next = new AtomicInteger();
    AtomicInteger failures = new AtomicInteger();
    AtomicReference<Throwable> firstError = new AtomicReference<>();
    long t0 = System.nanoTime();
    List<Future<Void>> lanes = new ArrayList<>();
    for (int l = 0; l < 128; l++) {
      Promise<Void> lane = Promise.promise();
      lanes.add(lane.future());
      idleLane(clients, tokens, target, next, held, failures, firstError, lane);
    }
    await(Future.join(new ArrayList<>(lanes)));
    double openSecs = (System.nanoTime() - t0) / 1e9;
    Thread.sleep(3000);
    long heapAfter = heapAfterGc(mem);
    int open = 0;
    synchronized (held) {
      for (WebSocket w : held) {
        if (!w.isClosed()) {
          open++;
        }
      }
    }
    long growth = heapAfter - heapBefore;
    List<String> out = new ArrayList<>();
    out.add(
        String.format(
            "| `ulimit -n` (soft limit of this JVM) / descriptors before | %d / %d |",
            limit, used));
    out.add(
        String.format(
            "| idle authenticated /v1/ws sockets held (cap %d, fd budget %d, %d source addresses"
                + " 127.0.0.2–127.0.0.%d, %d users) | %d open after 3 s (%d opened in %.1f s,"
                + " %.0f/s; %d failed%s) |",
            socketCap,
            budget,
            addresses,
            1 + addresses,
            users,
            open,
            held.size(),
            openSecs,
            held.size() / openSecs,
            failures.get(),
            firstError.get() == null ? "" : ", first: " + firstError.get().getMessage()));
    out.add(
        String.format(
            "| heap used after GC, before → after (client + server in one JVM) | %.1f → %.1f MB"
                + " (+%.1f MB) |",
            heapBefore / 1e6, heapAfter / 1e6, growth / 1e6));
    out.add(
        String.format(
            "| heap per connection, client + server ends together (upper bound for the node) |"
                + " %.1f KB (goal ≤ 40 KB for the node: %s) |",
            held.isEmpty() ? 0 : growth / 1024.0 / held.size(),
            !held.isEmpty() && growth / 1024.0 / held.size() <= 40 ? "met" : "not met"));
    synchronized (held) {
      for (WebSocket w : held) {
        w.close();
      }
    }
    return out;
  }

  private void idleLane(
      List<WebSocketClient> clients,
      List<String> tokens,
      int target,
      AtomicInteger next,
      List<WebSocket> held,
      AtomicInteger failures,
      AtomicReference<Throwable> firstError,
      Promise<Void> lane) {
    int i = next.getAndIncrement();
    if (i >= target || failures.get() > 50) {
      lane.complete();
      return;
    }
    openSocket(clients.get(i % clients.size()), tokens.get(i % tokens.size()), f -> {})
        .onComplete(
            ar -> {
              if (ar.succeeded()) {
                held.add(ar.result());
              } else {
                failures.incrementAndGet();
                firstError.compareAndSet(null, ar.cause());
              }
              idleLane(clients, tokens, target, next, held, failures, firstError, lane);
            });
  }

  private static long heapAfterGc(MemoryMXBean mem) throws InterruptedException {
    for (int i = 0; i < 3; i++) {
      System.gc();
      Thread.sleep(300);
    }
    return mem.getHeapMemoryUsage().getUsed();
  }

  private static long openFilesLimit() {
    try {
      for (String line : Files.readAllLines(Path.of("/proc/self/limits"))) {
        if (line.startsWith("Max open files")) {
          return Long.parseLong(line.substring(26).trim().split("\\s+")[0]);
        }
      }
    } catch (Exception e) {
      // fall through
    }
    return 4096;
  }

  private static long openFiles() {
    try (var s = Files.list(Path.of("/proc/self/fd"))) {
      return s.count();
    } catch (Exception e) {
      return 0;
    }
  }

  private WebSocketClient wsClient(String localAddress, int maxConnections) {
    return vertx.createWebSocketClient(
        new WebSocketClientOptions()
            .setLocalAddress(localAddress)
            .setMaxConnections(maxConnections)
            .setConnectTimeout(30_000)
            .setDefaultHost("127.0.0.1")
            .setDefaultPort(port));
  }

  /** Connects, authenticates, completes on {@code ready}; later frames go to {@code onFrame}. */
  private Future<WebSocket> openSocket(
      WebSocketClient ws, String token, Consumer<JsonObject> onFrame) {
    return ws.connect(
            new WebSocketConnectOptions().setHost("127.0.0.1").setPort(port).setURI("/v1/ws"))
        .compose(
            sock -> {
              Promise<WebSocket> ready = Promise.promise();
              sock.textMessageHandler(
                  text -> {
                    JsonObject f = new JsonObject(text);
                    if ("ready".equals(f.getString("type"))) {
                      ready.tryComplete(sock);
                    } else if ("error".equals(f.getString("type"))
                        && !ready.future().isComplete()) {
                      ready.tryFail(f.encode());
                      sock.close();
                    } else {
                      onFrame.accept(f);
                    }
                  });
              sock.closeHandler(v -> ready.tryFail("closed before ready"));
              sock.writeTextMessage(
                  new JsonObject().put("type", "auth").put("token", token).encode());
              return ready.future();
            });
  }

  private String login(String name) throws Exception {
    await(
        json(
                HttpMethod.POST,
                "/v1/auth/register",
                null,
                new JsonObject()
                    .put("username", name)
                    .put("email", name + "@bench.test")
                    .put("password", "kept-secret-1"))
            .recover(e -> Future.succeededFuture(new JsonObject())));
    return await(
            json(
                HttpMethod.POST,
                "/v1/auth/token",
                null,
                new JsonObject().put("username", name).put("password", "kept-secret-1")))
        .getString("access_token");
  }

  private String userId(String token) throws Exception {
    return await(json(HttpMethod.GET, "/v1/me", token, null)).getString("user_id");
  }

  private Future<JsonObject> json(HttpMethod method, String path, String token, JsonObject body) {
    RequestOptions o = new RequestOptions().setMethod(method).setPort(port).setURI(path);
    if (token != null) {
      o.putHeader("Authorization", "Bearer " + token);
    }
    return client
        .request(o)
        .compose(r -> body == null ? r.send() : r.send(body.toBuffer()))
        .compose(
            resp -> resp.body().map(b -> b.length() == 0 ? new JsonObject() : b.toJsonObject()));
  }

  private Future<Integer> post(String token, String body) {
    RequestOptions o =
        new RequestOptions().setMethod(HttpMethod.POST).setPort(port).setURI("/v1/messages");
    o.putHeader("Authorization", "Bearer " + token);
    return client
        .request(o)
        .compose(r -> r.send(Buffer.buffer(body)))
        .compose(resp -> resp.body().map(b -> resp.statusCode()));
  }

  private double closedLoop(Supplier<String[]> next, int secs) throws Exception {
    AtomicLong ok = new AtomicLong();
    long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(secs);
    List<Future<Void>> lanes = new ArrayList<>();
    long t0 = System.nanoTime();
    for (int i = 0; i < concurrency; i++) {
      Promise<Void> lane = Promise.promise();
      lanes.add(lane.future());
      vertx.getOrCreateContext().runOnContext(v -> loopLane(next, ok, end, lane));
    }
    await(Future.join(new ArrayList<>(lanes)));
    return ok.get() / ((System.nanoTime() - t0) / 1e9);
  }

  private void loopLane(Supplier<String[]> next, AtomicLong ok, long end, Promise<Void> lane) {
    if (System.nanoTime() >= end) {
      lane.complete();
      return;
    }
    String[] s = next.get();
    post(s[0], s[1])
        .onComplete(
            ar -> {
              if (ar.succeeded() && ar.result() / 100 == 2) {
                ok.incrementAndGet();
              }
              loopLane(next, ok, end, lane);
            });
  }

  /**
   * Open loop: send i is due at start + i/rate; its id and intended time are registered before it
   * is sent so the receiving socket measures from the intended time. Returns {accepted, failed}.
   */
  private long[] openLoop(Supplier<String[]> next, int rate, int secs) throws Exception {
    long total = (long) rate * secs;
    AtomicLong issued = new AtomicLong();
    AtomicLong done = new AtomicLong();
    AtomicLong accepted = new AtomicLong();
    AtomicLong failed = new AtomicLong();
    io.vertx.core.Context[] contexts = new io.vertx.core.Context[4];
    for (int c = 0; c < contexts.length; c++) {
      contexts[c] = vertx.getOrCreateContext();
    }
    long start = System.nanoTime();
    Promise<Void> finished = Promise.promise();
    long timer =
        vertx.setPeriodic(
            1,
            t -> {
              long due = Math.min(total, (long) ((System.nanoTime() - start) / 1e9 * rate));
              while (issued.get() < due) {
                long i = issued.getAndIncrement();
                long when = start + (long) (i * 1e9 / rate);
                String[] s = next.get();
                intended.put(s[2], when);
                contexts[(int) (i % contexts.length)].runOnContext(
                    x ->
                        post(s[0], s[1])
                            .onComplete(
                                ar -> {
                                  if (ar.succeeded() && ar.result() == 202) {
                                    accepted.incrementAndGet();
                                  } else {
                                    failed.incrementAndGet();
                                    intended.remove(s[2]);
                                  }
                                  if (done.incrementAndGet() == total) {
                                    finished.tryComplete();
                                  }
                                }));
              }
            });
    await(finished.future());
    vertx.cancelTimer(timer);
    return new long[] {accepted.get(), failed.get()};
  }

  private static long storedTotal(Node node) throws Exception {
    return await(
            node.clients()
                .pg()
                .query("SELECT COALESCE(SUM(last_seq), 0) AS n FROM conversations")
                .execute())
        .iterator()
        .next()
        .getLong("n");
  }

  private static void awaitDrained(Node node, long target, int maxSeconds) throws Exception {
    long t0 = System.nanoTime();
    while (storedTotal(node) < target) {
      if (System.nanoTime() - t0 > TimeUnit.SECONDS.toNanos(maxSeconds)) {
        log("pipeline did not drain within " + maxSeconds + " s");
        break;
      }
      Thread.sleep(100);
    }
  }
}
