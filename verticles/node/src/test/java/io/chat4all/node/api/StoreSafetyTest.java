package io.chat4all.node.api;

import static org.assertj.core.api.Assertions.assertThat;

import io.chat4all.codecs.Addresses;
import io.chat4all.codecs.ErrorCode;
import io.chat4all.codecs.ServiceBus;
import io.chat4all.codecs.ServiceException;
import io.chat4all.proto.v1.AuthServiceGrpcClient;
import io.chat4all.proto.v1.ConversationServiceGrpcClient;
import io.chat4all.proto.v1.CreateConversationRequest;
import io.chat4all.proto.v1.EditMessageRequest;
import io.chat4all.proto.v1.MessagePayload;
import io.chat4all.proto.v1.MessageServiceGrpcClient;
import io.chat4all.proto.v1.SendMessageRequest;
import io.chat4all.proto.v1.TokenRequest;
import io.chat4all.testkit.Await;
import io.chat4all.testkit.BackendsExtension;
import io.chat4all.testkit.TestBackends;
import io.chat4all.testkit.WsTestSocket;
import io.chat4all.web.StoreSafe;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.grpc.common.GrpcStatus;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Issue 10 (2, 3): the edge accepts only what every store can hold. Each value below used to be
 * accepted (202) and then stall its conversation in the pipeline, or reach PostgreSQL and answer
 * 500; now REST, gRPC and WebSocket refuse it with 400 {@code validation_failed} naming the field,
 * and the conversation's next message is stored and numbered as if nothing happened.
 */
@ExtendWith(BackendsExtension.class)
class StoreSafetyTest {
  static final Duration WAIT = Duration.ofSeconds(60);
  static Api api;
  static Vertx client;
  static WebSocketClient wsClient;

  @BeforeAll
  static void start(TestBackends.Isolation iso) {
    api = Api.start(iso);
    client = Vertx.vertx();
    wsClient = client.createWebSocketClient();
  }

  @AfterAll
  static void stop() {
    Await.result(client.close());
    api.close();
  }

  /** A payload no store can hold (raw JSON, as a client sends it) and the field the 400 names. */
  record Bad(String what, String metadata, String textJson, String field) {
    String payload() {
      return "{\"type\":\"text\",\"text\":"
          + (textJson == null ? "\"x\"" : textJson)
          + (metadata == null ? "" : ",\"metadata\":" + metadata)
          + "}";
    }
  }

  static String nested(int levels) {
    return "{\"a\":".repeat(levels - 1) + "{\"x\":1}" + "}".repeat(levels - 1);
  }

  static final List<Bad> UNSTORABLE =
      List.of(
          new Bad("NUL in a key", "{\"k\\u0000y\":1}", null, "payload.metadata"),
          new Bad("NUL in a value", "{\"k\":\"a\\u0000b\"}", null, "payload.metadata.k"),
          new Bad("2^64", "{\"n\":18446744073709551616}", null, "payload.metadata.n"),
          new Bad("-2^63-1", "{\"n\":-9223372036854775809}", null, "payload.metadata.n"),
          new Bad("1e400", "{\"n\":1e400}", null, "payload.metadata.n"),
          new Bad("$gt key", "{\"q\":{\"$gt\":1}}", null, "payload.metadata.q"),
          new Bad("dotted key", "{\"a.b\":1}", null, "payload.metadata"),
          new Bad("empty key", "{\"\":1}", null, "payload.metadata"),
          new Bad("lone surrogate in a value", "{\"k\":\"\\ud800\"}", null, "payload.metadata.k"),
          new Bad("150-deep nesting", nested(150), null, "payload.metadata.a"),
          new Bad("NUL in the text", null, "\"a\\u0000b\"", "payload.text"),
          new Bad("lone surrogate in the text", null, "\"x\\udc00\"", "payload.text"));

  static String privateChat(Api.User a, Api.User b) {
    return api.privateChat(a, b);
  }

