package io.chat4all.bench;

import io.chat4all.testkit.Await;
import io.chat4all.testkit.DeliveryAudit;
import io.chat4all.testkit.GeneratedBytes;
import io.chat4all.testkit.NodeProcess;
import io.chat4all.testkit.WsTestSocket;
import io.vertx.core.Vertx;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import java.util.regex.Matcher;
import org.HdrHistogram.Recorder;

/**
 * {@code ./chat4all bench soak --minutes N}: a node process on a backends process under a mixed
 * load for N minutes at a fixed share of its capacity, measured first in the same run — sends (each
 * sender one after the other, paced), history and feed reads, file uploads, sockets that stay
 * connected and sockets that come and go (each reconnecting from the last cursor it got). Every
 * sample period it prints the node's RSS and heap, the pipeline's consumer lag, the send rate
 * reached and its latency, and the errors so far by code; at the end the loss, duplicate and order
 * audit of the chaos test ({@link DeliveryAudit}) over everything sent, including the capacity run.
 *
 * <p>Options: {@code --minutes N} (30), {@code --rate-percent P} (50: share of the measured send
 * capacity), {@code --sample-seconds S} (every 30th of the run, at least 10), {@code
 * --conversations N} (60).
 */
public final class SoakBench {
  static final int USERS = 12;

  /** Users 0..STAYING-1 keep one socket for the whole run; the others come and go. */
  static final int STAYING = 8;

  static final String PASSWORD = "kept-secret-1";

  private final int minutes;
  private final int ratePercent;
  private final int sampleSeconds;
  private final int conversations;
  private final int sendersPerUser;
  private final HttpClient http =
      HttpClient.newBuilder()
          .version(HttpClient.Version.HTTP_1_1)
          .connectTimeout(Duration.ofSeconds(10))
          .build();
  private String base;
  private int port;
  private long nodePid;

  private final List<String> tokens = new ArrayList<>();
  private final Map<Integer, List<String>> convsOf = new HashMap<>();
  private final Map<String, String> readerToken = new HashMap<>();
  private final Map<String, List<String>> acked = new ConcurrentHashMap<>();
  private final Map<String, LongAdder> errors = new ConcurrentHashMap<>();
  private final LongAdder sent = new LongAdder();
  private final LongAdder reads = new LongAdder();
  private final LongAdder uploads = new LongAdder();
  private final LongAdder connects = new LongAdder();
  private final Recorder latency = new Recorder(3);
  private final AtomicBoolean stop = new AtomicBoolean();

  /** Extra JVM options of the node process ({@code --node-opts}), after its {@code -Xmx512m}. */
  private final List<String> nodeOpts;

  SoakBench(String[] args) {
    minutes = intArg(args, "--minutes", 30);
    ratePercent = intArg(args, "--rate-percent", 50);
    sampleSeconds = intArg(args, "--sample-seconds", Math.max(10, minutes * 60 / 30));
    conversations = intArg(args, "--conversations", 60);
    sendersPerUser = intArg(args, "--senders-per-user", 4);
    String opts = "";
    for (int i = 0; i + 1 < args.length; i++) {
      if (args[i].equals("--node-opts")) {
        opts = args[i + 1].trim();
      }
    }
    nodeOpts = opts.isEmpty() ? List.of() : List.of(opts.split("\\s+"));
  }

  private static int intArg(String[] args, String name, int def) {
    for (int i = 0; i + 1 < args.length; i++) {
      if (args[i].equals(name)) {
        return Integer.parseInt(args[i + 1]);
      }
    }
    return def;
  }

  public static void main(String[] args) throws Exception {
    boolean ok = new SoakBench(args).run();
    System.exit(ok ? 0 : 1);
  }

  static void log(String s) {
    System.out.println("soak: " + s);
  }

