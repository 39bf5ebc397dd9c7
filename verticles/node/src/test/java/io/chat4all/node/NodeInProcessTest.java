package io.chat4all.node;

import static org.assertj.core.api.Assertions.assertThat;

import io.chat4all.node.config.ConfigLoader;
import io.chat4all.node.config.NodeConfig;
import io.chat4all.proto.v1.NodeServiceGrpcClient;
import io.chat4all.proto.v1.PingReply;
import io.chat4all.proto.v1.PingRequest;
import io.chat4all.testkit.Await;
import io.chat4all.testkit.BackendsExtension;
import io.chat4all.testkit.TestBackends;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.SocketAddress;
import io.vertx.grpc.client.GrpcClient;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** A node started in this JVM against the shared backends: health, metrics, errors, gRPC. */
@ExtendWith(BackendsExtension.class)
class NodeInProcessTest {
  static Node node;
  static final HttpClient http = HttpClient.newHttpClient();

  @BeforeAll
  static void start(TestBackends.Isolation iso) {
    JsonObject config = ConfigLoader.defaults().mergeIn(iso.nodeConfig(), true);
    node = Node.start(NodeConfig.from(config));
  }

  @AfterAll
  static void stop() {
    node.close();
  }

  static HttpResponse<String> get(String path) throws Exception {
    return http.send(
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + node.httpPort() + path))
            .GET()
            .build(),
        HttpResponse.BodyHandlers.ofString());
  }

  @Test
  void liveAndReadyReflectEveryBackend() throws Exception {
    HttpResponse<String> live = get("/health/live");
    assertThat(live.statusCode()).isEqualTo(200);
    HttpResponse<String> ready = get("/health/ready");
    assertThat(ready.statusCode()).isEqualTo(200);
    JsonObject body = new JsonObject(ready.body());
    assertThat(body.getString("outcome")).isEqualTo("UP");
    assertThat(body.getJsonArray("checks").stream().map(o -> ((JsonObject) o).getString("id")))
        .containsExactlyInAnyOrder(
            "postgres", "mongo", "redis", "kafka", "s3", "pipeline", "plugins");
    JsonObject plugins =
        body.getJsonArray("checks").stream()
            .map(o -> (JsonObject) o)
            .filter(o -> "plugins".equals(o.getString("id")))
            .findFirst()
            .orElseThrow();
    assertThat(plugins.getString("status")).isEqualTo("UP");
    assertThat(plugins.getJsonObject("data").getJsonObject("channels")).isNotNull();
  }

  @Test
  void metricsArePrometheusText() throws Exception {
    get("/health/live");
    HttpResponse<String> metrics = get("/metrics");
    assertThat(metrics.statusCode()).isEqualTo(200);
    assertThat(metrics.body())
        .contains("vertx_http_server_requests_total")
        .contains("jvm_memory_used_bytes");
  }

  @Test
  void unknownRouteIsJsonError() throws Exception {
    HttpResponse<String> r =
        http.send(
            HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + node.httpPort() + "/nope"))
                .header("X-Request-Id", "req-123")
                .GET()
                .build(),
            HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).isEqualTo(404);
    assertThat(r.headers().firstValue("X-Request-Id")).contains("req-123");
    assertThat(new JsonObject(r.body()).getJsonObject("error").getString("code"))
        .isEqualTo("route_not_found");
  }

  @Test
  void clusterViewListsThisNode() throws Exception {
    JsonObject view = new JsonObject(get("/health/cluster").body());
    assertThat(view.getString("node_id")).isEqualTo(node.nodeId());
    assertThat(view.getBoolean("clustered")).isFalse();
    assertThat(view.getJsonArray("members")).hasSize(1);
    assertThat(view.getJsonArray("members").getJsonObject(0).getBoolean("reachable")).isTrue();
  }

  @Test
  void grpcPingOverH2c() {
    Vertx vertx = Vertx.vertx();
    try {
      PingReply reply =
          Await.result(
              NodeServiceGrpcClient.create(
                      GrpcClient.client(vertx),
                      SocketAddress.inetSocketAddress(node.grpcPort(), "127.0.0.1"))
                  .ping(PingRequest.newBuilder().setEcho("hi").build()));
      assertThat(reply.getEcho()).isEqualTo("hi");
      assertThat(reply.getNodeId()).isEqualTo(node.nodeId());
      assertThat(reply.getTime()).endsWith("Z");
    } finally {
      Await.result(vertx.close());
    }
  }

  @Test
  void grpcReflectionListsEveryService() {
    io.vertx.grpc.common.ServiceMethod<
            io.vertx.grpc.reflection.v1.ServerReflectionResponse,
            io.vertx.grpc.reflection.v1.ServerReflectionRequest>
        info =
            io.vertx.grpc.common.ServiceMethod.client(
                io.vertx.grpc.common.ServiceName.create("grpc.reflection.v1.ServerReflection"),
                "ServerReflectionInfo",
                io.vertx.grpc.common.GrpcMessageEncoder.encoder(),
                io.vertx.grpc.common.GrpcMessageDecoder.decoder(
                    io.vertx.grpc.reflection.v1.ServerReflectionResponse.newBuilder()));
    Vertx vertx = Vertx.vertx();
    try {
      io.vertx.grpc.reflection.v1.ServerReflectionResponse reply =
          Await.result(
              GrpcClient.client(vertx)
                  .request(SocketAddress.inetSocketAddress(node.grpcPort(), "127.0.0.1"), info)
                  .compose(
                      req ->
                          req.end(
                                  io.vertx.grpc.reflection.v1.ServerReflectionRequest.newBuilder()
                                      .setListServices("*")
                                      .build())
                              .compose(v -> req.response())
                              .compose(resp -> resp.last())));
      assertThat(reply.getListServicesResponse().getServiceList().stream().map(s -> s.getName()))
          .contains(
              "chat4all.v1.NodeService",
              "chat4all.v1.AuthService",
              "chat4all.v1.ConversationService",
              "chat4all.v1.MessageService");
    } finally {
      Await.result(vertx.close());
    }
  }
}
