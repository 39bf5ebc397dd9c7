package io.chat4all.bench;

import static io.chat4all.bench.BenchSupport.intArg;

import io.chat4all.codecs.Wire;
import io.chat4all.messaging.MessageStore;
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
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Request;
import io.vertx.redis.client.Response;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.IntFunction;
import org.HdrHistogram.Histogram;

/**
 * {@code ./chat4all bench scale}: does the cost of a read or a send grow with the stored data? An
 * embedded node in this JVM; {@code --conversations} group conversations of a sender and a reader
 * are filled straight through the store's bulk path ({@link MessageStore#insertAll}) with the
 * documents the pipeline writes (one message document per message), the feed entries it appends and
 * the PostgreSQL counters and horizons it moves, to each of {@code --levels} (default {@code
 * --small},{@code --messages}) messages in all. At each level, one request at a time: history pages
 * (newest and deep), single message, sync, conversation lists, and sends (202 and send → socket
 * receive, into conversations the fill never touches, so the pipeline's cached counters stay
 * right). Prints a Markdown report; the figure that counts is large / small of the same run.
 */
public final class ScaleBench {
  private final int conversations;
  private final long[] levels;
  private final int listConversations;
  private final int samples;
  private final int sendConversations = 8;
  private final Random random = new Random(42);
  private Vertx vertx;
  private HttpClient client;
  private int port;
  private Node node;
  private int retentionDays;
  private String feedPrefix;
  private int feedMax;

  private final List<String> convs = new ArrayList<>();
  private final List<String> sendConvs = new ArrayList<>();
  private final Map<String, Long> received = new ConcurrentHashMap<>();
  private String sender;
  private String senderId;
  private String reader;
  private String readerId;
  private long filledPerConv;
  private WebSocket socket;
  private WebSocketClient wsClient;
  private int notReceived;

  private ScaleBench(String[] args) {
    conversations = intArg(args, "--conversations", 1000);
    long small = intArg(args, "--small", 10_000);
    long large = intArg(args, "--messages", 1_000_000);
    String between = null;
    for (int i = 0; i < args.length - 1; i++) {
      if (args[i].equals("--levels")) {
        between = args[i + 1];
      }
    }
    levels =
        between == null
            ? new long[] {small, large}
            : java.util.Arrays.stream(between.split(",")).mapToLong(Long::parseLong).toArray();
    listConversations = intArg(args, "--list-conversations", 5000);
    samples = intArg(args, "--samples", 200);
  }

  public static void main(String[] args) throws Exception {
    new ScaleBench(args).run();
    System.exit(0);
  }

  static <T> T await(Future<T> f) throws Exception {
    return f.toCompletionStage().toCompletableFuture().get(600, TimeUnit.SECONDS);
  }

  static void log(String s) {
    System.err.println(java.time.LocalTime.now() + " bench: " + s);
  }

  private void run() throws Exception {
    Path data = Files.createTempDirectory("chat4all-scale");
    JsonObject cfg = ConfigLoader.defaults();
    cfg.put("data_dir", data.toString());
    cfg.getJsonObject("http")
        .put("port", 0)
        .put("host", "127.0.0.1")
        .put("max_connections_per_ip", 0);
    cfg.getJsonObject("grpc").put("port", 0).put("host", "127.0.0.1");
    cfg.getJsonObject("rate_limit").put("per_user_per_minute", 0).put("per_ip_per_minute", 0);
    cfg.getJsonObject("auth").put("password_iterations", 1000);
    log("starting an embedded node under " + data + " ...");
    node = Node.start(NodeConfig.from(cfg));
    port = node.httpPort();
    retentionDays = cfg.getJsonObject("messaging").getInteger("retention_days", 0);
    feedMax = cfg.getJsonObject("messaging").getInteger("feed_max_entries", 10_000);
    feedPrefix = node.config().redis().keyPrefix() + "feed:";
    vertx = Vertx.vertx();
    client =
        vertx.createHttpClient(
            new HttpClientOptions().setKeepAlive(true).setTcpNoDelay(true),
            new PoolOptions().setHttp1MaxSize(16).setMaxWaitQueueSize(-1));
    MessageStore store = new MessageStore(node.clients().mongo());
    List<String> rows = new ArrayList<>();
    try {
      sender = Http.login(this, "sc_sender");
      reader = Http.login(this, "sc_reader");
      senderId = userId(sender);
      readerId = userId(reader);
      String lister = Http.login(this, "sc_lister");
      String few = Http.login(this, "sc_few");
      log("creating " + conversations + " + " + sendConversations + " conversations ...");
      convs.addAll(groups(sender, readerId, conversations));
      sendConvs.addAll(groups(sender, readerId, levels.length * sendConversations));
      log("creating " + listConversations + " conversations of one user ...");
      listGroups(userId(lister), readerId, listConversations);
      groups(few, readerId, 10);
      socket = openSocket(reader);

      Level first = null;
      for (int l = 0; l < levels.length; l++) {
        Level level =
            measure(
                store,
                levels[l],
                sendConvs.subList(l * sendConversations, (l + 1) * sendConversations),
                lister,
                few);
        if (first == null) {
          first = level;
        }
        // each level is printed as soon as it is measured, against the first
        List<String> table = report(first, level);
        System.out.println();
        System.out.println(
            "### " + level.stored() + " stored messages (ratio to " + first.stored() + ")");
        System.out.println();
        System.out.println(
            "| measure | "
                + first.stored()
                + " stored | "
                + level.stored()
                + " stored | ratio p50 /"
                + " p99 |");
        System.out.println("|---|---|---|---|");
        table.forEach(System.out::println);
        System.out.flush();
      }
      socket.close();
      rows.add(
          "sends not received on the reader's socket within 30 s (counted as 30 s): "
              + notReceived);
      rows.add(explainList(lister));
    } finally {
      System.out.println();
      rows.forEach(System.out::println);
      node.close();
      vertx.close();
      deleteTree(data);
    }
  }

