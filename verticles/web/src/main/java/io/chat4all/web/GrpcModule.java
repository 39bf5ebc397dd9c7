package io.chat4all.web;

import io.vertx.grpc.server.GrpcServer;

/** A service's gRPC services, added by the gRPC edge to the node's one gRPC server. */
@FunctionalInterface
public interface GrpcModule {
  void register(GrpcServer server);
}
