package io.chat4all.conversations;

import io.chat4all.web.GrpcModule;
import io.chat4all.web.TokenVerifier;
import io.vertx.core.Vertx;
import io.vertx.grpc.server.GrpcServer;

/** gRPC ConversationService. STUB. */
public class ConversationGrpc implements GrpcModule {
  public ConversationGrpc(Vertx vertx, TokenVerifier verifier) {}

  @Override
  public void register(GrpcServer server) {}
}
