package io.chat4all.node.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import com.hazelcast.config.Config;
import com.hazelcast.config.KubernetesConfig;
import com.hazelcast.core.Hazelcast;
import com.hazelcast.core.HazelcastInstance;
import io.chat4all.node.config.ConfigLoader;
import io.chat4all.node.config.NodeConfig;
import io.chat4all.testkit.Await;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Two Hazelcast members configured by {@link Clustering} for {@code cluster.discovery: kubernetes}
 * find each other through the (simulated) Kubernetes API: the EndpointSlices of the configured
 * Service in the configured namespace, with the service-account token, a pod that is not ready yet
 * included.
 */
class KubernetesDiscoveryTest {
  private static final String TOKEN = "service-account-token";
  private final List<HazelcastInstance> members = new ArrayList<>();

  @AfterEach
  void stop() {
    members.forEach(HazelcastInstance::shutdown);
  }

  private static int freePort() throws Exception {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }

  private static Config member(KubernetesApiSimulator api, int port) {
    NodeConfig.Cluster cluster =
        NodeConfig.from(
                ConfigLoader.load(
                    null,
                    Map.of(
                        "CHAT4ALL_CLUSTER_ENABLED", "true",
                        "CHAT4ALL_CLUSTER_DISCOVERY", "kubernetes",
                        "CHAT4ALL_CLUSTER_KUBERNETES_SERVICE_NAME", "chat-chat4all-hazelcast",
                        "CHAT4ALL_CLUSTER_KUBERNETES_NAMESPACE", "messaging",
                        "CHAT4ALL_CLUSTER_NAME", "k8s-discovery-test",
                        "CHAT4ALL_CLUSTER_HOST", "127.0.0.1",
                        "CHAT4ALL_CLUSTER_PORT", String.valueOf(port)),
                    new Properties(),
                    Map.of()))
            .cluster();
    Config hz = Clustering.hazelcastConfig(cluster);
    KubernetesConfig k8s = hz.getNetworkConfig().getJoin().getKubernetesConfig();
    // what a pod gets from its service-account mount, pointed at the simulator instead
    k8s.setProperty("kubernetes-master", api.url());
    k8s.setProperty("api-token", TOKEN);
    k8s.setProperty("ca-certificate", "unused over http");
    // in a cluster every pod has its own IP and the same port; here both share 127.0.0.1, so each
    // is found at the port its EndpointSlice lists
    k8s.getProperties().remove("service-port");
    return hz;
  }

  @Test
  void membersJoinThroughTheServiceEndpoints() throws Exception {
    try (KubernetesApiSimulator api = new KubernetesApiSimulator(TOKEN)) {
      int port0 = freePort();
      int port1 = freePort();
      api.addPod(
          new KubernetesApiSimulator.Pod(
              "messaging", "chat-chat4all-hazelcast", "chat-chat4all-0", "127.0.0.1", port0, true));
      // still starting: not ready, yet it must be joined (the node joins before it is ready)
      api.addPod(
          new KubernetesApiSimulator.Pod(
              "messaging",
              "chat-chat4all-hazelcast",
              "chat-chat4all-1",
              "127.0.0.1",
              port1,
              false));
      // a pod of another Service and one in another namespace are not members
      api.addPod(
          new KubernetesApiSimulator.Pod(
              "messaging", "other", "other-0", "127.0.0.1", freePort(), true));
      api.addPod(
          new KubernetesApiSimulator.Pod(
              "elsewhere", "chat-chat4all-hazelcast", "x-0", "127.0.0.1", freePort(), true));

      members.add(Hazelcast.newHazelcastInstance(member(api, port0)));
      members.add(Hazelcast.newHazelcastInstance(member(api, port1)));

      Await.until(
          "both members see each other",
          Duration.ofSeconds(30),
          () -> members.stream().allMatch(m -> m.getCluster().getMembers().size() == 2));
      assertThat(members.get(0).getCluster().getMembers())
          .extracting(m -> m.getAddress().getPort())
          .containsExactlyInAnyOrder(port0, port1);
      assertThat(api.requests())
          .contains(
              "GET /apis/discovery.k8s.io/v1/namespaces/messaging/endpointslices"
                  + "?labelSelector=kubernetes.io/service-name=chat-chat4all-hazelcast");
    }
  }
}
