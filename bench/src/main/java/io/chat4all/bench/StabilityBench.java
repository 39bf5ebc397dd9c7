package io.chat4all.bench;

import static io.chat4all.bench.BenchSupport.await;
import static io.chat4all.bench.BenchSupport.intArg;
import static io.chat4all.bench.BenchSupport.log;

import io.chat4all.testkit.NodeProcess;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.HdrHistogram.ConcurrentHistogram;
import org.HdrHistogram.Histogram;

/**
 * {@code ./chat4all bench stability}: a node in its own process (embedded backends, {@code
 * --node-xmx}, GC log on), durable sends closed loop for 10 s to find the sustained rate, then an
 * open loop at {@code --rate-percent} of it for {@code --seconds}. Every {@code --sample-seconds}:
 * the node's RSS, its heap (from /metrics), the pipeline lag (sends accepted − messages stored,
 * from each conversation's last_seq) and the pipeline consumer's Kafka lag, the requests in flight,
 * and the accept latency of the interval. At the end: the GC pauses of the run (p50 / p99 / max,
 * from the node's GC log). Prints a Markdown report.
 */
public final class StabilityBench {
  private static final Pattern PAUSE = Pattern.compile("Pause.* (\\d+(?:\\.\\d+)?)ms$");

  private final int seconds;
  private final int ratePercent;
  private final int fixedRate;
  private final int conversations;
  private final int concurrency;
  private final int sampleSeconds;
  private final String nodeXmx;
  private Vertx vertx;
  private HttpClient client;
  private int port;

  private StabilityBench(String[] args) {
    seconds = intArg(args, "--seconds", 600);
    ratePercent = intArg(args, "--rate-percent", 80);
    fixedRate = intArg(args, "--rate", 0);
    conversations = intArg(args, "--conversations", 32);
    concurrency = intArg(args, "--concurrency", 64);
    sampleSeconds = intArg(args, "--sample-seconds", 10);
    String x = "512m";
    for (int i = 0; i < args.length - 1; i++) {
      if (args[i].equals("--node-xmx")) {
        x = args[i + 1];
      }
    }
    nodeXmx = x;
  }

  public static void main(String[] args) throws Exception {
    new StabilityBench(args).run();
    System.exit(0);
  }