  private boolean run() throws Exception {
    Path data = Files.createTempDirectory("chat4all-soak");
    String cp = System.getProperty("java.class.path");
    List<String> jvm = List.of("-Xmx512m");
    List<String> nodeJvm = new ArrayList<>(jvm);
    nodeJvm.addAll(nodeOpts);
    NodeProcess backends =
        NodeProcess.start(cp, jvm, List.of("backends", "--data-dir", data.toString()));
    NodeProcess node = null;
    Vertx vertx = Vertx.vertx();
    ExecutorService pool = Executors.newCachedThreadPool();
    try {
      String overlay =
          backends
              .awaitLine("CHAT4ALL BACKENDS READY config=(\\S+)", Duration.ofMinutes(3))
              .group(1);
      int hz = freePort();
      node =
          NodeProcess.start(
              cp,
              nodeJvm,
              List.of(
                  "run",
                  "--cluster",
                  "--config",
                  overlay,
                  "--http-port",
                  "0",
                  "--grpc-port",
                  "0",
                  "--cluster-host",
                  "127.0.0.1",
                  "--cluster-port",
                  Integer.toString(hz),
                  "--cluster-members",
                  "127.0.0.1:" + hz,
                  "--set",
                  "auth.password_iterations=1000",
                  // the clients log in once: their access tokens (and the sockets, which end with
                  // them) must outlast the run
                  "--set",
                  "auth.access_token_ttl_seconds=" + (minutes * 60 + 1800),
                  // the audit reads every user's feed from its start: the capped feed (10,000
                  // entries by default, then resync_required) must hold the whole run; a user gets
                  // about a quarter of the sends (the cap only bounds what is kept)
                  "--set",
                  "messaging.feed_max_entries=" + Math.max(10_000, minutes * 60 * 1000),
                  "--set",
                  "rate_limit.per_user_per_minute=0",
                  "--set",
                  "rate_limit.per_ip_per_minute=0",
                  "--set",
                  "http.max_connections_per_ip=0"));
      Matcher ready = node.awaitLine("CHAT4ALL NODE READY .*http=(\\d+)", Duration.ofMinutes(4));
      port = Integer.parseInt(ready.group(1));
      base = "http://127.0.0.1:" + port;
      nodePid = node.pid();
      setUp();
      WebSocketClient ws = vertx.createWebSocketClient();
      List<String> feedStart = new ArrayList<>();
      for (int u = 0; u < USERS; u++) {
        feedStart.add(call("GET", "/v1/sync", tokens.get(u), null).getString("next_cursor"));
      }
      // sockets: the staying ones, and one chain of connections per coming-and-going user
      List<WsTestSocket> staying = new ArrayList<>();
      for (int u = 0; u < STAYING; u++) {
        staying.add(socket(ws, u, null));
      }
      Map<Integer, List<WsTestSocket>> chains = new ConcurrentHashMap<>();
      for (int u = STAYING; u < USERS; u++) {
        chains.put(u, new CopyOnWriteArrayList<>(List.of(socket(ws, u, feedStart.get(u)))));
      }

      // capacity: every sender as fast as it can, one send after the other (after a warm-up)
      log(
          "warm-up (15 s), then the send capacity (20 s, "
              + USERS * sendersPerUser
              + " senders, each one send after the other) ...");
      senders(pool, 15, 0);
      double capacity = senders(pool, 20, 0);
      double rate = capacity * ratePercent / 100.0;
      log(
          String.format(
              "capacity %.0f sends/s; the soak runs at %d%%: %.0f sends/s",
              capacity, ratePercent, rate));
      latency.getIntervalHistogram();

      // the soak
      List<Future<?>> load = new ArrayList<>();
      load.add(pool.submit(() -> senders(pool, minutes * 60, rate)));
      load.add(pool.submit(() -> readers(rate / 2)));
      load.add(pool.submit(this::uploader));
      // a client pings (the node closes a socket that sends nothing for realtime.idle_timeout_ms)
      load.add(
          pool.submit(
              () -> {
                while (!stop.get()) {
                  Thread.sleep(20_000);
                  List<WsTestSocket> open = new ArrayList<>(staying);
                  chains.values().forEach(c -> open.add(c.get(c.size() - 1)));
                  for (WsTestSocket s : open) {
                    if (!s.isClosed()) {
                      try {
                        s.send(new JsonObject().put("type", "ping"));
                      } catch (RuntimeException | AssertionError e) {
                        // closing under us (a coming-and-going socket)
                      }
                    }
                  }
                }
                return null;
              }));
      for (int u = STAYING; u < USERS; u++) {
        int user = u;
        load.add(pool.submit(() -> churn(ws, user, chains.get(user))));
      }
      sample(minutes * 60);
      stop.set(true);
      for (Future<?> f : load) {
        f.get(5, TimeUnit.MINUTES);
      }
      log("load over; auditing ...");
      return audit(staying, chains, feedStart);
    } finally {
      stop.set(true);
      pool.shutdownNow();
      if (node != null) {
        node.close();
      }
      backends.close();
      Await.result(vertx.close());
    }
  }

