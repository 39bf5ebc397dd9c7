package io.chat4all.channels;

import java.util.Optional;
import java.util.Set;
import java.util.function.Consumer;

/**
 * The seam between the plugin host (which loads, starts, replaces and removes connectors) and the
 * parts that use them (outbound delivery, inbound webhooks, polling). One instance per node.
 */
public interface ConnectorRegistry {

  /** The connector now serving {@code channel}, if one is active on this node. */
  Optional<ActiveConnector> active(String channel);

  /** Channels that have an active connector on this node. */
  Set<String> activeChannels();

  /**
   * Registers a listener called with the channel id whenever the active connector of a channel
   * changes (activated, replaced, removed, disabled). Called on the host's context; must not block.
   */
  void onChange(Consumer<String> listener);
}
