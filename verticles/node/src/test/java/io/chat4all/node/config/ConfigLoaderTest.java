package io.chat4all.node.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Properties;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ConfigLoaderTest {

  private static JsonObject load(
      Path file, Map<String, String> env, Properties props, Map<String, String> cli) {
    return ConfigLoader.load(file, env, props, cli);
  }

  @Test
  void defaultsComeFromConfigDirectory() {
    NodeConfig c = NodeConfig.from(load(null, Map.of(), new Properties(), Map.of()));
    assertThat(c.http().port()).isEqualTo(8080);
    assertThat(c.grpc().port()).isEqualTo(9090);
    assertThat(c.embeddedBackends()).isTrue();
    assertThat(c.cluster().enabled()).isFalse();
    assertThat(c.kafka().partitions()).isEqualTo(12);
    assertThat(c.dataDir()).isEqualTo(Path.of("./data"));
  }

  @Test
  void fileThenEnvThenSystemPropertiesThenCommandLine(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("node.yaml");
    Files.writeString(
        file,
        "http:\n  port: 1001\ngrpc:\n  port: 2001\nkafka:\n  partitions: 3\n  topic_prefix: a.\n");
    Properties props = new Properties();
    props.setProperty("chat4all.grpc.port", "2003");
    props.setProperty("chat4all.kafka.topic_prefix", "c.");
    props.setProperty("unrelated.property", "x");
    JsonObject c =
        load(
            file,
            Map.of(
                "CHAT4ALL_GRPC_PORT", "2002",
                "CHAT4ALL_KAFKA_PARTITIONS", "6",
                "CHAT4ALL_KAFKA_BOOTSTRAP_SERVERS", "k1:9092,k2:9092",
                "CHAT4ALL_DATA_DIR", "/var/lib/chat4all",
                "CHAT4ALL_CLUSTER_MEMBERS", "10.0.0.1:5701, 10.0.0.2:5701",
                "PATH", "/usr/bin"),
            props,
            Map.of("kafka.topic_prefix", "d."));
    NodeConfig n = NodeConfig.from(c);
    assertThat(n.http().port()).isEqualTo(1001); // file
    assertThat(n.kafka().partitions()).isEqualTo(6); // env over file
    assertThat(n.grpc().port()).isEqualTo(2003); // sysprop over env
    assertThat(n.kafka().topicPrefix()).isEqualTo("d."); // command line over all
    assertThat(n.kafka().bootstrapServers()).isEqualTo("k1:9092,k2:9092");
    assertThat(n.dataDir()).isEqualTo(Path.of("/var/lib/chat4all"));
    assertThat(c.getJsonObject("cluster").getJsonArray("members"))
        .isEqualTo(new JsonArray().add("10.0.0.1:5701").add("10.0.0.2:5701"));
  }

  @Test
  void unknownKeyInFileIsNamed(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("node.yaml");
    Files.writeString(file, "htp:\n  port: 1\n");
    assertThatThrownBy(() -> load(file, Map.of(), new Properties(), Map.of()))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("htp")
        .hasMessageContaining("unknown configuration key");
  }

  @Test
  void wrongTypeIsNamed(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("node.json");
    Files.writeString(file, "{\"http\": {\"port\": \"eighty\"}}");
    assertThatThrownBy(() -> load(file, Map.of(), new Properties(), Map.of()))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("http.port")
        .hasMessageContaining("integer");
    assertThatThrownBy(
            () -> load(null, Map.of("CHAT4ALL_CLUSTER_ENABLED", "yes"), new Properties(), Map.of()))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("cluster.enabled");
  }

  @Test
  void brokenFileIsReported(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("node.yaml");
    Files.writeString(file, "http: [unclosed\n");
    assertThatThrownBy(() -> load(file, Map.of(), new Properties(), Map.of()))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("not valid YAML");
    assertThatThrownBy(
            () -> load(dir.resolve("missing.yaml"), Map.of(), new Properties(), Map.of()))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("does not exist");
  }

  @Test
  void valuesAreValidated() {
    assertThatThrownBy(
            () ->
                NodeConfig.from(
                    load(null, Map.of(), new Properties(), Map.of("http.port", "70000"))))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("http.port");
    assertThatThrownBy(
            () ->
                NodeConfig.from(
                    load(null, Map.of(), new Properties(), Map.of("backends.mode", "external"))))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("kafka.bootstrap_servers");
    assertThatThrownBy(
            () ->
                NodeConfig.from(
                    load(
                        null, Map.of(), new Properties(), Map.of("cluster.members", "nohostport"))))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("cluster.members");
    assertThatThrownBy(
            () ->
                NodeConfig.from(
                    load(null, Map.of(), new Properties(), Map.of("s3.bucket", "Bad_Bucket"))))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("s3.bucket");
    assertThatThrownBy(
            () ->
                NodeConfig.from(
                    load(null, Map.of(), new Properties(), Map.of("s3.encryption", "rot13"))))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("s3.encryption");
    assertThatThrownBy(
            () ->
                NodeConfig.from(
                    load(null, Map.of(), new Properties(), Map.of("s3.encryption", "sse-kms"))))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("s3.kms_key_id");
    assertThat(NodeConfig.from(load(null, Map.of(), new Properties(), Map.of())).s3().encryption())
        .isEqualTo("sse-s3");
    assertThatThrownBy(() -> load(null, Map.of(), new Properties(), Map.of("no.such", "1")))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("no.such");
  }

  @Test
  void envNamesResolveAgainstKnownKeys() {
    JsonObject defaults = ConfigLoader.defaults();
    assertThat(ConfigLoader.resolveUnderscored(defaults, "kafka_bootstrap_servers"))
        .containsExactly("kafka", "bootstrap_servers");
    assertThat(ConfigLoader.resolveUnderscored(defaults, "embedded_kafka_controller_port"))
        .containsExactly("embedded", "kafka_controller_port");
    assertThat(ConfigLoader.resolveUnderscored(defaults, "data_dir")).containsExactly("data_dir");
    assertThat(ConfigLoader.resolveUnderscored(defaults, "log_format")).isNull();
  }

  @Test
  void connectionLimitsHaveSafeDefaultsAndAreValidated() {
    NodeConfig c = NodeConfig.from(load(null, Map.of(), new Properties(), Map.of()));
    assertThat(c.httpLimits()).isEqualTo(new NodeConfig.Limits(10, 30, 60, 512));
    assertThat(c.grpcLimits()).isEqualTo(new NodeConfig.Limits(10, 0, 60, 256));
    NodeConfig e =
        NodeConfig.from(
            load(
                null,
                Map.of(
                    "CHAT4ALL_HTTP_IDLE_TIMEOUT_SECONDS", "90",
                    "CHAT4ALL_GRPC_MAX_CONNECTIONS_PER_IP", "0"),
                new Properties(),
                Map.of()));
    assertThat(e.httpLimits().idleTimeoutSeconds()).isEqualTo(90);
    assertThat(e.grpcLimits().maxConnectionsPerIp()).isZero();
    for (String key :
        new String[] {
          "http.request_header_timeout_seconds",
          "http.request_body_timeout_seconds",
          "http.idle_timeout_seconds",
          "grpc.request_header_timeout_seconds",
          "grpc.idle_timeout_seconds"
        }) {
      assertThatThrownBy(
              () -> NodeConfig.from(load(null, Map.of(), new Properties(), Map.of(key, "0"))))
          .isInstanceOf(ConfigException.class)
          .hasMessageContaining(key);
    }
    assertThatThrownBy(
            () ->
                NodeConfig.from(
                    load(
                        null,
                        Map.of(),
                        new Properties(),
                        Map.of("http.max_connections_per_ip", "-1"))))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("http.max_connections_per_ip");
  }

  @Test
  void channelBlocksAcceptAnyChannelAndKeyFromEveryLayer(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("node.yaml");
    Files.writeString(
        file,
        "channels:\n  scan_interval_ms: 250\n  my_chan:\n    base_url: http://sim\n"
            + "  whatsapp:\n    phone_id: \"42\"\n  telegram:\n    poll_timeout_seconds: 5\n");
    Properties props = new Properties();
    props.setProperty("chat4all.channels.messenger.page_id", "p1");
    JsonObject c =
        load(
            file,
            Map.of(
                "CHAT4ALL_CHANNELS_TELEGRAM_BOT_TOKEN", "123:abc",
                "CHAT4ALL_CHANNELS_MY_CHAN_API_KEY", "k",
                "CHAT4ALL_CHANNELS_WHATSAPP_APP_SECRET", "s",
                "CHAT4ALL_ADMIN_USERNAMES", "alice, bob"),
            props,
            Map.of("channels.instagram.enabled", "false", "channels.telegram.enabled", "false"));
    JsonObject ch = c.getJsonObject("channels");
    assertThat(ch.getInteger("scan_interval_ms")).isEqualTo(250);
    assertThat(ch.getJsonObject("telegram").getString("bot_token")).isEqualTo("123:abc");
    assertThat(ch.getJsonObject("telegram").getInteger("poll_timeout_seconds")).isEqualTo(5);
    // a key the defaults know keeps its type; the defaults of the block stay
    assertThat(ch.getJsonObject("telegram").getBoolean("enabled")).isFalse();
    assertThat(ch.getJsonObject("telegram").getString("base_url"))
        .isEqualTo("https://api.telegram.org");
    // a channel id with '_' declared in the file takes the longest match
    assertThat(ch.getJsonObject("my_chan").getString("api_key")).isEqualTo("k");
    assertThat(ch.getJsonObject("whatsapp").getString("app_secret")).isEqualTo("s");
    assertThat(ch.getJsonObject("whatsapp").getString("phone_id")).isEqualTo("42");
    assertThat(ch.getJsonObject("messenger").getString("page_id")).isEqualTo("p1");
    assertThat(ch.getJsonObject("instagram").getString("enabled")).isEqualTo("false");
    assertThat(c.getJsonObject("admin").getJsonArray("usernames"))
        .isEqualTo(new JsonArray().add("alice").add("bob"));

    // scalar keys of the section are still checked
    Files.writeString(file, "channels:\n  scan_interval: 5\n");
    assertThatThrownBy(() -> load(file, Map.of(), new Properties(), Map.of()))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("channels.scan_interval");
    Files.writeString(file, "channels:\n  telegram:\n    nested:\n      x: 1\n");
    assertThatThrownBy(() -> load(file, Map.of(), new Properties(), Map.of()))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("channels.telegram.nested");
  }
}