  private void setUp() throws Exception {
    List<String> ids = new ArrayList<>();
    for (int u = 0; u < USERS; u++) {
      tokens.add(login("soak_u" + u));
      ids.add(call("GET", "/v1/me", tokens.get(u), null).getString("user_id"));
    }
    for (int k = 0; k < conversations; k++) {
      int owner = k % USERS;
      int m1 = (k + 1) % USERS;
      int m2 = (k + 5) % USERS;
      String conv =
          call(
                  "POST",
                  "/v1/conversations",
                  tokens.get(owner),
                  new JsonObject()
                      .put("type", "group")
                      .put("name", "soak " + k)
                      .put("member_ids", new JsonArray().add(ids.get(m1)).add(ids.get(m2))))
              .getString("conversation_id");
      readerToken.put(conv, tokens.get(owner));
      acked.put(conv, new CopyOnWriteArrayList<>());
      for (int u : new int[] {owner, m1, m2}) {
        convsOf.computeIfAbsent(u, x -> new ArrayList<>()).add(conv);
      }
    }
  }

  private WsTestSocket socket(WebSocketClient ws, int user, String cursor) {
    WsTestSocket s =
        new WsTestSocket(ws, port, "/v1/ws", Duration.ofSeconds(30), SoakBench::auditFields);
    s.authenticate(tokens.get(user), cursor);
    connects.increment();
    return s;
  }

  /**
   * What a socket keeps of a message envelope: what the audit reads (ids, number, cursor). A run
   * delivers hundreds of thousands of envelopes to each socket; whole ones would fill the heap.
   */
  static JsonObject auditFields(JsonObject frame) {
    JsonObject m = frame.getJsonObject("message");
    if (!"message".equals(frame.getString("type")) || m == null) {
      return frame;
    }
    JsonObject kept =
        new JsonObject().put("type", "message").put("message", DeliveryAudit.auditFields(m));
    String cursor = frame.getString("cursor");
    return cursor == null ? kept : kept.put("cursor", cursor);
  }

  // --- the load ---

  /** Each sender's next message number (a sender is a user's client: one send at a time). */
  private final Map<Integer, AtomicLong> nextN = new ConcurrentHashMap<>();

  /**
   * Every sender ({@code --senders-per-user} clients of each user) sends for {@code seconds}, one
   * send after the other, paced to {@code rate} sends/s in all (0: as fast as it goes); returns the
   * sends/s reached.
   */
  private double senders(ExecutorService pool, int seconds, double rate) throws Exception {
    long end = System.nanoTime() + seconds * 1_000_000_000L;
    long before = sent.sum();
    long t0 = System.nanoTime();
    List<Future<?>> running = new ArrayList<>();
    int count = USERS * sendersPerUser;
    for (int k = 0; k < count; k++) {
      int user = k % USERS;
      int sender = k;
      running.add(
          pool.submit(
              () -> {
                long gapNanos = rate > 0 ? (long) (1e9 * count / rate) : 0;
                long slot = System.nanoTime();
                List<String> mine = convsOf.get(user);
                while (System.nanoTime() < end && !(rate > 0 && stop.get())) {
                  if (gapNanos > 0) {
                    slot += gapNanos;
                    long wait = slot - System.nanoTime();
                    if (wait > 0) {
                      Thread.sleep(wait / 1_000_000, (int) (wait % 1_000_000));
                    }
                  }
                  long n = nextN.computeIfAbsent(sender, x -> new AtomicLong()).getAndIncrement();
                  String conv = mine.get((int) ((n + sender) % mine.size()));
                  sendUntilAccepted(user, conv, "s" + sender + ":" + n);
                }
                return null;
              }));
    }
    for (Future<?> f : running) {
      f.get();
    }
    return (sent.sum() - before) / ((System.nanoTime() - t0) / 1e9);
  }

  /** One send, retried with the same message_id after a timeout or a 503 (as a client would). */
  private void sendUntilAccepted(int user, String conv, String text) throws Exception {
    String id = UUID.randomUUID().toString();
    JsonObject body =
        new JsonObject()
            .put("conversation_id", conv)
            .put("message_id", id)
            .put("payload", new JsonObject().put("type", "text").put("text", text));
    for (int attempt = 0; attempt < 50; attempt++) {
      long t0 = System.nanoTime();
      try {
        HttpResponse<String> r = send("POST", "/v1/messages", tokens.get(user), body.encode());
        if (r.statusCode() == 202) {
          latency.recordValue(Math.max(1, (System.nanoTime() - t0) / 1000));
          acked.get(conv).add(id);
          sent.increment();
          return;
        }
        error(r);
        if (r.statusCode() != 503 && r.statusCode() != 504 && r.statusCode() != 408) {
          throw new IllegalStateException("send answered " + r.statusCode() + " " + r.body());
        }
      } catch (IOException e) {
        errors.computeIfAbsent(e.getClass().getSimpleName(), k -> new LongAdder()).increment();
      }
      Thread.sleep(100);
    }
    throw new IllegalStateException("gave up on " + id);
  }

