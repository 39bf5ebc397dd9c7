package io.chat4all.node.authz;

import io.vertx.core.json.JsonObject;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.UUID;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * Access tokens made by hand (HS256 over a known key, or unsigned), for the unauthenticated rows.
 */
final class Tokens {
  private Tokens() {}

  private static final Base64.Encoder B64 = Base64.getUrlEncoder().withoutPadding();

  /** The claims of an access token of {@code userId} expiring at {@code exp} (epoch seconds). */
  static JsonObject claims(String userId, String username, long exp) {
    return new JsonObject()
        .put("sub", userId)
        .put("username", username)
        .put("jti", UUID.randomUUID().toString())
        .put("typ", "access")
        .put("iss", "chat4all")
        .put("iat", exp - 900)
        .put("exp", exp);
  }

  /** A compact JWS signed with HMAC-SHA256 under {@code key} (the UTF-8 bytes of the string). */
  static String hs256(String key, JsonObject claims) {
    String signingInput =
        part(new JsonObject().put("alg", "HS256").put("typ", "JWT")) + "." + part(claims);
    try {
      Mac mac = Mac.getInstance("HmacSHA256");
      mac.init(new SecretKeySpec(key.getBytes(StandardCharsets.UTF_8), "HmacSHA256"));
      return signingInput
          + "."
          + B64.encodeToString(mac.doFinal(signingInput.getBytes(StandardCharsets.US_ASCII)));
    } catch (Exception e) {
      throw new AssertionError(e);
    }
  }

  /** An unsigned token ({@code alg: none}, empty signature) with {@code claims}. */
  static String algNone(JsonObject claims) {
    return part(new JsonObject().put("alg", "none").put("typ", "JWT")) + "." + part(claims) + ".";
  }

  private static String part(JsonObject json) {
    return B64.encodeToString(json.encode().getBytes(StandardCharsets.UTF_8));
  }
}
