package io.chat4all.node.api;

import static org.assertj.core.api.Assertions.assertThat;

import io.chat4all.proto.v1.MessagePayload;
import io.chat4all.proto.v1.MessageServiceGrpcClient;
import io.chat4all.proto.v1.SendMessageRequest;
import io.chat4all.testkit.Await;
import io.chat4all.testkit.BackendsExtension;
import io.chat4all.testkit.TestBackends;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.grpc.common.GrpcStatus;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Inputs that were accepted against the docs (issue 10, item 5) and are now refused: explicit
 * nulls, a PATCH payload that is not an object, JSON with comments, a byte-order mark, UTF-16 or a
 * repeated key, bodies declared as another media type (415), and the nil or a non-canonical UUID as
 * an id. Each refused request leaves nothing behind.
 */
@ExtendWith(BackendsExtension.class)
class StrictInputTest {
  static final String NIL = "00000000-0000-0000-0000-000000000000";
  static Api api;
  static final HttpClient http =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

  @BeforeAll
  static void start(TestBackends.Isolation iso) {
    api = Api.start(iso);
  }

  @AfterAll
  static void stop() {
    api.close();
  }

  /** A request with the body as given bytes and the given Content-Type (none when null). */
  static Api.Res send(String method, String path, String token, String contentType, byte[] body) {
    HttpRequest.Builder b =
        HttpRequest.newBuilder(URI.create(api.base() + path))
            .timeout(Duration.ofSeconds(30))
            .method(method, HttpRequest.BodyPublishers.ofByteArray(body));
    if (token != null) {
      b.header("Authorization", "Bearer " + token);
    }
    if (contentType != null) {
      b.header("Content-Type", contentType);
    }
    try {
      HttpResponse<String> r = http.send(b.build(), HttpResponse.BodyHandlers.ofString());
      String text = r.body();
      return new Api.Res(
          r.statusCode(), text, text.startsWith("{") ? new JsonObject(text) : null, r.headers());
    } catch (Exception e) {
      throw new AssertionError(method + " " + path, e);
    }
  }

  static Api.Res send(String method, String path, String token, String contentType, String body) {
    return send(method, path, token, contentType, body.getBytes(StandardCharsets.UTF_8));
  }

  static Api.Res expectField(Api.Res r, String field) {
    r.expectError(400, "validation_failed");
    assertThat(r.json().getJsonObject("error").getJsonObject("details").getString("field"))
        .as("details.field of %s", r.raw())
        .isEqualTo(field);
    return r;
  }

  static int conversations(Api.User u) {
    return api.get("/v1/conversations?limit=200", u.accessToken())
        .expect(200)
        .json()
        .getJsonArray("items")
        .size();
  }

  @Test
  void explicitNullsAreRefusedNotReadAsLeftOut() {
    Api.User a = api.newUser("nul");
    Api.User b = api.newUser("nul_peer");
    int before = conversations(a);
    expectField(
        send(
            "POST",
            "/v1/conversations",
            a.accessToken(),
            "application/json",
            "{\"type\":\"group\",\"name\":\"g\",\"member_ids\":null}"),
        "member_ids");
    assertThat(conversations(a)).isEqualTo(before);
    String conv = api.privateChat(a, b);
    JsonObject send = Api.textMessage(conv, UUID.randomUUID().toString(), "hi");
    expectField(
        api.post("/v1/messages", a.accessToken(), send.copy().putNull("reply_to_message_id")),
        "reply_to_message_id");
    JsonObject withNullMetadata = send.copy();
    withNullMetadata.getJsonObject("payload").putNull("metadata");
    expectField(api.post("/v1/messages", a.accessToken(), withNullMetadata), "metadata");
    expectField(
        send(
            "POST",
            "/v1/auth/token",
            null,
            "application/json",
            "{\"username\":\"x\",\"email\":null,\"password\":\"p\"}"),
        "email");
    // the same message without the nulls is accepted: nothing of the refused ones was kept
    api.post("/v1/messages", a.accessToken(), send).expect(202);
  }

