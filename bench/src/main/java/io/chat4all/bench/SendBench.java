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
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;
import org.HdrHistogram.ConcurrentHistogram;
import org.HdrHistogram.Histogram;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * {@code ./chat4all bench send}: durable sends against an embedded node, with two ceilings measured
 * in the same run on the same box — a bare Vert.x endpoint parsing the same JSON, and the raw Kafka
 * producer (same broker, same record size, acks=all). Sends are measured open-loop: latency counts
 * from each request's intended send time, so queueing shows. Prints a Markdown report.
 */
public final class SendBench {
  private final int seconds;
  private final int concurrency;
  private final int conversations;
  private final double rateFactor;
  private final int fixedRate;
  private Vertx vertx;
  private HttpClient client;

  private SendBench(String[] args) {
    seconds = intArg(args, "--seconds", 20);
    concurrency = intArg(args, "--concurrency", 64);
    conversations = intArg(args, "--conversations", 32);
    fixedRate = intArg(args, "--rate", 0);
    rateFactor = intArg(args, "--rate-percent", 80) / 100.0;
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
    new SendBench(args).run();
    System.exit(0);
  }

  private static <T> T await(Future<T> f) throws Exception {
    return f.toCompletionStage().toCompletableFuture().get(120, TimeUnit.SECONDS);
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
    if (System.getProperty("bench.redis.pool") != null) {
      cfg.getJsonObject("redis").put("pool_size", Integer.getInteger("bench.redis.pool"));
    }
    System.err.println("starting an embedded node under " + data + " ...");
    Node node = Node.start(NodeConfig.from(cfg));
    vertx = Vertx.vertx();
    client =
        vertx.createHttpClient(
            new HttpClientOptions()
                .setKeepAlive(true)
                .setTcpNoDelay(true)
                .setDefaultHost("127.0.0.1"),
            new PoolOptions().setHttp1MaxSize(concurrency).setMaxWaitQueueSize(-1));
    try {
      String body = sampleBody(UUID.randomUUID().toString(), UUID.randomUUID().toString());
      int recordSize = body.length() + 120;

      // 1. the HTTP ceiling: a bare endpoint that parses the same JSON and answers
      HttpServer bare =
          await(
              vertx
                  .createHttpServer()
                  .requestHandler(
                      req ->
                          req.body()
                              .onSuccess(
                                  b -> {
                                    JsonObject j = b.toJsonObject();
                                    req.response()
                                        .setStatusCode(202)
                                        .putHeader("content-type", "application/json")
                                        .end(j.toBuffer());
                                  }))
                  .listen(0, "127.0.0.1"));
      System.err.println("measuring the bare endpoint ...");
      double bareRate = saturate(bare.actualPort(), "/", null, () -> body, 10);
      await(bare.close());

      // 2. the Kafka ceiling: raw producer, same broker, same record size, acks=all
      System.err.println("measuring the raw Kafka producer ...");
      double kafkaRate = rawKafka(node.config().kafka().bootstrapServers(), recordSize, 10);

      // 3. users and conversations
      int port = node.httpPort();
      List<String[]> senders = new ArrayList<>();
      for (int i = 0; i < conversations; i++) {
        String a = login(port, "bench_a" + i);
        String bTok = login(port, "bench_b" + i);
        String bId = await(json(port, HttpMethod.GET, "/v1/me", bTok, null)).getString("user_id");
        String conv =
            await(
                    json(
                        port,
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
      Supplier<String[]> nextSend =
          () -> {
            String[] s = senders.get((int) (counter.getAndIncrement() % senders.size()));
            return new String[] {s[0], sampleBody(s[1], UUID.randomUUID().toString())};
          };

      // 4. the durable send ceiling (closed loop), then open-loop at a share of it
      System.err.println("measuring durable sends, closed loop ...");
      long before = storedTotal(node);
      double maxRate = saturateSends(port, nextSend, 10);
      long acceptedClosed = counter.get();
      int rate = fixedRate > 0 ? fixedRate : (int) Math.max(100, maxRate * rateFactor);
      awaitDrained(node, before + acceptedClosed, 120);
      System.err.println("open loop at " + rate + " sends/s for " + seconds + " s ...");
      long beforeOpen = storedTotal(node);
      Histogram latency = new ConcurrentHistogram(TimeUnit.SECONDS.toMicros(60), 3);
      long[] result = openLoop(port, nextSend, rate, seconds, latency);
      long accepted = result[0];
      long failed = result[1];
      long lagAtEnd = beforeOpen + accepted - storedTotal(node);
      double drainSeconds = awaitDrained(node, beforeOpen + accepted, 300);

      System.out.println();
      System.out.println("## Durable sends (`./chat4all bench send`)");
      System.out.println();
      System.out.println("| measure | value |");
      System.out.println("|---|---|");
      System.out.printf(
          "| bare Vert.x endpoint, same JSON (closed loop, %d connections) | %.0f req/s |%n",
          concurrency, bareRate);
      System.out.printf(
          "| raw Kafka producer, %d-byte records, acks=all, idempotent | %.0f records/s |%n",
          recordSize, kafkaRate);
      System.out.printf(
          "| durable sends, closed loop (%d connections) | %.0f sends/s (%.0f %% of bare) |%n",
          concurrency, maxRate, 100 * maxRate / bareRate);
      System.out.printf("| open loop: target rate | %d sends/s for %d s |%n", rate, seconds);
      System.out.printf(
          "| open loop: accepted (202) | %d (%.0f sends/s), %d failed |%n",
          accepted, accepted / (double) seconds, failed);
      System.out.printf(
          "| accept latency p50 / p99 / p99.9 (from intended send time) | %.1f / %.1f / %.1f ms |%n",
          latency.getValueAtPercentile(50) / 1000.0,
          latency.getValueAtPercentile(99) / 1000.0,
          latency.getValueAtPercentile(99.9) / 1000.0);
      System.out.printf("| pipeline lag when sending stopped | %d messages |%n", lagAtEnd);
      System.out.printf("| time for the pipeline to drain the lag | %.1f s |%n", drainSeconds);
      System.out.printf("| conversations / senders | %d |%n", conversations);
      System.out.println();
    } finally {
      await(vertx.close());
      node.close();
    }
  }

  static String sampleBody(String conv, String id) {
    return new JsonObject()
        .put("conversation_id", conv)
        .put("message_id", id)
        .put(
            "payload",
            new JsonObject()
                .put("type", "text")
                .put("text", "benchmark message with a realistic length of text, ".repeat(3)))
        .encode();
  }

  private String login(int port, String name) throws Exception {
    await(
        json(
                port,
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
                port,
                HttpMethod.POST,
                "/v1/auth/token",
                null,
                new JsonObject().put("username", name).put("password", "kept-secret-1")))
        .getString("access_token");
  }

  private Future<JsonObject> json(
      int port, HttpMethod method, String path, String token, JsonObject body) {
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

  private Future<Integer> post(int port, String path, String token, String body) {
    RequestOptions o = new RequestOptions().setMethod(HttpMethod.POST).setPort(port).setURI(path);
    if (token != null) {
      o.putHeader("Authorization", "Bearer " + token);
    }
    return client
        .request(o)
        .compose(r -> r.send(Buffer.buffer(body)))
        .compose(resp -> resp.body().map(b -> resp.statusCode()));
  }

  /** Closed loop: {@code concurrency} requests always in flight for {@code secs}; returns 2xx/s. */
  private double saturate(int port, String path, String token, Supplier<String> body, int secs)
      throws Exception {
    return closedLoop(() -> post(port, path, token, body.get()), secs);
  }

  private double saturateSends(int port, Supplier<String[]> next, int secs) throws Exception {
    return closedLoop(
        () -> {
          String[] s = next.get();
          return post(port, "/v1/messages", s[0], s[1]);
        },
        secs);
  }

  private double closedLoop(Supplier<Future<Integer>> request, int secs) throws Exception {
    AtomicLong ok = new AtomicLong();
    long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(secs);
    List<Future<Void>> lanes = new ArrayList<>();
    long t0 = System.nanoTime();
    for (int i = 0; i < concurrency; i++) {
      Promise<Void> lane = Promise.promise();
      lanes.add(lane.future());
      // each lane on its own event-loop context (round robin), so the generator uses every loop
      vertx.getOrCreateContext().runOnContext(v -> loopLane(request, ok, end, lane));
    }
    await(Future.join(new ArrayList<>(lanes)));
    return ok.get() / ((System.nanoTime() - t0) / 1e9);
  }

  private void loopLane(
      Supplier<Future<Integer>> request, AtomicLong ok, long end, Promise<Void> lane) {
    if (System.nanoTime() >= end) {
      lane.complete();
      return;
    }
    request
        .get()
        .onComplete(
            ar -> {
              if (ar.succeeded() && ar.result() / 100 == 2) {
                ok.incrementAndGet();
              }
              loopLane(request, ok, end, lane);
            });
  }

  /** Open loop: request i is due at start + i/rate; returns {accepted, failed}. */
  private long[] openLoop(int port, Supplier<String[]> next, int rate, int secs, Histogram latency)
      throws Exception {
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
                long intended = start + (long) (i * 1e9 / rate);
                String[] s = next.get();
                contexts[(int) (i % contexts.length)].runOnContext(
                    x ->
                        post(port, "/v1/messages", s[0], s[1])
                            .onComplete(
                                ar -> {
                                  latency.recordValue(
                                      Math.max(0, (System.nanoTime() - intended) / 1000));
                                  if (ar.succeeded() && ar.result() == 202) {
                                    accepted.incrementAndGet();
                                  } else {
                                    failed.incrementAndGet();
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

  private static double rawKafka(String bootstrap, int recordSize, int secs) throws Exception {
    Properties p = new Properties();
    p.put("bootstrap.servers", bootstrap);
    p.put("acks", "all");
    p.put("enable.idempotence", "true");
    p.put("linger.ms", "2");
    p.put("compression.type", "lz4");
    p.put("key.serializer", StringSerializer.class.getName());
    p.put("value.serializer", StringSerializer.class.getName());
    String topic = "bench.raw";
    try (org.apache.kafka.clients.admin.Admin admin =
        org.apache.kafka.clients.admin.Admin.create(p)) {
      if (!admin.listTopics().names().get().contains(topic)) {
        admin
            .createTopics(
                List.of(new org.apache.kafka.clients.admin.NewTopic(topic, 12, (short) 1)))
            .all()
            .get();
      }
    }
    String value = "x".repeat(recordSize);
    long count = 0;
    AtomicLong acked = new AtomicLong();
    long t0 = System.nanoTime();
    long end = t0 + TimeUnit.SECONDS.toNanos(secs);
    try (KafkaProducer<String, String> producer = new KafkaProducer<>(p)) {
      while (System.nanoTime() < end) {
        producer.send(
            new ProducerRecord<>(topic, "bench-" + (count % 64), value),
            (m, e) -> {
              if (e == null) {
                acked.incrementAndGet();
              }
            });
        count++;
      }
      producer.flush();
    }
    return acked.get() / ((System.nanoTime() - t0) / 1e9);
  }

  /** Messages the pipeline has numbered so far (sum of last_seq over all conversations). */
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

  private static double awaitDrained(Node node, long target, int maxSeconds) throws Exception {
    long t0 = System.nanoTime();
    while (storedTotal(node) < target) {
      if (System.nanoTime() - t0 > TimeUnit.SECONDS.toNanos(maxSeconds)) {
        System.err.println("pipeline did not drain within " + maxSeconds + " s");
        break;
      }
      Thread.sleep(100);
    }
    return (System.nanoTime() - t0) / 1e9;
  }
}