  static String sendBody(String conv, String id, String payloadJson) {
    return "{\"conversation_id\":\""
        + conv
        + "\",\"message_id\":\""
        + id
        + "\",\"payload\":"
        + payloadJson
        + "}";
  }

  static List<JsonObject> history(Api.User u, String conv) {
    JsonArray items =
        api.get("/v1/conversations/" + conv + "/messages?after_seq=0&limit=200", u.accessToken())
            .expect(200)
            .json()
            .getJsonArray("items");
    return items.stream().map(o -> (JsonObject) o).toList();
  }

  /** The conversation holds exactly {@code n} messages numbered 1..n, the last being {@code id}. */
  static void awaitNumbered(Api.User u, String conv, int n, String id) {
    Await.until("message " + n + " of " + conv, WAIT, () -> history(u, conv).size() >= n);
    List<JsonObject> h = history(u, conv);
    assertThat(h).hasSize(n);
    for (int i = 0; i < n; i++) {
      assertThat(h.get(i).getLong("sequence_number")).isEqualTo(i + 1L);
    }
    assertThat(h.get(n - 1).getString("message_id")).isEqualTo(id);
  }

  static void expectField(Api.Res res, String field) {
    res.expectError(400, "validation_failed");
    String got = res.json().getJsonObject("error").getJsonObject("details").getString("field");
    assertThat(got).as(res.raw()).startsWith(field);
  }

  @Test
  void theTwoRequestsOfTheIssueAreRefusedAndTheirConversationsGoOn() {
    Api.User a = api.newUser("issue");
    Api.User b = api.newUser("peer");
    Api.User c = api.newUser("other");
    String conv = privateChat(a, b);
    String conv2 = privateChat(a, c);
    expectField(
        api.call(
            "POST",
            "/v1/messages",
            a.accessToken(),
            sendBody(
                conv,
                UUID.randomUUID().toString(),
                "{\"type\":\"text\",\"text\":\"x\",\"metadata\":{\"k\\u0000y\":1}}")),
        "payload.metadata");
    expectField(
        api.call(
            "POST",
            "/v1/messages",
            a.accessToken(),
            sendBody(
                conv2,
                UUID.randomUUID().toString(),
                "{\"type\":\"text\",\"text\":\"x\",\"metadata\":{\"n\":18446744073709551616}}")),
        "payload.metadata.n");
    String next = UUID.randomUUID().toString();
    api.post("/v1/messages", a.accessToken(), Api.textMessage(conv, next, "next")).expect(202);
    String next2 = UUID.randomUUID().toString();
    api.post("/v1/messages", a.accessToken(), Api.textMessage(conv2, next2, "next")).expect(202);
    awaitNumbered(b, conv, 1, next);
    awaitNumbered(c, conv2, 1, next2);
  }

  @Test
  void restRefusesEachUnstorableValueAndTheNextMessageIsNumbered() {
    Api.User a = api.newUser("rest");
    Api.User b = api.newUser("restpeer");
    String conv = privateChat(a, b);
    int stored = 0;
    for (Bad bad : UNSTORABLE) {
      Api.Res res =
          api.call(
              "POST",
              "/v1/messages",
              a.accessToken(),
              sendBody(conv, UUID.randomUUID().toString(), bad.payload()));
      expectField(res, bad.field());
      String ok = UUID.randomUUID().toString();
      api.post("/v1/messages", a.accessToken(), Api.textMessage(conv, ok, "after " + bad.what()))
          .expect(202);
      awaitNumbered(b, conv, ++stored, ok);
    }
  }

