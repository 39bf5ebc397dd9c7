package io.chat4all.node.edge;

import com.google.protobuf.Descriptors;
import io.vertx.core.Handler;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.grpc.common.ServiceMethod;
import io.vertx.grpc.common.ServiceName;
import io.vertx.grpc.server.GrpcServer;
import io.vertx.grpc.server.GrpcServerRequest;
import io.vertx.grpc.server.Service;
import java.util.List;

/**
 * The view of the node's gRPC server that services register on: every handler gets its request
 * messages decoded by {@link DecodingGrpcRequest}, so bytes that are not the method's message are
 * answered {@code INVALID_ARGUMENT} with the error model's message instead of the stream reset
 * (CANCELLED) that the server's own decoding gives them.
 */
final class DecodingGrpcServer implements GrpcServer {
  private final GrpcServer server;

  DecodingGrpcServer(GrpcServer server) {
    this.server = server;
  }

  @Override
  public void handle(HttpServerRequest request) {
    server.handle(request);
  }

  @Override
  public GrpcServer callHandler(Handler<GrpcServerRequest<Buffer, Buffer>> handler) {
    server.callHandler(handler); // raw bytes: nothing to decode
    return this;
  }

  @Override
  public <Req, Resp> GrpcServer callHandler(
      ServiceMethod<Req, Resp> method, Handler<GrpcServerRequest<Req, Resp>> handler) {
    server.callHandler(
        method,
        handler == null
            ? null
            : request -> handler.handle(new DecodingGrpcRequest<>(request, method.decoder())));
    return this;
  }

  @Override
  public GrpcServer addService(Service service) {
    server.addService(
        new Service() {
          @Override
          public ServiceName name() {
            return service.name();
          }

          @Override
          public Descriptors.ServiceDescriptor descriptor() {
            return service.descriptor();
          }

          @Override
          public void bind(GrpcServer ignored) {
            service.bind(DecodingGrpcServer.this);
          }
        });
    return this;
  }

  @Override
  public List<Service> services() {
    return server.services();
  }
}
