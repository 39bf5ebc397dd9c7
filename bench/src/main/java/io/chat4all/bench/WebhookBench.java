package io.chat4all.bench;

import static io.chat4all.bench.BenchSupport.await;
import static io.chat4all.bench.BenchSupport.intArg;

import io.chat4all.codecs.Topics;
import io.chat4all.codecs.Wire;
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
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.HdrHistogram.ConcurrentHistogram;
import org.HdrHistogram.Histogram;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * {@code ./chat4all bench webhooks}: webhook deliveries to a local receiver against an embedded
 * node. The events are {@code message.stored} records (what the pipeline publishes for a stored
 * message) produced straight to Kafka, so the numbers are the webhook path's own: dispatcher
 * fan-out into PostgreSQL, claims, signed HTTP POSTs, outcome records. Measured: a burst
 * (deliveries per second until all arrived), an open loop at a share of that rate (event → delivery
 * latency, from the event's created_at to its arrival at the receiver), a few REST sends through
 * the whole pipeline, and — as the ceiling — the bare receiver's own rate with the same client
 * load. Prints a Markdown report.
 */
public final class WebhookBench {
  private final int webhooks;
  private final int conversations;
  private final int burst;
  private final int seconds;
  private final int perWebhook;
  private final int ratePercent;
  private Vertx vertx;
  private HttpClient client;
  private final Set<String> deliveryIds = ConcurrentHashMap.newKeySet();
  private final AtomicLong received = new AtomicLong();
  private final AtomicLong duplicates = new AtomicLong();
  private volatile Histogram latency = new ConcurrentHistogram(TimeUnit.MINUTES.toMicros(10), 3);

  private WebhookBench(String[] args) {
    webhooks = intArg(args, "--webhooks", 4);
    conversations = intArg(args, "--conversations", 32);
    burst = intArg(args, "--events", 5000);
    seconds = intArg(args, "--seconds", 20);
    perWebhook = intArg(args, "--concurrency-per-webhook", 4);
    ratePercent = intArg(args, "--rate-percent", 50);
  }

  public static void main(String[] args) throws Exception {
    new WebhookBench(args).run();
    System.exit(0);
  }

  private void run() throws Exception {
    Path data = Files.createTempDirectory("chat4all-bench-webhooks");
    JsonObject cfg = ConfigLoader.defaults();
    cfg.put("data_dir", data.toString());
    cfg.getJsonObject("http").put("port", 0).put("host", "127.0.0.1");
    cfg.getJsonObject("grpc").put("port", 0).put("host", "127.0.0.1");
    cfg.getJsonObject("rate_limit").put("per_user_per_minute", 0).put("per_ip_per_minute", 0);
    cfg.getJsonObject("auth").put("password_iterations", 1000);
    cfg.getJsonObject("webhooks")
        .put("allow_http", true)
        .put("allow_private_addresses", true)
        .put("max_concurrency_per_webhook", perWebhook);
    System.err.println("starting an embedded node under " + data + " ...");
    Node node = Node.start(NodeConfig.from(cfg));
    vertx = Vertx.vertx();
    client =
        vertx.createHttpClient(
            new HttpClientOptions()
                .setKeepAlive(true)
                .setTcpNoDelay(true)
                .setDefaultHost("127.0.0.1"),
            new PoolOptions().setHttp1MaxSize(64).setMaxWaitQueueSize(-1));
    HttpServer receiver =
        await(vertx.createHttpServer().requestHandler(this::receive).listen(0, "127.0.0.1"));
    try {
      int port = node.httpPort();
      String topic = Topics.name(node.config().kafka().topicPrefix(), Topics.MESSAGE_STORED);

      // 1. the ceiling: the receiver alone, as many concurrent POSTs as the node may have in flight
      int inFlight = webhooks * perWebhook;
      String sample = event(UUID.randomUUID().toString(), UUID.randomUUID().toString(), "x", "y");
      System.err.println("measuring the bare receiver (" + inFlight + " concurrent POSTs) ...");
      double bare = bareReceiver(receiver.actualPort(), sample, inFlight, 10);
      resetCounters();

      // 2. an owner in every conversation, with its webhooks
      String owner = login(port, "hookbench_owner");
      String ownerId =
          await(json(port, HttpMethod.GET, "/v1/me", owner, null)).getString("user_id");
      List<String[]> convs = new ArrayList<>();
      for (int i = 0; i < conversations; i++) {
        String other = login(port, "hookbench_" + i);
        String otherId =
            await(json(port, HttpMethod.GET, "/v1/me", other, null)).getString("user_id");
        String conv =
            await(
                    json(
                        port,
                        HttpMethod.POST,
                        "/v1/conversations",
                        other,
                        new JsonObject()
                            .put("type", "private")
                            .put("member_ids", new JsonArray().add(ownerId))))
                .getString("conversation_id");
        convs.add(new String[] {conv, otherId, other});
      }
      for (int i = 0; i < webhooks; i++) {
        await(
            json(
                port,
                HttpMethod.POST,
                "/v1/webhooks",
                owner,
                new JsonObject()
                    .put("url", "http://127.0.0.1:" + receiver.actualPort() + "/hook/" + i)
                    .put("events", new JsonArray().add("message.created"))));
      }

      Properties p = new Properties();
      p.put("bootstrap.servers", node.config().kafka().bootstrapServers());
      p.put("acks", "all");
      p.put("linger.ms", "2");
      p.put("key.serializer", StringSerializer.class.getName());
      p.put("value.serializer", StringSerializer.class.getName());
      try (KafkaProducer<String, String> producer = new KafkaProducer<>(p)) {
        // 3. a burst: every event at once, deliveries/s until the last arrived
        System.err.println("burst of " + burst + " events x " + webhooks + " webhooks ...");
        long t0 = System.nanoTime();
        for (int i = 0; i < burst; i++) {
          String[] c = convs.get(i % convs.size());
          producer.send(
              new ProducerRecord<>(
                  topic, c[0], event(c[0], UUID.randomUUID().toString(), c[1], ownerId)));
        }
        producer.flush();
        awaitReceived((long) burst * webhooks, 600);
        double burstSeconds = (System.nanoTime() - t0) / 1e9;
        double burstRate = burst * (double) webhooks / burstSeconds;
        Histogram burstLatency = latency;
        long burstDuplicates = duplicates.get();
        resetCounters();

        // 4. open loop at a share of the burst rate: event → delivery latency
        int eventRate = Math.max(10, (int) (burstRate / webhooks * ratePercent / 100));
        System.err.println("open loop at " + eventRate + " events/s for " + seconds + " s ...");
        long total = (long) eventRate * seconds;
        long start = System.nanoTime();
        for (long i = 0; i < total; i++) {
          long due = start + (long) (i * 1e9 / eventRate);
          while (System.nanoTime() < due) {
            Thread.onSpinWait();
          }
          String[] c = convs.get((int) (i % convs.size()));
          producer.send(
              new ProducerRecord<>(
                  topic, c[0], event(c[0], UUID.randomUUID().toString(), c[1], ownerId)));
        }
        producer.flush();
        awaitReceived(total * webhooks, 600);
        Histogram open = latency;
        long openDuplicates = duplicates.get();
        resetCounters();

        // 5. through the whole platform: REST sends, pipeline, message.stored, webhooks
        int sends = 200;
        System.err.println(sends + " REST sends through the pipeline ...");
        for (int i = 0; i < sends; i++) {
          String[] c = convs.get(i % convs.size());
          await(
              json(
                  port,
                  HttpMethod.POST,
                  "/v1/messages",
                  c[2],
                  new JsonObject()
                      .put("conversation_id", c[0])
                      .put("message_id", UUID.randomUUID().toString())
                      .put(
                          "payload",
                          new JsonObject().put("type", "text").put("text", "e2e " + i))));
          Thread.sleep(10);
        }
        awaitReceived((long) sends * webhooks, 300);
        Histogram e2e = latency;

        System.out.println();
        System.out.println("## Webhook deliveries (`./chat4all bench webhooks`)");
        System.out.println();
        System.out.println("| measure | value |");
        System.out.println("|---|---|");
        System.out.printf(
            "| bare receiver, same JSON body (closed loop, %d connections) | %.0f req/s |%n",
            inFlight, bare);
        System.out.printf(
            "| burst: %d events × %d webhooks (%d in flight per webhook) | %.0f deliveries/s (%.0f %% of bare), all in %.1f s |%n",
            burst, webhooks, perWebhook, burstRate, 100 * burstRate / bare, burstSeconds);
        System.out.printf(
            "| burst: event → delivery p50 / p99 | %.0f / %.0f ms |%n",
            burstLatency.getValueAtPercentile(50) / 1000.0,
            burstLatency.getValueAtPercentile(99) / 1000.0);
        System.out.printf(
            "| open loop: %d events/s × %d webhooks for %d s | %d deliveries |%n",
            eventRate, webhooks, seconds, open.getTotalCount());
        System.out.printf(
            "| open loop: event → delivery p50 / p99 / p99.9 | %.1f / %.1f / %.1f ms |%n",
            open.getValueAtPercentile(50) / 1000.0,
            open.getValueAtPercentile(99) / 1000.0,
            open.getValueAtPercentile(99.9) / 1000.0);
        System.out.printf(
            "| REST send → webhook (through the pipeline), %d sends, p50 / p99 | %.1f / %.1f ms |%n",
            sends, e2e.getValueAtPercentile(50) / 1000.0, e2e.getValueAtPercentile(99) / 1000.0);
        System.out.printf(
            "| duplicate deliveries (burst / open loop) | %d / %d |%n",
            burstDuplicates, openDuplicates);
        System.out.println();
      }
    } finally {
      await(vertx.close());
      node.close();
    }
  }

  /** The receiver: counts each delivery once, records event → arrival latency, answers 200. */
  private void receive(HttpServerRequest req) {
    req.body()
        .onSuccess(
            b -> {
              String id = req.getHeader("Chat4All-Delivery-Id");
              if (id != null) {
                if (deliveryIds.add(id)) {
                  try {
                    Instant created = Instant.parse(b.toJsonObject().getString("created_at"));
                    latency.recordValue(
                        Math.max(0, (System.currentTimeMillis() - created.toEpochMilli()) * 1000));
                  } catch (RuntimeException ignored) {
                    // not a delivery body
                  }
                  received.incrementAndGet();
                } else {
                  duplicates.incrementAndGet();
                }
              }
              req.response().setStatusCode(200).end();
            });
  }

  private void resetCounters() {
    deliveryIds.clear();
    received.set(0);
    duplicates.set(0);
    latency = new ConcurrentHistogram(TimeUnit.MINUTES.toMicros(10), 3);
  }

  private void awaitReceived(long target, int maxSeconds) throws Exception {
    long t0 = System.nanoTime();
    while (received.get() < target) {
      if (System.nanoTime() - t0 > TimeUnit.SECONDS.toNanos(maxSeconds)) {
        System.err.println("only " + received.get() + " of " + target + " deliveries arrived");
        return;
      }
      Thread.sleep(20);
    }
  }

  /** A message.stored record as the pipeline writes it, created now. */
  private static String event(String conv, String messageId, String from, String to) {
    String now = Wire.timestamp(Instant.now());
    JsonObject message =
        new JsonObject()
            .put("message_id", messageId)
            .put("conversation_id", conv)
            .put("from_user_id", from)
            .put("to_user_ids", new JsonArray().add(to))
            .put(
                "payload",
                new JsonObject()
                    .put("type", "text")
                    .put("text", "benchmark message with a realistic length of text, ".repeat(3)))
            .put("status", "sent")
            .put("sequence_number", 1)
            .put("is_edited", false)
            .put("is_deleted", false)
            .put("created_at", now)
            .put("updated_at", now);
    return new JsonObject().put("type", "message").put("message", message).encode();
  }

  /** Closed loop of {@code concurrency} POSTs of a delivery-like request to the receiver. */
  private double bareReceiver(int port, String event, int concurrency, int secs) throws Exception {
    String body =
        new JsonObject()
            .put("id", UUID.randomUUID().toString())
            .put("type", "message.created")
            .put("created_at", Wire.timestamp(Instant.now()))
            .put("data", new JsonObject(event).getJsonObject("message"))
            .encode();
    AtomicLong ok = new AtomicLong();
    long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(secs);
    List<Future<Void>> lanes = new ArrayList<>();
    long t0 = System.nanoTime();
    for (int i = 0; i < concurrency; i++) {
      Promise<Void> lane = Promise.promise();
      lanes.add(lane.future());
      vertx.getOrCreateContext().runOnContext(v -> bareLane(port, body, ok, end, lane));
    }
    await(Future.join(new ArrayList<>(lanes)));
    return ok.get() / ((System.nanoTime() - t0) / 1e9);
  }

  private void bareLane(int port, String body, AtomicLong ok, long end, Promise<Void> lane) {
    if (System.nanoTime() >= end) {
      lane.complete();
      return;
    }
    RequestOptions o =
        new RequestOptions()
            .setMethod(HttpMethod.POST)
            .setPort(port)
            .setURI("/bare")
            .putHeader("Content-Type", "application/json")
            .putHeader("Chat4All-Delivery-Id", UUID.randomUUID().toString());
    BenchSupport.exchange(
            vertx,
            client,
            o,
            r -> r.send(Buffer.buffer(body)),
            resp -> resp.body().map(b -> resp.statusCode()))
        .onComplete(
            ar -> {
              if (ar.succeeded() && ar.result() == 200) {
                ok.incrementAndGet();
              }
              bareLane(port, body, ok, end, lane);
            });
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
    return BenchSupport.exchange(
        vertx,
        client,
        o,
        r -> body == null ? r.send() : r.send(body.toBuffer()),
        resp -> resp.body().map(b -> b.length() == 0 ? new JsonObject() : b.toJsonObject()));
  }
}
