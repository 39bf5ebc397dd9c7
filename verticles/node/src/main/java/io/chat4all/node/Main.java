package io.chat4all.node;

import io.chat4all.embedded.EmbeddedBackends;
import io.chat4all.embedded.EmbeddedSettings;
import io.chat4all.embedded.EmbeddedStartException;
import io.chat4all.embedded.PrivateFiles;
import io.chat4all.node.config.ConfigException;
import io.chat4all.node.config.ConfigLoader;
import io.chat4all.node.config.NodeConfig;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.bridge.SLF4JBridgeHandler;

/**
 * Command line: {@code run} (default) starts a node, {@code backends} runs only the embedded
 * servers. Exit codes: 0 after a clean stop, 2 for bad usage or configuration, 1 when start fails.
 */
public final class Main {
  /** Printed on stdout once a node serves; tests and scripts wait for it. */
  public static final String READY_MARKER = "CHAT4ALL NODE READY";

  public static final String BACKENDS_READY_MARKER = "CHAT4ALL BACKENDS READY";

  static final String USAGE =
      """
      usage: chat4all [run|backends|admin] [options]
        run                   start a node (default); embedded backends unless --cluster
        backends              run only the embedded Kafka, PostgreSQL, MongoDB, Redis and S3 servers
        admin COMMAND         operator commands (./chat4all admin --help)
      options:
        --data-dir DIR        where embedded data lives (default ./data; env CHAT4ALL_DATA_DIR)
        --config FILE         a YAML or JSON file overriding config/default.yaml
        --cluster             join a Hazelcast cluster and use external backends
        --cluster-host HOST   address this node binds and advertises for clustering
        --cluster-port PORT   Hazelcast port of this node
        --cluster-members L   comma-separated host:port list of members
        --http-port PORT      REST / health / metrics port (default 8080)
        --grpc-port PORT      gRPC port (default 9090)
        --no-frontend         do not serve the web chat at / (http.frontend_enabled=false)
        --drills              backends: read stop|start|restart postgres|redis on standard input
                              (outage drills: one server down, its data kept, the others running)
        --set KEY=VALUE       any configuration key, e.g. --set kafka.partitions=6
        --help                this text
      """;

  private Main() {}

  public static void main(String[] args) {
    SLF4JBridgeHandler.removeHandlersForRootLogger();
    SLF4JBridgeHandler.install();
    int code = run(args, System.out, System.err);
    if (code != 0) {
      System.exit(code);
    }
  }

  static int run(String[] args, PrintStream out, PrintStream err) {
    String command = "run";
    Path configFile = null;
    Map<String, String> overrides = new LinkedHashMap<>();
    boolean drills = false;
    List<String> rest = new ArrayList<>(List.of(args));
    if (!rest.isEmpty() && !rest.get(0).startsWith("-")) {
      command = rest.remove(0);
    }
    if (command.equals("admin")) {
      return AdminCli.run(rest.toArray(String[]::new), out, err, System.getenv());
    }
    if (!command.equals("run") && !command.equals("backends")) {
      err.println("chat4all: unknown command '" + command + "'\n" + USAGE);
      return 2;
    }
    try {
      for (int i = 0; i < rest.size(); i++) {
        String arg = rest.get(i);
        switch (arg) {
          case "--help", "-h" -> {
            out.print(USAGE);
            return 0;
          }
          case "--cluster" -> {
            overrides.put("cluster.enabled", "true");
            overrides.put("backends.mode", "external");
          }
          case "--data-dir" -> overrides.put("data_dir", value(rest, ++i, arg));
          case "--config" -> configFile = Path.of(value(rest, ++i, arg));
          case "--cluster-host" -> overrides.put("cluster.host", value(rest, ++i, arg));
          case "--cluster-port" -> overrides.put("cluster.port", value(rest, ++i, arg));
          case "--cluster-members" -> overrides.put("cluster.members", value(rest, ++i, arg));
          case "--http-port" -> overrides.put("http.port", value(rest, ++i, arg));
          case "--grpc-port" -> overrides.put("grpc.port", value(rest, ++i, arg));
          case "--no-frontend" -> overrides.put("http.frontend_enabled", "false");
          case "--drills" -> drills = true;
          case "--set" -> {
            String kv = value(rest, ++i, arg);
            int eq = kv.indexOf('=');
            if (eq <= 0) {
              throw new UsageException("--set takes KEY=VALUE, got '" + kv + "'");
            }
            overrides.put(kv.substring(0, eq).trim(), kv.substring(eq + 1));
          }
          default -> throw new UsageException("unknown option '" + arg + "'");
        }
      }
    } catch (UsageException e) {
      err.println("chat4all: " + e.getMessage() + "\n" + USAGE);
      return 2;
    }

    NodeConfig config;
    try {
      JsonObject merged =
          ConfigLoader.load(configFile, System.getenv(), System.getProperties(), overrides);
      config = NodeConfig.from(merged);
      String fixed =
          System.getProperty("CHAT4ALL_LOG_FORMAT", System.getenv("CHAT4ALL_LOG_FORMAT"));
      io.chat4all.node.obs.LogSetup.apply(
          io.chat4all.node.obs.LogSetup.format(merged, config.cluster().enabled(), fixed));
    } catch (ConfigException e) {
      err.println("chat4all: invalid configuration: " + e.getMessage());
      return 2;
    }
    return command.equals("backends")
        ? runBackends(config, drills, out, err)
        : runNode(config, out, err);
  }

