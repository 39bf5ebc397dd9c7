package io.chat4all.channels.host;

import java.util.Locale;

/**
 * Where one plugin jar is on one node. A jar goes {@code discovered → validated → loaded → starting
 * → active}, later {@code draining → stopped} when it is replaced, removed or disabled; any step
 * can end in {@code failed} (with a reason); {@code disabled} is a jar an operator switched off.
 */
public enum PluginState {
  DISCOVERED,
  VALIDATED,
  LOADED,
  STARTING,
  ACTIVE,
  DRAINING,
  STOPPED,
  FAILED,
  DISABLED;

  public String wireName() {
    return name().toLowerCase(Locale.ROOT);
  }
}