  /** History pages and feed reads at {@code rate} per second. */
  private Void readers(double rate) throws Exception {
    long gap = (long) (1e9 / Math.max(1, rate));
    long slot = System.nanoTime();
    List<String> convs = new ArrayList<>(readerToken.keySet());
    while (!stop.get()) {
      slot += gap;
      long wait = slot - System.nanoTime();
      if (wait > 0) {
        Thread.sleep(wait / 1_000_000, (int) (wait % 1_000_000));
      }
      ThreadLocalRandom r = ThreadLocalRandom.current();
      HttpResponse<String> resp;
      if (r.nextBoolean()) {
        String conv = convs.get(r.nextInt(convs.size()));
        resp =
            send(
                "GET",
                "/v1/conversations/" + conv + "/messages?limit=50",
                readerToken.get(conv),
                null);
      } else {
        resp = send("GET", "/v1/sync?limit=50", tokens.get(r.nextInt(USERS)), null);
      }
      if (resp.statusCode() == 200) {
        reads.increment();
      } else {
        error(resp);
      }
    }
    return null;
  }

  /** A 256 KiB file every 5 s: initiate, one chunk, complete, until completed. */
  private Void uploader() throws Exception {
    long size = 256 * 1024;
    GeneratedBytes file = new GeneratedBytes(7, size);
    String sha = file.sha256(0, size);
    int k = 0;
    while (!stop.get()) {
      String conv = convsOf.get(0).get(k++ % convsOf.get(0).size());
      HttpResponse<String> init =
          send(
              "POST",
              "/v1/files",
              tokens.get(0),
              new JsonObject()
                  .put("filename", "soak-" + k + ".bin")
                  .put("size_bytes", size)
                  .put("mime_type", "application/octet-stream")
                  .put("checksum_sha256", sha)
                  .put("conversation_id", conv)
                  .encode());
      if (init.statusCode() != 201) {
        error(init);
      } else {
        JsonObject f = new JsonObject(init.body());
        String fileId = f.getString("file_id");
        HttpResponse<String> chunk =
            file.putChunk(http, base, tokens.get(0), fileId, 1, 0, size, sha);
        HttpResponse<String> done =
            chunk.statusCode() == 200
                ? send("POST", "/v1/files/" + fileId + "/complete", tokens.get(0), null)
                : chunk;
        if (done.statusCode() == 200 || done.statusCode() == 202) {
          uploads.increment();
        } else {
          error(done);
        }
      }
      Thread.sleep(5000);
    }
    return null;
  }

  /** A user's sockets come and go: connected 5-20 s, away 1-5 s, back from the last cursor. */
  private Void churn(WebSocketClient ws, int user, List<WsTestSocket> chain) throws Exception {
    ThreadLocalRandom r = ThreadLocalRandom.current();
    while (!stop.get()) {
      Thread.sleep(r.nextLong(5000, 20000));
      WsTestSocket last = chain.get(chain.size() - 1);
      last.close();
      if (stop.get()) {
        break;
      }
      Thread.sleep(r.nextLong(1000, 5000));
      String cursor = last.lastCursor();
      try {
        chain.add(socket(ws, user, cursor));
      } catch (RuntimeException | AssertionError e) {
        errors.computeIfAbsent("socket_connect", k -> new LongAdder()).increment();
        throw e;
      }
    }
    // back once more, to get what was sent while away
    WsTestSocket last = chain.get(chain.size() - 1);
    if (last.isClosed() || last.ws.isClosed()) {
      chain.add(socket(ws, user, last.lastCursor()));
    }
    return null;
  }

  private void error(HttpResponse<String> r) {
    String code = "";
    try {
      JsonObject e = new JsonObject(r.body()).getJsonObject("error");
      code = e == null ? "" : " " + e.getString("code");
    } catch (RuntimeException ignored) {
      // not the error model
    }
    errors.computeIfAbsent(r.statusCode() + code, k -> new LongAdder()).increment();
  }

