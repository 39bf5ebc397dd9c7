package io.chat4all.node.api;

import static org.assertj.core.api.Assertions.assertThat;

import io.chat4all.testkit.Await;
import io.chat4all.testkit.BackendsExtension;
import io.chat4all.testkit.TestBackends;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.auth.JWTOptions;
import io.vertx.ext.auth.PubSecKeyOptions;
import io.vertx.ext.auth.jwt.JWTAuth;
import io.vertx.ext.auth.jwt.JWTAuthOptions;
import java.time.Duration;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** Registration, login, tokens, users and channel identities over REST, good and bad input. */
@ExtendWith(BackendsExtension.class)
class AuthApiTest {
  static Api api;
  static String secret;

  @BeforeAll
  static void start(TestBackends.Isolation iso) {
    secret = iso.nodeConfig().getJsonObject("auth").getString("jwt_secret");
    api = Api.start(iso);
  }

  @AfterAll
  static void stop() {
    api.close();
  }

  static JsonObject reg(String username, String email, String password) {
    return new JsonObject().put("username", username).put("email", email).put("password", password);
  }

  static String unique(String p) {
    return p + UUID.randomUUID().toString().substring(0, 8);
  }

  @Test
  void registerLoginAndMe() {
    String name = unique("Ana.");
    JsonObject created =
        api.post("/v1/auth/register", null, reg(name, name + "@mail.test", "s3cret-pass"))
            .expect(201)
            .json();
    assertThat(created.getString("username")).isEqualTo(name);
    assertThat(created.getString("email")).isEqualTo(name + "@mail.test");
    assertThat(created.getString("user_id")).isNotBlank();
    assertThat(created.containsKey("password")).isFalse();
    assertThat(created.containsKey("password_hash")).isFalse();

    JsonObject byName =
        api.post(
                "/v1/auth/token",
                null,
                new JsonObject().put("username", name.toUpperCase()).put("password", "s3cret-pass"))
            .expect(200)
            .json();
    assertThat(byName.getString("token_type")).isEqualTo("Bearer");
    assertThat(byName.getInteger("expires_in")).isPositive();
    assertThat(byName.getString("refresh_token")).isNotBlank();
    JsonObject byEmail =
        api.post(
                "/v1/auth/token",
                null,
                new JsonObject().put("email", name + "@mail.test").put("password", "s3cret-pass"))
            .expect(200)
            .json();

    JsonObject me = api.get("/v1/me", byEmail.getString("access_token")).expect(200).json();
    assertThat(me.getString("user_id")).isEqualTo(created.getString("user_id"));
    assertThat(me.getString("status")).isEqualTo("active");
    assertThat(me.getString("created_at"))
        .matches("\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}Z");
  }

  @Test
  void duplicatesAreConflicts() {
    String name = unique("dup");
    api.post("/v1/auth/register", null, reg(name, name + "@mail.test", "password1")).expect(201);
    Api.Res sameName =
        api.post(
            "/v1/auth/register",
            null,
            reg(name.toUpperCase(), "other-" + name + "@mail.test", "password1"));
    sameName.expectError(409, "conflict");
    assertThat(sameName.json().getJsonObject("error").getJsonObject("details").getString("field"))
        .isEqualTo("username");
    Api.Res sameEmail =
        api.post(
            "/v1/auth/register",
            null,
            reg("x" + name, name.toUpperCase() + "@MAIL.test", "password1"));
    sameEmail.expectError(409, "conflict");
    assertThat(sameEmail.json().getJsonObject("error").getJsonObject("details").getString("field"))
        .isEqualTo("email");
    // the rejected second account does not exist
    api.post(
            "/v1/auth/token",
            null,
            new JsonObject().put("username", "x" + name).put("password", "password1"))
        .expectError(401, "unauthenticated");
  }