  private void run() throws Exception {
    Path data = Files.createTempDirectory("chat4all-stability");
    Path gcLog = data.resolve("gc.log");
    List<String> jvm =
        List.of("-Xmx" + nodeXmx, "-Xlog:gc:file=" + gcLog + ":uptime", "-XX:+UseG1GC");
    List<String> nodeArgs =
        List.of(
            "run",
            "--data-dir",
            data.resolve("node").toString(),
            "--http-port",
            "0",
            "--grpc-port",
            "0",
            "--set",
            "auth.password_iterations=1000",
            "--set",
            "rate_limit.per_user_per_minute=0",
            "--set",
            "rate_limit.per_ip_per_minute=0",
            "--set",
            "http.max_connections_per_ip=0");
    log("starting a node process (" + String.join(" ", jvm) + ") on " + data + " ...");
    NodeProcess node = NodeProcess.start(System.getProperty("java.class.path"), jvm, nodeArgs);
    List<String> rows = new ArrayList<>();
    List<String> curve = new ArrayList<>();
    try {
      Matcher ready = node.awaitLine("CHAT4ALL NODE READY .*http=(\\d+)", Duration.ofMinutes(5));
      port = Integer.parseInt(ready.group(1));
      vertx = Vertx.vertx();
      client =
          vertx.createHttpClient(
              new HttpClientOptions().setKeepAlive(true).setTcpNoDelay(true),
              new PoolOptions().setHttp1MaxSize(concurrency).setMaxWaitQueueSize(-1));
      List<String[]> senders = new ArrayList<>();
      for (int i = 0; i < conversations; i++) {
        String a = login("st_a" + i);
        String b = login("st_b" + i);
        String bId = await(json(HttpMethod.GET, "/v1/me", b, null)).getString("user_id");
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
      }
      AtomicLong counter = new AtomicLong();
      AtomicLong accepted = new AtomicLong();
      AtomicLong failed = new AtomicLong();
      log("durable sends, closed loop, 10 s ...");
      double max = closedLoop(senders, counter, accepted, 10);
      int rate = fixedRate > 0 ? fixedRate : (int) Math.max(10, max * ratePercent / 100.0);
      rows.add(
          String.format(
              "| durable sends, closed loop (%d connections, 10 s) | %.0f sends/s |",
              concurrency, max));
      awaitLag(senders, accepted.get(), 120);
      log("open loop at " + rate + " sends/s for " + seconds + " s ...");
      long baseAccepted = accepted.get();
      accepted.set(0);
      AtomicLong inFlight = new AtomicLong();
      Histogram all = new ConcurrentHistogram(TimeUnit.SECONDS.toMicros(120), 3);
      Histogram[] interval = {new ConcurrentHistogram(TimeUnit.SECONDS.toMicros(120), 3)};
      long start = System.nanoTime();
      long total = (long) rate * seconds;
      AtomicLong issued = new AtomicLong();
      long timer =
          vertx.setPeriodic(
              1,
              t -> {
                long due = Math.min(total, (long) ((System.nanoTime() - start) / 1e9 * rate));
                while (issued.get() < due) {
                  long i = issued.getAndIncrement();
                  long when = start + (long) (i * 1e9 / rate);
                  String[] s = senders.get((int) (counter.getAndIncrement() % senders.size()));
                  inFlight.incrementAndGet();
                  post(s[0], SendBench.sampleBody(s[1], UUID.randomUUID().toString()))
                      .onComplete(
                          ar -> {
                            inFlight.decrementAndGet();
                            long us = Math.max(1, (System.nanoTime() - when) / 1000);
                            if (ar.succeeded() && ar.result() == 202) {
                              accepted.incrementAndGet();
                              all.recordValue(Math.min(us, all.getHighestTrackableValue()));
                              Histogram h = interval[0];
                              h.recordValue(Math.min(us, h.getHighestTrackableValue()));
                            } else {
                              failed.incrementAndGet();
                            }
                          });
                }
              });
      curve.add(
          "| t (s) | node RSS (MB) | node heap used (MB) | pipeline lag (messages) | Kafka lag of"
              + " the pipeline (records) | sends in flight | accept p50 / p99 in the interval (ms)"
              + " |");
      curve.add("|---|---|---|---|---|---|---|");
      long nextSample = start + TimeUnit.SECONDS.toNanos(sampleSeconds);
      long end = start + TimeUnit.SECONDS.toNanos(seconds);
      long maxLag = 0;
      while (System.nanoTime() < end + TimeUnit.SECONDS.toNanos(1)) {
        long sleep = (nextSample - System.nanoTime()) / 1_000_000;
        if (sleep > 0) {
          Thread.sleep(sleep);
        }
        nextSample += TimeUnit.SECONDS.toNanos(sampleSeconds);
        Histogram h = interval[0];
        interval[0] = new ConcurrentHistogram(TimeUnit.SECONDS.toMicros(120), 3);
        long stored = stored(senders);
        long lag = baseAccepted + accepted.get() - stored;
        maxLag = Math.max(maxLag, lag);
        JsonObject m = metrics();
        curve.add(
            String.format(
                "| %d | %.0f | %.0f | %d | %d | %d | %.1f / %.1f |",
                (System.nanoTime() - start) / 1_000_000_000L,
                rssKb(node.pid()) / 1024.0,
                m.getDouble("heap", -1.0) / 1e6,
                lag,
                m.getLong("kafka_lag", -1L),
                inFlight.get(),
                h.getValueAtPercentile(50) / 1000.0,
                h.getValueAtPercentile(99) / 1000.0));
        log(curve.get(curve.size() - 1));
      }
      vertx.cancelTimer(timer);
      long t0 = System.nanoTime();
      long lagAtEnd = awaitLag(senders, baseAccepted + accepted.get(), 300);
      double drain = (System.nanoTime() - t0) / 1e9;
      rows.add(
          String.format(
              "| open loop: target rate × duration | %d sends/s (%d %%) × %d s |",
              rate, fixedRate > 0 ? 0 : ratePercent, seconds));
      rows.add(
          String.format(
              "| open loop: accepted (202) / failed | %d / %d |", accepted.get(), failed.get()));
      rows.add(
          String.format(
              "| accept latency p50 / p99 / p99.9 / max over the run (from intended time) | %.1f /"
                  + " %.1f / %.1f / %.1f ms |",
              all.getValueAtPercentile(50) / 1000.0,
              all.getValueAtPercentile(99) / 1000.0,
              all.getValueAtPercentile(99.9) / 1000.0,
              all.getMaxValue() / 1000.0));
      rows.add(
          String.format(
              "| pipeline lag: largest sample / after sending stopped | %d messages / drained to %d"
                  + " in %.1f s |",
              maxLag, lagAtEnd, drain));
      rows.add(gcPauses(gcLog));
    } finally {
      System.out.println();
      System.out.println("## Stability (`./chat4all bench stability`)");
      System.out.println();
      System.out.println("| measure | value |");
      System.out.println("|---|---|");
      rows.forEach(System.out::println);
      System.out.println();
      curve.forEach(System.out::println);
      if (vertx != null) {
        vertx.close();
      }
      node.close();
      deleteTree(data);
    }
  }