  @Test
  void grpcRefusesEachUnstorableValueAndTheNextMessageIsNumbered() {
    Api.User a = api.newUser("grpc");
    Api.User b = api.newUser("grpcpeer");
    String conv = privateChat(a, b);
    int stored = 0;
    for (Bad bad : UNSTORABLE) {
      String text =
          bad.textJson() == null
              ? "x"
              : new JsonObject("{\"t\":" + bad.textJson() + "}").getString("t");
      if (text.chars().anyMatch(ch -> Character.isSurrogate((char) ch))) {
        continue; // a proto3 string is UTF-8 on the wire: a lone surrogate cannot even be sent
      }
      MessagePayload.Builder payload = MessagePayload.newBuilder().setType("text").setText(text);
      if (bad.metadata() != null) {
        payload.setMetadataJson(bad.metadata());
      }
      Api.GrpcRes<?> res =
          api.grpc(
              MessageServiceGrpcClient.SendMessage,
              SendMessageRequest.newBuilder()
                  .setConversationId(conv)
                  .setMessageId(UUID.randomUUID().toString())
                  .setPayload(payload)
                  .build(),
              a.accessToken());
      assertThat(res.status())
          .as(bad.what() + ": " + res.message())
          .isEqualTo(GrpcStatus.INVALID_ARGUMENT);
      assertThat(res.errorCode()).isEqualTo("validation_failed");
      assertThat(new JsonObject(res.trailers().get("chat4all-error-details")).getString("field"))
          .startsWith(bad.field());
      String ok = UUID.randomUUID().toString();
      assertThat(
              api.grpc(
                      MessageServiceGrpcClient.SendMessage,
                      SendMessageRequest.newBuilder()
                          .setConversationId(conv)
                          .setMessageId(ok)
                          .setPayload(MessagePayload.newBuilder().setType("text").setText("ok"))
                          .build(),
                      a.accessToken())
                  .status())
          .isEqualTo(GrpcStatus.OK);
      awaitNumbered(b, conv, ++stored, ok);
    }
    assertThat(stored).isGreaterThanOrEqualTo(UNSTORABLE.size() - 1);
  }

  @Test
  void webSocketRefusesEachUnstorableValueAndTheNextMessageIsNumbered() {
    Api.User a = api.newUser("ws");
    Api.User b = api.newUser("wspeer");
    String conv = privateChat(a, b);
    try (WsTestSocket s = new WsTestSocket(wsClient, api.node().httpPort(), "/v1/ws", WAIT)) {
      s.authenticate(a.accessToken(), null);
      int stored = 0;
      for (Bad bad : UNSTORABLE) {
        String rid = "bad-" + stored;
        String frame =
            "{\"type\":\"send\",\"request_id\":\""
                + rid
                + "\","
                + sendBody(conv, UUID.randomUUID().toString(), bad.payload()).substring(1);
        s.sendRaw(frame);
        JsonObject err =
            s.await(
                "error for " + bad.what(),
                f -> "error".equals(f.getString("type")) && rid.equals(f.getString("request_id")));
        assertThat(err.getJsonObject("error").getString("code")).isEqualTo("validation_failed");
        assertThat(err.getJsonObject("error").getJsonObject("details").getString("field"))
            .startsWith(bad.field());
        String ok = UUID.randomUUID().toString();
        String okRid = "ok-" + stored;
        s.send(
            Api.textMessage(conv, ok, "after " + bad.what())
                .put("type", "send")
                .put("request_id", okRid));
        s.await(
            "ack " + okRid,
            f -> "ack".equals(f.getString("type")) && okRid.equals(f.getString("request_id")));
        awaitNumbered(b, conv, ++stored, ok);
      }
    }
  }

  @Test
  void valuesAtTheLimitsAreStoredIntact() {
    Api.User a = api.newUser("limits");
    Api.User b = api.newUser("limitspeer");
    String conv = privateChat(a, b);
    String metadata =
        "{\"max\":9223372036854775807,\"min\":-9223372036854775808,\"big\":1.7976931348623157e308,"
            + "\"text\":\"olá 👋\",\"keys\":{\"a-b_c\":[1,\"x\",null,true]},\"deep\":"
            + nested(StoreSafe.MAX_DEPTH - 2)
            + "}";
    String id = UUID.randomUUID().toString();
    api.call(
            "POST",
            "/v1/messages",
            a.accessToken(),
            sendBody(
                conv,
                id,
                "{\"type\":\"text\",\"text\":\"tab\\tand 😀\",\"metadata\":" + metadata + "}"))
        .expect(202);
    awaitNumbered(b, conv, 1, id);
    JsonObject stored = api.get("/v1/messages/" + id, b.accessToken()).expect(200).json();
    assertThat(stored.getJsonObject("payload").getJsonObject("metadata"))
        .isEqualTo(new JsonObject(metadata));
    assertThat(stored.getJsonObject("payload").getString("text")).isEqualTo("tab\tand 😀");
  }

