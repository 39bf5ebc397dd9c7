package io.chat4all.embedded;

import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Properties;
import kafka.server.KafkaConfig;
import kafka.server.KafkaRaftServer;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.utils.Time;
import org.apache.kafka.metadata.storage.Formatter;
import org.apache.kafka.server.common.MetadataVersion;

/**
 * A single-node KRaft Kafka broker+controller in this JVM, logs under {@code <data>/kafka}. Public
 * for tests that need a broker of their own to stop and start again (same ports, same log).
 */
public final class KafkaServerRunner implements EmbeddedServer {
  private final String host;
  private final int port;
  private final int controllerPort;
  private final int partitions;
  private final Path logDir;
  private KafkaRaftServer server;

  public KafkaServerRunner(String host, int port, int controllerPort, int partitions, Path logDir) {
    this.host = host;
    this.port = port;
    this.controllerPort = controllerPort;
    this.partitions = partitions;
    this.logDir = logDir;
  }

  @Override
  public String name() {
    return "kafka";
  }

  public String bootstrapServers() {
    return host + ":" + port;
  }

  @Override
  public void start() throws Exception {
    Files.createDirectories(logDir);
    Properties props = new Properties();
    props.put("process.roles", "broker,controller");
    props.put("node.id", "1");
    props.put("controller.quorum.voters", "1@" + host + ":" + controllerPort);
    props.put(
        "listeners",
        "PLAINTEXT://" + host + ":" + port + ",CONTROLLER://" + host + ":" + controllerPort);
    props.put("advertised.listeners", "PLAINTEXT://" + host + ":" + port);
    props.put("controller.listener.names", "CONTROLLER");
    props.put("inter.broker.listener.name", "PLAINTEXT");
    props.put("listener.security.protocol.map", "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT");
    props.put("log.dirs", logDir.toString());
    props.put("num.partitions", Integer.toString(partitions));
    props.put("default.replication.factor", "1");
    props.put("min.insync.replicas", "1");
    props.put("offsets.topic.replication.factor", "1");
    props.put("offsets.topic.num.partitions", "4");
    props.put("transaction.state.log.replication.factor", "1");
    props.put("transaction.state.log.min.isr", "1");
    props.put("transaction.state.log.num.partitions", "4");
    props.put("share.coordinator.state.topic.replication.factor", "1");
    props.put("share.coordinator.state.topic.min.isr", "1");
    props.put("share.coordinator.state.topic.num.partitions", "1");
    props.put("group.initial.rebalance.delay.ms", "0");
    // the nodes' consumers use short sessions (kafka.consumer_session_timeout_ms) for fast failover
    props.put("group.min.session.timeout.ms", "500");
    props.put("auto.create.topics.enable", "false");
    props.put("log.retention.hours", "168");
    props.put("log.segment.bytes", Integer.toString(64 * 1024 * 1024));
    KafkaConfig config = new KafkaConfig(props, false);

    if (!Files.exists(logDir.resolve("meta.properties"))) {
      new Formatter()
          .setPrintStream(new PrintStream(PrintStream.nullOutputStream()))
          .setNodeId(1)
          .setClusterId(Uuid.randomUuid().toString())
          .setControllerListenerName("CONTROLLER")
          .setMetadataLogDirectory(logDir.toString())
          .setDirectories(java.util.List.of(logDir.toString()))
          .setReleaseVersion(MetadataVersion.LATEST_PRODUCTION)
          .setIgnoreFormatted(true)
          .run();
    }
    server = new KafkaRaftServer(config, Time.SYSTEM);
    server.startup();
    Ports.awaitListening("kafka", host, port, Duration.ofSeconds(60));
  }

  @Override
  public void stop() {
    KafkaRaftServer s = server;
    server = null;
    if (s != null) {
      s.shutdown();
      s.awaitShutdown();
    }
  }
}
