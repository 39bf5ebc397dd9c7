package io.chat4all.channel.spi;

import io.vertx.core.buffer.Buffer;
import java.nio.charset.StandardCharsets;
import java.security.InvalidKeyException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/** Helpers for authenticating webhook requests: HMAC over the raw body, constant-time compares. */
public final class Signatures {
  private Signatures() {}

  /** Lower-case hex HMAC-SHA256 of {@code body} with {@code secret}. */
  public static String hmacSha256Hex(String secret, Buffer body) {
    return HexFormat.of()
        .formatHex(hmacSha256(secret.getBytes(StandardCharsets.UTF_8), body.getBytes()));
  }

  public static byte[] hmacSha256(byte[] key, byte[] data) {
    try {
      Mac mac = Mac.getInstance("HmacSHA256");
      mac.init(new SecretKeySpec(key, "HmacSHA256"));
      return mac.doFinal(data);
    } catch (NoSuchAlgorithmException | InvalidKeyException e) {
      throw new IllegalStateException(e);
    }
  }

  /** Constant-time comparison of two texts (false when either is null). */
  public static boolean constantTimeEquals(String a, String b) {
    if (a == null || b == null) {
      return false;
    }
    return MessageDigest.isEqual(
        a.getBytes(StandardCharsets.UTF_8), b.getBytes(StandardCharsets.UTF_8));
  }
}