  /** One level's histograms, by measure name, in report order. */
  record Level(long stored, Map<String, Histogram> figures, double fillSecs) {}

  private Level measure(
      MessageStore store, long total, List<String> sendTo, String lister, String few)
      throws Exception {
    long perConv = total / conversations;
    long t0 = System.nanoTime();
    fill(store, perConv);
    double fillSecs = (System.nanoTime() - t0) / 1e9;
    log(
        String.format(
            "filled to %d messages in %.0f s; measuring ...", perConv * conversations, fillSecs));
    Map<String, Histogram> f = new java.util.LinkedHashMap<>();
    List<String> cursors = feedCursors(readerId);
    f.put("history, newest page (50)", time(i -> historyPage(null)));
    f.put(
        "history, deep page (50, before a random seq)",
        time(i -> historyPage(1 + random.nextLong(perConv))));
    f.put("single message by id", time(i -> singleMessage(perConv)));
    f.put(
        "sync, 50 entries from a cursor",
        time(i -> sync(cursors.get(random.nextInt(cursors.size())))));
    f.put("conversation list, user in 10 conversations", time(i -> list(few)));
    f.put(
        "conversation list, user in " + listConversations + " conversations",
        time(i -> list(lister)));
    Histogram accept = new Histogram(TimeUnit.SECONDS.toMicros(60), 3);
    Histogram receive = new Histogram(TimeUnit.SECONDS.toMicros(60), 3);
    sends(sendTo, accept, receive);
    f.put("send: 202 (one at a time)", accept);
    f.put("send → reader's socket receives it", receive);
    return new Level(perConv * conversations, f, fillSecs);
  }

  // --- the fill: what the pipeline writes, straight through the store's bulk path ---

  /** Fills every conversation from its current count to {@code perConv} messages, seq by seq. */
  private void fill(MessageStore store, long perConv) throws Exception {
    long from = filledPerConv + 1;
    Instant base = Instant.now().minus(2, ChronoUnit.DAYS);
    List<Future<Void>> inFlight = new ArrayList<>();
    long feedFrom = Math.max(from, perConv - (feedMax / conversations) - 1);
    for (long seq = from; seq <= perConv; seq++) {
      List<JsonObject> docs = new ArrayList<>(conversations);
      for (int c = 0; c < conversations; c++) {
        String conv = convs.get(c);
        String created = Wire.timestamp(base.plusMillis(seq * 1000 + c));
        JsonObject doc = document(conv, seq, created);
        docs.add(doc);
      }
      // the pipeline's order: the message documents (one per message), then both members' feeds
      Future<Void> w = bulk(store, MessageStore.MESSAGES, docs);
      if (seq >= feedFrom) {
        w = w.compose(v -> appendFeeds(docs));
      }
      inFlight.add(w);
      if (inFlight.size() >= 2) {
        await(inFlight.remove(0));
      }
      if (seq % 20 == 0) {
        log("  fill: " + seq * conversations + " messages");
      }
    }
    for (Future<Void> w : inFlight) {
      await(w);
    }
    counters(perConv, base);
    filledPerConv = perConv;
  }