  // --- samples ---

  private void sample(int seconds) throws Exception {
    log(
        String.format(
            "%7s %8s %8s %9s %9s %8s %8s %9s %8s %8s %7s %8s  %s",
            "t(s)",
            "rss(MB)",
            "heap(MB)",
            "heapC(MB)",
            "nonheap",
            "direct",
            "lag",
            "sends/s",
            "p50(ms)",
            "p99(ms)",
            "reads",
            "sockets",
            "errors"));
    long t0 = System.nanoTime();
    long lastSent = sent.sum();
    long lastAt = t0;
    while (System.nanoTime() - t0 < seconds * 1_000_000_000L) {
      Thread.sleep(Math.min(sampleSeconds * 1000L, seconds * 1000L));
      long now = System.nanoTime();
      long s = sent.sum();
      var h = latency.getIntervalHistogram();
      Map<String, Double> m = metrics();
      log(
          String.format(
              "%7d %8.0f %8.0f %9.0f %9.0f %8.1f %8.0f %9.1f %8.1f %8.1f %7d %8d  %s",
              (now - t0) / 1_000_000_000L,
              rssKb(nodePid) / 1024.0,
              m.getOrDefault("heap", Double.NaN) / (1024 * 1024),
              m.getOrDefault("heapCommitted", Double.NaN) / (1024 * 1024),
              m.getOrDefault("nonheapCommitted", Double.NaN) / (1024 * 1024),
              m.getOrDefault("direct", Double.NaN) / (1024 * 1024),
              m.getOrDefault("lag", Double.NaN),
              (s - lastSent) / ((now - lastAt) / 1e9),
              h.getValueAtPercentile(50) / 1000.0,
              h.getValueAtPercentile(99) / 1000.0,
              reads.sum(),
              connects.sum(),
              errorSummary()));
      lastSent = s;
      lastAt = now;
    }
  }

  private String errorSummary() {
    StringBuilder b = new StringBuilder();
    errors.forEach(
        (k, v) -> b.append(b.length() == 0 ? "" : ", ").append(k).append('=').append(v.sum()));
    return b.length() == 0 ? "none" : b.toString();
  }

  /**
   * Heap used and committed (all heap pools), non-heap committed, direct buffers and the pipeline's
   * consumer lag, from the node's /metrics: what of the RSS the JVM accounts for.
   */
  private Map<String, Double> metrics() {
    Map<String, Double> out = new HashMap<>();
    try {
      HttpResponse<String> r = send("GET", "/metrics", null, null);
      double heap = 0;
      double lag = 0;
      for (String line : r.body().split("\n")) {
        if (line.isBlank() || line.startsWith("#") || line.indexOf(' ') < 0) {
          continue;
        }
        double value = Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
        if (line.startsWith("jvm_memory_committed_bytes{")) {
          out.merge(
              line.contains("area=\"heap\"") ? "heapCommitted" : "nonheapCommitted",
              value,
              Double::sum);
        } else if (line.startsWith("jvm_buffer_memory_used_bytes{")
            && line.contains("id=\"direct\"")) {
          out.merge("direct", value, Double::sum);
        }
        if (line.startsWith("jvm_memory_used_bytes{") && line.contains("area=\"heap\"")) {
          heap += value;
        } else if (line.startsWith("chat4all_consumer_lag_records{")
            && line.contains("group=\"pipeline\"")) {
          lag += value;
        }
      }
      if (heap > 0) {
        out.put("heap", heap);
        out.put("lag", lag);
      }
    } catch (Exception e) {
      // no sample this time
    }
    return out;
  }

  static long rssKb(long pid) {
    try {
      for (String line : Files.readAllLines(Path.of("/proc", Long.toString(pid), "status"))) {
        if (line.startsWith("VmRSS:")) {
          return Long.parseLong(line.replaceAll("[^0-9]", ""));
        }
      }
    } catch (IOException | NumberFormatException e) {
      // process gone or no procfs
    }
    return 0;
  }

  // --- the audit ---

