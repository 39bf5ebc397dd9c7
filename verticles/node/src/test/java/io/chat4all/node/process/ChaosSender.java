package io.chat4all.node.process;

import io.chat4all.proto.v1.ChatMessage;
import io.chat4all.proto.v1.MessagePayload;
import io.chat4all.proto.v1.MessageServiceGrpcClient;
import io.chat4all.proto.v1.SendMessageRequest;
import io.vertx.core.MultiMap;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.SocketAddress;
import io.vertx.grpc.client.GrpcClient;
import io.vertx.grpc.common.GrpcStatus;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;

/**
 * One client of the load: a user sending over REST, gRPC or its own WebSocket, one send after the
 * other, to whichever node is up. A send that times out, loses its connection or gets 503/504 is
 * retried with the same message_id (on the next node) until it is accepted; every 20th accepted
 * send is sent once more with the same message_id and must get the same reply.
 */
final class ChaosSender {
  enum Protocol {
    REST,
    GRPC,
    WS
  }

  /** An accepted send: who, where, its position in this sender's stream. */
  record Ack(int sender, String conversation, String messageId, int n, String text) {}

  /** Answers that mean "try again, same message_id". */
  static final Set<Integer> RETRYABLE = Set.of(408, 503, 504);

  final int index;
  final Protocol protocol;
  final String token;
  final AtomicInteger retries = new AtomicInteger();
  final AtomicInteger duplicates = new AtomicInteger();
  private final Supplier<List<Integer[]>> nodes;
  private final GrpcClient grpc;
  private final WebSocketClient wsClient;
  private LiveSocket socket;
  private int attempt;

  /**
   * {@code nodes} gives the nodes up now, each as {http port, gRPC port}; the clients are shared.
   */
  ChaosSender(
      int index,
      Protocol protocol,
      String token,
      Supplier<List<Integer[]>> nodes,
      GrpcClient grpc,
      WebSocketClient wsClient) {
    this.index = index;
    this.protocol = protocol;
    this.token = token;
    this.nodes = nodes;
    this.grpc = grpc;
    this.wsClient = wsClient;
  }

  static String text(int sender, int n) {
    return "s" + sender + ":" + n;
  }

  /** Sends until accepted; the reply (the message as JSON: message_id, created_at). */
  JsonObject send(String conv, String id, String text, Duration giveUp) throws Exception {
    long deadline = System.nanoTime() + giveUp.toNanos();
    String last = "";
    while (System.nanoTime() < deadline) {
      List<Integer[]> up = nodes.get();
      Integer[] node = up.get(Math.floorMod(index + attempt, up.size()));
      JsonObject reply;
      try {
        reply = once(node, conv, id, text);
      } catch (Exception | AssertionError e) {
        if (e instanceof AssertionError) {
          throw (AssertionError) e;
        }
        reply = null;
        last = e.toString();
      }
      if (reply != null) {
        return reply;
      }
      retries.incrementAndGet();
      attempt++;
      Thread.sleep(100);
    }
    throw new AssertionError(protocol + " sender " + index + " gave up on " + id + ": " + last);
  }

  /** One attempt: the reply, or null / an exception when it should be retried. */
  private JsonObject once(Integer[] node, String conv, String id, String text) throws Exception {
    return switch (protocol) {
      case REST -> rest(node[0], conv, id, text);
      case GRPC -> grpc(node[1], conv, id, text);
      case WS -> ws(node[0], conv, id, text);
    };
  }

  private static void refuse(String what, int status, String body) {
    throw new AssertionError(what + " answered " + status + " " + body);
  }

  private JsonObject rest(int port, String conv, String id, String text) throws Exception {
    JsonObject body =
        new JsonObject()
            .put("conversation_id", conv)
            .put("message_id", id)
            .put("payload", new JsonObject().put("type", "text").put("text", text));
    HttpResponse<String> r =
        ProcessRest.http.send(
            HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/v1/messages"))
                .timeout(Duration.ofSeconds(20))
                .header("Authorization", "Bearer " + token)
                .POST(HttpRequest.BodyPublishers.ofString(body.encode()))
                .build(),
            HttpResponse.BodyHandlers.ofString());
    if (r.statusCode() == 202) {
      return new JsonObject(r.body());
    }
    if (!RETRYABLE.contains(r.statusCode())) {
      refuse("REST send " + id, r.statusCode(), r.body());
    }
    return null;
  }

