package io.chat4all.embedded;

/** One embedded backing server. {@link #start()} returns once the server accepts connections. */
interface EmbeddedServer {
  String name();

  void start() throws Exception;

  /** Stops the server and any process it started; safe to call twice or after a failed start. */
  void stop();
}