  private boolean audit(
      List<WsTestSocket> staying, Map<Integer, List<WsTestSocket>> chains, List<String> feedStart)
      throws Exception {
    DeliveryAudit audit = new DeliveryAudit(port);
    int total = acked.values().stream().mapToInt(List::size).sum();
    try {
      Map<String, List<JsonObject>> stored =
          audit.histories(readerToken, acked, Duration.ofMinutes(5));
      log(total + " acknowledged sends: each stored once, 1..n without gap, in send order");
      int feedRepeats = 0;
      int socketRepeats = 0;
      for (int u = 0; u < USERS; u++) {
        Set<String> expected = DeliveryAudit.expected(convsOf.get(u), stored);
        List<JsonObject> feed = audit.feed(tokens.get(u), feedStart.get(u));
        feedRepeats += DeliveryAudit.inOrderWithRepeats("feed of user " + u, feed);
        List<String> missing = DeliveryAudit.missing(expected, feed);
        if (!missing.isEmpty()) {
          throw new AssertionError(
              "feed of user " + u + " lacks " + missing.size() + ": " + missing);
        }
        List<WsTestSocket> sockets = u < STAYING ? List.of(staying.get(u)) : chains.get(u);
        List<JsonObject> live = new ArrayList<>();
        try {
          Await.until(
              "user " + u + "'s sockets got everything",
              Duration.ofMinutes(2),
              () -> DeliveryAudit.missing(expected, received(sockets)).isEmpty());
        } catch (AssertionError e) {
          List<String> lacking = DeliveryAudit.missing(expected, received(sockets));
          throw new AssertionError(
              e.getMessage()
                  + ": "
                  + lacking.size()
                  + " of "
                  + expected.size()
                  + " missing, e.g. "
                  + lacking.subList(0, Math.min(5, lacking.size()))
                  + "; connections closed with "
                  + sockets.stream()
                      .map(x -> x.closed.isDone() ? String.valueOf(x.closed.join()) : "open")
                      .toList(),
              e);
        }
        for (int k = 0; k < sockets.size(); k++) {
          List<JsonObject> got = new ArrayList<>();
          sockets.get(k).messages().forEach(f -> got.add(f.getJsonObject("message")));
          DeliveryAudit.onceInOrder("socket " + k + " of user " + u, got);
          live.addAll(got);
        }
        socketRepeats += DeliveryAudit.inOrderWithRepeats("the sockets of user " + u, live);
      }
      int chainConnections = chains.values().stream().mapToInt(List::size).sum();
      log(
          String.format(
              "every feed complete and in order (%d repeats); %d staying sockets and %d connections"
                  + " of %d coming-and-going users got every message once, in order (%d repeats"
                  + " across reconnects); %d reads, %d uploads; errors: %s",
              feedRepeats,
              STAYING,
              chainConnections,
              USERS - STAYING,
              socketRepeats,
              reads.sum(),
              uploads.sum(),
              errorSummary()));
      log("AUDIT PASSED: 0 lost, 0 duplicated, 0 out of order");
      return true;
    } catch (AssertionError e) {
      log("AUDIT FAILED: " + e.getMessage());
      return false;
    }
  }

  private static List<JsonObject> received(List<WsTestSocket> sockets) {
    List<JsonObject> got = new ArrayList<>();
    sockets.forEach(s -> s.messages().forEach(f -> got.add(f.getJsonObject("message"))));
    return got;
  }

  // --- HTTP ---

  private String login(String name) throws Exception {
    send(
        "POST",
        "/v1/auth/register",
        null,
        new JsonObject()
            .put("username", name)
            .put("email", name + "@soak.test")
            .put("password", PASSWORD)
            .encode());
    return call(
            "POST",
            "/v1/auth/token",
            null,
            new JsonObject().put("username", name).put("password", PASSWORD))
        .getString("access_token");
  }

  private JsonObject call(String method, String path, String token, JsonObject body)
      throws Exception {
    HttpResponse<String> r = send(method, path, token, body == null ? null : body.encode());
    if (r.statusCode() / 100 != 2) {
      throw new IllegalStateException(
          method + " " + path + " answered " + r.statusCode() + " " + r.body());
    }
    return new JsonObject(r.body());
  }

  private HttpResponse<String> send(String method, String path, String token, String body)
      throws IOException, InterruptedException {
    HttpRequest.Builder b =
        HttpRequest.newBuilder(URI.create(base + path)).timeout(Duration.ofSeconds(30));
    if (token != null) {
      b.header("Authorization", "Bearer " + token);
    }
    if (body != null) {
      b.header("Content-Type", "application/json");
    }
    b.method(
        method,
        body == null
            ? HttpRequest.BodyPublishers.noBody()
            : HttpRequest.BodyPublishers.ofString(body));
    return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  private static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }
}