  /**
   * The store's bulk insert in chunks of 250 documents, each retried (duplicates are skipped) when
   * the embedded server, starved of CPU on a loaded box, answers too late.
   */
  private Future<Void> bulk(MessageStore store, String collection, List<JsonObject> docs) {
    Future<Void> chain = Future.succeededFuture();
    for (int from = 0; from < docs.size(); from += 250) {
      List<JsonObject> chunk = docs.subList(from, Math.min(docs.size(), from + 250));
      chain = chain.compose(v -> retried(() -> store.insertAll(collection, chunk), 5));
    }
    return chain;
  }

  private static Future<Void> retried(java.util.function.Supplier<Future<Void>> op, int left) {
    return op.get()
        .recover(
            err -> {
              if (left <= 1) {
                return Future.failedFuture(err);
              }
              log("bulk write failed, retrying: " + err.getMessage());
              return retried(op, left - 1);
            });
  }

  /** The message document as the pipeline stores it (Pipeline#document, a text send). */
  private JsonObject document(String conv, long seq, String created) {
    JsonObject doc =
        new JsonObject()
            .put("_id", MessageStore.key(conv, seq))
            .put("message_id", messageId(conv, seq))
            .put("conversation_id", conv)
            .put("from_user_id", senderId)
            .put("to_user_ids", new JsonArray().add(readerId))
            .put(
                "payload",
                new JsonObject()
                    .put("type", "text")
                    .put("text", "scale message " + seq + " of " + conv + ", a line of chat text"))
            .put("target_channels", new JsonArray())
            .put("status", "sent")
            .put(
                "status_history",
                new JsonArray()
                    .add(new JsonObject().put("status", "sent").put("timestamp", created)))
            .put("recipient_status", new JsonObject())
            .put("channel_delivery", new JsonObject())
            .put("sequence_number", seq)
            .put("reply_to_message_id", (String) null)
            .put("is_edited", false)
            .put("is_deleted", false)
            .put("created_at", created)
            .put("updated_at", created);
    if (retentionDays > 0) {
      Instant expires = Instant.parse(created).plus(retentionDays, ChronoUnit.DAYS);
      doc.put("ttl_expire_at", new JsonObject().put("$date", Wire.timestamp(expires)));
    }
    return doc;
  }

  static String messageId(String conv, long seq) {
    return UUID.nameUUIDFromBytes((conv + ":" + seq).getBytes(StandardCharsets.UTF_8)).toString();
  }

  /** What FeedStore appends for a stored message: a reference, in each member's capped stream. */
  private Future<Void> appendFeeds(List<JsonObject> docs) {
    List<Request> batch = new ArrayList<>();
    for (JsonObject d : docs) {
      JsonObject envelope =
          new JsonObject()
              .put("type", "message")
              .put(
                  "message_ref",
                  new JsonObject()
                      .put("conversation_id", d.getString("conversation_id"))
                      .put("sequence_number", d.getLong("sequence_number"))
                      .put("message_id", d.getString("message_id")));
      for (String u : List.of(senderId, readerId)) {
        batch.add(
            Request.cmd(Command.XADD)
                .arg(feedPrefix + u)
                .arg("MAXLEN")
                .arg(feedMax)
                .arg("*")
                .arg("e")
                .arg(envelope.encode()));
      }
    }
    return node.clients().redis().batch(batch).mapEmpty();
  }

