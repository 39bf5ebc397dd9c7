package io.chat4all.node.api;

import static org.assertj.core.api.Assertions.assertThat;

import io.chat4all.testkit.Await;
import io.chat4all.testkit.BackendsExtension;
import io.chat4all.testkit.TestBackends;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.NetServer;
import io.vertx.core.net.NetSocket;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * What one {@code POST /v1/messages} costs the backends, counted where they are: Redis's own {@code
 * MONITOR} stream (every command the server executes, a script's inner commands marked {@code
 * lua}), and a MongoDB that stops answering. A send is the edge's script (per-IP and per-user
 * limits; the token is checked against the node's copy of the revocations), the claim's script
 * (message limit, lease, claim, seen filter) and, after the reply, the script that records the
 * reply and releases the lease. Membership comes from the node's own copy. MongoDB is not asked at
 * all: sends are accepted while it answers nothing.
 */
@ExtendWith(BackendsExtension.class)
class AcceptPathBudgetTest {
  static final int SENDS = 20;
  static final Pattern LUA = Pattern.compile("\\[\\d+ lua\\]");

  static TestBackends.Isolation iso;
  static Vertx vertx;
  static MongoGate mongo;
  static Api api;

  @BeforeAll
  static void start(TestBackends.Isolation isolation) {
    iso = isolation;
    vertx = Vertx.vertx();
    URI real = URI.create(iso.nodeConfig().getJsonObject("mongo").getString("connection_string"));
    mongo = new MongoGate(vertx, real.getHost(), real.getPort());
    api =
        Api.start(
            iso,
            new JsonObject()
                .put(
                    "mongo",
                    new JsonObject()
                        .put("connection_string", "mongodb://127.0.0.1:" + mongo.port()))
                .put(
                    "rate_limit",
                    new JsonObject()
                        .put("per_user_per_minute", 10_000)
                        .put("per_ip_per_minute", 10_000)
                        .put("messages_per_minute_per_user", 10_000)));
  }

  @AfterAll
  static void stop() {
    if (admin != null) {
      admin.close();
    }
    if (mongo != null) {
      mongo.open();
    }
    if (api != null) {
      api.close();
    }
    Await.result(vertx.close());
  }

  @Test
  void aSendCostsTwoRedisRoundTripsBeforeItsReplyAndNoMongoDbWork() throws Exception {
    Api.User a = api.newUser("budget");
    Api.User b = api.newUser("budget");
    String conv = api.privateChat(a, b);
    // the first send fills the node's copy of the members
    api.post("/v1/messages", a.accessToken(), Api.textMessage(conv, uuid(), "warm")).expect(202);

    try (Monitor monitor = new Monitor(iso.nodeConfig(), iso.redisKeyPrefix())) {
      mongo.close();
      for (int i = 0; i < SENDS; i++) {
        api.post("/v1/messages", a.accessToken(), Api.textMessage(conv, uuid(), "n" + i))
            .expect(202);
      }
      // the last reply's record (claim done) follows the reply
      Await.until(
          "every send's reply recorded",
          Duration.ofSeconds(10),
          () -> monitor.accept().stream().filter(AcceptPathBudgetTest::isFinish).count() >= SENDS);
      List<String> accept = monitor.accept();
      List<String> beforeReply = accept.stream().filter(c -> !isFinish(c)).toList();
      assertThat(beforeReply)
          .as("round trips before the reply, all %d sends: %s", SENDS, summary(beforeReply))
          .hasSize(2 * SENDS);
      assertThat(accept).as("all of a send's round trips").hasSize(3 * SENDS);
      assertThat(accept).allMatch(c -> command(c).equals("eval"), "every one a script");
    } finally {
      mongo.open();
    }
    Await.until(
        "all stored once MongoDB answers again",
        Duration.ofSeconds(60),
        () ->
            api.get(
                        "/v1/conversations/" + conv + "/messages?after_seq=0&limit=100",
                        b.accessToken())
                    .json()
                    .getJsonArray("items")
                    .size()
                == SENDS + 1);
  }