  private JsonObject grpc(int port, String conv, String id, String text)
      throws java.io.IOException {
    SendMessageRequest req =
        SendMessageRequest.newBuilder()
            .setConversationId(conv)
            .setMessageId(id)
            .setPayload(MessagePayload.newBuilder().setType("text").setText(text))
            .build();
    record Out(GrpcStatus status, ChatMessage value, MultiMap trailers) {}
    Out out =
        LiveSocket.get(
            grpc.request(
                    SocketAddress.inetSocketAddress(port, "127.0.0.1"),
                    MessageServiceGrpcClient.SendMessage)
                .compose(
                    call -> {
                      call.headers().set("authorization", "Bearer " + token);
                      call.end(req);
                      return call.response()
                          .compose(
                              resp -> {
                                ChatMessage[] got = new ChatMessage[1];
                                resp.handler(m -> got[0] = m);
                                return resp.end()
                                    .transform(
                                        ar ->
                                            io.vertx.core.Future.succeededFuture(
                                                new Out(
                                                    resp.status(),
                                                    got[0],
                                                    MultiMap.caseInsensitiveMultiMap()
                                                        .addAll(resp.headers())
                                                        .addAll(resp.trailers()))));
                              });
                    })
                .timeout(20, TimeUnit.SECONDS),
            Duration.ofSeconds(25));
    if (out.status() == GrpcStatus.OK && out.value() != null) {
      return new JsonObject()
          .put("message_id", out.value().getMessageId())
          .put("conversation_id", out.value().getConversationId());
    }
    if (out.status() != GrpcStatus.UNAVAILABLE && out.status() != GrpcStatus.DEADLINE_EXCEEDED) {
      refuse("gRPC send " + id, out.status().code, String.valueOf(out.trailers()));
    }
    return null;
  }

  private JsonObject ws(int port, String conv, String id, String text) throws Exception {
    if (socket == null || socket.isClosed() || socket.port != port) {
      if (socket != null) {
        socket.close();
      }
      socket = null;
      socket = LiveSocket.open(wsClient, port, token, null);
    }
    JsonObject frame =
        new JsonObject()
            .put("type", "send")
            .put("conversation_id", conv)
            .put("message_id", id)
            .put("payload", new JsonObject().put("type", "text").put("text", text));
    JsonObject reply = socket.request(frame, Duration.ofSeconds(20));
    if ("ack".equals(reply.getString("type"))) {
      return reply.getJsonObject("message");
    }
    String code = reply.getJsonObject("error").getString("code");
    if ("rate_limited".equals(code)) {
      // over the socket's frames per second: wait what the server says, then the same message_id
      Thread.sleep(
          reply.getJsonObject("error").getJsonObject("details").getLong("retry_after_ms", 1000L));
      return null;
    }
    if (!"unavailable".equals(code) && !"timeout".equals(code)) {
      refuse("WebSocket send " + id, 0, reply.encode());
    }
    return null;
  }

  /**
   * The stream: {@code count} sends round-robin over {@code conversations}; {@code gate} runs
   * before each send (the test pauses senders there while it waits for a replacement node).
   */
  void run(
      List<String> conversations,
      int count,
      java.util.function.IntConsumer gate,
      java.util.function.Consumer<Ack> acked)
      throws Exception {
    for (int n = 0; n < count; n++) {
      gate.accept(n);
      String conv = conversations.get(n % conversations.size());
      String id = UUID.randomUUID().toString();
      String text = text(index, n);
      JsonObject reply = send(conv, id, text, Duration.ofMinutes(3));
      if (!id.equals(reply.getString("message_id"))) {
        throw new AssertionError("reply for " + id + " names " + reply);
      }
      acked.accept(new Ack(index, conv, id, n, text));
      if (n % 20 == 7) {
        // the client is unsure and sends again: the same reply, nothing new stored
        JsonObject again = send(conv, id, text, Duration.ofMinutes(3));
        if (!id.equals(again.getString("message_id"))
            || (reply.getString("created_at") != null
                && !reply.getString("created_at").equals(again.getString("created_at")))) {
          throw new AssertionError("retry of " + id + " got " + again + ", first " + reply);
        }
        duplicates.incrementAndGet();
      }
    }
    if (socket != null) {
      socket.close();
    }
  }
}