  private static String gcPauses(Path gcLog) throws Exception {
    Histogram h = new Histogram(TimeUnit.MINUTES.toMicros(10), 3);
    for (String line : Files.readAllLines(gcLog)) {
      Matcher m = PAUSE.matcher(line.strip());
      if (m.find()) {
        h.recordValue(Math.max(1, (long) (Double.parseDouble(m.group(1)) * 1000)));
      }
    }
    return String.format(
        "| node GC pauses (G1, whole run, from its GC log): count, p50 / p99 / max | %d, %.1f /"
            + " %.1f / %.1f ms |",
        h.getTotalCount(),
        h.getValueAtPercentile(50) / 1000.0,
        h.getValueAtPercentile(99) / 1000.0,
        h.getMaxValue() / 1000.0);
  }

  /** Messages stored so far: the sum of each conversation's last_seq. */
  private long stored(List<String[]> senders) throws Exception {
    List<Future<JsonObject>> pages = new ArrayList<>();
    for (String[] s : senders) {
      pages.add(
          json(HttpMethod.GET, "/v1/conversations/" + s[1] + "/messages?limit=1", s[0], null));
    }
    long n = 0;
    for (Future<JsonObject> p : pages) {
      n += await(p).getLong("last_seq", 0L);
    }
    return n;
  }

  private long awaitLag(List<String[]> senders, long target, int maxSeconds) throws Exception {
    long t0 = System.nanoTime();
    long lag;
    while ((lag = target - stored(senders)) > 0
        && System.nanoTime() - t0 < TimeUnit.SECONDS.toNanos(maxSeconds)) {
      Thread.sleep(200);
    }
    return Math.max(0, lag);
  }

  /** Heap used and the pipeline's Kafka lag from the node's Prometheus page. */
  private JsonObject metrics() {
    JsonObject out = new JsonObject();
    try {
      String text =
          await(
              BenchSupport.exchange(
                      vertx,
                      client,
                      new RequestOptions()
                          .setHost("127.0.0.1")
                          .setPort(port)
                          .setURI("/metrics")
                          .setMethod(HttpMethod.GET),
                      r -> r.send(),
                      r -> r.body())
                  .map(Buffer::toString));
      double heap = 0;
      long lag = 0;
      for (String line : text.split("\n")) {
        if (line.startsWith("jvm_memory_used_bytes{") && line.contains("area=\"heap\"")) {
          heap += Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
        } else if (line.startsWith("chat4all_consumer_lag") && line.contains("pipeline")) {
          lag += (long) Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
        }
      }
      out.put("heap", heap).put("kafka_lag", lag);
    } catch (Exception e) {
      log("metrics: " + e.getMessage());
    }
    return out;
  }

  private double closedLoop(List<String[]> senders, AtomicLong counter, AtomicLong ok, int secs)
      throws Exception {
    long endAt = System.nanoTime() + TimeUnit.SECONDS.toNanos(secs);
    List<Future<Void>> lanes = new ArrayList<>();
    long t0 = System.nanoTime();
    for (int i = 0; i < concurrency; i++) {
      Promise<Void> lane = Promise.promise();
      lanes.add(lane.future());
      lane(senders, counter, ok, endAt, lane);
    }
    await(Future.join(new ArrayList<>(lanes)));
    return ok.get() / ((System.nanoTime() - t0) / 1e9);
  }

  private void lane(
      List<String[]> senders, AtomicLong counter, AtomicLong ok, long endAt, Promise<Void> lane) {
    if (System.nanoTime() >= endAt) {
      lane.complete();
      return;
    }
    String[] s = senders.get((int) (counter.getAndIncrement() % senders.size()));
    post(s[0], SendBench.sampleBody(s[1], UUID.randomUUID().toString()))
        .onComplete(
            ar -> {
              if (ar.succeeded() && ar.result() == 202) {
                ok.incrementAndGet();
              }
              lane(senders, counter, ok, endAt, lane);
            });
  }

  private static long rssKb(long pid) {
    try {
      for (String line : Files.readAllLines(Path.of("/proc/" + pid + "/status"))) {
        if (line.startsWith("VmRSS:")) {
          return Long.parseLong(line.replaceAll("[^0-9]", ""));
        }
      }
    } catch (Exception e) {
      // gone
    }
    return 0;
  }

  private static void deleteTree(Path root) {
    try (var walk = Files.walk(root)) {
      walk.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (Exception e) {
      log("could not delete " + root + ": " + e.getMessage());
    }
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

  private Future<JsonObject> json(HttpMethod method, String path, String token, JsonObject body) {
    return BenchSupport.jsonOk(vertx, client, port, method, path, token, body);
  }

  private Future<Integer> post(String token, String body) {
    RequestOptions o =
        new RequestOptions()
            .setMethod(HttpMethod.POST)
            .setHost("127.0.0.1")
            .setPort(port)
            .setURI("/v1/messages");
    o.putHeader("Authorization", "Bearer " + token);
    return BenchSupport.exchange(
        vertx,
        client,
        o,
        r -> r.send(Buffer.buffer(body)),
        resp -> resp.body().map(b -> resp.statusCode()));
  }
}