  @Test
  void nulBytesNeverReachPostgres() {
    Api.User a = api.newUser("nul");
    Api.User b = api.newUser("nulpeer");
    // the four requests of issue 10 (3): 500 internal before
    expectField(
        api.call(
            "POST",
            "/v1/me/channels",
            a.accessToken(),
            "{\"channel_type\":\"telegram\",\"channel_user_id\":\"a\\u0000b\",\"channel_metadata\":{}}"),
        "channel_user_id");
    expectField(
        api.call(
            "POST",
            "/v1/conversations",
            a.accessToken(),
            "{\"type\":\"group\",\"name\":\"a\\u0000b\",\"member_ids\":[\"" + b.id() + "\"]}"),
        "name");
    expectField(
        api.call(
            "POST",
            "/v1/auth/token",
            null,
            "{\"username\":\"a\\u0000b\",\"password\":\"secret!\"}"),
        "username");
    expectField(api.get("/v1/users?username=%00", a.accessToken()), "username");

    // the same class of value in the other text fields and parameters
    expectField(
        api.call(
            "POST",
            "/v1/me/channels",
            a.accessToken(),
            "{\"channel_type\":\"telegram\",\"channel_user_id\":\"t1\",\"channel_metadata\":{\"k\":\"a\\u0000\"}}"),
        "channel_metadata.k");
    expectField(
        api.call(
            "POST",
            "/v1/auth/register",
            null,
            "{\"username\":\"nul_reg\",\"email\":\"n@example.test\",\"password\":\"correct\\u0000horse\"}"),
        "password");
    expectField(
        api.call(
            "POST",
            "/v1/auth/token",
            null,
            "{\"email\":\"a\\ud800@example.test\",\"password\":\"correct horse\"}"),
        "email");
    expectField(api.get("/v1/users?username=a%00b", a.accessToken()), "username");
    expectField(api.get("/v1/conversations?cursor=%00", a.accessToken()), "cursor");
    expectField(api.get("/v1/me?anything=x%00", a.accessToken()), "anything");
    api.get("/v1/users?username=" + b.username(), a.accessToken()).expect(200);
    // a query string that is not even valid percent-encoding (java.net.URI refuses to send it)
    assertThat(rawGet("/v1/users?username=%zz", a.accessToken()))
        .startsWith("HTTP/1.1 400")
        .contains("\"validation_failed\"");

    // an edit (PATCH) of a stored message
    String conv = privateChat(a, b);
    String id = UUID.randomUUID().toString();
    api.post("/v1/messages", a.accessToken(), Api.textMessage(conv, id, "first")).expect(202);
    awaitNumbered(b, conv, 1, id);
    expectField(
        api.call("PATCH", "/v1/messages/" + id, a.accessToken(), "{\"text\":\"a\\u0000b\"}"),
        "text");
    expectField(
        api.call(
            "PATCH", "/v1/messages/" + id, a.accessToken(), "{\"payload\":{\"text\":\"\\udbff\"}}"),
        "text");
    Api.GrpcRes<?> edit =
        api.grpc(
            MessageServiceGrpcClient.EditMessage,
            EditMessageRequest.newBuilder().setMessageId(id).setText("a\u0000b").build(),
            a.accessToken());
    assertThat(edit.status()).isEqualTo(GrpcStatus.INVALID_ARGUMENT);
    assertThat(edit.errorCode()).isEqualTo("validation_failed");

    // gRPC request strings
    Api.GrpcRes<?> token =
        api.grpc(
            AuthServiceGrpcClient.Token,
            TokenRequest.newBuilder().setUsername("a\u0000b").setPassword("secret!").build(),
            null);
    assertThat(token.status()).as(token.message()).isEqualTo(GrpcStatus.INVALID_ARGUMENT);
    assertThat(token.errorCode()).isEqualTo("validation_failed");
    Api.GrpcRes<?> group =
        api.grpc(
            ConversationServiceGrpcClient.CreateConversation,
            CreateConversationRequest.newBuilder()
                .setType("group")
                .setName("a\u0000b")
                .addMemberIds(b.id())
                .build(),
            a.accessToken());
    assertThat(group.status()).as(group.message()).isEqualTo(GrpcStatus.INVALID_ARGUMENT);
    assertThat(new JsonObject(group.trailers().get("chat4all-error-details")).getString("field"))
        .isEqualTo("name");
  }

