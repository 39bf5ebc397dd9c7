package io.chat4all.node;

/** The node could not start; the message says which step failed and why. */
public class NodeStartException extends RuntimeException {
  public NodeStartException(String message, Throwable cause) {
    super(message, cause);
  }
}
