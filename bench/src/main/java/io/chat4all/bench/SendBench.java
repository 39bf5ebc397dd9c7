package io.chat4all.bench;

import static io.chat4all.bench.BenchSupport.intArg;

import io.chat4all.codecs.HttpClientDefaults;
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
 * {@code ./chat4all bench send}: durable sends against an embedded node, with the ceilings measured
 * in the same run on the same box — a bare Vert.x endpoint parsing the same JSON, the raw Kafka
 * producer (same broker, same record size, acks=all), the store's own bulk inserts of the exact
 * message documents (same driver, same server) and Redis (round trips, and the feed appends the
 * pipeline does per message). Sends are measured open-loop: latency counts from each request's
 * intended send time, so queueing shows; the pipeline on its own drains a backlog of send records
 * written straight to Kafka. With {@code --mongo-uri} (or {@code --mongo-memory}, which starts
 * mongo-java-server's in-memory backend as a separate process) the node runs with external
 * backends: the embedded servers of this JVM, except MongoDB. Prints a Markdown report.
 */
public final class SendBench {
  /**
   * Each call fails after this long without a byte (the node's own clients do the same: a pooled
   * connection closed by the server under a new request can leave it pending forever in Vert.x
   * 5.0.7, see {@link HttpClientDefaults}).
   */
  static final long REQUEST_IDLE_TIMEOUT_MS = 30_000;

  private final int seconds;
  private final int concurrency;
  private final int conversations;
  private final double rateFactor;
  private final int fixedRate;
  private final int pipelineRecords;
  private final String mongoUriArg;
  private final boolean mongoMemory;
  private final boolean warmup;
  private final int warmupSeconds;
  private Vertx vertx;
  private HttpClient client;

  /** Documents per bulk write in the store ceiling: a full poll of the pipeline. */
  static final int CEILING_BATCH = 500;

  private SendBench(String[] args) {
    seconds = intArg(args, "--seconds", 20);
    concurrency = intArg(args, "--concurrency", 64);
    conversations = intArg(args, "--conversations", 32);
    fixedRate = intArg(args, "--rate", 0);
    rateFactor = intArg(args, "--rate-percent", 80) / 100.0;
    pipelineRecords = intArg(args, "--pipeline-records", 100000);
    mongoUriArg = strArg(args, "--mongo-uri", null);
    mongoMemory = java.util.Arrays.asList(args).contains("--mongo-memory");
    warmupSeconds =
        java.util.Arrays.asList(args).contains("--no-warmup")
            ? 0
            : intArg(args, "--warmup-seconds", 30);
    warmup = warmupSeconds > 0;
  }

  private static String strArg(String[] args, String name, String def) {
    for (int i = 0; i < args.length - 1; i++) {
      if (args[i].equals(name)) {
        return args[i + 1];
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
    Process mongoProcess = null;
    io.chat4all.embedded.EmbeddedBackends backends = null;
    String mongoUri = mongoUriArg;
    if (mongoMemory && mongoUri == null) {
      mongoProcess = startMongoMemory();
      mongoUri = awaitMongoReady(mongoProcess);
    }
    if (mongoUri != null) {
      // the other servers embedded in this JVM, the node configured with external backends
      System.err.println("starting the embedded servers; MongoDB is external: " + mongoUri);
      backends =
          io.chat4all.embedded.EmbeddedBackends.start(
              io.chat4all.embedded.EmbeddedSettings.defaults(data.resolve("backends")));
      cfg.mergeIn(new JsonObject(backends.endpoints().asConfig()), true);
      cfg.getJsonObject("backends").put("mode", "external");
      cfg.getJsonObject("mongo").put("connection_string", mongoUri);
      byte[] key = new byte[48];
      new java.security.SecureRandom().nextBytes(key);
      cfg.getJsonObject("auth")
          .put("jwt_secret", java.util.Base64.getEncoder().encodeToString(key));
    }
    System.err.println("starting a node under " + data + " ...");
    Node node = Node.start(NodeConfig.from(cfg));
    vertx = Vertx.vertx();
    client =
        vertx.createHttpClient(
            new HttpClientOptions()
                .setKeepAlive(true)
                .setKeepAliveTimeout(HttpClientDefaults.KEEP_ALIVE_TIMEOUT_SECONDS)
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
      if (warmup) {
        System.err.println("warming up: the bare endpoint ...");
        saturate(bare.actualPort(), "/", null, () -> body, 5);
      }
      System.err.println("measuring the bare endpoint ...");
      Jit jitBare = new Jit();
      double bareRate = saturate(bare.actualPort(), "/", null, () -> body, 10);
      jitBare.end();
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

      if (warmup) {
        // the JIT compiles the node, the broker and the stores' servers for minutes on two cores:
        // every path once before anything is measured, then until compiling has quieted down
        System.err.println("warming up: durable sends, the pipeline, the store, Redis ...");
        long w = storedTotal(node);
        long sent = counter.get();
        saturateSends(port, nextSend, warmupSeconds);
        awaitDrained(node, w + counter.get() - sent, 300);
        pipelineAlone(node, port, senders, 20000);
        storeCeiling(node, 5);
        feedCeiling(node, 3);
        jitSettled = Jit.awaitQuiet(60);
      }

      // 4. the durable send ceiling (closed loop), then open-loop at a share of it
      System.err.println("measuring durable sends, closed loop ...");
      long before = storedTotal(node);
      long sentBefore = counter.get(); // the warm-up's sends are stored already
      Jit jitSends = new Jit();
      double maxRate = saturateSends(port, nextSend, 10);
      jitSends.end();
      long acceptedClosed = counter.get() - sentBefore;
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

      // 5. the pipeline on its own: a backlog of send records written straight to Kafka
      System.err.println("measuring the pipeline alone (" + pipelineRecords + " records) ...");
      Jit jitPipeline = new Jit();
      double[] pipelineRates = pipelineAlone(node, port, senders, pipelineRecords);
      double pipelineRate = pipelineRates[0];
      double pipelineSteady = pipelineRates[1];
      jitPipeline.end();

      // 6. the store's ceiling: the same documents, same driver, same server, bulk inserts
      System.err.println("measuring the store's own bulk inserts ...");
      Jit jitStore = new Jit();
      double storeRate = storeCeiling(node, 10);
      jitStore.end();

      // 7. Redis: round trips, and the feed appends the pipeline does per message
      System.err.println("measuring Redis ...");
      double redisRoundTrips = redisRoundTrips(node, 5);
      double feedRate = feedCeiling(node, 10);

      // 8. one at a time with the box idle: what a send and each of its round trips cost alone
      System.err.println("measuring latencies one at a time ...");
      double[] idleGet =
          oneAtATime(
              () -> json(port, HttpMethod.GET, "/v1/me", senders.get(0)[0], null).mapEmpty());
      double[] idleSend =
          oneAtATime(
              () -> {
                String[] snd = nextSend.get();
                return post(port, "/v1/messages", snd[0], snd[1]).mapEmpty();
              });
      double[] idleRedis = oneAtATime(() -> node.clients().redisApi().ping(List.of()).mapEmpty());
      String rec = "x".repeat(recordSize);
      double[] idleKafka =
          oneAtATime(
              () ->
                  node.clients()
                      .producer()
                      .send(
                          io.vertx.kafka.client.producer.KafkaProducerRecord.create(
                              "bench.raw", "probe", rec))
                      .mapEmpty());

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
      System.out.printf(
          "| pipeline alone: %d send records drained from Kafka | %.0f messages/s; over the"
              + " second half of the backlog %.0f messages/s |%n",
          pipelineRecords, pipelineRate, pipelineSteady);
      System.out.printf(
          "| store ceiling: bulk inserts of the message documents (%d per write, one in flight,"
              + " %s) | %.0f documents/s — pipeline at %.0f %% of it |%n",
          CEILING_BATCH,
          mongoUri == null ? "embedded MongoDB-wire server, H2 backend" : "external " + mongoUri,
          storeRate,
          100 * pipelineRate / storeRate);
      System.out.printf(
          "| pipeline over the second half of its backlog vs the store ceiling | %.0f %% |%n",
          100 * pipelineSteady / storeRate);
      System.out.printf(
          "| Redis ceiling: round trips (PING, 64 in flight) | %.0f/s |%n", redisRoundTrips);
      System.out.printf(
          "| Redis ceiling: feed appends of the pipeline, 2 per message (%d messages per batch)"
              + " | %.0f messages/s — pipeline at %.0f %% of it |%n",
          CEILING_BATCH, feedRate, 100 * pipelineRate / feedRate);
      System.out.printf(
          "| Kafka ceiling vs pipeline | pipeline at %.1f %% of the raw producer |%n",
          100 * pipelineRate / kafkaRate);
      System.out.printf("| conversations / senders | %d |%n", conversations);
      System.out.printf(
          "| warm-up | %s |%n",
          warmup
              ? String.format(
                  "every phase once (durable sends for %d s), then %.0f s until the JIT compiled"
                      + " < %d ms/s",
                  warmupSeconds, jitSettled, Jit.QUIET_MS_PER_S)
              : "none (--no-warmup)");
      System.out.printf(
          "| JIT compiler threads' CPU per second of the phase (of 2,000 ms on two cores): bare"
              + " endpoint /"
              + " durable sends / pipeline alone / store ceiling | %.0f / %.0f / %.0f / %.0f ms |%n",
          jitBare.perSecond(), jitSends.perSecond(), jitPipeline.perSecond(), jitStore.perSecond());
      System.out.printf(
          "| one at a time, idle box, p50 / p99 (%d each): durable send (202) | %.2f / %.2f ms%s |%n",
          ONE_AT_A_TIME, idleSend[0], idleSend[1], lost(idleSend));
      System.out.printf(
          "| … an authenticated GET /v1/me (HTTP, token check, no backend) | %.2f / %.2f ms%s |%n",
          idleGet[0], idleGet[1], lost(idleGet));
      System.out.printf(
          "| … a Redis round trip (PING, the node's client) | %.2f / %.2f ms%s |%n",
          idleRedis[0], idleRedis[1], lost(idleRedis));
      System.out.printf(
          "| … a Kafka write, acks=all (the node's producer, one record) | %.2f / %.2f ms%s |%n",
          idleKafka[0], idleKafka[1], lost(idleKafka));
      System.out.println();
    } finally {
      await(vertx.close());
      node.close();
      if (backends != null) {
        backends.close();
      }
      if (mongoProcess != null) {
        mongoProcess.destroyForcibly();
      }
    }
  }

  static final int ONE_AT_A_TIME = 300;

  private double jitSettled;

  /**
   * The CPU the JIT's compiler threads took over a phase, from their {@code /proc/self/task}
   * entries (threads named {@code C1 CompilerThre…}/{@code C2 CompilerThre…}); where there is no
   * {@code /proc}, the JVM's own compile time (elapsed, so it also counts time the compiler waited
   * for a core). On two cores a compiler busy for most of a second takes half the box from what is
   * measured.
   */
  static final class Jit {
    static final int QUIET_MS_PER_S = 50;
    private static final java.lang.management.CompilationMXBean BEAN =
        java.lang.management.ManagementFactory.getCompilationMXBean();
    private final long t0 = System.nanoTime();
    private final long c0 = millis();
    private double perSecond;

    void end() {
      double secs = (System.nanoTime() - t0) / 1e9;
      perSecond = (millis() - c0) / secs;
    }

    double perSecond() {
      return perSecond;
    }

    /** Milliseconds of CPU the compiler threads have used so far. */
    static long millis() {
      java.io.File[] tasks = new java.io.File("/proc/self/task").listFiles();
      if (tasks == null) {
        return BEAN.getTotalCompilationTime();
      }
      long jiffies = 0;
      for (java.io.File t : tasks) {
        try {
          String stat = Files.readString(t.toPath().resolve("stat"));
          String name = stat.substring(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
          if (name.startsWith("C1 CompilerThre") || name.startsWith("C2 CompilerThre")) {
            String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
            jiffies += Long.parseLong(f[11]) + Long.parseLong(f[12]);
          }
        } catch (java.io.IOException | RuntimeException gone) {
          // a thread that ended meanwhile
        }
      }
      return jiffies * 10; // USER_HZ is 100 on Linux
    }

    /** Waits (at most {@code maxSeconds}) for 3 s in a row of little compiling; the time waited. */
    static double awaitQuiet(int maxSeconds) throws InterruptedException {
      long t0 = System.nanoTime();
      int quiet = 0;
      long last = millis();
      while (quiet < 3 && System.nanoTime() - t0 < maxSeconds * 1_000_000_000L) {
        Thread.sleep(1000);
        long now = millis();
        quiet = now - last < QUIET_MS_PER_S ? quiet + 1 : 0;
        last = now;
      }
      return (System.nanoTime() - t0) / 1e9;
    }
  }

  /**
   * p50 and p99 (ms) of {@value #ONE_AT_A_TIME} calls made one after the other (after 50), and how
   * many failed or went unanswered for 10 s: counted, not timed, so the step's figures still print.
   */
  private static double[] oneAtATime(Supplier<Future<Void>> call) throws Exception {
    Histogram h = new ConcurrentHistogram(TimeUnit.SECONDS.toMicros(60), 3);
    int lost = 0;
    for (int i = 0; i < 50 + ONE_AT_A_TIME; i++) {
      long t0 = System.nanoTime();
      try {
        call.get().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
      } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
        lost++;
        System.err.println("one-at-a-time call " + i + " failed or unanswered: " + e);
        continue;
      }
      if (i >= 50) {
        h.recordValue((System.nanoTime() - t0) / 1000);
      }
    }
    return new double[] {
      h.getValueAtPercentile(50) / 1000.0, h.getValueAtPercentile(99) / 1000.0, lost
    };
  }

  private static String lost(double[] figures) {
    return figures[2] == 0 ? "" : String.format(" (%.0f failed or unanswered)", figures[2]);
  }

  private static Process startMongoMemory() throws Exception {
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    return new ProcessBuilder(
            java,
            "-Xmx1g",
            "-cp",
            System.getProperty("java.class.path"),
            MongoMemoryServer.class.getName())
        .redirectErrorStream(true)
        .start();
  }

  private static String awaitMongoReady(Process p) throws Exception {
    java.io.BufferedReader r =
        new java.io.BufferedReader(new java.io.InputStreamReader(p.getInputStream()));
    String line;
    while ((line = r.readLine()) != null) {
      if (line.startsWith("MONGO READY ")) {
        Thread drain =
            new Thread(
                () -> {
                  try {
                    while (r.readLine() != null) {
                      // keep the pipe empty
                    }
                  } catch (java.io.IOException ignored) {
                    // the process ended
                  }
                });
        drain.setDaemon(true);
        drain.start();
        return line.substring("MONGO READY ".length()).trim();
      }
    }
    throw new IllegalStateException("the MongoDB-wire process ended before it was ready");
  }

  /**
   * Writes {@code n} send records (as the messaging service writes them) straight to {@code
   * message.sent}, round robin over the conversations, and times the pipeline numbering, storing
   * and publishing all of them.
   */
  /**
   * The pipeline's rate over a backlog of {@code n} send records: over all of it, and over its
   * second half (the JIT and the batch sizes settled).
   */
  private double[] pipelineAlone(Node node, int port, List<String[]> senders, int n)
      throws Exception {
    List<String[]> from = new ArrayList<>();
    for (String[] s : senders) {
      String me = await(json(port, HttpMethod.GET, "/v1/me", s[0], null)).getString("user_id");
      from.add(new String[] {me, s[1]});
    }
    Properties p = new Properties();
    p.put("bootstrap.servers", node.config().kafka().bootstrapServers());
    p.put("acks", "all");
    p.put("linger.ms", "5");
    p.put("key.serializer", StringSerializer.class.getName());
    p.put("value.serializer", StringSerializer.class.getName());
    String topic =
        io.chat4all.codecs.Topics.name(
            node.config().kafka().topicPrefix(), io.chat4all.codecs.Topics.MESSAGE_SENT);
    long before = storedTotal(node);
    long t0 = System.nanoTime();
    try (KafkaProducer<String, String> producer = new KafkaProducer<>(p)) {
      for (int i = 0; i < n; i++) {
        String[] f = from.get(i % from.size());
        JsonObject body = new JsonObject(sampleBody(f[1], UUID.randomUUID().toString()));
        body.put("from_user_id", f[0])
            .put("reply_to_message_id", (String) null)
            .put("channels", new JsonArray())
            .put("created_at", io.chat4all.codecs.Wire.timestamp(java.time.Instant.now()));
        producer.send(new ProducerRecord<>(topic, f[1], body.encode()));
      }
      producer.flush();
    }
    awaitDrained(node, before + n / 2, 600);
    long half = System.nanoTime();
    long halfStored = storedTotal(node);
    awaitDrained(node, before + n, 600);
    long end = System.nanoTime();
    return new double[] {n / ((end - t0) / 1e9), (before + n - halfStored) / ((end - half) / 1e9)};
  }

  /** A message document as the pipeline stores it (private conversation, text, no retention). */
  static JsonObject messageDoc(String conv, long seq, String from, String to) {
    String created = io.chat4all.codecs.Wire.timestamp(java.time.Instant.now());
    JsonObject payload = new JsonObject(sampleBody(conv, "x")).getJsonObject("payload");
    return new JsonObject()
        .put("_id", conv + ":" + seq)
        .put("message_id", UUID.randomUUID().toString())
        .put("conversation_id", conv)
        .put("from_user_id", from)
        .put("to_user_ids", new JsonArray().add(to))
        .put("payload", payload)
        .put("target_channels", new JsonArray())
        .put("status", "sent")
        .put(
            "status_history",
            new JsonArray().add(new JsonObject().put("status", "sent").put("timestamp", created)))
        .put("recipient_status", new JsonObject())
        .put("channel_delivery", new JsonObject())
        .put("sequence_number", seq)
        .put("reply_to_message_id", (String) null)
        .put("is_edited", false)
        .put("is_deleted", false)
        .put("created_at", created)
        .put("updated_at", created);
  }

  /**
   * Bulk inserts of message documents into a collection with the messages' indexes, in a database
   * of its own on the node's MongoDB server, through the same client and call the pipeline uses;
   * one write in flight (as the pipeline).
   */
  private double storeCeiling(Node node, int secs) throws Exception {
    io.vertx.ext.mongo.MongoClient mongo =
        io.vertx.ext.mongo.MongoClient.createShared(
            vertx,
            new JsonObject()
                .put("connection_string", node.config().mongo().connectionString())
                .put("db_name", "bench_ceiling_" + System.nanoTime())
                .put("serverSelectionTimeoutMS", 5000)
                .put("connectTimeoutMS", 5000),
            "bench-ceiling");
    io.chat4all.messaging.MessageStore store = new io.chat4all.messaging.MessageStore(mongo);
    await(store.ensureIndexes());
    List<String[]> convs = new ArrayList<>();
    for (int i = 0; i < conversations; i++) {
      convs.add(
          new String[] {
            UUID.randomUUID().toString(), UUID.randomUUID().toString(), UUID.randomUUID().toString()
          });
    }
    long[] seq = new long[conversations];
    long done = 0;
    long t0 = System.nanoTime();
    long end = t0 + TimeUnit.SECONDS.toNanos(secs);
    while (System.nanoTime() < end) {
      List<JsonObject> docs = new ArrayList<>(CEILING_BATCH);
      for (int i = 0; i < CEILING_BATCH; i++) {
        int c = i % conversations;
        docs.add(messageDoc(convs.get(c)[0], ++seq[c], convs.get(c)[1], convs.get(c)[2]));
      }
      List<io.vertx.ext.mongo.BulkOperation> ops = new ArrayList<>(docs.size());
      for (JsonObject d : docs) {
        ops.add(io.vertx.ext.mongo.BulkOperation.createInsert(d));
      }
      // the pipeline's call: one unordered bulk insert into the messages' collection
      await(
          mongo.bulkWriteWithOptions(
              io.chat4all.messaging.MessageStore.MESSAGES,
              ops,
              new io.vertx.ext.mongo.BulkWriteOptions().setOrdered(false)));
      done += docs.size();
    }
    double rate = done / ((System.nanoTime() - t0) / 1e9);
    await(mongo.close());
    return rate;
  }

  /** Redis PINGs through the node's client, 64 in flight, for {@code secs}. */
  private double redisRoundTrips(Node node, int secs) throws Exception {
    io.vertx.redis.client.Redis redis = node.clients().redis();
    return closedLoop(
        () ->
            redis
                .send(io.vertx.redis.client.Request.cmd(io.vertx.redis.client.Command.PING))
                .map(r -> 200),
        secs);
  }

  /**
   * The pipeline's feed appends (its {@link io.chat4all.messaging.FeedStore}, same client): per
   * message the author's and the recipient's entry, batches of a full poll, one in flight.
   */
  private double feedCeiling(Node node, int secs) throws Exception {
    io.chat4all.messaging.FeedStore feed =
        new io.chat4all.messaging.FeedStore(node.clients().redis(), "bench-ceiling:", 10000);
    List<String[]> convs = new ArrayList<>();
    for (int i = 0; i < conversations; i++) {
      convs.add(
          new String[] {
            UUID.randomUUID().toString(), UUID.randomUUID().toString(), UUID.randomUUID().toString()
          });
    }
    long[] seq = new long[conversations];
    long done = 0;
    long t0 = System.nanoTime();
    long end = t0 + TimeUnit.SECONDS.toNanos(secs);
    while (System.nanoTime() < end) {
      List<java.util.Map.Entry<String, JsonObject>> entries = new ArrayList<>();
      for (int i = 0; i < CEILING_BATCH; i++) {
        int c = i % conversations;
        JsonObject envelope =
            new JsonObject()
                .put("type", "message")
                .put(
                    "message",
                    messageDoc(convs.get(c)[0], ++seq[c], convs.get(c)[1], convs.get(c)[2]));
        entries.add(java.util.Map.entry(convs.get(c)[1], envelope));
        entries.add(java.util.Map.entry(convs.get(c)[2], envelope));
      }
      await(feed.append(entries));
      done += CEILING_BATCH;
    }
    return done / ((System.nanoTime() - t0) / 1e9);
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
    RequestOptions o =
        new RequestOptions()
            .setMethod(method)
            .setPort(port)
            .setURI(path)
            .setIdleTimeout(REQUEST_IDLE_TIMEOUT_MS);
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

  private Future<Integer> post(int port, String path, String token, String body) {
    RequestOptions o =
        new RequestOptions()
            .setMethod(HttpMethod.POST)
            .setPort(port)
            .setURI(path)
            .setIdleTimeout(REQUEST_IDLE_TIMEOUT_MS);
    if (token != null) {
      o.putHeader("Authorization", "Bearer " + token);
    }
    return BenchSupport.exchange(
        vertx,
        client,
        o,
        r -> r.send(Buffer.buffer(body)),
        resp -> resp.body().map(b -> resp.statusCode()));
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
