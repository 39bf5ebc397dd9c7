package io.chat4all.node.authz;

import static org.assertj.core.api.Assertions.assertThat;

import io.chat4all.node.api.Api;
import io.chat4all.node.webhooks.Receiver;
import io.chat4all.testkit.Await;
import io.chat4all.testkit.BackendsExtension;
import io.chat4all.testkit.TestBackends;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.UUID;
import org.assertj.core.api.SoftAssertions;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Who may do what with a conversation, message, file, webhook or plugin id, over REST and gRPC:
 * every documented operation has a row ({@link RestRows}, {@link GrpcRows}) and every role gets its
 * documented answer. Outsiders cannot tell a foreign id from a random one (the same 404 body);
 * missing, forged, unsigned, expired and revoked tokens get 401 with their code; the plugin admin
 * API is 403 for everyone but an admin. Over {@code /v1/ws} and {@code /eventbus} an outsider can
 * neither act on nor hear of a conversation it is not in, nor listen on another user's address.
 */
@ExtendWith(BackendsExtension.class)
class AuthorizationMatrixTest {
  /** The node's signing key (base64, as {@code auth.jwt_secret} wants), so tokens can be minted. */
  static final String SECRET = randomKey();

  enum Role {
    OWNER,
    MEMBER,
    OUTSIDER,
    ADMIN
  }

  /** The unauthenticated variants and the code each gets. */
  enum Unauth {
    NO_TOKEN("unauthenticated"),
    BAD_SIGNATURE("token_invalid"),
    ALG_NONE("token_invalid"),
    EXPIRED("token_expired"),
    REVOKED("token_revoked");

    final String code;

    Unauth(String code) {
      this.code = code;
    }
  }

  static Api api;
  static Vertx vertx;
  static Receiver receiver;
  static Fixture.World world;
  static Fixture shared;
  static final Map<Unauth, String> badTokens = new LinkedHashMap<>();

  static String randomKey() {
    byte[] key = new byte[48];
    new java.security.SecureRandom().nextBytes(key);
    return Base64.getEncoder().encodeToString(key);
  }

  @BeforeAll
  static void start(TestBackends.Isolation iso) {
    String adminName = "mxadmin_" + UUID.randomUUID().toString().substring(0, 8);
    JsonObject config =
        new JsonObject()
            .put("auth", new JsonObject().put("jwt_secret", SECRET))
            .put("admin", new JsonObject().put("usernames", new JsonArray().add(adminName)))
            .put(
                "webhooks",
                new JsonObject()
                    .put("allow_http", true)
                    .put("allow_private_addresses", true)
                    .put("poll_interval_ms", 200))
            .put("outbox", new JsonObject().put("interval_ms", 200))
            .put(
                "files", new JsonObject().put("allowed_mime_types", new JsonArray().add("text/*")));
    api = Api.start(iso, config);
    vertx = Vertx.vertx();
    receiver = Receiver.start(vertx);
    world =
        new Fixture.World(
            api,
            api.newUser("mxowner"),
            api.newUser("mxmember"),
            api.newUser("mxoutsider"),
            api.namedUser(adminName),
            api.newUser("mxextra"),
            api.newUser("mxnew"),
            receiver.url("/matrix"));
    shared = new Fixture(world);
    Api.User owner = world.owner();
    long future = System.currentTimeMillis() / 1000 + 600;
    // the minted tokens are right: one with a good signature and lifetime is accepted
    api.get("/v1/me", Tokens.hs256(SECRET, Tokens.claims(owner.id(), owner.username(), future)))
        .expect(200);
    badTokens.put(Unauth.NO_TOKEN, null);
    badTokens.put(
        Unauth.BAD_SIGNATURE,
        Tokens.hs256(randomKey(), Tokens.claims(owner.id(), owner.username(), future)));
    badTokens.put(
        Unauth.ALG_NONE, Tokens.algNone(Tokens.claims(owner.id(), owner.username(), future)));
    long past = System.currentTimeMillis() / 1000 - 3600;
    badTokens.put(
        Unauth.EXPIRED, Tokens.hs256(SECRET, Tokens.claims(owner.id(), owner.username(), past)));
    String second =
        api.post(
                "/v1/auth/token",
                null,
                new JsonObject().put("username", owner.username()).put("password", "correct horse"))
            .expect(200)
            .json()
            .getString("access_token");
    api.post("/v1/auth/logout", second, null).expect(204);
    badTokens.put(Unauth.REVOKED, second);
  }

