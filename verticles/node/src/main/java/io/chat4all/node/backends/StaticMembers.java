package io.chat4all.node.backends;

import io.chat4all.node.config.NodeConfig;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ConsumerGroupListing;
import org.apache.kafka.clients.admin.MemberToRemove;
import org.apache.kafka.clients.admin.RemoveMembersFromConsumerGroupOptions;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A static consumer member ({@code group.instance.id}) does not leave its group when it closes: the
 * broker keeps its partitions for the session timeout, waiting for it to come back. On a graceful
 * stop the node removes its member from every group of its topic prefix, so the other nodes take
 * the partitions at once. Blocking: call from a plain thread (the shutdown path).
 */
public final class StaticMembers {
  private static final Logger LOG = LoggerFactory.getLogger(StaticMembers.class);

  private StaticMembers() {}

  /** Removes {@code instanceId} from the consumer groups; failures are logged, never thrown. */
  public static void leave(NodeConfig.Kafka kafka, String instanceId, long timeoutMs) {
    if (instanceId == null) {
      return;
    }
    Map<String, Object> props = new java.util.HashMap<>(BackendClients.kafkaAdminConfig(kafka));
    props.put("client.id", "chat4all-leave");
    try (Admin admin = Admin.create(props)) {
      List<String> groups = new ArrayList<>();
      for (ConsumerGroupListing g :
          admin.listConsumerGroups().all().get(timeoutMs, TimeUnit.MILLISECONDS)) {
        if (g.groupId().startsWith(kafka.topicPrefix())) {
          groups.add(g.groupId());
        }
      }
      for (String group : groups) {
        try {
          admin
              .removeMembersFromConsumerGroup(
                  group,
                  new RemoveMembersFromConsumerGroupOptions(
                      List.of(new MemberToRemove(instanceId))))
              .all()
              .get(timeoutMs, TimeUnit.MILLISECONDS);
          LOG.debug("left consumer group {} as {}", group, instanceId);
        } catch (java.util.concurrent.ExecutionException e) {
          // not a member of that group (another deployment's, or never joined): nothing to do
          LOG.debug("leaving {} as {}: {}", group, instanceId, e.getCause().toString());
        }
      }
    } catch (Exception e) {
      LOG.warn(
          "could not leave the consumer groups as {} (their partitions move after the session"
              + " timeout): {}",
          instanceId,
          e.toString());
    }
  }
}
