package io.chat4all.channel.spi;

/**
 * How the host treats a failed send. The classification is the connector's; the provider's own code
 * is kept beside it in {@link ConnectorException#providerCode()}.
 */
public enum ErrorClass {
  /** Transient (network error, 5xx, timeout): retried with backoff, counts against the breaker. */
  RETRYABLE("provider_error", true),
  /** Rate limited: retried after {@link ConnectorException#retryAfter()} (or backoff). */
  THROTTLED("throttled", true),
  /**
   * Outside the messaging window: not retried; status {@code failed}, reason {@code window_closed}.
   */
  WINDOW_CLOSED("window_closed", false),
  /** Recipient blocked the bot/page, deactivated, unknown: not retried. */
  RECIPIENT_UNAVAILABLE("recipient_unavailable", false),
  /** Media refused (type, size, unreachable URL): not retried. */
  MEDIA_REJECTED("media_rejected", false),
  /**
   * The file is above the channel's limit for its kind (e.g. WhatsApp image 5 MB): refused before
   * any provider call, not retried.
   */
  MEDIA_TOO_LARGE("media_too_large", false),
  /** Our credentials were refused: not retried for this message, the channel's health turns bad. */
  AUTH("channel_auth_failed", false),
  /** Anything else the provider will never accept (bad request, chat not found): not retried. */
  PERMANENT("provider_rejected", false);

  private final String reason;
  private final boolean retryable;

  ErrorClass(String reason, boolean retryable) {
    this.reason = reason;
    this.retryable = retryable;
  }

  /** The stable reason code a {@code failed} status carries. */
  public String reason() {
    return reason;
  }

  public boolean retryable() {
    return retryable;
  }
}
