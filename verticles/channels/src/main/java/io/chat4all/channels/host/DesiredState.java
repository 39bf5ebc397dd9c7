package io.chat4all.channels.host;

import io.vertx.core.Future;
import java.util.Map;

/**
 * The cluster's desired plugin state (what the admin API stored): per channel the wanted jar and
 * whether the channel is enabled, and the jars themselves.
 */
public interface DesiredState {

  /**
   * What the cluster wants for one channel.
   *
   * @param sha256 the jar that should run, or null when the cluster names none (then a jar in the
   *     node's own plugins folder may run)
   * @param version its connector version (null with {@code sha256})
   * @param enabled false when an operator disabled the channel
   */
  record Want(String channel, String sha256, String version, boolean enabled) {}

  /** Every channel the cluster has a wish for. */
  Future<Map<String, Want>> load();

  /** Makes sure the jar {@code sha256} is in the node's store (downloads and verifies it). */
  Future<Void> fetch(String sha256, ContentStore store);
}
