package io.chat4all.node.fuzz;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import com.google.protobuf.Descriptors;
import com.google.protobuf.DynamicMessage;
import io.chat4all.node.api.Api;
import io.chat4all.proto.v1.AuthProto;
import io.chat4all.proto.v1.ConversationsProto;
import io.chat4all.proto.v1.FilesProto;
import io.chat4all.proto.v1.MessagesProto;
import io.chat4all.proto.v1.NodeProto;
import io.chat4all.testkit.Await;
import io.chat4all.testkit.BackendsExtension;
import io.chat4all.testkit.TestBackends;
import io.chat4all.testkit.WsTestSocket;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.WebSocket;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.http.WebSocketClientOptions;
import io.vertx.core.http.WebSocketFrame;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.SocketAddress;
import io.vertx.grpc.client.GrpcClient;
import io.vertx.grpc.common.GrpcStatus;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The fuzzer's second half: WebSocket frames on {@code /v1/ws} and gRPC messages for every unary
 * method of the proto files. A socket answers hostile frames with error frames of the error model
 * or closes with a documented code (never 1011); a gRPC call ends with a status that names the
 * client's error (never INTERNAL, UNKNOWN or DATA_LOSS) and no stack trace; every send acknowledged
 * is stored and numbered; the node stays ready.
 */
@ExtendWith(BackendsExtension.class)
class StreamFuzzTest {
  static final long SEED = Long.getLong("chat4all.fuzz.seed", 20261202L);
  static final int FRAMES = Integer.getInteger("chat4all.fuzz.ws_frames", 800);
  static final int CALLS = Integer.getInteger("chat4all.fuzz.grpc_calls", 700);
  static final Set<Integer> CLOSE_CODES = Set.of(1000, 1001, 1003, 1007, 1008, 1009, 1013, 4001);
  static final Set<GrpcStatus> SERVER_FAULTS =
      Set.of(GrpcStatus.INTERNAL, GrpcStatus.UNKNOWN, GrpcStatus.DATA_LOSS);

  static Api api;
  static Api.User a;
  static Api.User b;
  static Api.User outsider;
  static String conv;
  static String msg;
  static Vertx vertx;
  static WebSocketClient wsClient;

  @BeforeAll
  static void start(TestBackends.Isolation iso) {
    api = Api.start(iso, FuzzNode.overrides("streamadmin"));
    a = api.newUser("sfa");
    b = api.newUser("sfb");
    outsider = api.newUser("sfc");
    conv = api.privateChat(a, b);
    msg = UUID.randomUUID().toString();
    api.post("/v1/messages", a.accessToken(), Api.textMessage(conv, msg, "hi")).expect(202);
    vertx = Vertx.vertx();
    wsClient = vertx.createWebSocketClient(new WebSocketClientOptions().setMaxFrameSize(1 << 20));
  }

  @AfterAll
  static void stop() {
    if (vertx != null) {
      Await.result(vertx.close());
    }
    if (api != null) {
      api.close();
    }
  }

  // --- WebSocket ---

  static Object idOrNasty(Random r, String real) {
    return r.nextInt(4) == 0 ? Nasty.anyValue(r, 0) : real;
  }