  /**
   * What ReadHorizons#afterSends moves once per conversation and batch: the conversation's last
   * message and counter, the sender's read and delivered horizons and their steps, and every
   * member's activity (the conversation list's order).
   */
  private void counters(long perConv, Instant base) throws Exception {
    List<Tuple> batch = new ArrayList<>();
    List<Tuple> members = new ArrayList<>();
    List<Tuple> steps = new ArrayList<>();
    for (int c = 0; c < conversations; c++) {
      String conv = convs.get(c);
      OffsetDateTime at = OffsetDateTime.parse(Wire.timestamp(base.plusMillis(perConv * 1000 + c)));
      UUID last = UUID.fromString(messageId(conv, perConv));
      UUID cid = UUID.fromString(conv);
      batch.add(Tuple.of(cid, perConv, last, at, "scale message " + perConv + " of " + conv));
      members.add(Tuple.of(cid, UUID.fromString(senderId), perConv, at, last));
      steps.add(Tuple.of(cid, UUID.fromString(senderId), perConv, at));
    }
    var pg = node.clients().pg();
    await(
        pg.preparedQuery(
                "UPDATE conversations SET last_seq = $2, last_message_id = $3, last_message_at = $4,"
                    + " last_message_snippet = left($5, 100), updated_at = now()"
                    + " WHERE conversation_id = $1 AND last_seq < $2")
            .executeBatch(batch));
    await(
        pg.preparedQuery(
                "UPDATE conversation_members SET last_read_seq = $3, last_read_at = $4,"
                    + " last_read_message_id = $5, last_delivered_seq = $3, last_delivered_at = $4"
                    + " WHERE conversation_id = $1 AND user_id = $2")
            .executeBatch(members));
    await(
        pg.preparedQuery(
                "UPDATE conversation_members m SET activity_at = c.last_message_at"
                    + " FROM conversations c WHERE c.conversation_id = $1"
                    + " AND m.conversation_id = $1 AND m.activity_at <> c.last_message_at")
            .executeBatch(batch.stream().map(t -> Tuple.of(t.getUUID(0))).toList()));
    await(
        pg.preparedQuery(
                "INSERT INTO horizon_steps (conversation_id, user_id, status, upto_seq, at)"
                    + " VALUES ($1, $2, 'read', $3, $4), ($1, $2, 'delivered', $3, $4)"
                    + " ON CONFLICT DO NOTHING")
            .executeBatch(steps));
  }

  // --- the measures ---

  private Histogram time(IntFunction<Future<Integer>> op) throws Exception {
    for (int i = 0; i < 20; i++) {
      await(op.apply(i)); // warm-up
    }
    Histogram h = new Histogram(TimeUnit.SECONDS.toMicros(60), 3);
    for (int i = 0; i < samples; i++) {
      long t0 = System.nanoTime();
      int status = await(op.apply(i));
      if (status != 200) {
        throw new IllegalStateException("request answered " + status);
      }
      h.recordValue(Math.max(1, (System.nanoTime() - t0) / 1000));
    }
    return h;
  }

  private Future<Integer> historyPage(Long before) {
    String conv = convs.get(random.nextInt(convs.size()));
    String uri = "/v1/conversations/" + conv + "/messages?limit=50";
    if (before != null) {
      uri += "&before_seq=" + Math.max(2, before);
    }
    return status(HttpMethod.GET, uri, reader, expectItems());
  }

  private Future<Integer> singleMessage(long perConv) {
    String conv = convs.get(random.nextInt(convs.size()));
    long seq = 1 + random.nextLong(perConv);
    return status(HttpMethod.GET, "/v1/messages/" + messageId(conv, seq), reader, null);
  }

  private Future<Integer> sync(String cursor) {
    return status(HttpMethod.GET, "/v1/sync?limit=50&cursor=" + cursor, reader, expectItems());
  }

  private Future<Integer> list(String token) {
    return status(HttpMethod.GET, "/v1/conversations?limit=50", token, expectItems());
  }

  /** A 200 whose page is empty would measure nothing: it counts as a failure. */
  private static java.util.function.Predicate<JsonObject> expectItems() {
    return page -> !page.getJsonArray("items", new JsonArray()).isEmpty();
  }

  /** Cursors of the reader's feed at least 50 entries before its end. */
  private List<String> feedCursors(String userId) throws Exception {
    Response r =
        await(
            node.clients()
                .redis()
                .send(
                    Request.cmd(Command.XREVRANGE)
                        .arg(feedPrefix + userId)
                        .arg("+")
                        .arg("-")
                        .arg("COUNT")
                        .arg(2000)));
    List<String> out = new ArrayList<>();
    for (int i = 50; i < r.size(); i++) {
      out.add(
          Base64.getUrlEncoder()
              .withoutPadding()
              .encodeToString(r.get(i).get(0).toString().getBytes(StandardCharsets.UTF_8)));
    }
    if (out.isEmpty()) {
      throw new IllegalStateException("the reader's feed holds fewer than 51 entries");
    }
    return out;
  }