  @Test
  void badRegistrationsWriteNothing() {
    String name = unique("bad");
    api.call("POST", "/v1/auth/register", null, "{\"username\": ")
        .expectError(400, "malformed_json");
    api.call("POST", "/v1/auth/register", null, "[1,2]").expectError(400, "malformed_json");
    api.call("POST", "/v1/auth/register", null, null).expectError(400, "malformed_json");
    api.post(
            "/v1/auth/register",
            null,
            new JsonObject().put("username", name).put("email", name + "@m.test"))
        .expectError(400, "validation_failed");
    api.post(
            "/v1/auth/register",
            null,
            new JsonObject()
                .put("username", 42)
                .put("email", name + "@m.test")
                .put("password", "password1"))
        .expectError(400, "validation_failed");
    api.post("/v1/auth/register", null, reg(name, name + "@m.test", "short"))
        .expectError(400, "validation_failed");
    api.post("/v1/auth/register", null, reg("x".repeat(33), name + "@m.test", "password1"))
        .expectError(400, "validation_failed");
    api.post("/v1/auth/register", null, reg("has space", name + "@m.test", "password1"))
        .expectError(400, "validation_failed");
    api.post("/v1/auth/register", null, reg(name, "not-an-email", "password1"))
        .expectError(400, "validation_failed");
    api.post(
            "/v1/auth/register",
            null,
            reg(name, name + "@m.test", "password1").put("role", "admin"))
        .expectError(400, "validation_failed");
    api.call("POST", "/v1/auth/register", null, "{\"username\":\"" + "a".repeat(1_100_000) + "\"}")
        .expectError(413, "payload_too_large");
    // none of those created the account
    api.post(
            "/v1/auth/token",
            null,
            new JsonObject().put("username", name).put("password", "password1"))
        .expectError(401, "unauthenticated");
    // and the node still serves
    api.post("/v1/auth/register", null, reg(name, name + "@m.test", "password1")).expect(201);
  }

  @Test
  void wrongCredentialsAndBadLogins() {
    Api.User u = api.newUser("cred");
    api.post(
            "/v1/auth/token",
            null,
            new JsonObject().put("username", u.username()).put("password", "wrong password"))
        .expectError(401, "unauthenticated");
    api.post(
            "/v1/auth/token",
            null,
            new JsonObject().put("username", unique("nobody")).put("password", "whatever1"))
        .expectError(401, "unauthenticated");
    api.post(
            "/v1/auth/token",
            null,
            new JsonObject()
                .put("username", u.username())
                .put("email", "a@b.c")
                .put("password", "x"))
        .expectError(400, "validation_failed");
    api.post("/v1/auth/token", null, new JsonObject().put("password", "x"))
        .expectError(400, "validation_failed");
  }

  @Test
  void failedLoginsAreThrottledPerAccount() {
    Api.User u = api.newUser("throttle");
    for (int i = 0; i < 5; i++) {
      api.post(
              "/v1/auth/token",
              null,
              new JsonObject().put("username", u.username()).put("password", "nope-" + i))
          .expectError(401, "unauthenticated");
    }
    Api.Res limited =
        api.post(
            "/v1/auth/token",
            null,
            new JsonObject().put("username", u.username()).put("password", "correct horse"));
    limited.expectError(429, "rate_limited");
    assertThat(limited.headers().firstValue("Retry-After")).isPresent();
  }

  @Test
  void missingForgedExpiredAndWrongTypeTokens() {
    api.get("/v1/me", null).expectError(401, "unauthenticated");
    api.call("GET", "/v1/me", "not.a.jwt", null).expectError(401, "token_invalid");
    Vertx vertx = Vertx.vertx();
    try {
      JWTAuth other = jwt(vertx, java.util.Base64.getEncoder().encodeToString(new byte[48]));
      String forged =
          other.generateToken(
              claims("access"), new JWTOptions().setIssuer("chat4all").setExpiresInSeconds(600));
      api.get("/v1/me", forged).expectError(401, "token_invalid");

      JWTAuth same = jwt(vertx, secret);
      long past = System.currentTimeMillis() / 1000 - 3600;
      String expired =
          same.generateToken(
              claims("access").put("exp", past).put("iat", past - 60),
              new JWTOptions().setIssuer("chat4all"));
      api.get("/v1/me", expired).expectError(401, "token_expired");

      // a token that never expires is not one this service issues
      String noExpiry =
          same.generateToken(claims("access"), new JWTOptions().setIssuer("chat4all"));
      api.get("/v1/me", noExpiry).expectError(401, "token_invalid");

      String refreshTyped =
          same.generateToken(
              claims("refresh"), new JWTOptions().setIssuer("chat4all").setExpiresInSeconds(600));
      api.get("/v1/me", refreshTyped).expectError(401, "token_invalid");
    } finally {
      vertx.close();
    }
  }

  private static JWTAuth jwt(Vertx vertx, String key) {
    return JWTAuth.create(
        vertx,
        new JWTAuthOptions()
            .addPubSecKey(new PubSecKeyOptions().setAlgorithm("HS256").setBuffer(key)));
  }