  @Test
  void aPatchPayloadMustBeAnObject() {
    Api.User a = api.newUser("patch");
    Api.User b = api.newUser("patch_peer");
    String conv = api.privateChat(a, b);
    String id = UUID.randomUUID().toString();
    api.post("/v1/messages", a.accessToken(), Api.textMessage(conv, id, "original")).expect(202);
    Await.until(
        "message stored",
        Duration.ofSeconds(30),
        () -> api.get("/v1/messages/" + id, a.accessToken()).status() == 200);
    for (String payload : new String[] {"\"x\"", "1", "[\"x\"]", "true"}) {
      expectField(
          send(
              "PATCH",
              "/v1/messages/" + id,
              a.accessToken(),
              "application/json",
              "{\"payload\":" + payload + ",\"text\":\"edited\"}"),
          "payload");
    }
    expectField(
        send(
            "PATCH",
            "/v1/messages/" + id,
            a.accessToken(),
            "application/json",
            "{\"text\":\"one\",\"payload\":{\"text\":\"two\"}}"),
        "text");
    assertThat(
            api.get("/v1/messages/" + id, a.accessToken())
                .json()
                .getJsonObject("payload")
                .getString("text"))
        .isEqualTo("original");
    send(
            "PATCH",
            "/v1/messages/" + id,
            a.accessToken(),
            "application/json",
            "{\"payload\":{\"text\":\"edited\"}}")
        .expect(202);
  }

  @Test
  void jsonIsStrict() {
    Api.User a = api.newUser("json");
    int before = conversations(a);
    String group = "{\"type\":\"group\",\"name\":\"g\",\"member_ids\":[]}";
    String[] bad = {
      "/* a comment */" + group,
      "{\"type\":\"group\", // a comment\n\"name\":\"g\",\"member_ids\":[]}",
      "{\"type\":\"group\",\"name\":\"a\",\"name\":\"b\",\"member_ids\":[]}",
    };
    for (String body : bad) {
      send("POST", "/v1/conversations", a.accessToken(), "application/json", body)
          .expectError(400, "malformed_json");
    }
    Api.Res dup =
        send(
            "POST",
            "/v1/conversations",
            a.accessToken(),
            "application/json",
            "{\"type\":\"group\",\"name\":\"a\",\"name\":\"b\",\"member_ids\":[]}");
    assertThat(dup.json().getJsonObject("error").getString("message")).contains("\"name\"");
    // a byte-order mark; UTF-16 (with and without one)
    byte[] bom = ("\uFEFF" + group).getBytes(StandardCharsets.UTF_8);
    send("POST", "/v1/conversations", a.accessToken(), "application/json", bom)
        .expectError(400, "malformed_json");
    send(
            "POST",
            "/v1/conversations",
            a.accessToken(),
            "application/json",
            group.getBytes(StandardCharsets.UTF_16LE))
        .expectError(400, "malformed_json");
    send(
            "POST",
            "/v1/conversations",
            a.accessToken(),
            "application/json",
            group.getBytes(StandardCharsets.UTF_16))
        .expectError(400, "malformed_json");
    // a repeated key inside a nested object
    Api.User b = api.newUser("json_peer");
    String conv = api.privateChat(a, b);
    send(
            "POST",
            "/v1/messages",
            a.accessToken(),
            "application/json",
            "{\"conversation_id\":\""
                + conv
                + "\",\"message_id\":\""
                + UUID.randomUUID()
                + "\",\"payload\":{\"type\":\"text\",\"text\":\"a\",\"text\":\"b\"}}")
        .expectError(400, "malformed_json");
    assertThat(conversations(a)).isEqualTo(before + 1); // only the private chat
  }