  /**
   * At least once: a batch is committed only after it is applied. While MongoDB holds the
   * pipeline's first request for a batch of sends, the pipeline group's committed offsets on {@code
   * message.sent} do not move (the consumer does not poll, and so does not commit, while a batch is
   * being applied); once the store answers, every send is stored and committed.
   */
  @Test
  void aBatchTheStoreHoldsIsNotCommittedUntilItIsApplied() throws Exception {
    Api.User a = api.newUser("held");
    Api.User b = api.newUser("held");
    String conv = api.privateChat(a, b);
    api.post("/v1/messages", a.accessToken(), Api.textMessage(conv, uuid(), "warm")).expect(202);
    Await.until("the warm-up stored", Duration.ofSeconds(30), () -> stored(conv, b) == 1);
    long[] baseline = new long[1];
    Await.until(
        "the group committed to the end of message.sent",
        Duration.ofSeconds(30),
        () -> {
          long[] c = committedAndEnd();
          baseline[0] = c[0];
          return c[0] == c[1];
        });
    int sends = 10;
    List<String> ids = new ArrayList<>();
    try {
      mongo.close();
      for (int i = 0; i < sends; i++) {
        String id = uuid();
        ids.add(id);
        api.post("/v1/messages", a.accessToken(), Api.textMessage(conv, id, "held " + i))
            .expect(202);
      }
      // the pipeline has polled the first send and asked the store about it (its id look-up)
      Await.until(
          "the pipeline's request for the first send reached the store",
          Duration.ofSeconds(30),
          () -> mongo.heldContains(ids.get(0)));
      // a commit of what was polled but not applied would come within a commit interval (100 ms)
      long until = System.nanoTime() + Duration.ofMillis(1500).toNanos();
      while (System.nanoTime() < until) {
        assertThat(committedAndEnd()[0])
            .as("committed offsets of message.sent while the batch is held")
            .isEqualTo(baseline[0]);
      }
    } finally {
      mongo.open();
    }
    Await.until("all stored", Duration.ofSeconds(60), () -> stored(conv, b) == sends + 1);
    Await.until(
        "the batch committed once applied",
        Duration.ofSeconds(30),
        () -> committedAndEnd()[0] == baseline[0] + sends);
  }

  static int stored(String conv, Api.User reader) {
    return api.get(
            "/v1/conversations/" + conv + "/messages?after_seq=0&limit=100", reader.accessToken())
        .json()
        .getJsonArray("items")
        .size();
  }

  /** The pipeline group's committed offsets and the log end of message.sent, each summed. */
  static org.apache.kafka.clients.admin.Admin admin;

