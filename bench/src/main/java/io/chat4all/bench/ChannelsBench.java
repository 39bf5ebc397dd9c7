package io.chat4all.bench;

import static io.chat4all.bench.BenchSupport.await;
import static io.chat4all.bench.BenchSupport.intArg;

import io.chat4all.channel.telegram.TelegramConnector;
import io.chat4all.codecs.Topics;
import io.chat4all.node.Node;
import io.chat4all.node.config.ConfigLoader;
import io.chat4all.node.config.NodeConfig;
import io.chat4all.testkit.PluginJars;
import io.chat4all.testkit.telegram.TelegramSimulator;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;
import org.HdrHistogram.Histogram;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * {@code ./chat4all bench channels}: outbound delivery to the Telegram Bot API simulator, against
 * the simulator's own rate measured in the same run:
 *
 * <ol>
 *   <li>the bare simulator: {@code sendMessage} calls straight from a Vert.x client, closed loop
 *       with as many calls in flight as delivery may have;
 *   <li>the whole path: {@code POST /v1/messages} (channels: telegram) → Kafka → pipeline → {@code
 *       message.outbound.telegram} → delivery → connector → simulator, messages/s from the first
 *       send to the last arrival, and each message's latency from its send to its arrival;
 *   <li>delivery alone: a backlog of outbound records written straight to Kafka while no connector
 *       runs, then drained once one is back.
 * </ol>
 */
public final class ChannelsBench {
  private static final String TOKEN = "1:bench-token";
  private final int messages;
  private final int recipients;
  private final int concurrency;
  private final int inFlight;
  private Vertx vertx;
  private HttpClient client;

  private ChannelsBench(String[] args) {
    messages = intArg(args, "--messages", 5000);
    recipients = intArg(args, "--recipients", 50);
    concurrency = intArg(args, "--concurrency", 64);
    inFlight = intArg(args, "--in-flight", 32);
  }

  public static void main(String[] args) throws Exception {
    new ChannelsBench(args).run();
    System.exit(0);
  }