  @Test
  void bodiesDeclaredAsAnotherMediaTypeAre415() {
    Api.User a = api.newUser("mt");
    int before = conversations(a);
    String group = "{\"type\":\"group\",\"name\":\"g\",\"member_ids\":[]}";
    for (String type :
        new String[] {
          "text/plain",
          "application/xml",
          "application/x-www-form-urlencoded",
          "multipart/form-data; boundary=x",
          "application/json; charset=utf-16"
        }) {
      send("POST", "/v1/conversations", a.accessToken(), type, group)
          .expectError(415, "unsupported_media_type");
      send(
              "POST",
              "/v1/auth/token",
              null,
              type,
              "{\"username\":\"" + a.username() + "\",\"password\":\"correct horse\"}")
          .expectError(415, "unsupported_media_type");
    }
    assertThat(conversations(a)).isEqualTo(before);
    // JSON, with or without a UTF-8 charset, and an undeclared body are read as JSON
    send("POST", "/v1/conversations", a.accessToken(), "application/json; charset=UTF-8", group)
        .expect(201);
    send("POST", "/v1/conversations", a.accessToken(), "application/merge-patch+json", group)
        .expect(201);
    send("POST", "/v1/conversations", a.accessToken(), null, group).expect(201);
  }

  @Test
  void theNilUuidAndNonCanonicalUuidsAreNotIds() {
    Api.User a = api.newUser("nil");
    Api.User b = api.newUser("nil_peer");
    String conv = api.privateChat(a, b);
    expectField(
        api.post("/v1/messages", a.accessToken(), Api.textMessage(conv, NIL, "x")), "message_id");
    expectField(
        api.post("/v1/messages", a.accessToken(), Api.textMessage(conv, "1-1-1-1-1", "x")),
        "message_id");
    expectField(
        api.post(
            "/v1/messages",
            a.accessToken(),
            Api.textMessage(NIL, UUID.randomUUID().toString(), "x")),
        "conversation_id");
    expectField(
        api.post(
            "/v1/conversations",
            a.accessToken(),
            new JsonObject()
                .put("type", "group")
                .put("name", "g")
                .put("member_ids", new JsonArray().add(NIL))),
        "member_ids");
    // over gRPC too
    SendMessageRequest grpcNil =
        SendMessageRequest.newBuilder()
            .setConversationId(conv)
            .setMessageId(NIL)
            .setPayload(MessagePayload.newBuilder().setType("text").setText("x"))
            .build();
    Api.GrpcRes<?> r = api.grpc(MessageServiceGrpcClient.SendMessage, grpcNil, a.accessToken());
    assertThat(r.status()).isEqualTo(GrpcStatus.INVALID_ARGUMENT);
    assertThat(r.errorCode()).isEqualTo("validation_failed");
    // an uppercase UUID is the same id, normalised
    String id = UUID.randomUUID().toString();
    assertThat(
            api.post(
                    "/v1/messages",
                    a.accessToken(),
                    Api.textMessage(conv, id.toUpperCase(java.util.Locale.ROOT), "x"))
                .expect(202)
                .json()
                .getString("message_id"))
        .isEqualTo(id);
  }

  @Test
  void grpcMetadataJsonIsStrictToo() {
    Api.User a = api.newUser("grpcjson");
    Api.User b = api.newUser("grpcjson_peer");
    String conv = api.privateChat(a, b);
    for (String metadata : new String[] {"{\"k\":1,\"k\":2}", "{\"k\":1 /* c */}"}) {
      SendMessageRequest send =
          SendMessageRequest.newBuilder()
              .setConversationId(conv)
              .setMessageId(UUID.randomUUID().toString())
              .setPayload(
                  MessagePayload.newBuilder()
                      .setType("text")
                      .setText("x")
                      .setMetadataJson(metadata))
              .build();
      Api.GrpcRes<?> r = api.grpc(MessageServiceGrpcClient.SendMessage, send, a.accessToken());
      assertThat(r.status()).as(metadata).isEqualTo(GrpcStatus.INVALID_ARGUMENT);
      assertThat(r.errorCode()).isEqualTo("validation_failed");
    }
  }
}