  static String frame(Random r) {
    int k = r.nextInt(12);
    if (k == 0) {
      return Nasty.pick(r, Nasty.RAW_BODIES);
    }
    if (k == 1) {
      return Nasty.deep(100 + r.nextInt(3000), r.nextBoolean());
    }
    if (k == 2 && r.nextInt(4) == 0) {
      return "{\"type\":\"send\",\"text\":\"" + "x".repeat(300_000) + "\"}"; // over 256 KiB
    }
    String type =
        Nasty.pick(
            r,
            List.of(
                "send",
                "send",
                "send",
                "delivered",
                "read",
                "typing",
                "sync",
                "ping",
                "auth",
                "subscribe",
                "nope",
                "",
                "SEND"));
    JsonObject f = new JsonObject().put("type", r.nextInt(15) == 0 ? Nasty.anyValue(r, 0) : type);
    if (r.nextBoolean()) {
      f.put("request_id", r.nextInt(5) == 0 ? Nasty.anyValue(r, 0) : "r" + r.nextInt(100000));
    }
    switch (type) {
      case "send":
        f.put(
            "conversation_id",
            idOrNasty(r, r.nextInt(6) == 0 ? UUID.randomUUID().toString() : conv));
        f.put("message_id", idOrNasty(r, UUID.randomUUID().toString()));
        JsonObject payload =
            new JsonObject().put("type", r.nextInt(6) == 0 ? Nasty.anyValue(r, 0) : "text");
        payload.put("text", r.nextInt(3) == 0 ? Nasty.anyValue(r, 0) : "fuzz " + r.nextInt(1000));
        f.put("payload", r.nextInt(10) == 0 ? Nasty.anyValue(r, 0) : payload);
        if (r.nextInt(5) == 0) {
          f.put("reply_to_message_id", idOrNasty(r, msg));
        }
        if (r.nextInt(5) == 0) {
          f.put("channels", new JsonArray().add(Nasty.anyValue(r, 0)));
        }
        break;
      case "delivered":
      case "read":
        f.put("message_id", idOrNasty(r, msg));
        break;
      case "typing":
        f.put("conversation_id", idOrNasty(r, conv));
        break;
      case "sync":
      case "auth":
        f.put(type.equals("auth") ? "token" : "cursor", Nasty.pick(r, Nasty.STRINGS));
        break;
      default:
        f.put(Nasty.pick(r, List.of("a", "$x", "", "payload")), Nasty.anyValue(r, 0));
    }
    return f.encode();
  }

  @Test
  void hostileFramesGetErrorFramesOrDocumentedClosesAndAcknowledgedSendsAreStored() {
    Random r = new Random(SEED);
    List<String> violations = new ArrayList<>();
    Map<String, String> acked = new LinkedHashMap<>();
    int sockets = 0;
    int sent = 0;
    int oversize = 0;
    while (sent < FRAMES) {
      sockets++;
      WsTestSocket s =
          new WsTestSocket(wsClient, api.node().httpPort(), "/v1/ws", Duration.ofSeconds(20));
      try {
        if (r.nextInt(10) == 0) {
          // a hostile first frame instead of auth: refused with a documented close
          try {
            s.sendRaw(frame(r));
          } catch (AssertionError closedFirst) {
            violations.add(
                "socket closed before its first frame (close " + s.closed.getNow(null) + ")");
          }
          sent++;
          short code = s.awaitClose();
          if (!CLOSE_CODES.contains((int) code)) {
            violations.add("close " + code + " before auth");
          }
          continue;
        }
        s.authenticate(a.accessToken(), null);
        int burst = 20 + r.nextInt(60);
        for (int i = 0; i < burst && sent < FRAMES && !s.isClosed(); i++) {
          String f = frame(r);
          boolean tooBig = f.length() > MAX_MESSAGE_BYTES;
          try {
            s.sendRaw(f);
          } catch (RuntimeException | AssertionError closedMeanwhile) {
            if (!tooBig) {
              break;
            }
          }
          sent++;
          if (tooBig) {
            oversize++;
            short code = s.awaitClose();
            if (code != 1009) {
              violations.add("close " + code + " after a message over 256 KiB (not 1009)");
            }
            break;
          }
        }
        if (!s.isClosed()) {
          // a ping after the burst: its pong proves every earlier frame was handled
          String ping = "{\"type\":\"ping\",\"request_id\":\"end\"}";
          try {
            s.sendRaw(ping);
            Await.until(
                "pong or close",
                Duration.ofSeconds(30),
                () ->
                    s.isClosed()
                        || s.frames.stream().anyMatch(x -> "pong".equals(x.getString("type"))));
          } catch (RuntimeException | AssertionError closedMeanwhile) {
            // closed: checked below
          }
        }
        if (s.isClosed()) {
          short code = s.awaitClose();
          if (!CLOSE_CODES.contains((int) code)) {
            violations.add("close " + code + " after frames");
          }
        }
        for (JsonObject got : s.frames) {
          String t = String.valueOf(got.getValue("type"));
          if (t.equals("unparsable")) {
            violations.add("non-JSON frame: " + got);
          } else if (t.equals("error")) {
            JsonObject err = got.getJsonObject("error", new JsonObject());
            String code = String.valueOf(err.getString("code"));
            if (!ApiFuzzTest.CODE.matcher(code).matches()
                || code.equals("internal")
                || err.getString("message") == null
                || ApiFuzzTest.LEAK.matcher(got.encode()).find()) {
              violations.add("error frame " + got.encode());
            }
          } else if (t.equals("ack") && got.getJsonObject("message") != null) {
            acked.put(got.getJsonObject("message").getString("message_id"), a.accessToken());
          }
        }
      } finally {
        s.close();
      }
    }
    assertThat(violations)
        .as("seed %d, %d frames on %d sockets (%d over 256 KiB)", SEED, sent, sockets, oversize)
        .isEmpty();
    assertThat(oversize).as("messages over 256 KiB in the mix").isPositive();
    assertThat(acked).as("sends acknowledged over the socket").isNotEmpty();
    awaitStored(acked);
    FuzzNode.assertReady(api);
  }