  private void run() throws Exception {
    TelegramSimulator sim = TelegramSimulator.start(TOKEN);
    sim.acceptAnyChat(true);
    Path data = Files.createTempDirectory("chat4all-bench-channels");
    byte[] jar = telegramJar();
    Path pluginsDir = data.resolve("plugins");
    PluginJars.drop(pluginsDir, "telegram.jar", jar);
    JsonObject cfg = ConfigLoader.defaults();
    cfg.put("data_dir", data.toString());
    cfg.getJsonObject("http").put("port", 0).put("host", "127.0.0.1");
    cfg.getJsonObject("grpc").put("port", 0).put("host", "127.0.0.1");
    cfg.getJsonObject("rate_limit").put("per_user_per_minute", 0).put("per_ip_per_minute", 0);
    cfg.getJsonObject("auth").put("password_iterations", 1000);
    JsonObject channels = cfg.getJsonObject("channels");
    channels.put("scan_interval_ms", 200);
    channels.getJsonObject("delivery").put("max_in_flight", inFlight);
    channels
        .getJsonObject("telegram")
        .put("base_url", sim.baseUrl())
        .put("bot_token", TOKEN)
        .put("webhook_secret", "bench-secret");
    System.err.println("starting an embedded node under " + data + " ...");
    Node node = Node.start(NodeConfig.from(cfg));
    awaitConnector(node, true);
    vertx = Vertx.vertx();
    client =
        vertx.createHttpClient(
            new HttpClientOptions().setKeepAlive(true).setTcpNoDelay(true),
            new PoolOptions().setHttp1MaxSize(Math.max(concurrency, inFlight)));
    try {
      System.err.println("measuring the bare simulator ...");
      double bare = bareSimulator(sim, 10);
      sim.clearRecords();

      int port = node.httpPort();
      String sender = login(port, "bench_sender");
      List<String> convs = new ArrayList<>();
      List<String[]> targets = new ArrayList<>();
      for (int i = 0; i < recipients; i++) {
        String tok = login(port, "bench_rcpt" + i);
        long chat = 100_000 + i;
        await(
            json(
                port,
                HttpMethod.POST,
                "/v1/me/channels",
                tok,
                new JsonObject()
                    .put("channel_type", "telegram")
                    .put("channel_user_id", Long.toString(chat))));
        String uid = await(json(port, HttpMethod.GET, "/v1/me", tok, null)).getString("user_id");
        convs.add(
            await(
                    json(
                        port,
                        HttpMethod.POST,
                        "/v1/conversations",
                        sender,
                        new JsonObject()
                            .put("type", "private")
                            .put("member_ids", new JsonArray().add(uid))))
                .getString("conversation_id"));
        targets.add(new String[] {uid, Long.toString(chat)});
      }

      System.err.println("whole path: " + messages + " messages ...");
      Map<String, Long> sentAt = new ConcurrentHashMap<>();
      AtomicLong next = new AtomicLong();
      long t0 = System.nanoTime();
      long wall0 = System.currentTimeMillis();
      double acceptRate =
          closedLoop(
              () -> {
                long i = next.getAndIncrement();
                if (i >= messages) {
                  return null;
                }
                String text = "bench " + i;
                sentAt.put(text, System.currentTimeMillis());
                JsonObject body =
                    new JsonObject()
                        .put("conversation_id", convs.get((int) (i % convs.size())))
                        .put("message_id", UUID.randomUUID().toString())
                        .put("payload", new JsonObject().put("type", "text").put("text", text))
                        .put("channels", new JsonArray().add("telegram"));
                return BenchSupport.exchange(
                    vertx,
                    client,
                    new RequestOptions()
                        .setMethod(HttpMethod.POST)
                        .setHost("127.0.0.1")
                        .setPort(port)
                        .setURI("/v1/messages")
                        .putHeader("Authorization", "Bearer " + sender),
                    r -> r.send(body.toBuffer()),
                    resp -> resp.body().map(b -> resp.statusCode()));
              });
      awaitCount(sim, messages, 600);
      List<TelegramSimulator.Sent> arrived = sim.sent();
      long lastArrival = arrived.stream().mapToLong(s -> s.at().toEpochMilli()).max().orElse(wall0);
      double wholeRate = messages / ((lastArrival - wall0) / 1000.0);
      Histogram latency = new Histogram(TimeUnit.MINUTES.toMillis(10), 3);
      for (TelegramSimulator.Sent s : arrived) {
        Long start = sentAt.get(s.text());
        if (start != null) {
          latency.recordValue(Math.max(0, s.at().toEpochMilli() - start));
        }
      }
      double sendSeconds = (System.nanoTime() - t0) / 1e9;
      sim.clearRecords();

      System.err.println("delivery alone: a backlog of " + messages + " records ...");
      Files.delete(pluginsDir.resolve("telegram.jar"));
      awaitConnector(node, false);
      produceBacklog(node.config().kafka().bootstrapServers(), targets);
      PluginJars.drop(pluginsDir, "telegram.jar", jar);
      awaitConnector(node, true);
      long d0 = System.currentTimeMillis();
      awaitCount(sim, messages, 600);
      long dLast = sim.sent().stream().mapToLong(s -> s.at().toEpochMilli()).max().orElse(d0);
      double drainRate = messages / ((dLast - d0) / 1000.0);

      System.out.println();
      System.out.println("## Channel delivery (`./chat4all bench channels`)");
      System.out.println();
      System.out.println("| measure | value |");
      System.out.println("|---|---|");
      System.out.printf(
          "| bare simulator: sendMessage straight from a client (closed loop, %d in flight) | %.0f"
              + " calls/s |%n",
          inFlight, bare);
      System.out.printf(
          "| whole path: REST send → pipeline → delivery → simulator (%d messages, %d recipients,"
              + " %d connections) | %.0f messages/s (%.0f %% of the bare simulator) |%n",
          messages, recipients, concurrency, wholeRate, 100 * wholeRate / bare);
      System.out.printf("| whole path: sends accepted (202) | %.0f sends/s |%n", acceptRate);
      System.out.printf(
          "| whole path: send → arrival at the simulator p50 / p99 / max | %d / %d / %d ms |%n",
          latency.getValueAtPercentile(50),
          latency.getValueAtPercentile(99),
          latency.getMaxValue());
      System.out.printf(
          "| delivery alone: %d outbound records drained from Kafka (%d in flight) | %.0f"
              + " messages/s (%.0f %% of the bare simulator) |%n",
          messages, inFlight, drainRate, 100 * drainRate / bare);
      System.out.printf("| whole-path phase took | %.1f s |%n", sendSeconds);
      System.out.println();
    } finally {
      await(vertx.close());
      node.close();
      sim.close();
    }
  }

  /** The Telegram plugin jar (the built one, or one made from the classes when run from them). */
  private static byte[] telegramJar() throws Exception {
    Path where =
        Path.of(
            TelegramConnector.class.getProtectionDomain().getCodeSource().getLocation().toURI());
    if (Files.isRegularFile(where)) {
      return Files.readAllBytes(where);
    }
    java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
    try (java.util.zip.ZipOutputStream zip = new java.util.zip.ZipOutputStream(out);
        java.util.stream.Stream<Path> files = Files.walk(where)) {
      for (Path f : (Iterable<Path>) files.filter(Files::isRegularFile)::iterator) {
        zip.putNextEntry(
            new java.util.zip.ZipEntry(where.relativize(f).toString().replace('\\', '/')));
        zip.write(Files.readAllBytes(f));
        zip.closeEntry();
      }
    }
    return out.toByteArray();
  }

