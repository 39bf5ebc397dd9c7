package io.chat4all.messaging;

import io.chat4all.web.GrpcModule;
import io.chat4all.web.TokenVerifier;
import io.vertx.core.Vertx;
import io.vertx.grpc.server.GrpcServer;

/** gRPC MessageService (filled in below). */
public class MessageGrpc implements GrpcModule {
  private final Vertx vertx;
  private final TokenVerifier verifier;
  private final MessagingConfig config;

  public MessageGrpc(Vertx vertx, TokenVerifier verifier, MessagingConfig config) {
    this.vertx = vertx;
    this.verifier = verifier;
    this.config = config;
  }

  @Override
  public void register(GrpcServer server) {}
}