  /** A message over this closes the socket with 1009 (docs/realtime.md). */
  static final int MAX_MESSAGE_BYTES = 256 * 1024;

  @Test
  void aMessageOver256KibIsClosedWith1009HoweverItIsFramed() {
    String big = "{\"type\":\"ping\",\"pad\":\"" + "x".repeat(300_000) + "\"}";
    Map<String, java.util.function.Consumer<WebSocket>> ways = new LinkedHashMap<>();
    // as a browser sends it
    ways.put("one frame", ws -> ws.writeFrame(WebSocketFrame.textFrame(big, true)));
    ways.put(
        "64 KiB fragments",
        ws -> {
          int step = 64 * 1024;
          for (int at = 0; at < big.length(); at += step) {
            String part = big.substring(at, Math.min(big.length(), at + step));
            boolean last = at + step >= big.length();
            ws.writeFrame(
                at == 0
                    ? WebSocketFrame.textFrame(part, last)
                    : WebSocketFrame.continuationFrame(Buffer.buffer(part), last));
          }
        });
    // past the frame size the server reads whole: cut off at the transport, still with 1009
    ways.put(
        "one 2 MiB frame",
        ws -> ws.writeFrame(WebSocketFrame.textFrame("x".repeat(2 << 20), true)));
    Map<String, Short> closes = new LinkedHashMap<>();
    for (Map.Entry<String, java.util.function.Consumer<WebSocket>> way : ways.entrySet()) {
      WsTestSocket s =
          new WsTestSocket(wsClient, api.node().httpPort(), "/v1/ws", Duration.ofSeconds(20));
      try {
        s.authenticate(a.accessToken(), null);
        way.getValue().accept(s.ws);
        closes.put(way.getKey(), s.awaitClose());
      } finally {
        s.close();
      }
    }
    assertThat(closes)
        .as("close codes")
        .containsOnly(
            Map.entry("one frame", (short) 1009),
            Map.entry("64 KiB fragments", (short) 1009),
            Map.entry("one 2 MiB frame", (short) 1009));
    // and the gateway goes on serving
    WsTestSocket after =
        new WsTestSocket(wsClient, api.node().httpPort(), "/v1/ws", Duration.ofSeconds(20));
    try {
      after.authenticate(a.accessToken(), null);
      after.sendRaw("{\"type\":\"ping\",\"request_id\":\"p\"}");
      after.await("pong", f -> "pong".equals(f.getString("type")));
    } finally {
      after.close();
    }
  }

  static void awaitStored(Map<String, String> accepted) {
    for (Map.Entry<String, String> e : accepted.entrySet()) {
      Await.until(
          "acknowledged message " + e.getKey() + " is stored",
          Duration.ofSeconds(60),
          () -> {
            Api.Res got = api.get("/v1/messages/" + e.getKey(), e.getValue());
            return got.status() == 200 && got.json().getLong("sequence_number", 0L) > 0;
          });
    }
  }

  // --- gRPC ---

  record Method(Descriptors.MethodDescriptor method) {
    String full() {
      return method.getService().getFullName() + "/" + method.getName();
    }
  }

