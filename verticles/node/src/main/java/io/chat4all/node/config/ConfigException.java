package io.chat4all.node.config;

/** The configuration is invalid; the message names the offending key. */
public class ConfigException extends RuntimeException {
  private final String key;

  public ConfigException(String key, String message) {
    super(key == null ? message : key + ": " + message);
    this.key = key;
  }

  public ConfigException(String key, String message, Throwable cause) {
    this(key, message);
    initCause(cause);
  }

  /** The dotted key at fault, or null when the fault is not one key's (an unreadable file). */
  public String key() {
    return key;
  }
}