  @AfterAll
  static void stop() {
    receiver.close();
    Await.result(vertx.close());
    api.close();
  }

  static String token(Role role) {
    return switch (role) {
      case OWNER -> world.owner().accessToken();
      case MEMBER -> world.member().accessToken();
      case OUTSIDER -> world.outsider().accessToken();
      case ADMIN -> world.admin().accessToken();
    };
  }

  @Test
  void everyDocumentedOperationAndEveryGrpcMethodHasARow() {
    JsonObject paths = api.get("/v1/openapi.json", null).expect(200).json().getJsonObject("paths");
    Set<String> documented = new TreeSet<>();
    for (String path : paths.fieldNames()) {
      for (String method : paths.getJsonObject(path).fieldNames()) {
        if (Set.of("get", "post", "put", "patch", "delete").contains(method)) {
          documented.add(method.toUpperCase(Locale.ROOT) + " " + path);
        }
      }
    }
    Set<String> inMatrix = new TreeSet<>(RestRows.PUBLIC);
    RestRows.rows()
        .forEach(r -> assertThat(inMatrix.add(r.op())).as("one row for %s", r.op()).isTrue());
    assertThat(inMatrix).as("operations of the matrix").isEqualTo(documented);

    Set<String> methods = new TreeSet<>(GrpcRows.PUBLIC);
    GrpcRows.rows()
        .forEach(
            r -> assertThat(methods.add(r.method())).as("one row for %s", r.method()).isTrue());
    assertThat(methods).as("gRPC methods of the matrix").isEqualTo(GrpcRows.served());
  }

  @Test
  void restAnswersEveryRoleAsDocumented() {
    SoftAssertions soft = new SoftAssertions();
    Fixture ghost = Fixture.ghost(world);
    for (RestRows.Row row : RestRows.rows()) {
      for (Map.Entry<Unauth, String> bad : badTokens.entrySet()) {
        Api.Res res = row.req().apply(shared).send(api, bad.getValue());
        Expect.of("401 " + bad.getKey().code).check(soft, row.op() + " " + bad.getKey(), res);
      }
      if (row.expect() == null) {
        continue;
      }
      for (Role role : Role.values()) {
        Expect expected = Expect.of(row.expect()[role.ordinal()]);
        // a call that is to succeed changes what it names: it gets its own
        Fixture f = row.fresh() && expected.status() < 300 ? new Fixture(world) : shared;
        String what = row.op() + " as " + role;
        Api.Res real = row.req().apply(f).send(api, token(role));
        expected.check(soft, what, real);
        if (row.adminOnly() && !row.op().contains("{")) {
          continue; // no id to make up
        }
        // a random id: 404, or 403 for the admin API; a refusal of a real id looks the same
        Api.Res random = row.req().apply(ghost).send(api, token(role));
        Expect.of(row.adminOnly() && role != Role.ADMIN ? "403" : "404")
            .check(soft, what + " (random ids)", random);
        if (real.status() == 404 || real.status() == 403 && row.adminOnly()) {
          soft.assertThat(Expect.shape(random))
              .as("%s: a refusal of a real id is the one of a random id", what)
              .isEqualTo(Expect.shape(real));
        }
      }
    }
    soft.assertAll();
  }

