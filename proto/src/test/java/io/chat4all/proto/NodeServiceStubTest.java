package io.chat4all.proto;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.chat4all.proto.v1.NodeServiceGrpcClient;
import io.chat4all.proto.v1.NodeServiceGrpcService;
import io.chat4all.proto.v1.NodeServiceService;
import io.chat4all.proto.v1.PingReply;
import io.chat4all.proto.v1.PingRequest;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.HttpVersion;
import io.vertx.core.net.SocketAddress;
import io.vertx.grpc.client.GrpcClient;
import io.vertx.grpc.common.GrpcMessageDecoder;
import io.vertx.grpc.common.GrpcMessageEncoder;
import io.vertx.grpc.common.ServiceMethod;
import io.vertx.grpc.common.ServiceName;
import io.vertx.grpc.reflection.ReflectionService;
import io.vertx.grpc.reflection.v1.ServerReflectionRequest;
import io.vertx.grpc.reflection.v1.ServerReflectionResponse;
import io.vertx.grpc.reflection.v1.ServiceResponse;
import io.vertx.grpc.server.GrpcServer;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import java.time.Instant;
import java.time.format.DateTimeFormatter;
import java.util.List;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** Proves protoc + the Vert.x gRPC protoc plugin produced usable server and client stubs. */
@ExtendWith(VertxExtension.class)
class NodeServiceStubTest {

  private static final String NODE_ID = "node-test-1";

  /** Client-side descriptor of the gRPC reflection v1 bidi method (no generated client for it). */
  private static final ServiceMethod<ServerReflectionResponse, ServerReflectionRequest>
      REFLECTION_INFO =
          ServiceMethod.client(
              ServiceName.create("grpc.reflection.v1.ServerReflection"),
              "ServerReflectionInfo",
              GrpcMessageEncoder.encoder(),
              GrpcMessageDecoder.decoder(ServerReflectionResponse.newBuilder()));

  private HttpServer httpServer;
  private GrpcClient grpcClient;
  private SocketAddress serverAddress;

  @BeforeEach
  void startServer(Vertx vertx, VertxTestContext ctx) {
    NodeServiceService impl =
        new NodeServiceService() {
          @Override
          public Future<PingReply> ping(PingRequest request) {
            return Future.succeededFuture(
                PingReply.newBuilder()
                    .setNodeId(NODE_ID)
                    .setVersion("test")
                    .setTime(DateTimeFormatter.ISO_INSTANT.format(Instant.now()))
                    .setEcho(request.getEcho())
                    .build());
          }
        };

    GrpcServer grpcServer = GrpcServer.server(vertx);
    grpcServer.addService(NodeServiceGrpcService.of(impl));
    grpcServer.addService(ReflectionService.v1());

    vertx
        .createHttpServer(new HttpServerOptions().setPort(0).setHost("127.0.0.1"))
        .requestHandler(grpcServer)
        .listen()
        .onComplete(
            ctx.succeeding(
                server -> {
                  httpServer = server;
                  serverAddress = SocketAddress.inetSocketAddress(server.actualPort(), "127.0.0.1");
                  // h2c with prior knowledge (no HTTP/1.1 upgrade)
                  grpcClient =
                      GrpcClient.client(
                          vertx,
                          new HttpClientOptions()
                              .setProtocolVersion(HttpVersion.HTTP_2)
                              .setHttp2ClearTextUpgrade(false));
                  ctx.completeNow();
                }));
  }

  @AfterEach
  void stop(VertxTestContext ctx) {
    Future<Void> client = grpcClient == null ? Future.succeededFuture() : grpcClient.close();
    Future<Void> server = httpServer == null ? Future.succeededFuture() : httpServer.close();
    Future.all(client, server).onComplete(ctx.succeedingThenComplete());
  }

  @Test
  void pingThroughGeneratedStubs(VertxTestContext ctx) {
    NodeServiceGrpcClient client = NodeServiceGrpcClient.create(grpcClient, serverAddress);
    client
        .ping(PingRequest.newBuilder().setEcho("hello").build())
        .onComplete(
            ctx.succeeding(
                reply ->
                    ctx.verify(
                        () -> {
                          assertEquals("hello", reply.getEcho());
                          assertEquals(NODE_ID, reply.getNodeId());
                          assertEquals("test", reply.getVersion());
                          assertFalse(reply.getTime().isEmpty());
                          Instant.parse(reply.getTime()); // RFC 3339 / ISO-8601 instant
                          ctx.completeNow();
                        })));
  }

  @Test
  void reflectionListsNodeService(VertxTestContext ctx) {
    grpcClient
        .request(serverAddress, REFLECTION_INFO)
        .compose(
            req ->
                req.end(ServerReflectionRequest.newBuilder().setListServices("*").build())
                    .compose(v -> req.response())
                    .compose(resp -> resp.last()))
        .onComplete(
            ctx.succeeding(
                resp ->
                    ctx.verify(
                        () -> {
                          List<String> names =
                              resp.getListServicesResponse().getServiceList().stream()
                                  .map(ServiceResponse::getName)
                                  .collect(Collectors.toList());
                          assertTrue(names.contains("chat4all.v1.NodeService"), names.toString());
                          ctx.completeNow();
                        })));
  }
}
