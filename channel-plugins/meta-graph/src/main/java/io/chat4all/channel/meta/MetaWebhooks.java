package io.chat4all.channel.meta;

import io.chat4all.channel.spi.HandshakeResult;
import io.chat4all.channel.spi.Signatures;
import io.vertx.core.buffer.Buffer;

/** Webhook authentication shared by the Meta products. */
public final class MetaWebhooks {
  private MetaWebhooks() {}

  /**
   * True when {@code header} (X-Hub-Signature-256, {@code sha256=<hex>}) is the HMAC-SHA256 of the
   * raw body bytes with the app secret; compared in constant time.
   */
  public static boolean signatureValid(String appSecret, String header, Buffer rawBody) {
    if (appSecret == null || appSecret.isEmpty() || header == null || rawBody == null) {
      return false;
    }
    if (!header.startsWith("sha256=")) {
      return false;
    }
    String expected = "sha256=" + Signatures.hmacSha256Hex(appSecret, rawBody);
    return Signatures.constantTimeEquals(expected, header.toLowerCase(java.util.Locale.ROOT));
  }

  /** The hub.* GET subscription handshake: echo the challenge when mode and token match. */
  public static HandshakeResult handshake(
      String verifyToken, String mode, String token, String challenge) {
    if (verifyToken == null
        || verifyToken.isEmpty()
        || !"subscribe".equals(mode)
        || challenge == null
        || !Signatures.constantTimeEquals(verifyToken, token)) {
      return HandshakeResult.refused();
    }
    return HandshakeResult.verified(challenge);
  }
}
