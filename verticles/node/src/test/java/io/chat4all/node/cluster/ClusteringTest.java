package io.chat4all.node.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import com.hazelcast.config.Config;
import com.hazelcast.config.JoinConfig;
import com.hazelcast.config.KubernetesConfig;
import io.chat4all.node.config.ConfigException;
import io.chat4all.node.config.ConfigLoader;
import io.chat4all.node.config.NodeConfig;
import java.util.HashMap;
import java.util.Map;
import java.util.Properties;
import org.junit.jupiter.api.Test;

/**
 * The Hazelcast configuration each discovery mode produces, from configuration as an operator (or
 * the Helm chart) gives it: environment variables over the defaults. No member is started and no
 * Kubernetes API is needed.
 */
class ClusteringTest {

  private static NodeConfig.Cluster cluster(Map<String, String> env) {
    Map<String, String> all = new HashMap<>(env);
    all.put("CHAT4ALL_CLUSTER_ENABLED", "true");
    return NodeConfig.from(ConfigLoader.load(null, all, new Properties(), Map.of())).cluster();
  }

  private static ConfigException rejected(Map<String, String> env) {
    try {
      cluster(env);
    } catch (ConfigException e) {
      return e;
    }
    throw new AssertionError("configuration was accepted: " + env);
  }

  @Test
  void tcpIsTheDefaultAndUsesTheMemberList() {
    NodeConfig.Cluster c =
        cluster(
            Map.of(
                "CHAT4ALL_CLUSTER_HOST", "10.0.0.5",
                "CHAT4ALL_CLUSTER_MEMBERS", "10.0.0.5:5701,node-2:5701"));
    assertThat(c.discovery()).isEqualTo(NodeConfig.Discovery.TCP);

    Config hz = Clustering.hazelcastConfig(c);
    JoinConfig join = hz.getNetworkConfig().getJoin();
    assertThat(join.getTcpIpConfig().isEnabled()).isTrue();
    assertThat(join.getTcpIpConfig().getMembers()).containsExactly("10.0.0.5:5701", "node-2:5701");
    assertThat(join.getKubernetesConfig().isEnabled()).isFalse();
    assertThat(join.getMulticastConfig().isEnabled()).isFalse();
    assertThat(join.getAutoDetectionConfig().isEnabled()).isFalse();
    join.verify(); // Hazelcast's own check: exactly one join method
    assertThat(hz.getClusterName()).isEqualTo("chat4all");
    assertThat(hz.getNetworkConfig().getPort()).isEqualTo(5701);
    assertThat(hz.getNetworkConfig().getPublicAddress()).isEqualTo("10.0.0.5:5701");
    assertThat(hz.getNetworkConfig().getInterfaces().getInterfaces()).containsExactly("10.0.0.5");
  }

  @Test
  void kubernetesUsesTheServiceEndpointsAndTurnsTcpOff() {
    NodeConfig.Cluster c =
        cluster(
            Map.of(
                "CHAT4ALL_CLUSTER_DISCOVERY", "kubernetes",
                "CHAT4ALL_CLUSTER_KUBERNETES_SERVICE_NAME", "chat4all-hazelcast",
                "CHAT4ALL_CLUSTER_KUBERNETES_NAMESPACE", "chat",
                "CHAT4ALL_CLUSTER_HOST", "10.244.1.17",
                "CHAT4ALL_CLUSTER_NAME", "prod",
                // a member list left over from another layer is ignored in this mode
                "CHAT4ALL_CLUSTER_MEMBERS", "10.0.0.9:5701"));
    assertThat(c.discovery()).isEqualTo(NodeConfig.Discovery.KUBERNETES);

    Config hz = Clustering.hazelcastConfig(c);
    JoinConfig join = hz.getNetworkConfig().getJoin();
    KubernetesConfig k8s = join.getKubernetesConfig();
    assertThat(k8s.isEnabled()).isTrue();
    assertThat(k8s.getProperties())
        .containsEntry("service-name", "chat4all-hazelcast")
        .containsEntry("namespace", "chat")
        .containsEntry("service-port", "5701")
        .containsEntry("resolve-not-ready-addresses", "true")
        .containsEntry("expose-externally", "false")
        .doesNotContainKey("service-dns");
    assertThat(join.getTcpIpConfig().isEnabled()).isFalse();
    assertThat(join.getMulticastConfig().isEnabled()).isFalse();
    assertThat(join.getAutoDetectionConfig().isEnabled()).isFalse();
    join.verify();
    assertThat(hz.getClusterName()).isEqualTo("prod");
    assertThat(hz.getNetworkConfig().getPublicAddress()).isEqualTo("10.244.1.17:5701");
    assertThat(hz.getNetworkConfig().getInterfaces().getInterfaces())
        .containsExactly("10.244.1.17");
  }

  @Test
  void kubernetesWithoutNamespaceLeavesItToThePod() {
    Config hz =
        Clustering.hazelcastConfig(
            cluster(
                Map.of(
                    "CHAT4ALL_CLUSTER_DISCOVERY", "KUBERNETES",
                    "CHAT4ALL_CLUSTER_KUBERNETES_SERVICE_NAME", "nodes")));
    KubernetesConfig k8s = hz.getNetworkConfig().getJoin().getKubernetesConfig();
    assertThat(k8s.isEnabled()).isTrue();
    assertThat(k8s.getProperties())
        .containsEntry("service-name", "nodes")
        .doesNotContainKey("namespace");
  }

  @Test
  void badDiscoverySettingsNameTheirKey() {
    assertThat(rejected(Map.of("CHAT4ALL_CLUSTER_DISCOVERY", "multicast")))
        .hasMessage("cluster.discovery: must be tcp or kubernetes, got \"multicast\"");
    ConfigException e = rejected(Map.of("CHAT4ALL_CLUSTER_DISCOVERY", "kubernetes"));
    assertThat(e.key()).isEqualTo("cluster.kubernetes.service_name");
    assertThat(e).hasMessageContaining("must be set when cluster.discovery is kubernetes");
    assertThat(
            rejected(
                    Map.of(
                        "CHAT4ALL_CLUSTER_DISCOVERY", "kubernetes",
                        "CHAT4ALL_CLUSTER_KUBERNETES_SERVICE_NAME", "Chat4All_Nodes"))
                .key())
        .isEqualTo("cluster.kubernetes.service_name");
    assertThat(
            rejected(
                    Map.of(
                        "CHAT4ALL_CLUSTER_DISCOVERY", "kubernetes",
                        "CHAT4ALL_CLUSTER_KUBERNETES_SERVICE_NAME", "nodes",
                        "CHAT4ALL_CLUSTER_KUBERNETES_NAMESPACE", "-bad-"))
                .key())
        .isEqualTo("cluster.kubernetes.namespace");
    assertThat(
            rejected(
                    Map.of(
                        "CHAT4ALL_CLUSTER_DISCOVERY", "kubernetes",
                        "CHAT4ALL_CLUSTER_KUBERNETES_SERVICE_NAME", "nodes",
                        "CHAT4ALL_CLUSTER_PORT", "0"))
                .key())
        .isEqualTo("cluster.port");
  }

  @Test
  void kubernetesSettingsAreNotRequiredWhenClusteringIsOff() {
    NodeConfig c =
        NodeConfig.from(
            ConfigLoader.load(
                null,
                Map.of("CHAT4ALL_CLUSTER_DISCOVERY", "kubernetes"),
                new Properties(),
                Map.of()));
    assertThat(c.cluster().enabled()).isFalse();
    assertThat(c.cluster().discovery()).isEqualTo(NodeConfig.Discovery.KUBERNETES);
  }
}
