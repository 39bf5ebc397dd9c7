package io.chat4all.channels;

/** The connector a caller held was replaced, removed or disabled before the call could start. */
public class ConnectorGoneException extends RuntimeException {
  public ConnectorGoneException(String channel, String version) {
    super("connector " + channel + " " + version + " no longer takes work", null, false, false);
  }
}
