package io.chat4all.node.cluster;

import com.hazelcast.config.Config;
import com.hazelcast.config.JoinConfig;
import com.hazelcast.config.KubernetesConfig;
import com.hazelcast.config.NetworkConfig;
import io.chat4all.node.config.NodeConfig;
import io.vertx.spi.cluster.hazelcast.ConfigUtil;
import io.vertx.spi.cluster.hazelcast.HazelcastClusterManager;

/**
 * Builds the Hazelcast cluster manager: Vert.x's default Hazelcast setup bound to the configured
 * cluster host, joining either by an explicit TCP member list or by Hazelcast's built-in Kubernetes
 * discovery (the endpoints of a Service, read from the Kubernetes API). Multicast and
 * auto-detection are always off, so a node never joins a cluster it was not pointed at.
 */
public final class Clustering {
  private Clustering() {}

  public static HazelcastClusterManager clusterManager(NodeConfig.Cluster cluster) {
    return new HazelcastClusterManager(hazelcastConfig(cluster));
  }

  /** The Hazelcast configuration of a node (no member is started). */
  public static Config hazelcastConfig(NodeConfig.Cluster cluster) {
    Config hz = ConfigUtil.loadConfig();
    hz.setClusterName(cluster.name());
    hz.setProperty("hazelcast.wait.seconds.before.join", "0");
    hz.setProperty("hazelcast.max.wait.seconds.before.join", "0");
    hz.setProperty("hazelcast.logging.type", "slf4j");
    hz.setProperty("hazelcast.shutdownhook.enabled", "false");
    hz.setProperty("hazelcast.phone.home.enabled", "false");
    hz.setProperty("hazelcast.socket.bind.any", "false");
    // notice a crashed member within seconds, not the default minute
    hz.setProperty("hazelcast.heartbeat.interval.seconds", "1");
    hz.setProperty("hazelcast.max.no.heartbeat.seconds", "10");
    hz.setProperty("hazelcast.merge.first.run.delay.seconds", "5");
    hz.setProperty("hazelcast.merge.next.run.delay.seconds", "5");
    NetworkConfig net = hz.getNetworkConfig();
    net.setPort(cluster.port()).setPortAutoIncrement(cluster.port() == 0);
    net.setPublicAddress(cluster.host() + (cluster.port() == 0 ? "" : ":" + cluster.port()));
    net.getInterfaces().setEnabled(true).clear().addInterface(cluster.host());
    JoinConfig join = net.getJoin();
    join.getMulticastConfig().setEnabled(false);
    join.getAutoDetectionConfig().setEnabled(false);
    switch (cluster.discovery()) {
      case TCP -> {
        join.getKubernetesConfig().setEnabled(false);
        join.getTcpIpConfig()
            .setEnabled(true)
            .setMembers(cluster.members())
            .setConnectionTimeoutSeconds(2);
      }
      case KUBERNETES -> {
        join.getTcpIpConfig().setEnabled(false);
        KubernetesConfig k8s = join.getKubernetesConfig().setEnabled(true);
        k8s.setProperty("service-name", cluster.kubernetes().serviceName());
        if (!cluster.kubernetes().namespace().isEmpty()) {
          k8s.setProperty("namespace", cluster.kubernetes().namespace());
        }
        // every pod listens on the same fixed port; no need to look it up on the Service
        k8s.setProperty("service-port", String.valueOf(cluster.port()));
        // members join while they start, long before their readiness probe passes
        k8s.setProperty("resolve-not-ready-addresses", "true");
        // members are reached on their pod IPs; no node or LoadBalancer look-ups (a namespaced
        // Role cannot grant nodes anyway)
        k8s.setProperty("expose-externally", "false");
      }
    }
    return hz;
  }
}