  private static JsonObject claims(String typ) {
    return new JsonObject()
        .put("sub", UUID.randomUUID().toString())
        .put("jti", UUID.randomUUID().toString())
        .put("typ", typ);
  }

  @Test
  void refreshRotatesAndReuseRevokesTheLogin() {
    Api.User u = api.newUser("rot");
    JsonObject second =
        api.post("/v1/auth/refresh", null, new JsonObject().put("refresh_token", u.refreshToken()))
            .expect(200)
            .json();
    assertThat(second.getString("refresh_token")).isNotEqualTo(u.refreshToken());
    api.get("/v1/me", second.getString("access_token")).expect(200);

    // replaying the rotated token: theft suspected, the whole family dies
    api.post("/v1/auth/refresh", null, new JsonObject().put("refresh_token", u.refreshToken()))
        .expectError(401, "token_revoked");
    api.post(
            "/v1/auth/refresh",
            null,
            new JsonObject().put("refresh_token", second.getString("refresh_token")))
        .expectError(401, "token_revoked");
    api.post("/v1/auth/refresh", null, new JsonObject().put("refresh_token", "made-up"))
        .expectError(401, "token_invalid");
    api.post("/v1/auth/refresh", null, new JsonObject()).expectError(400, "validation_failed");
  }

  /** Longer than the 1 s a revocation used to last, and than the JWT leeway. */
  static final Duration STAYS = Duration.ofSeconds(7);

  /** The token is refused (401 token_revoked) for reads and writes, again and again for a while. */
  static void staysRevoked(String what, String... tokens) {
    Await.holds(
        what,
        STAYS,
        () -> {
          for (String t : tokens) {
            api.get("/v1/me", t).expectError(401, "token_revoked");
          }
        });
    for (String t : tokens) {
      api.post(
              "/v1/conversations",
              t,
              new JsonObject().put("type", "group").put("name", "after logout"))
          .expectError(401, "token_revoked");
    }
  }

  @Test
  void logoutRevokesAccessAndRefresh() {
    Api.User u = api.newUser("bye");
    api.post(
            "/v1/auth/logout",
            u.accessToken(),
            new JsonObject().put("refresh_token", u.refreshToken()))
        .expect(204);
    staysRevoked("logged-out token refused", u.accessToken());
    api.post("/v1/auth/refresh", null, new JsonObject().put("refresh_token", u.refreshToken()))
        .expectError(401, "token_revoked");
    // other logins of the same user are unaffected
    JsonObject again =
        api.post(
                "/v1/auth/token",
                null,
                new JsonObject().put("username", u.username()).put("password", "correct horse"))
            .expect(200)
            .json();
    api.get("/v1/me", again.getString("access_token")).expect(200);
  }

  @Test
  void logoutWithoutARefreshTokenEndsTheWholeLogin() {
    Api.User u = api.newUser("bye2");
    JsonObject other =
        api.post(
                "/v1/auth/token",
                null,
                new JsonObject().put("username", u.username()).put("password", "correct horse"))
            .expect(200)
            .json();
    // the login rotates once: two access tokens and a current refresh token of one family
    JsonObject rotated =
        api.post("/v1/auth/refresh", null, new JsonObject().put("refresh_token", u.refreshToken()))
            .expect(200)
            .json();
    api.post("/v1/auth/logout", rotated.getString("access_token"), null).expect(204);

    staysRevoked(
        "every access token of the logged-out login refused",
        rotated.getString("access_token"),
        u.accessToken());
    api.post(
            "/v1/auth/refresh",
            null,
            new JsonObject().put("refresh_token", rotated.getString("refresh_token")))
        .expectError(401, "token_revoked");
    // the user's other login goes on
    api.get("/v1/me", other.getString("access_token")).expect(200);
    api.post(
            "/v1/auth/refresh",
            null,
            new JsonObject().put("refresh_token", other.getString("refresh_token")))
        .expect(200);
  }

  @Test
  void refreshTokenReuseAlsoRevokesTheLoginsAccessTokens() {
    Api.User u = api.newUser("theft");
    JsonObject rotated =
        api.post("/v1/auth/refresh", null, new JsonObject().put("refresh_token", u.refreshToken()))
            .expect(200)
            .json();
    api.get("/v1/me", rotated.getString("access_token")).expect(200);
    // the old refresh token comes back: whoever holds the rotated tokens may be the thief
    api.post("/v1/auth/refresh", null, new JsonObject().put("refresh_token", u.refreshToken()))
        .expectError(401, "token_revoked");
    staysRevoked(
        "the login's access tokens refused after reuse",
        rotated.getString("access_token"),
        u.accessToken());
  }

