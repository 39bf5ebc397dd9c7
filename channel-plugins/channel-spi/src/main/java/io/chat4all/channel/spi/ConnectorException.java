package io.chat4all.channel.spi;

import java.time.Duration;

/**
 * A classified failure of a connector call; the future returned by {@link ChannelConnector#send}
 * fails with it. Any other throwable is treated as {@link ErrorClass#RETRYABLE}.
 */
public class ConnectorException extends RuntimeException {
  private final ErrorClass errorClass;
  private final String providerCode;
  private final Duration retryAfter;

  /**
   * @param errorClass how the host should treat it
   * @param providerCode the provider's own code (e.g. Telegram {@code error_code}, Graph {@code
   *     code/error_subcode}); null when none
   * @param retryAfter for {@link ErrorClass#THROTTLED}: how long the provider asked to wait; null
   *     when not given
   * @param message the provider's description (never containing credentials)
   */
  public ConnectorException(
      ErrorClass errorClass, String providerCode, Duration retryAfter, String message) {
    super(message, null, false, false);
    this.errorClass = errorClass;
    this.providerCode = providerCode;
    this.retryAfter = retryAfter;
  }

  public static ConnectorException of(ErrorClass c, String providerCode, String message) {
    return new ConnectorException(c, providerCode, null, message);
  }

  public static ConnectorException throttled(String providerCode, Duration after, String message) {
    return new ConnectorException(ErrorClass.THROTTLED, providerCode, after, message);
  }

  public ErrorClass errorClass() {
    return errorClass;
  }

  public String providerCode() {
    return providerCode;
  }

  public Duration retryAfter() {
    return retryAfter;
  }
}
