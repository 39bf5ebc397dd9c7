package io.chat4all.channels.identity;

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
    JsonObject v = channels.getJsonObject("verification", new JsonObject());
    IdentityConfig c =
        new IdentityConfig(
            intOf(v, "code_ttl_seconds", 600),
            intOf(v, "resend_interval_seconds", 30),
            intOf(v, "max_attempts", 5),
            v.getString("text", DEFAULT_TEXT),
            longOf(v, "send_timeout_ms", 30_000L));
    if (c.codeTtlSeconds < 30) {
      throw new IllegalArgumentException("channels.verification.code_ttl_seconds must be >= 30");
    }
    if (c.resendIntervalSeconds < 0 || c.maxAttempts < 1 || c.sendTimeoutMs < 100) {
      throw new IllegalArgumentException(
          "channels.verification: resend_interval_seconds >= 0, max_attempts >= 1,"
              + " send_timeout_ms >= 100");
    }
    if (c.text == null || !c.text.contains("{code}")) {
      throw new IllegalArgumentException("channels.verification.text must contain {code}");
    }
    return c;
  }

  private static int intOf(JsonObject o, String k, int d) {
    Object v = o.getValue(k);
    return v == null ? d : v instanceof Number n ? n.intValue() : Integer.parseInt(v.toString());
  }

  private static long longOf(JsonObject o, String k, long d) {
    Object v = o.getValue(k);
    return v == null ? d : v instanceof Number n ? n.longValue() : Long.parseLong(v.toString());
  }
}
