package io.chat4all.channels.host;

/** A jar the host will not load, with the reason operators see. */
public class PluginRefused extends RuntimeException {
  public PluginRefused(String reason) {
    super(reason, null, false, false);
  }

  public PluginRefused(String reason, Throwable cause) {
    super(reason, cause, false, false);
  }
}