  /** Sends one at a time; 202 latency, and send start → the reader's socket gets it. */
  private void sends(List<String> to, Histogram accept, Histogram receive) throws Exception {
    if (socket.isClosed()) {
      log("the reader's socket was closed; connecting again");
      socket = openSocket(reader);
    }
    for (int i = 0; i < samples / 2 + 20; i++) {
      String conv = to.get(i % to.size());
      String id = UUID.randomUUID().toString();
      long t0 = System.nanoTime();
      received.remove(id);
      int status = await(post(sender, SendBench.sampleBody(conv, id)));
      long t1 = System.nanoTime();
      if (status != 202) {
        throw new IllegalStateException("send answered " + status);
      }
      long deadline = t0 + TimeUnit.SECONDS.toNanos(30);
      while (!received.containsKey(id) && System.nanoTime() < deadline) {
        Thread.sleep(0, 200_000);
      }
      Long at = received.get(id);
      if (i >= 20) {
        accept.recordValue(Math.max(1, (t1 - t0) / 1000));
        if (at == null) {
          // counted as 30 s, so it shows in p99; the report says how many
          notReceived++;
          log(
              "the reader's socket did not get "
                  + id
                  + " within 30 s (socket closed: "
                  + socket.isClosed()
                  + ")");
        }
        receive.recordValue(
            at == null ? TimeUnit.SECONDS.toMicros(30) : Math.max(1, (at - t0) / 1000));
      }
    }
  }

  private List<String> report(Level a, Level b) {
    List<String> out = new ArrayList<>();
    out.add(
        String.format(
            "| fill (messages, feeds, counters) | %.0f s | %.0f s" + " more (%.0f messages/s) | |",
            a.fillSecs(), b.fillSecs(), (b.stored() - a.stored()) / Math.max(0.001, b.fillSecs())));
    for (String k : a.figures().keySet()) {
      Histogram x = a.figures().get(k);
      Histogram y = b.figures().get(k);
      out.add(
          String.format(
              "| %s: p50 / p99 | %.1f / %.1f ms | %.1f / %.1f ms | %.2f / %.2f |",
              k,
              x.getValueAtPercentile(50) / 1000.0,
              x.getValueAtPercentile(99) / 1000.0,
              y.getValueAtPercentile(50) / 1000.0,
              y.getValueAtPercentile(99) / 1000.0,
              (double) y.getValueAtPercentile(50) / x.getValueAtPercentile(50),
              (double) y.getValueAtPercentile(99) / x.getValueAtPercentile(99)));
    }
    return out;
  }

  /** The plan PostgreSQL picks for the list query of the user in many conversations. */
  private String explainList(String token) throws Exception {
    UUID me = UUID.fromString(userId(token));
    List<String> lines = new ArrayList<>();
    for (Row r :
        await(
            node.clients()
                .pg()
                .preparedQuery(
                    "EXPLAIN (ANALYZE, COSTS OFF) "
                        + io.chat4all.conversations.ConversationList.FIRST_PAGE)
                .execute(Tuple.of(me, 51)))) {
      lines.add(r.getString(0).strip());
    }
    return "| list query plan (user in "
        + listConversations
        + "): "
        + String.join("; ", lines)
        + " | | | |";
  }

  /**
   * The list user's conversations, written as the conversation service writes a group (its row and
   * the two member rows) in one statement: the list reads PostgreSQL only, and thousands of REST
   * creates would take minutes on this box.
   */
  private void listGroups(String owner, String otherId, int n) throws Exception {
    await(
        node.clients()
            .pg()
            .preparedQuery(
                "WITH c AS (INSERT INTO conversations (type, name, created_by)"
                    + " SELECT 'group', 'list ' || g, $1 FROM generate_series(1, $3) g"
                    + " RETURNING conversation_id)"
                    + " INSERT INTO conversation_members (conversation_id, user_id, role)"
                    + " SELECT conversation_id, $1, 'owner' FROM c"
                    + " UNION ALL SELECT conversation_id, $2, 'member' FROM c")
            .execute(Tuple.of(UUID.fromString(owner), UUID.fromString(otherId), n)));
  }