  /** The net under the edge: a store refusing a value of a request is a 400, never a 500. */
  @Test
  void aStoreRefusingARequestValueIsValidationFailedNotInternal() {
    Api.User a = api.newUser("net");
    Vertx vertx = api.node().vertx();
    // straight to the services, past the edge's checks: PostgreSQL answers SQLSTATE 22021 / 22001
    ServiceException find =
        failure(
            ServiceBus.request(
                vertx, Addresses.AUTH, "user_find", new JsonObject().put("username", "a\u0000b")));
    assertThat(find.code()).isEqualTo(ErrorCode.VALIDATION_FAILED);
    ServiceException link =
        failure(
            ServiceBus.request(
                vertx,
                Addresses.AUTH,
                "channels_link",
                new JsonObject()
                    .put("user_id", a.id())
                    .put("channel_type", "telegram")
                    .put("channel_user_id", "x".repeat(300))
                    .put("channel_metadata", new JsonObject())));
    assertThat(link.code()).isEqualTo(ErrorCode.VALIDATION_FAILED);
    // MongoDB: a key BSON cannot encode
    ServiceException mongo =
        failure(
            api.node()
                .clients()
                .mongo()
                .insert("probe", new JsonObject().put("k\u0000y", 1))
                .recover(e -> Future.failedFuture(ServiceException.from(e))));
    assertThat(mongo.code()).isEqualTo(ErrorCode.VALIDATION_FAILED);
    assertThat(mongo.code().httpStatus()).isEqualTo(400);
    // a link lifetime that is not a number (the files service read it as one and threw)
    ServiceException ttl =
        failure(
            ServiceBus.request(
                vertx,
                Addresses.FILES,
                "media_source",
                new JsonObject()
                    .put("user_id", a.id())
                    .put("file_id", java.util.UUID.randomUUID().toString())
                    .put("link_ttl_seconds", "an hour")));
    assertThat(ttl.code()).isEqualTo(ErrorCode.VALIDATION_FAILED);
  }

  /** A GET written by hand on a socket; the whole response as text. */
  static String rawGet(String pathAndQuery, String token) {
    try (java.net.Socket socket = new java.net.Socket("127.0.0.1", api.node().httpPort())) {
      socket.setSoTimeout(30_000);
      String request =
          "GET "
              + pathAndQuery
              + " HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer "
              + token
              + "\r\nConnection: close\r\n\r\n";
      socket.getOutputStream().write(request.getBytes(java.nio.charset.StandardCharsets.US_ASCII));
      return new String(
          socket.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
    } catch (java.io.IOException e) {
      throw new AssertionError(e);
    }
  }

  static ServiceException failure(Future<?> f) {
    try {
      Await.result(f);
    } catch (RuntimeException | AssertionError e) {
      Throwable t = e;
      while (t != null && !(t instanceof ServiceException)) {
        t = t.getCause();
      }
      assertThat(t).as("a ServiceException in %s", e).isNotNull();
      return (ServiceException) t;
    }
    throw new AssertionError("expected a failure");
  }
}