  @Test
  void grpcAnswersEveryRoleAsDocumented() {
    SoftAssertions soft = new SoftAssertions();
    Fixture ghost = Fixture.ghost(world);
    for (GrpcRows.Row row : GrpcRows.rows()) {
      for (Map.Entry<Unauth, String> bad : badTokens.entrySet()) {
        Api.GrpcRes<?> res = GrpcRows.call(api, row, shared, bad.getValue());
        GrpcRows.check(
            soft, row.method() + " " + bad.getKey(), res, "UNAUTHENTICATED", bad.getKey().code);
      }
      if (row.expect() == null) {
        continue;
      }
      for (Role role : Role.values()) {
        String[] expected = row.expect()[role.ordinal()].split(" ");
        Fixture f = row.fresh() && "OK".equals(expected[0]) ? new Fixture(world) : shared;
        String what = row.method() + " as " + role;
        Api.GrpcRes<?> real = GrpcRows.call(api, row, f, token(role));
        GrpcRows.check(soft, what, real, expected[0], expected.length > 1 ? expected[1] : null);
        Api.GrpcRes<?> random = GrpcRows.call(api, row, ghost, token(role));
        GrpcRows.check(soft, what + " (random ids)", random, "NOT_FOUND", "not_found");
        if ("NOT_FOUND".equals(real.status().name())) {
          soft.assertThat(Expect.scrub(random.message()))
              .as("%s: a refusal of a real id is the one of a random id", what)
              .isEqualTo(Expect.scrub(real.message()));
        }
      }
    }
    soft.assertAll();
  }

  /** The admin is no member: it reads no conversation it is not in (admin means the plugin API). */
  @Test
  void theAdminListsNoForeignConversationsAndWebhooks() {
    shared.conv();
    shared.hook();
    List<String> ids = new ArrayList<>();
    api.get("/v1/conversations", world.admin().accessToken())
        .expect(200)
        .json()
        .getJsonArray("items")
        .forEach(o -> ids.add(((JsonObject) o).getString("conversation_id")));
    assertThat(ids).doesNotContain(shared.conv());
    assertThat(
            api.get("/v1/webhooks", world.admin().accessToken())
                .expect(200)
                .json()
                .getJsonArray("items"))
        .isEmpty();
  }

  /** A /v1/ws or SockJS raw socket of the test. */
  static Sockets.Sock socket(String path) {
    return new Sockets.Sock(wsClient(), api.node().httpPort(), path);
  }

  private static io.vertx.core.http.WebSocketClient wsClient;

  static synchronized io.vertx.core.http.WebSocketClient wsClient() {
    if (wsClient == null) {
      wsClient = vertx.createWebSocketClient();
    }
    return wsClient;
  }

  @Test
  void aWebSocketOfAnOutsiderCanNeitherActOnNorHearOfTheConversation() {
    Api.User owner = world.owner();
    String conv = shared.conv();
    String msg = shared.msg();
    try (Sockets.Sock sa = Sockets.authed(socket("/v1/ws"), owner);
        Sockets.Sock sb = Sockets.authed(socket("/v1/ws"), world.member());
        Sockets.Sock sc = Sockets.authed(socket("/v1/ws"), world.outsider())) {
      String random = UUID.randomUUID().toString();
      List<JsonObject> frames =
          List.of(
              Api.textMessage(conv, UUID.randomUUID().toString(), "x").put("type", "send"),
              new JsonObject().put("type", "typing").put("conversation_id", conv),
              new JsonObject().put("type", "read").put("message_id", msg),
              new JsonObject().put("type", "delivered").put("message_id", msg));
      for (JsonObject frame : frames) {
        String real = Sockets.error(sc, frame.copy());
        String ghost = Sockets.error(sc, Sockets.withIds(frame, conv, msg, random));
        assertThat(real).as("outsider %s", frame.getString("type")).contains("\"not_found\"");
        assertThat(ghost).as("%s of a random id", frame.getString("type")).isEqualTo(real);
      }
      // the members hear the conversation; the outsider hears nothing of it
      sa.send(new JsonObject().put("type", "typing").put("conversation_id", conv));
      sb.await("typing", f -> "typing".equals(f.getString("type")));
      String live = UUID.randomUUID().toString();
      api.post("/v1/messages", owner.accessToken(), Api.textMessage(conv, live, "live"))
          .expect(202);
      sb.await("message " + live, f -> f.encode().contains(live));
      api.post("/v1/messages/" + live + "/read", world.member().accessToken(), null).expect(202);
      sa.await(
          "status of " + live,
          f -> "status".equals(f.getString("type")) && f.encode().contains(live));
      sc.roundTrip();
      assertThat(sc.frames)
          .noneMatch(f -> f.encode().contains(conv) && !"error".equals(f.getString("type")));
    }
    for (Map.Entry<Unauth, String> bad : badTokens.entrySet()) {
      if (bad.getValue() == null) {
        continue;
      }
      Sockets.Sock s = socket("/v1/ws");
      s.send(new JsonObject().put("type", "auth").put("token", bad.getValue()));
      Sockets.awaitRefused(s, bad.getKey().code);
    }
  }

