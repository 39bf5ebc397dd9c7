package io.chat4all.helm;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.chat4all.helm.Chart.Rendered;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * What the chart hands the node matches the node's configuration: every key of the ConfigMap's
 * config file and every {@code CHAT4ALL_*} variable names a key of config/default.yaml (the node
 * refuses unknown keys in a file and ignores unknown variables, so a typo here would fail a start
 * or be lost silently).
 */
class NodeConfigContractTest {

  private static final JsonNode DEFAULTS =
      Chart.readYaml(Chart.REPO.resolve("config/default.yaml"));

  /** Read by logback, not configuration keys. */
  private static final Set<String> LOGGING = Set.of("CHAT4ALL_LOG_FORMAT", "CHAT4ALL_LOG_LEVEL");

  private static JsonNode configFile(Rendered r) {
    String text = r.one("ConfigMap").path("data").path("chat4all.yaml").asText();
    try {
      return Chart.YAML.readTree(text);
    } catch (Exception e) {
      throw new AssertionError("config file is not YAML:\n" + text, e);
    }
  }

  private static void leafPaths(JsonNode node, String prefix, List<String> out) {
    for (Map.Entry<String, JsonNode> e : node.properties()) {
      String path = prefix.isEmpty() ? e.getKey() : prefix + "." + e.getKey();
      if (e.getValue().isObject()) {
        leafPaths(e.getValue(), path, out);
      } else {
        out.add(path);
      }
    }
  }

  private static boolean isDefaultKey(String dotted) {
    JsonNode n = DEFAULTS;
    for (String part : dotted.split("\\.")) {
      n = n.path(part);
    }
    return !n.isMissingNode() && !n.isObject();
  }

  /** channels.<channel>.<setting>: free-form connector settings the node accepts for any id. */
  private static boolean isChannelSetting(String dotted) {
    String[] parts = dotted.split("\\.");
    return parts.length == 3
        && parts[0].equals("channels")
        && (DEFAULTS.path("channels").path(parts[1]).isMissingNode()
            || DEFAULTS.path("channels").path(parts[1]).isObject());
  }

  private static Set<String> envNamesOfDefaults() {
    List<String> paths = new ArrayList<>();
    leafPaths(DEFAULTS, "", paths);
    Set<String> names = new HashSet<>();
    for (String p : paths) {
      names.add("CHAT4ALL_" + p.replace('.', '_').toUpperCase(Locale.ROOT));
    }
    return names;
  }

  @Test
  void everyConfigFileKeyExistsInTheDefaults() {
    for (Rendered r : List.of(Chart.render(), Chart.production())) {
      List<String> keys = new ArrayList<>();
      leafPaths(configFile(r), "", keys);
      assertThat(keys).isNotEmpty();
      assertThat(keys)
          .allSatisfy(
              k -> assertThat(isDefaultKey(k) || isChannelSetting(k)).as("key %s", k).isTrue());
    }
  }

  @Test
  void theConfigFileCarriesTheBackendsAndTheOperatorsOverrides() {
    JsonNode c = configFile(Chart.production());
    assertThat(c.path("backends").path("mode").asText()).isEqualTo("external");
    assertThat(c.path("kafka").path("bootstrap_servers").asText())
        .isEqualTo("kafka-0.kafka.data:9092,kafka-1.kafka.data:9092,kafka-2.kafka.data:9092");
    assertThat(c.path("kafka").path("partitions").asInt()).isEqualTo(24);
    assertThat(c.path("postgres").path("host").asText())
        .isEqualTo("chat4all.cluster-abc.eu-west-1.rds.amazonaws.com");
    assertThat(c.path("postgres").path("pool_size").asInt()).isEqualTo(16);
    assertThat(c.path("s3").path("path_style").asBoolean(true)).isFalse();
    assertThat(c.path("s3").path("bucket").asText()).isEqualTo("chat4all-prod-files");
    assertThat(c.path("s3").path("encryption").asText()).isEqualTo("sse-kms");
    assertThat(c.path("s3").path("kms_key_id").asText())
        .isEqualTo("arn:aws:kms:eu-west-1:111122223333:key/chat4all-files");
    assertThat(c.path("messaging").path("retention_days").asInt()).isEqualTo(180);
    assertThat(c.path("channels").path("public_base_url").asText())
        .isEqualTo("https://chat.example.com");
    assertThat(c.path("rate_limit").path("per_user_per_minute").asInt()).isEqualTo(600);
    // no secret in the ConfigMap
    assertThat(c.path("postgres").has("password")).isFalse();
    assertThat(c.path("s3").has("secret_key")).isFalse();
    assertThat(c.path("auth").has("jwt_secret")).isFalse();
  }

  @Test
  void everyEnvironmentVariableNamesANodeKey() {
    Set<String> known = envNamesOfDefaults();
    for (Rendered r : List.of(Chart.render(), Chart.production())) {
      for (JsonNode e : r.envList()) {
        String name = e.path("name").asText();
        if (!name.startsWith("CHAT4ALL_") || LOGGING.contains(name)) {
          continue;
        }
        boolean channel = name.startsWith("CHAT4ALL_CHANNELS_") && !known.contains(name);
        assertThat(known.contains(name) || channel).as("env %s", name).isTrue();
      }
    }
    assertThat(known)
        .contains(
            "CHAT4ALL_CLUSTER_DISCOVERY",
            "CHAT4ALL_CLUSTER_KUBERNETES_SERVICE_NAME",
            "CHAT4ALL_CLUSTER_KUBERNETES_NAMESPACE",
            "CHAT4ALL_NODE_SHUTDOWN_GRACE_SECONDS");
  }

  @Test
  void theChartsDrainMatchesTheNodesDefault() {
    // values.yaml's node.shutdownGraceSeconds mirrors node.shutdown_grace_seconds
    assertThat(Chart.render().env("CHAT4ALL_NODE_SHUTDOWN_GRACE_SECONDS").path("value").asInt())
        .isEqualTo(DEFAULTS.path("node").path("shutdown_grace_seconds").asInt());
  }
}
