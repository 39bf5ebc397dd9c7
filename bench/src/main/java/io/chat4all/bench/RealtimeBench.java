package io.chat4all.bench;

import static io.chat4all.bench.BenchSupport.await;
import static io.chat4all.bench.BenchSupport.intArg;
import static io.chat4all.bench.BenchSupport.log;

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
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
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
  private final int warmupSeconds;

  /** {@code realtime.gap_grace_ms} for the node (-1: the default), to compare with 0. */
  private final int gapGraceMs;

  private final int clientProcesses;
  private final boolean idleOnly;
  private final int holdSeconds;

  /**
   * The open loops' 100 % when given (to compare builds at the same load), else the closed loop's.
   */
  private final int fixedRate;

  private WebSocketClient watcherClient;
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
    clientProcesses = intArg(args, "--client-processes", 2);
    idleOnly = java.util.Arrays.asList(args).contains("--idle-only");
    holdSeconds = intArg(args, "--hold-seconds", 0);
    fixedRate = intArg(args, "--rate", 0);
    gapGraceMs = intArg(args, "--gap-grace-ms", -1);
    warmupSeconds =
        java.util.Arrays.asList(args).contains("--no-warmup")
            ? 0
            : intArg(args, "--warmup-seconds", 30);
  }

  public static void main(String[] args) throws Exception {
    new RealtimeBench(args).run();
    System.exit(0);
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
    if (gapGraceMs >= 0) {
      cfg.getJsonObject("realtime").put("gap_grace_ms", gapGraceMs);
    }
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
      if (!idleOnly) {
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

        String warmupRow = "| warm-up | none (--no-warmup) |";
        if (warmupSeconds > 0) {
          // the JIT compiles this JVM's node and servers for minutes on two cores: each path
          // once (the receivers on their sockets, a group's fan-out) before anything is measured
          log("warming up: durable sends to the receivers for " + warmupSeconds + " s ...");
          long w = storedTotal(node);
          long sent = counter.get();
          closedLoop(nextSend, warmupSeconds);
          awaitDrained(node, w + counter.get() - sent, 300);
          intended.clear();
          groupFanOut(ws, Math.max(20, groupMessages / 4));
          double quiet = SendBench.Jit.awaitQuiet(60);
          warmupRow =
              String.format(
                  "| warm-up | durable sends to the receivers for %d s, a group fan-out of %d"
                      + " messages, then %.0f s until the JIT compiled < %d ms/s |",
                  warmupSeconds,
                  Math.max(20, groupMessages / 4),
                  quiet,
                  SendBench.Jit.QUIET_MS_PER_S);
        }
        rows.add(warmupRow);
        log("measuring durable sends, closed loop ...");
        long before = storedTotal(node);
        long sentBefore = counter.get(); // the warm-up's sends are stored already
        SendBench.Jit jitClosed = new SendBench.Jit();
        double maxRate = closedLoop(nextSend, 10);
        jitClosed.end();
        awaitDrained(node, before + counter.get() - sentBefore, 120);
        rows.add(
            String.format(
                "| durable sends, closed loop (%d connections, REST) | %.0f sends/s (JIT %.0f ms/s)"
                    + " |",
                concurrency, maxRate, jitClosed.perSecond()));
        for (int pct : new int[] {50, 80}) {
          int rate = (int) Math.max(20, (fixedRate > 0 ? fixedRate : maxRate) * pct / 100.0);
          log("open loop at " + rate + " sends/s (" + pct + " %) for " + seconds + " s ...");
          Histogram h = new ConcurrentHistogram(TimeUnit.SECONDS.toMicros(120), 3);
          phase.set(h);
          SendBench.Jit jit = new SendBench.Jit();
          long[] res = openLoop(nextSend, rate, seconds);
          jit.end();
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
                      + " p99 goal ≤ 200 ms %s; JIT %.0f ms/s) |",
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
                  met ? "met" : "not met",
                  jit.perSecond()));
        }
        phase.set(null);
        for (WebSocket r : receivers) {
          r.close();
        }

        // 2. group fan-out
        rows.add(groupFanOut(ws, groupMessages));
      }

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

  private String groupFanOut(WebSocketClient ws, int groupMessages) throws Exception {
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
    double gapReadsBefore = gapReads();
    long busyBefore = busyJiffies();
    AtomicInteger issued = new AtomicInteger();
    AtomicInteger failed = new AtomicInteger();
    SendBench.Jit jit = new SendBench.Jit();
    long t0 = System.nanoTime();
    List<Future<Void>> lanes = new ArrayList<>();
    for (int l = 0; l < 16; l++) {
      Promise<Void> lane = Promise.promise();
      lanes.add(lane.future());
      vertx
          .getOrCreateContext()
          .runOnContext(v -> groupLane(owner, conv, groupMessages, issued, failed, lane));
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
    jit.end();
    double gapReadsDuring = gapReads() - gapReadsBefore;
    long busy = busyJiffies() - busyBefore;
    for (WebSocket s : socks) {
      s.close();
    }
    return String.format(
        "| group fan-out: %d members on sockets, %d messages (REST, 16 in flight) | %.0f"
            + " deliveries/s (%d of %d delivered in %.2f s; sends took %.2f s, %d failed);"
            + " feed reads of messages for entries before their envelope: %.0f;"
            + " CPU of the whole box per delivery (/proc/stat, sends included): %.0f µs;"
            + " JIT %.0f ms/s |",
        groupSize,
        groupMessages,
        delivered.get() / secs,
        delivered.get(),
        expected,
        secs,
        sendSecs,
        failed.get(),
        gapReadsDuring,
        busy * 10_000.0 / Math.max(1, delivered.get()),
        jit.perSecond());
  }

  /** Busy time of all CPUs so far, in jiffies (1/100 s), from /proc/stat; 0 where there is none. */
  private static long busyJiffies() {
    try {
      String[] f = Files.readAllLines(Path.of("/proc/stat")).get(0).trim().split("\\s+");
      // cpu user nice system idle iowait irq softirq steal
      return Long.parseLong(f[1])
          + Long.parseLong(f[2])
          + Long.parseLong(f[3])
          + Long.parseLong(f[6])
          + Long.parseLong(f[7])
          + Long.parseLong(f[8]);
    } catch (java.io.IOException | RuntimeException e) {
      return 0;
    }
  }

  /** The node's {@code chat4all_feed_gap_reads_total} (the node runs in this JVM). */
  private static double gapReads() {
    var c = io.chat4all.web.obs.Meters.registry().find("chat4all.feed.gap_reads").counter();
    return c == null ? 0 : c.count();
  }

  private void groupLane(
      String token,
      String conv,
      int groupMessages,
      AtomicInteger issued,
      AtomicInteger failed,
      Promise<Void> lane) {
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
              groupLane(token, conv, groupMessages, issued, failed, lane);
            });
  }

  /**
   * Idle sockets with the client ends in {@code --client-processes} child JVMs ({@link
   * SocketClients}), so this JVM (the node's) holds only the server ends: as many as its descriptor
   * budget allows. Then one more user, who shares a private conversation with each of the 100 idle
   * users, comes online: the time until every idle socket got that presence change.
   */
  private List<String> idleSockets() throws Exception {
    long limit = openFilesLimit();
    long used = openFiles();
    // one descriptor per connection here; a margin for the embedded servers' files and the watcher
    long budget = Math.max(0, limit - used - 400);
    int target = (int) Math.min(socketCap, budget);
    int users = 100;
    List<String> tokens = new ArrayList<>();
    List<String> ids = new ArrayList<>();
    for (int i = 0; i < users; i++) {
      tokens.add(login("rt_idle" + i));
      ids.add(userId(tokens.get(i)));
    }
    // the watcher shares a private conversation with each idle user (and they share none)
    String watcher = login("rt_watcher");
    String watcherId = userId(watcher);
    for (String id : ids) {
      await(
          json(
              HttpMethod.POST,
              "/v1/conversations",
              watcher,
              new JsonObject().put("type", "private").put("member_ids", new JsonArray().add(id))));
    }
    Path tokenFile = Files.createTempFile("chat4all-bench-tokens", ".txt");
    Files.write(tokenFile, tokens);
    log(
        "idle sockets: ulimit -n "
            + limit
            + ", "
            + used
            + " descriptors in use, opening "
            + target
            + " (cap "
            + socketCap
            + ") from "
            + clientProcesses
            + " client processes ...");
    MemoryMXBean mem = ManagementFactory.getMemoryMXBean();
    long heapBefore = heapAfterGc(mem);
    long directBefore = directUsed();
    long rssBefore = rssKb();
    List<Process> children = new ArrayList<>();
    List<java.io.BufferedReader> outs = new ArrayList<>();
    long t0 = System.nanoTime();
    for (int c = 0; c < clientProcesses; c++) {
      int count = target / clientProcesses + (c < target % clientProcesses ? 1 : 0);
      List<String> addrs = new ArrayList<>();
      for (int a = c; a < addresses; a += clientProcesses) {
        addrs.add("127.0.0." + (2 + a));
      }
      ProcessBuilder pb =
          new ProcessBuilder(
              Path.of(System.getProperty("java.home"), "bin", "java").toString(),
              "-Xmx768m",
              "-cp",
              System.getProperty("java.class.path"),
              SocketClients.class.getName(),
              "--port",
              Integer.toString(port),
              "--count",
              Integer.toString(count),
              "--tokens",
              tokenFile.toString(),
              "--addresses",
              String.join(",", addrs),
              "--watch",
              watcherId);
      pb.redirectError(ProcessBuilder.Redirect.INHERIT);
      Process p = pb.start();
      children.add(p);
      outs.add(
          new java.io.BufferedReader(
              new java.io.InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8)));
    }
    int opened = 0;
    int failed = 0;
    String firstError = "";
    try {
      for (java.io.BufferedReader r : outs) {
        // the child's own log lines (Vert.x warnings on a loaded box) may come first
        String line = r.readLine();
        while (line != null && !line.startsWith("OPENED ")) {
          line = r.readLine();
        }
        if (line == null) {
          throw new IllegalStateException("client process ended: " + line);
        }
        String[] f = line.split(" ", 5);
        opened += Integer.parseInt(f[1]);
        failed += Integer.parseInt(f[2]);
        if (f.length > 4 && !f[4].isBlank() && firstError.isEmpty()) {
          firstError = f[4];
        }
      }
      double openSecs = (System.nanoTime() - t0) / 1e9;
      Thread.sleep(3000);
      long heapAfter = heapAfterGc(mem);
      long directAfter = directUsed();
      long rssAfter = rssKb();
      long held = openFiles() - used;
      if (holdSeconds > 0) {
        log(
            "holding "
                + opened
                + " sockets for "
                + holdSeconds
                + " s (pid "
                + ProcessHandle.current().pid()
                + ") ...");
        Thread.sleep(TimeUnit.SECONDS.toMillis(holdSeconds));
      }

      // presence: the watcher comes online; every idle socket should hear of it
      Map<Integer, long[]> seen = new ConcurrentHashMap<>();
      for (int c = 0; c < outs.size(); c++) {
        java.io.BufferedReader r = outs.get(c);
        int idx = c;
        Thread reader =
            new Thread(
                () -> {
                  try {
                    String line;
                    while ((line = r.readLine()) != null) {
                      if (line.startsWith("PRESENCE ")) {
                        String[] f = line.split(" ");
                        seen.put(idx, new long[] {Long.parseLong(f[1]), Long.parseLong(f[2])});
                      }
                    }
                  } catch (java.io.IOException ignored) {
                    // the child ended
                  }
                });
        reader.setDaemon(true);
        reader.start();
      }
      // a field, not a local: a client nothing refers to is closed with its sockets
      watcherClient = wsClient("127.0.0.1", 4);
      WebSocketClient ws = watcherClient;
      long p0 = System.nanoTime();
      WebSocket watcherSocket = await(openSocket(ws, watcher, f -> {}));
      long readyAt = System.nanoTime();
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
      while (System.nanoTime() < deadline && told(seen) < opened) {
        Thread.sleep(50);
      }
      Thread.sleep(300);
      long told = told(seen);
      long lastAt = 0;
      for (long[] v : seen.values()) {
        lastAt = Math.max(lastAt, v[1]);
      }
      watcherSocket.close();
      long perSocket =
          opened == 0 ? 0 : (heapAfter - heapBefore + directAfter - directBefore) / opened;
      List<String> out = new ArrayList<>();
      out.add(
          String.format(
              "| `ulimit -n` of the node's JVM / descriptors in use before | %d / %d |",
              limit, used));
      out.add(
          String.format(
              "| idle authenticated /v1/ws sockets held by the node (clients in %d other processes,"
                  + " %d source addresses, %d users) | %d (%d descriptors more than before), opened"
                  + " in %.1f s (%.0f/s); %d failed%s |",
              clientProcesses,
              addresses,
              users,
              opened,
              held,
              openSecs,
              opened / openSecs,
              failed,
              firstError.isEmpty() ? "" : ", first: " + firstError));
      out.add(
          String.format(
              "| node heap used after GC, before → after | %.1f → %.1f MB (+%.1f MB) |",
              heapBefore / 1e6, heapAfter / 1e6, (heapAfter - heapBefore) / 1e6));
      out.add(
          String.format(
              "| node direct memory (NIO buffer pools + Netty), before → after | %.1f → %.1f MB"
                  + " (+%.1f MB) |",
              directBefore / 1e6, directAfter / 1e6, (directAfter - directBefore) / 1e6));
      out.add(
          String.format(
              "| node heap + direct per socket | %.1f KB (goal ≤ 20 KB: %s) |",
              perSocket / 1024.0, opened > 0 && perSocket <= 20 * 1024 ? "met" : "not met"));
      out.add(
          String.format(
              "| node process RSS, before → after | %.0f → %.0f MB (+%.1f KB per socket) |",
              rssBefore / 1024.0,
              rssAfter / 1024.0,
              opened == 0 ? 0 : (rssAfter - rssBefore) / (double) opened));
      out.add(
          String.format(
              "| presence: one user online → all %d idle sockets of the users sharing a conversation"
                  + " with them told | %d told in %.0f ms after the watcher's socket was ready (%.0f"
                  + " ms after it connected) |",
              opened, told, (lastAt - readyAt) / 1e6, (lastAt - p0) / 1e6));
      return out;
    } finally {
      for (Process p : children) {
        try {
          p.getOutputStream().write("quit\n".getBytes(StandardCharsets.UTF_8));
          p.getOutputStream().flush();
        } catch (java.io.IOException ignored) {
          // already gone
        }
      }
      for (Process p : children) {
        if (!p.waitFor(20, TimeUnit.SECONDS)) {
          p.destroyForcibly();
        }
      }
      Files.deleteIfExists(tokenFile);
    }
  }

  private static long told(Map<Integer, long[]> seen) {
    long n = 0;
    for (long[] v : seen.values()) {
      n += v[0];
    }
    return n;
  }

  /**
   * Direct memory in use: the JDK's NIO buffer pools plus Netty's own count (when it keeps one).
   */
  private static long directUsed() {
    long n = 0;
    for (java.lang.management.BufferPoolMXBean b :
        ManagementFactory.getPlatformMXBeans(java.lang.management.BufferPoolMXBean.class)) {
      if ("direct".equals(b.getName())) {
        n += b.getMemoryUsed(); // not "mapped": the embedded servers' memory-mapped files
      }
    }
    long netty = io.netty.util.internal.PlatformDependent.usedDirectMemory();
    return n + Math.max(0, netty);
  }

  private static long rssKb() {
    try {
      for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
        if (line.startsWith("VmRSS:")) {
          return Long.parseLong(line.replaceAll("[^0-9]", ""));
        }
      }
    } catch (Exception e) {
      // fall through
    }
    return 0;
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
    return BenchSupport.exchange(
        vertx,
        client,
        o,
        r -> body == null ? r.send() : r.send(body.toBuffer()),
        resp -> resp.body().map(b -> b.length() == 0 ? new JsonObject() : b.toJsonObject()));
  }

  private Future<Integer> post(String token, String body) {
    RequestOptions o =
        new RequestOptions().setMethod(HttpMethod.POST).setPort(port).setURI("/v1/messages");
    o.putHeader("Authorization", "Bearer " + token);
    return BenchSupport.exchange(
        vertx,
        client,
        o,
        r -> r.send(Buffer.buffer(body)),
        resp -> resp.body().map(b -> resp.statusCode()));
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