  @Test
  void theBridgeRefusesOtherUsersAddressesAndForgedTokensAndDeliversNothingForeign() {
    Api.User owner = world.owner();
    Api.User outsider = world.outsider();
    String conv = shared.conv();
    String ownerAddress = "chat4all.user." + owner.id();
    // someone else's address: with the caller's own token, and with bad tokens claiming to be owner
    try (Sockets.Sock s = socket("/eventbus/websocket")) {
      int refusals = 0;
      s.send(Sockets.frame("register", ownerAddress, outsider.accessToken()));
      Sockets.awaitErrs(s, ++refusals);
      for (String bad : badTokens.values()) {
        s.send(Sockets.frame("register", ownerAddress, bad));
        Sockets.awaitErrs(s, ++refusals);
        s.send(Sockets.frame("register", "chat4all.user." + outsider.id(), bad));
        Sockets.awaitErrs(s, ++refusals);
      }
      s.send(
          Sockets.frame("publish", ownerAddress, outsider.accessToken())
              .put("body", new JsonObject()));
      Sockets.awaitErrs(s, ++refusals);
      s.send(
          Sockets.frame("send", ownerAddress, outsider.accessToken())
              .put("body", new JsonObject()));
      Sockets.awaitErrs(s, ++refusals);
      assertThat(s.frames).noneMatch(f -> "rec".equals(f.getString("type")));
    }
    // the outsider on its own address: a send into the conversation fails as for a random one
    Api.User peer = world.newcomer();
    String own = api.privateChat(outsider, peer);
    try (Sockets.Sock sc = Sockets.bridge(socket("/eventbus/websocket"), outsider);
        Sockets.Sock sb = Sockets.bridge(socket("/eventbus/websocket"), world.member())) {
      String real =
          Sockets.reply(
              sc,
              "chat4all.client.send",
              outsider,
              Api.textMessage(conv, UUID.randomUUID().toString(), "x"));
      String ghost =
          Sockets.reply(
              sc,
              "chat4all.client.send",
              outsider,
              Api.textMessage(UUID.randomUUID().toString(), UUID.randomUUID().toString(), "x"));
      assertThat(real).contains("\"err\"").contains("not_found");
      assertThat(Expect.scrub(ghost)).isEqualTo(Expect.scrub(real));
      String live = UUID.randomUUID().toString();
      api.post("/v1/messages", owner.accessToken(), Api.textMessage(conv, live, "live"))
          .expect(202);
      sb.await("message " + live + " on the member's bridge", f -> f.encode().contains(live));
      String mine = UUID.randomUUID().toString();
      api.post("/v1/messages", peer.accessToken(), Api.textMessage(own, mine, "to you"))
          .expect(202);
      sc.await("own message " + mine, f -> f.encode().contains(mine));
      assertThat(sc.frames).noneMatch(f -> f.encode().contains(live) || f.encode().contains(conv));
    }
  }
}