  private static void awaitConnector(Node node, boolean present) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (node.connectors().active("telegram").isPresent() != present) {
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException(
            "the Telegram connector did not " + (present ? "start" : "stop"));
      }
      Thread.sleep(50);
    }
  }

  /** sendMessage calls straight to the simulator, {@code inFlight} at a time, for {@code secs}. */
  private double bareSimulator(TelegramSimulator sim, int secs) throws Exception {
    URI uri = URI.create(sim.baseUrl() + "/bot" + TOKEN + "/sendMessage");
    AtomicLong i = new AtomicLong();
    long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(secs);
    int saved = concurrencyOverride;
    concurrencyOverride = inFlight;
    try {
      return closedLoop(
          () -> {
            if (System.nanoTime() > end || i.get() > 200_000) {
              return null;
            }
            JsonObject body =
                new JsonObject()
                    .put("chat_id", 200_000 + (i.getAndIncrement() % 64))
                    .put("text", "bare " + i.get());
            return BenchSupport.exchange(
                vertx,
                client,
                new RequestOptions()
                    .setMethod(HttpMethod.POST)
                    .setAbsoluteURI(uri.toString())
                    .putHeader("Content-Type", "application/json"),
                r -> r.send(body.toBuffer()),
                resp -> resp.body().map(b -> resp.statusCode()));
          });
    } finally {
      concurrencyOverride = saved;
    }
  }

  private int concurrencyOverride = -1;

  /** Runs requests from {@code next} (null: no more) with a fixed number in flight; ok/s. */
  private double closedLoop(Supplier<Future<Integer>> next) throws Exception {
    int lanes = concurrencyOverride > 0 ? concurrencyOverride : concurrency;
    AtomicLong ok = new AtomicLong();
    List<Future<Void>> all = new ArrayList<>();
    long t0 = System.nanoTime();
    for (int l = 0; l < lanes; l++) {
      Promise<Void> lane = Promise.promise();
      all.add(lane.future());
      vertx.getOrCreateContext().runOnContext(v -> lane(next, ok, lane));
    }
    await(Future.join(new ArrayList<>(all)));
    return ok.get() / ((System.nanoTime() - t0) / 1e9);
  }

  private void lane(Supplier<Future<Integer>> next, AtomicLong ok, Promise<Void> lane) {
    Future<Integer> f = next.get();
    if (f == null) {
      lane.complete();
      return;
    }
    f.onComplete(
        ar -> {
          if (ar.succeeded() && ar.result() / 100 == 2) {
            ok.incrementAndGet();
          }
          lane(next, ok, lane);
        });
  }

  private static void awaitCount(TelegramSimulator sim, int n, int maxSeconds) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(maxSeconds);
    while (sim.sentCount() < n) {
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException(
            "only " + sim.sentCount() + " of " + n + " arrived within " + maxSeconds + " s");
      }
      Thread.sleep(50);
    }
  }

  /** Outbound records as the pipeline writes them, straight onto the topic. */
  private void produceBacklog(String bootstrap, List<String[]> targets) throws Exception {
    Properties p = new Properties();
    p.put("bootstrap.servers", bootstrap);
    p.put("acks", "all");
    p.put("key.serializer", StringSerializer.class.getName());
    p.put("value.serializer", StringSerializer.class.getName());
    String conv = UUID.randomUUID().toString();
    try (KafkaProducer<String, String> producer = new KafkaProducer<>(p)) {
      for (int i = 0; i < messages; i++) {
        String[] t = targets.get(i % targets.size());
        JsonObject message =
            new JsonObject()
                .put("message_id", UUID.randomUUID().toString())
                .put("conversation_id", conv)
                .put("sequence_number", (long) i + 1)
                .put("from_user_id", UUID.randomUUID().toString())
                .put("payload", new JsonObject().put("type", "text").put("text", "backlog " + i));
        JsonObject record =
            new JsonObject()
                .put("message", message)
                .put("recipient_user_id", t[0])
                .put("channel", "telegram")
                .put("channel_user_id", t[1]);
        producer.send(new ProducerRecord<>(Topics.outbound("telegram"), t[0], record.encode()));
      }
      producer.flush();
    }
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
        new RequestOptions().setMethod(method).setHost("127.0.0.1").setPort(port).setURI(path);
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
}
