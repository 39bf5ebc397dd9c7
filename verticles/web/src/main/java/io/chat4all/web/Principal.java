package io.chat4all.web;

import java.util.Objects;

/**
 * The authenticated caller of a request: user id, username, the access token's id and its expiry
 * (epoch seconds).
 */
public record Principal(String userId, String username, String tokenId, long expiresAt) {
  public static final String CONTEXT_KEY = "chat4all.principal";

  public Principal {
    Objects.requireNonNull(userId, "userId");
  }
}
