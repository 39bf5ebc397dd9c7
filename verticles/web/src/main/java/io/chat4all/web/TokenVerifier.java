package io.chat4all.web;

import io.vertx.core.Future;

/**
 * Checks a bearer access token (signature, expiry, revocation). Fails with a {@code
 * ServiceException} of code {@code unauthenticated}, {@code token_invalid}, {@code token_expired}
 * or {@code token_revoked}.
 */
@FunctionalInterface
public interface TokenVerifier {
  Future<Principal> verify(String accessToken);
}
