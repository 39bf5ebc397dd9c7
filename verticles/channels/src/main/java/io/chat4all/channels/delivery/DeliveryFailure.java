package io.chat4all.channels.delivery;

/**
 * A send that cannot go out, found before any provider call (too large, no longer visible, the
 * channel disabled): {@code failed} with {@link #reason()} at once, no retry.
 */
public final class DeliveryFailure extends RuntimeException {
  private final String reason;

  public DeliveryFailure(String reason, String message) {
    super(message, null, false, false);
    this.reason = reason;
  }

  /** The stable reason code of the {@code failed} status. */
  public String reason() {
    return reason;
  }
}
