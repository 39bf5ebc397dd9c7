package io.chat4all.codecs;

import java.util.Map;

/**
 * How a node's Kafka consumers take part in their groups: the session timeout and heartbeat
 * interval, and the static member id ({@code group.instance.id}) that lets a restarting node take
 * its partitions back without a rebalance. Every consumer group of a node uses the same instance
 * id: the groups differ, so the ids do not collide.
 *
 * <p>With a static id, a member that dies (or closes) keeps its partitions until {@code
 * sessionTimeoutMs} has passed without a heartbeat; that timeout is therefore the time a node crash
 * holds up the partitions it owned.
 */
public record KafkaMembership(String instanceId, int sessionTimeoutMs, int heartbeatIntervalMs) {

  /** Dynamic membership, 10 s session: what a consumer gets when nothing is configured. */
  public static final KafkaMembership DEFAULT = new KafkaMembership(null, 10_000, 1_000);

  public KafkaMembership {
    if (sessionTimeoutMs < 1
        || heartbeatIntervalMs < 1
        || heartbeatIntervalMs >= sessionTimeoutMs) {
      throw new IllegalArgumentException(
          "heartbeat interval ("
              + heartbeatIntervalMs
              + " ms) must be positive and below the session timeout ("
              + sessionTimeoutMs
              + " ms)");
    }
    if (instanceId != null && instanceId.isBlank()) {
      instanceId = null;
    }
  }

  /** Puts the membership settings into a consumer's properties. */
  public void applyTo(Map<String, String> props) {
    props.put("session.timeout.ms", Integer.toString(sessionTimeoutMs));
    props.put("heartbeat.interval.ms", Integer.toString(heartbeatIntervalMs));
    if (instanceId != null) {
      props.put("group.instance.id", instanceId);
    } else {
      props.remove("group.instance.id");
    }
  }
}