  @Test
  void userLookupShowsPublicProfileOnly() {
    Api.User a = api.newUser("look");
    Api.User b = api.newUser("seen");
    JsonObject found =
        api.get("/v1/users?username=" + b.username().toUpperCase(), a.accessToken())
            .expect(200)
            .json();
    assertThat(found.getJsonArray("items")).hasSize(1);
    assertThat(found.getValue("next_cursor")).isNull();
    JsonObject profile = found.getJsonArray("items").getJsonObject(0);
    assertThat(profile.fieldNames()).containsExactlyInAnyOrder("user_id", "username");
    assertThat(profile.getString("user_id")).isEqualTo(b.id());

    assertThat(
            api.get("/v1/users?username=" + unique("ghost"), a.accessToken())
                .expect(200)
                .json()
                .getJsonArray("items"))
        .isEmpty();
    api.get("/v1/users", a.accessToken()).expectError(400, "validation_failed");
    JsonObject byId = api.get("/v1/users/" + b.id(), a.accessToken()).expect(200).json();
    assertThat(byId.fieldNames()).containsExactlyInAnyOrder("user_id", "username");
    api.get("/v1/users/" + UUID.randomUUID(), a.accessToken()).expectError(404, "not_found");
    api.get("/v1/users/not-a-uuid", a.accessToken()).expectError(404, "not_found");
    api.get("/v1/users/" + b.id(), null).expectError(401, "unauthenticated");
  }

  @Test
  void channelIdentities() {
    Api.User a = api.newUser("chan");
    Api.User b = api.newUser("chan");
    String handle = unique("@tg");
    JsonObject linked =
        api.post(
                "/v1/me/channels",
                a.accessToken(),
                new JsonObject().put("channel_type", "telegram").put("channel_user_id", handle))
            .expect(201)
            .json();
    assertThat(linked.getString("channel_type")).isEqualTo("telegram");
    assertThat(linked.getBoolean("verified")).isFalse();
    // one identity per channel type per user
    api.post(
            "/v1/me/channels",
            a.accessToken(),
            new JsonObject().put("channel_type", "telegram").put("channel_user_id", unique("@x")))
        .expectError(409, "conflict");
    // an unverified claim proves nothing and blocks nobody: another user may claim it too (only
    // a verified link routes messages; ChannelIdentityTest covers verification)
    JsonObject claim =
        api.post(
                "/v1/me/channels",
                b.accessToken(),
                new JsonObject().put("channel_type", "telegram").put("channel_user_id", handle))
            .expect(201)
            .json();
    assertThat(claim.getBoolean("verified")).isFalse();
    api.post(
            "/v1/me/channels",
            a.accessToken(),
            new JsonObject().put("channel_type", "fax").put("channel_user_id", "1"))
        .expectError(400, "validation_failed");
    api.post(
            "/v1/me/channels",
            a.accessToken(),
            new JsonObject().put("channel_type", "whatsapp").put("channel_user_id", 5511))
        .expectError(400, "validation_failed");
    assertThat(api.get("/v1/me/channels", a.accessToken()).expect(200).json().getJsonArray("items"))
        .hasSize(1);
    assertThat(api.get("/v1/me/channels", b.accessToken()).expect(200).json().getJsonArray("items"))
        .hasSize(1);
    api.delete("/v1/me/channels/telegram", a.accessToken()).expect(204);
    api.delete("/v1/me/channels/telegram", a.accessToken()).expectError(404, "not_found");
    api.delete("/v1/me/channels/fax", a.accessToken()).expectError(404, "not_found");
    // linked again after the unlink
    api.post(
            "/v1/me/channels",
            a.accessToken(),
            new JsonObject().put("channel_type", "telegram").put("channel_user_id", handle))
        .expect(201);
  }

  @Test
  void unknownRoutesAndMethods() {
    Api.User a = api.newUser("route");
    api.get("/v1/nope", a.accessToken()).expectError(404, "route_not_found");
    api.call("PUT", "/v1/me", a.accessToken(), "{}").expectError(405, "method_not_allowed");
  }
}