  static List<Method> methods() {
    List<Method> out = new ArrayList<>();
    for (Descriptors.FileDescriptor f :
        List.of(
            AuthProto.getDescriptor(),
            ConversationsProto.getDescriptor(),
            MessagesProto.getDescriptor(),
            FilesProto.getDescriptor(),
            NodeProto.getDescriptor())) {
      for (Descriptors.ServiceDescriptor s : f.getServices()) {
        for (Descriptors.MethodDescriptor m : s.getMethods()) {
          if (!m.isClientStreaming() && !m.isServerStreaming()) {
            out.add(new Method(m));
          }
        }
      }
    }
    return out;
  }

  static Object scalar(Random r, Descriptors.FieldDescriptor fd) {
    String name = fd.getName();
    switch (fd.getJavaType()) {
      case STRING:
        if (r.nextInt(3) > 0 && (name.endsWith("_id") || name.endsWith("_ids"))) {
          return Nasty.pick(
              r, List.of(conv, msg, a.id(), b.id(), outsider.id(), UUID.randomUUID().toString()));
        }
        if (r.nextInt(3) > 0 && name.equals("type")) {
          return Nasty.pick(r, List.of("text", "private", "group", "file"));
        }
        return r.nextBoolean() ? Nasty.pick(r, Nasty.STRINGS) : "v" + r.nextInt(1000);
      case INT:
        return Nasty.pick(r, List.of(0, -1, 1, 50, Integer.MAX_VALUE, Integer.MIN_VALUE));
      case LONG:
        return Nasty.pick(
            r, List.of(0L, -1L, 1L, 5L * 1024 * 1024, Long.MAX_VALUE, Long.MIN_VALUE));
      case BOOLEAN:
        return r.nextBoolean();
      case FLOAT:
        return r.nextFloat();
      case DOUBLE:
        return Nasty.pick(r, List.of(0.0, Double.NaN, Double.POSITIVE_INFINITY, -1e300));
      case BYTE_STRING:
        byte[] raw = new byte[r.nextInt(64)];
        r.nextBytes(raw);
        return ByteString.copyFrom(raw);
      case ENUM:
        List<Descriptors.EnumValueDescriptor> values = fd.getEnumType().getValues();
        return values.get(r.nextInt(values.size()));
      default:
        throw new IllegalStateException(fd.getJavaType().toString());
    }
  }

  static DynamicMessage message(Random r, Descriptors.Descriptor type, int depth) {
    DynamicMessage.Builder m = DynamicMessage.newBuilder(type);
    for (Descriptors.FieldDescriptor fd : type.getFields()) {
      if (r.nextInt(4) == 0) {
        continue;
      }
      if (fd.isMapField()) {
        if (depth < 3 && r.nextBoolean()) {
          m.addRepeatedField(fd, message(r, fd.getMessageType(), depth + 1));
        }
      } else if (fd.getJavaType() == Descriptors.FieldDescriptor.JavaType.MESSAGE) {
        if (depth < 4) {
          if (fd.isRepeated()) {
            m.addRepeatedField(fd, message(r, fd.getMessageType(), depth + 1));
          } else {
            m.setField(fd, message(r, fd.getMessageType(), depth + 1));
          }
        }
      } else if (fd.isRepeated()) {
        for (int i = r.nextInt(3); i > 0; i--) {
          m.addRepeatedField(fd, scalar(r, fd));
        }
      } else if (fd.getContainingOneof() == null || r.nextBoolean()) {
        m.setField(fd, scalar(r, fd));
      }
    }
    return m.build();
  }

  record Reply(GrpcStatus status, String message, Buffer body) {}

  /** Whether {@code body} is a message of {@code type} (random bytes sometimes are). */
  static boolean parses(Descriptors.Descriptor type, Buffer body) {
    try {
      DynamicMessage.parseFrom(type, body.getBytes());
      return true;
    } catch (com.google.protobuf.InvalidProtocolBufferException e) {
      return false;
    }
  }

