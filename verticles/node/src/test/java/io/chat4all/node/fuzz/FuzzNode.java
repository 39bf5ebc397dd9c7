package io.chat4all.node.fuzz;

import static org.assertj.core.api.Assertions.assertThat;

import io.chat4all.node.api.Api;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.List;
import java.util.Random;
import java.util.UUID;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/** The fuzzed node's settings and the credentials the fuzzers present. */
final class FuzzNode {
  /**
   * The node's signing key, known here so that expired and forged-but-signed tokens can be made.
   */
  static final String JWT_SECRET =
      Base64.getEncoder()
          .encodeToString(
              "chat4all-fuzz-signing-key-0123456789abcdef".getBytes(StandardCharsets.UTF_8));

  private FuzzNode() {}

  /**
   * No request or frame rate limits (they would answer 429 before the fuzzed input is looked at), a
   * known signing key, {@code admin} allowed on the admin API.
   */
  static JsonObject overrides(String admin) {
    return new JsonObject()
        .put(
            "rate_limit",
            new JsonObject().put("per_user_per_minute", 0).put("per_ip_per_minute", 0))
        .put("realtime", new JsonObject().put("max_frames_per_second", 100_000))
        .put(
            "auth",
            new JsonObject().put("jwt_secret", JWT_SECRET).put("login_max_failures", 1_000_000))
        .put("admin", new JsonObject().put("usernames", new JsonArray().add(admin)))
        .put("webhooks", new JsonObject().put("allow_http", true));
  }

  static String b64(String s) {
    return Base64.getUrlEncoder()
        .withoutPadding()
        .encodeToString(s.getBytes(StandardCharsets.UTF_8));
  }

  /** A token signed with the node's key with these claims. */
  static String signed(JsonObject header, JsonObject claims) {
    try {
      String head = b64(header.encode()) + "." + b64(claims.encode());
      Mac mac = Mac.getInstance("HmacSHA256");
      mac.init(new SecretKeySpec(JWT_SECRET.getBytes(StandardCharsets.UTF_8), "HmacSHA256"));
      byte[] sig = mac.doFinal(head.getBytes(StandardCharsets.US_ASCII));
      return head + "." + Base64.getUrlEncoder().withoutPadding().encodeToString(sig);
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  static JsonObject claims(String sub, long expOffsetSeconds, String typ) {
    long now = System.currentTimeMillis() / 1000;
    return new JsonObject()
        .put("sub", sub)
        .put("jti", UUID.randomUUID().toString())
        .put("fam", UUID.randomUUID().toString())
        .put("typ", typ)
        .put("iss", "chat4all")
        .put("iat", now - 60)
        .put("exp", now + expOffsetSeconds);
  }

  /** An Authorization header value (null: none), mostly a real user's token. */
  static String authorization(Random r, Api.User a, Api.User b, Api.User c) {
    JsonObject hs256 = new JsonObject().put("alg", "HS256").put("typ", "JWT");
    int k = r.nextInt(20);
    if (k < 9) {
      return "Bearer " + a.accessToken();
    }
    if (k < 12) {
      return "Bearer " + b.accessToken();
    }
    if (k < 14) {
      return "Bearer " + c.accessToken();
    }
    String[] parts = a.accessToken().split("\\.");
    return switch (k) {
      case 14 -> null;
      case 15 ->
          Nasty.pick(
              r,
              List.of(
                  "Bearer",
                  "Bearer ",
                  "Basic dXNlcjpwYXNz",
                  "bearer " + a.accessToken(),
                  "Bearer " + a.accessToken() + " extra",
                  "Bearer a.b.c",
                  "Bearer ....",
                  "Bearer " + "A".repeat(9000),
                  "Bearer %00"));
      // alg none with a's claims
      case 16 ->
          "Bearer "
              + b64(new JsonObject().put("alg", "none").put("typ", "JWT").encode())
              + "."
              + parts[1]
              + ".";
      // a's signature over another user's claims
      case 17 ->
          "Bearer " + parts[0] + "." + b64(claims(b.id(), 600, "access").encode()) + "." + parts[2];
      // signed but expired, or a refresh token, or an unknown user
      case 18 -> "Bearer " + signed(hs256, claims(a.id(), -3600, "access"));
      default ->
          "Bearer "
              + signed(
                  hs256,
                  r.nextBoolean()
                      ? claims(a.id(), 600, "refresh")
                      : claims(UUID.randomUUID().toString(), 600, "access"));
    };
  }

  static void assertReady(Api api) {
    Api.Res ready = api.get("/health/ready", null);
    assertThat(ready.status()).as("readiness after fuzzing: %s", ready.raw()).isEqualTo(200);
  }
}
