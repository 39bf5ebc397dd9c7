package io.chat4all.channel.spi;

/**
 * The answer to a webhook verification (GET challenge) request.
 *
 * @param status HTTP status to answer (200 when verified, 403 when the token is wrong, 404 when
 *     this channel has no GET handshake)
 * @param body the body to answer with (the challenge when verified), text/plain
 */
public record HandshakeResult(int status, String body) {
  public static HandshakeResult verified(String challenge) {
    return new HandshakeResult(200, challenge);
  }

  public static HandshakeResult refused() {
    return new HandshakeResult(403, "");
  }

  public static HandshakeResult unsupported() {
    return new HandshakeResult(404, "");
  }
}