  private static void deleteTree(Path root) {
    try (var walk = Files.walk(root)) {
      walk.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (Exception e) {
      log("could not delete " + root + ": " + e.getMessage());
    }
  }

  // --- HTTP and socket helpers ---

  private List<String> groups(String owner, String otherId, int n) throws Exception {
    List<String> ids = java.util.Collections.synchronizedList(new ArrayList<>());
    java.util.concurrent.atomic.AtomicInteger next =
        new java.util.concurrent.atomic.AtomicInteger();
    List<Future<Void>> lanes = new ArrayList<>();
    for (int l = 0; l < 8; l++) {
      Promise<Void> lane = Promise.promise();
      lanes.add(lane.future());
      groupLane(owner, otherId, n, next, ids, lane);
    }
    await(Future.all(new ArrayList<>(lanes)));
    List<String> ordered = new ArrayList<>(ids);
    java.util.Collections.sort(ordered);
    return ordered;
  }

  private void groupLane(
      String owner,
      String otherId,
      int n,
      java.util.concurrent.atomic.AtomicInteger next,
      List<String> ids,
      Promise<Void> lane) {
    int i = next.getAndIncrement();
    if (i >= n) {
      lane.tryComplete();
      return;
    }
    json(
            HttpMethod.POST,
            "/v1/conversations",
            owner,
            new JsonObject()
                .put("type", "group")
                .put("name", "scale " + i)
                .put("member_ids", new JsonArray().add(otherId)))
        .onFailure(lane::tryFail)
        .onSuccess(
            r -> {
              ids.add(r.getString("conversation_id"));
              groupLane(owner, otherId, n, next, ids, lane);
            });
  }

  private WebSocket openSocket(String token) throws Exception {
    if (wsClient == null) {
      // kept in a field: a client nothing refers to any more is closed with its sockets
      wsClient =
          vertx.createWebSocketClient(
              new WebSocketClientOptions().setDefaultHost("127.0.0.1").setDefaultPort(port));
    }
    WebSocketClient ws = wsClient;
    return await(
        ws.connect(
                new WebSocketConnectOptions().setHost("127.0.0.1").setPort(port).setURI("/v1/ws"))
            .compose(
                sock -> {
                  Promise<WebSocket> ready = Promise.promise();
                  sock.textMessageHandler(
                      text -> {
                        JsonObject f = new JsonObject(text);
                        if ("ready".equals(f.getString("type"))) {
                          ready.tryComplete(sock);
                        } else if ("message".equals(f.getString("type"))
                            && f.getJsonObject("message") != null) {
                          received.putIfAbsent(
                              f.getJsonObject("message").getString("message_id"),
                              System.nanoTime());
                        }
                      });
                  sock.writeTextMessage(
                      new JsonObject().put("type", "auth").put("token", token).encode());
                  // a socket that sends nothing for realtime.idle_timeout_ms is closed; the fill
                  // takes longer than that
                  long ping =
                      vertx.setPeriodic(
                          30_000,
                          t -> {
                            if (!sock.isClosed()) {
                              sock.writeTextMessage("{\"type\":\"ping\"}");
                            }
                          });
                  sock.closeHandler(
                      v -> {
                        vertx.cancelTimer(ping);
                        log(
                            "the reader's socket closed: "
                                + sock.closeStatusCode()
                                + " "
                                + sock.closeReason());
                      });
                  return ready.future();
                }));
  }

  private String userId(String token) throws Exception {
    return await(json(HttpMethod.GET, "/v1/me", token, null)).getString("user_id");
  }

  Future<JsonObject> json(HttpMethod method, String path, String token, JsonObject body) {
    return BenchSupport.jsonOk(vertx, client, port, method, path, token, body);
  }

  private Future<Integer> status(
      HttpMethod method,
      String path,
      String token,
      java.util.function.Predicate<JsonObject> check) {
    RequestOptions o =
        new RequestOptions().setMethod(method).setHost("127.0.0.1").setPort(port).setURI(path);
    o.putHeader("Authorization", "Bearer " + token);
    return BenchSupport.exchange(
        vertx,
        client,
        o,
        r -> r.send(),
        resp ->
            resp.body()
                .map(
                    b ->
                        resp.statusCode() == 200 && check != null && !check.test(b.toJsonObject())
                            ? 299
                            : resp.statusCode()));
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

  /** Registration and login (the account may exist from an earlier step). */
  static final class Http {
    static String login(ScaleBench b, String name) throws Exception {
      await(
          b.json(
                  HttpMethod.POST,
                  "/v1/auth/register",
                  null,
                  new JsonObject()
                      .put("username", name)
                      .put("email", name + "@bench.test")
                      .put("password", "kept-secret-1"))
              .recover(e -> Future.succeededFuture(new JsonObject())));
      return await(
              b.json(
                  HttpMethod.POST,
                  "/v1/auth/token",
                  null,
                  new JsonObject().put("username", name).put("password", "kept-secret-1")))
          .getString("access_token");
    }
  }
}