  private static int runNode(NodeConfig config, PrintStream out, PrintStream err) {
    Logger log = LoggerFactory.getLogger(Main.class);
    long t0 = System.nanoTime();
    Node node;
    try {
      node = Node.start(config);
    } catch (ConfigException e) {
      err.println("chat4all: invalid configuration: " + e.getMessage());
      return 2;
    } catch (NodeStartException | EmbeddedStartException e) {
      log.debug("start failed", e);
      err.println("chat4all: the node could not start: " + e.getMessage());
      return 1;
    } catch (RuntimeException | Error e) {
      log.error("start failed", e);
      err.println("chat4all: the node could not start: " + e);
      return 1;
    }
    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () -> {
                  node.close();
                  stopped.countDown();
                },
                "chat4all-shutdown"));
    long ms = (System.nanoTime() - t0) / 1_000_000;
    String host = "127.0.0.1";
    out.println();
    out.println(
        "Chat4All node "
            + node.nodeId()
            + " ready in "
            + ms
            + " ms ("
            + (config.cluster().enabled() ? "cluster" : "embedded")
            + " mode)");
    out.println(
        "  Web chat        : "
            + switch (node.webChat()) {
              case SERVED ->
                  "http://" + host + ":" + node.httpPort() + "/  <- open this in a browser";
              case DISABLED -> "off (http.frontend_enabled is false)";
              case NOT_BUILT -> "not in this build (built with -Dfrontend.skip)";
            });
    out.println("  REST API        : http://" + host + ":" + node.httpPort() + "/v1/");
    out.println("  Health          : http://" + host + ":" + node.httpPort() + "/health/ready");
    out.println("  Metrics         : http://" + host + ":" + node.httpPort() + "/metrics");
    out.println("  gRPC (h2c)      : " + host + ":" + node.grpcPort());
    if (config.embeddedBackends()) {
      out.println("  Data directory  : " + config.dataDir().toAbsolutePath().normalize());
    }
    out.println(
        READY_MARKER
            + " node="
            + node.nodeId()
            + " http="
            + node.httpPort()
            + " grpc="
            + node.grpcPort()
            + " ready_ms="
            + ms);
    out.flush();
    awaitQuietly(stopped);
    return 0;
  }

  private static int runBackends(
      NodeConfig config, boolean drills, PrintStream out, PrintStream err) {
    long t0 = System.nanoTime();
    EmbeddedBackends backends;
    NodeConfig.Embedded e = config.embedded();
    try {
      backends =
          EmbeddedBackends.start(
              new EmbeddedSettings(
                  config.dataDir(),
                  e.host(),
                  e.kafkaPort(),
                  e.kafkaControllerPort(),
                  config.kafka().partitions(),
                  e.postgresPort(),
                  e.mongoPort(),
                  e.redisPort(),
                  e.s3Port(),
                  "chat4all",
                  "chat4all-secret"));
    } catch (EmbeddedStartException ex) {
      err.println("chat4all: the backends could not start: " + ex.getMessage());
      return 1;
    }
    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () -> {
                  backends.close();
                  stopped.countDown();
                },
                "chat4all-backends-shutdown"));
    Path overlay = config.dataDir().toAbsolutePath().normalize().resolve("backends.json");
    JsonObject json = new JsonObject(backends.endpoints().asConfig());
    json.put("backends", new JsonObject().put("mode", "external"));
    // nodes sharing these backends must sign tokens with one key
    json.put(
        "auth",
        new JsonObject()
            .put(
                "jwt_secret",
                ServiceSettings.readOrCreateSecret(
                    config.dataDir().toAbsolutePath().resolve("jwt-secret"))));
    try {
      // it holds the signing key: owner only
      PrivateFiles.write(overlay, json.encodePrettily());
    } catch (IOException ex) {
      err.println("chat4all: cannot write " + overlay + ": " + ex.getMessage());
      return 1;
    }
    var ep = backends.endpoints();
    out.println();
    out.println(
        "Chat4All embedded backends ready in " + (System.nanoTime() - t0) / 1_000_000 + " ms");
    out.println("  Kafka      : " + ep.kafkaBootstrapServers());
    out.println(
        "  PostgreSQL : "
            + ep.postgresHost()
            + ":"
            + ep.postgresPort()
            + " (user "
            + ep.postgresUser()
            + ")");
    out.println("  MongoDB    : " + ep.mongoConnectionString());
    out.println("  Redis      : " + ep.redisConnectionString());
    out.println(
        "  S3         : " + ep.s3Endpoint() + " (path-style, access key " + ep.s3AccessKey() + ")");
    out.println("Start nodes on them with: ./chat4all run --cluster --config " + overlay);
    if (drills) {
      out.println(
          "Outage drills: type stop|start|restart postgres|redis (the others keep running)");
    }
    out.println(BACKENDS_READY_MARKER + " config=" + overlay);
    out.flush();
    if (drills) {
      BackendsConsole.listen(System.in, backends, out);
    }
    awaitQuietly(stopped);
    return 0;
  }

  private static void awaitQuietly(CountDownLatch latch) {
    try {
      latch.await();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private static String value(List<String> args, int i, String option) {
    if (i >= args.size() || args.get(i).startsWith("--")) {
      throw new UsageException(option + " needs a value");
    }
    return args.get(i);
  }

  private static final class UsageException extends RuntimeException {
    UsageException(String message) {
      super(message);
    }
  }
}
