package io.chat4all.channels.identity;

import io.chat4all.codecs.Settings;
import io.vertx.core.json.JsonObject;

/**
 * {@code channels.verification.*}: the one-time codes that verify a channel link a user created.
 *
 * @param codeTtlSeconds how long a code is valid
 * @param resendIntervalSeconds the least time between two codes for one link
 * @param maxAttempts wrong codes before the pending code is void
 * @param text the message that carries the code ({@code {code}} and {@code {minutes}} replaced)
 * @param sendTimeoutMs how long the provider may take to accept the code's message
 */
public record IdentityConfig(
    int codeTtlSeconds,
    int resendIntervalSeconds,
    int maxAttempts,
    String text,
    long sendTimeoutMs) {
  public static final String DEFAULT_TEXT =
      "Your Chat4All verification code is {code}. It expires in {minutes} minutes. If you did not"
          + " ask for it, ignore this message.";

  public static IdentityConfig from(JsonObject channels) {
    JsonObject v = Settings.section(channels, "channels", "verification");
    String p = "channels.verification";
    Object text = v.getValue("text", DEFAULT_TEXT);
    if (!(text instanceof String t) || !t.contains("{code}") || t.length() > 1000) {
      throw new IllegalArgumentException(
          "channels.verification.text must be text of at most 1000 characters containing {code}");
    }
    return new IdentityConfig(
        Settings.intWithin(v, p, "code_ttl_seconds", 600, 30, 86_400),
        Settings.intWithin(v, p, "resend_interval_seconds", 30, 0, 86_400),
        Settings.intWithin(v, p, "max_attempts", 5, 1, 1_000),
        t,
        Settings.within(v, p, "send_timeout_ms", 30_000, 100, 3_600_000));
  }
}