  static Reply call(GrpcClient client, String fullMethod, String authorization, Buffer body) {
    io.vertx.core.Future<Reply> f =
        client
            .request(SocketAddress.inetSocketAddress(api.node().grpcPort(), "127.0.0.1"))
            .compose(
                req -> {
                  req.fullMethodName(fullMethod);
                  req.timeout(30, TimeUnit.SECONDS);
                  if (authorization != null) {
                    req.headers().set("authorization", authorization);
                  }
                  req.end(body);
                  return req.response()
                      .compose(
                          resp -> {
                            List<Buffer> got = new ArrayList<>();
                            resp.handler(got::add);
                            return resp.end()
                                .transform(
                                    ar ->
                                        io.vertx.core.Future.succeededFuture(
                                            new Reply(
                                                resp.status(),
                                                resp.statusMessage(),
                                                got.isEmpty() ? null : got.get(0))));
                          });
                });
    // a call the server resets instead of answering with a status is reported, not thrown
    return Await.result(
        f.recover(
            e -> io.vertx.core.Future.succeededFuture(new Reply(null, "no status: " + e, null))));
  }

  @Test
  void everyUnaryMethodAnswersHostileMessagesWithAClientStatus() throws Exception {
    Random r = new Random(SEED + 1);
    List<Method> methods = methods();
    assertThat(methods.size()).as("unary gRPC methods").isGreaterThan(20);
    GrpcClient client = GrpcClient.client(vertx);
    List<String> violations = new ArrayList<>();
    Map<String, String> accepted = new LinkedHashMap<>();
    Map<GrpcStatus, Integer> statuses = new java.util.TreeMap<>();
    int notProtobuf = 0;
    try {
      for (int i = 0; i < CALLS; i++) {
        Method m = methods.get(r.nextInt(methods.size()));
        boolean revokes = m.method().getService().getName().equals("AuthService");
        String auth =
            revokes
                ? FuzzNode.authorization(r, outsider, outsider, outsider)
                : FuzzNode.authorization(r, a, b, outsider);
        Buffer body;
        int k = r.nextInt(10);
        if (k == 0) {
          byte[] raw = new byte[r.nextInt(200)];
          r.nextBytes(raw);
          body = Buffer.buffer(raw);
        } else if (k == 1) {
          body =
              Buffer.buffer(message(r, m.method().getInputType(), 0).toByteArray())
                  .appendByte((byte) 0xFF);
        } else {
          body = Buffer.buffer(message(r, m.method().getInputType(), 0).toByteArray());
        }
        Reply reply = call(client, m.full(), auth, body);
        if (reply.status() != null) {
          statuses.merge(reply.status(), 1, Integer::sum);
        }
        String text = String.valueOf(reply.message());
        boolean clientRefused =
            reply.status() == null && text.contains("HeaderListSizeException"); // our own client
        if (clientRefused) {
          continue; // the client library would not send a header list that long: nothing was sent
        }
        boolean notTheMessage = !parses(m.method().getInputType(), body);
        if (notTheMessage) {
          notProtobuf++;
        }
        if (reply.status() == null
            || SERVER_FAULTS.contains(reply.status())
            || (notTheMessage
                && (reply.status() != GrpcStatus.INVALID_ARGUMENT
                    || !text.startsWith("bad_request: ")))
            || text.length() > 300
            || ApiFuzzTest.LEAK.matcher(text).find()) {
          violations.add(
              m.full()
                  + " (body kind "
                  + k
                  + ", "
                  + body.length()
                  + " bytes"
                  + (notTheMessage ? ", not the method's message" : "")
                  + ") → "
                  + reply.status()
                  + " "
                  + text.substring(0, Math.min(text.length(), 400)));
        }
        if (m.method().getName().equals("SendMessage")
            && reply.status() == GrpcStatus.OK
            && reply.body() != null) {
          DynamicMessage sentMsg =
              DynamicMessage.parseFrom(m.method().getOutputType(), reply.body().getBytes());
          String id =
              (String) sentMsg.getField(m.method().getOutputType().findFieldByName("message_id"));
          accepted.put(id, auth.substring("Bearer ".length()));
        }
      }
    } finally {
      Await.result(client.close());
    }
    assertThat(violations).as("seed %d: statuses %s", SEED + 1, statuses).isEmpty();
    assertThat(notProtobuf).as("bodies that are not the method's message").isGreaterThan(20);
    assertThat(statuses.keySet())
        .as("calls reached past validation")
        .contains(GrpcStatus.OK, GrpcStatus.INVALID_ARGUMENT);
    awaitStored(accepted);
    FuzzNode.assertReady(api);
  }
}