  static long[] committedAndEnd() {
    String bootstrap = iso.nodeConfig().getJsonObject("kafka").getString("bootstrap_servers");
    String topic = iso.topicPrefix() + "message.sent";
    try {
      if (admin == null) {
        // one client for the whole window of checks
        admin =
            org.apache.kafka.clients.admin.Admin.create(
                java.util.Map.<String, Object>of("bootstrap.servers", bootstrap));
      }
      var committed =
          admin
              .listConsumerGroupOffsets(iso.topicPrefix() + "chat4all-pipeline")
              .partitionsToOffsetAndMetadata()
              .get(10, java.util.concurrent.TimeUnit.SECONDS);
      var partitions =
          admin
              .describeTopics(List.of(topic))
              .allTopicNames()
              .get(10, java.util.concurrent.TimeUnit.SECONDS)
              .get(topic)
              .partitions();
      java.util.Map<
              org.apache.kafka.common.TopicPartition, org.apache.kafka.clients.admin.OffsetSpec>
          latest = new java.util.HashMap<>();
      for (var p : partitions) {
        latest.put(
            new org.apache.kafka.common.TopicPartition(topic, p.partition()),
            org.apache.kafka.clients.admin.OffsetSpec.latest());
      }
      var ends = admin.listOffsets(latest).all().get(10, java.util.concurrent.TimeUnit.SECONDS);
      long c = 0;
      long e = 0;
      for (var tp : latest.keySet()) {
        var m = committed.get(tp);
        c += m == null ? 0 : m.offset();
        e += ends.get(tp).offset();
      }
      return new long[] {c, e};
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  static String uuid() {
    return UUID.randomUUID().toString();
  }

  /** The lower-case command name of a MONITOR line. */
  static String command(String line) {
    int q = line.indexOf("] \"");
    int end = line.indexOf('"', q + 3);
    return line.substring(q + 3, end).toLowerCase(java.util.Locale.ROOT);
  }

  /** The script that records a reply after it was given (the claim set XX with state done). */
  static boolean isFinish(String line) {
    return line.contains("'XX'") && line.contains("\\\"state\\\":\\\"done\\\"");
  }

  static String summary(List<String> lines) {
    return lines.stream()
        .map(l -> l.length() > 160 ? l.substring(0, 160) : l)
        .collect(Collectors.joining("\n"));
  }

  /**
   * The commands the Redis server runs, from its MONITOR stream: only the top-level ones (not a
   * script's inner commands) that touch this isolation's keys of the accept path.
   */
  static final class Monitor implements AutoCloseable {
    private final Socket socket;
    private final List<String> lines = new CopyOnWriteArrayList<>();
    private final String prefix;
    private final Thread reader;

    Monitor(JsonObject nodeConfig, String prefix) throws Exception {
      this.prefix = prefix;
      URI uri = URI.create(nodeConfig.getJsonObject("redis").getString("connection_string"));
      socket = new Socket(uri.getHost(), uri.getPort());
      OutputStream out = socket.getOutputStream();
      if (uri.getUserInfo() != null) {
        String[] userPass = uri.getUserInfo().split(":", 2);
        String pass = userPass.length == 2 ? userPass[1] : userPass[0];
        out.write(("AUTH " + pass + "\r\n").getBytes(StandardCharsets.UTF_8));
      }
      out.write("MONITOR\r\n".getBytes(StandardCharsets.UTF_8));
      out.flush();
      BufferedReader in =
          new BufferedReader(
              new InputStreamReader(socket.getInputStream(), StandardCharsets.UTF_8));
      String first = in.readLine();
      while (first != null && !first.equals("+OK")) {
        first = in.readLine();
      }
      reader =
          new Thread(
              () -> {
                try {
                  for (String line = in.readLine(); line != null; line = in.readLine()) {
                    lines.add(line);
                  }
                } catch (Exception e) {
                  // closed
                }
              },
              "redis-monitor");
      reader.setDaemon(true);
      reader.start();
    }

    /** The top-level commands on this isolation's accept-path keys, in order. */
    List<String> accept() {
      List<String> out = new ArrayList<>();
      for (String l : lines) {
        if (LUA.matcher(l).find()
            // not per send: the revocations' periodic read, a lease renewal of a send over 1 s
            || l.toLowerCase(java.util.Locale.ROOT).contains("\"zrangebyscore\"")
            || l.contains("PEXPIRE")) {
          continue;
        }
        if (l.contains("\"" + prefix + "rl:")
            || l.contains("\"" + prefix + "idem:")
            || l.contains("\"" + prefix + "revoked")
            || l.contains("\"" + prefix + "conv:members")) {
          out.add(l);
        }
      }
      return out;
    }

    /** The top-level commands that name {@code key} (quoted as MONITOR quotes it), in order. */
    List<String> on(String key) {
      List<String> out = new ArrayList<>();
      for (String l : lines) {
        if (!LUA.matcher(l).find() && l.contains("\"" + key + "\"")) {
          out.add(l);
        }
      }
      return out;
    }

    @Override
    public void close() throws Exception {
      socket.close();
    }
  }

  /**
   * A TCP gate in front of the MongoDB-wire server: open, it forwards both ways; closed, it holds
   * what the node sends (the node's requests wait, as on a server that stopped answering) and
   * forwards it when opened again.
   */
  static final class MongoGate {
    private final NetServer server;
    private final List<Pipe> pipes = new CopyOnWriteArrayList<>();
    private volatile boolean closed;

    /** One connection: the node's side, the server's side, and what is held while closed. */
    private static final class Pipe {
      final NetSocket up;
      Buffer held = Buffer.buffer();
      boolean closed;

      Pipe(NetSocket up, boolean closed) {
        this.up = up;
        this.closed = closed;
      }
    }

    MongoGate(Vertx vertx, String host, int port) {
      io.vertx.core.net.NetClient upstream = vertx.createNetClient();
      server = vertx.createNetServer(new io.vertx.core.net.NetServerOptions().setHost("127.0.0.1"));
      server.connectHandler(
          client -> {
            client.pause();
            upstream
                .connect(port, host)
                .onSuccess(
                    up -> {
                      Pipe pipe = new Pipe(up, closed);
                      pipes.add(pipe);
                      client.handler(
                          b -> {
                            synchronized (pipe) {
                              if (pipe.closed) {
                                pipe.held.appendBuffer(b);
                              } else {
                                up.write(b);
                              }
                            }
                          });
                      up.handler(client::write);
                      client.closeHandler(x -> up.close());
                      up.closeHandler(x -> client.close());
                      client.resume();
                    })
                .onFailure(e -> client.close());
          });
      Await.result(server.listen(0));
    }

    int port() {
      return server.actualPort();
    }

    /** Holds whatever the node sends from now on. */
    void close() {
      closed = true;
      for (Pipe pipe : pipes) {
        synchronized (pipe) {
          pipe.closed = true;
        }
      }
    }

    /** Forwards what was held, and everything after it. */
    void open() {
      closed = false;
      for (Pipe pipe : pipes) {
        synchronized (pipe) {
          pipe.closed = false;
          if (pipe.held.length() > 0) {
            pipe.up.write(pipe.held);
            pipe.held = Buffer.buffer();
          }
        }
      }
    }

    /** Whether what is held holds {@code text} (a BSON string is its UTF-8 bytes). */
    boolean heldContains(String text) {
      for (Pipe pipe : pipes) {
        synchronized (pipe) {
          if (pipe.held.toString(StandardCharsets.ISO_8859_1).contains(text)) {
            return true;
          }
        }
      }
      return false;
    }
  }
}
