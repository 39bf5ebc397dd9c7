package io.chat4all.embedded;

/** An embedded server could not start; the message says why in words an operator can act on. */
public class EmbeddedStartException extends RuntimeException {
  public EmbeddedStartException(String message) {
    super(message);
  }

  public EmbeddedStartException(String message, Throwable cause) {
    super(message, cause);
  }
}
