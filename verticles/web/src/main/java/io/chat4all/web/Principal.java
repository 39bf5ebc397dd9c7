package io.chat4all.web;

import java.util.Objects;

/**
 * The authenticated caller of a request: user id, username, the access token's id, its expiry
 * (epoch seconds, always set) and the login (refresh-token family) it was issued in ({@code null}
 * for a token issued before tokens carried their family).
 */
public record Principal(
    String userId, String username, String tokenId, long expiresAt, String familyId) {
  public static final String CONTEXT_KEY = "chat4all.principal";

  public Principal {
    Objects.requireNonNull(userId, "userId");
  }
}
