package io.chat4all.webhooks;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.HexFormat;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * Delivery signatures, the Stripe / Standard-Webhooks pattern: {@code Chat4All-Signature: v1=<hex
 * HMAC-SHA256(secret, timestamp + "." + raw body)>}, the key being the secret's UTF-8 bytes and the
 * timestamp the {@code Chat4All-Timestamp} header (Unix seconds). While a rotated-out secret is
 * still valid the header carries one {@code v1=} per secret, comma-separated, newest first.
 */
public final class Signatures {
  private static final SecureRandom RANDOM = new SecureRandom();
  private static final HexFormat HEX = HexFormat.of();

  private Signatures() {}

  /** A new signing secret: {@code whsec_} and 32 random bytes in unpadded base64url. */
  public static String newSecret() {
    byte[] key = new byte[32];
    RANDOM.nextBytes(key);
    return "whsec_" + Base64.getUrlEncoder().withoutPadding().encodeToString(key);
  }

  /** The hex HMAC-SHA256 of {@code timestamp + "." + body} under {@code secret}. */
  public static String sign(String secret, long timestamp, byte[] body) {
    try {
      Mac mac = Mac.getInstance("HmacSHA256");
      mac.init(new SecretKeySpec(secret.getBytes(StandardCharsets.UTF_8), "HmacSHA256"));
      mac.update((timestamp + ".").getBytes(StandardCharsets.US_ASCII));
      return HEX.formatHex(mac.doFinal(body));
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("HmacSHA256 is not available", e);
    }
  }

  /** The header value: {@code v1=<sig>} for the secret, then for the previous one if given. */
  public static String header(String secret, String previous, long timestamp, byte[] body) {
    String value = "v1=" + sign(secret, timestamp, body);
    if (previous != null) {
      value += ",v1=" + sign(previous, timestamp, body);
    }
    return value;
  }

  /**
   * What a receiver does: true when one {@code v1=} of {@code header} matches {@code secret}
   * (compared in constant time). Receivers should also refuse timestamps too far from their clock.
   */
  public static boolean verify(String secret, String header, long timestamp, byte[] body) {
    byte[] expected = sign(secret, timestamp, body).getBytes(StandardCharsets.US_ASCII);
    for (String part : header.split(",")) {
      String p = part.trim();
      if (p.startsWith("v1=")
          && MessageDigest.isEqual(expected, p.substring(3).getBytes(StandardCharsets.US_ASCII))) {
        return true;
      }
    }
    return false;
  }
}
