package io.chat4all.channel.testconnector;

/**
 * A public class that is not a connector: tests name it as {@code main_class} to see the host
 * refuse the jar.
 */
public class NotAConnector {
  public NotAConnector() {}
}
