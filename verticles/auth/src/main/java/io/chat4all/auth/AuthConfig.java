package io.chat4all.auth;

import io.chat4all.codecs.Settings;
import io.vertx.core.json.JsonObject;

/** The {@code auth} section of the node configuration, with the signing key resolved. */
public record AuthConfig(
    String jwtSecret,
    String issuer,
    int accessTokenTtlSeconds,
    int refreshTokenTtlSeconds,
    int passwordIterations,
    int loginMaxFailures,
    int loginFailureWindowSeconds) {

  /** From the config section; {@code jwtSecret} is the resolved key (base64). */
  public static AuthConfig from(JsonObject section, String jwtSecret) {
    return new AuthConfig(
        jwtSecret,
        section.getString("issuer", "chat4all"),
        Settings.intOf(section, "auth", "access_token_ttl_seconds", 900),
        Settings.intOf(section, "auth", "refresh_token_ttl_seconds", 2592000),
        Settings.intOf(section, "auth", "password_iterations", 310000),
        Settings.intOf(section, "auth", "login_max_failures", 5),
        Settings.intOf(section, "auth", "login_failure_window_seconds", 900));
  }

  /** Without the signing key, so that a log line never carries it. */
  @Override
  public String toString() {
    return "AuthConfig[issuer="
        + issuer
        + ", accessTokenTtlSeconds="
        + accessTokenTtlSeconds
        + ", refreshTokenTtlSeconds="
        + refreshTokenTtlSeconds
        + ", jwtSecret=<redacted>]";
  }
}
