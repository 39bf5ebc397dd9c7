package io.chat4all.auth;

import io.chat4all.codecs.Addresses;
import io.chat4all.codecs.ServiceBus;
import io.chat4all.proto.v1.AuthServiceGrpcService;
import io.chat4all.proto.v1.GetUserRequest;
import io.chat4all.proto.v1.TokenReply;
import io.chat4all.proto.v1.UserProfile;
import io.chat4all.web.Bodies;
import io.chat4all.web.GrpcModule;
import io.chat4all.web.GrpcUnary;
import io.chat4all.web.TokenVerifier;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.grpc.server.GrpcServer;
import io.vertx.grpc.server.Service;

/** gRPC edge of the auth service ({@code chat4all.v1.AuthService}), same rules as REST. */
public class AuthGrpc implements GrpcModule {
  private final Vertx vertx;
  private final TokenVerifier verifier;

  public AuthGrpc(Vertx vertx, TokenVerifier verifier) {
    this.vertx = vertx;
    this.verifier = verifier;
  }

  private Future<JsonObject> call(String action, JsonObject body) {
    return ServiceBus.request(vertx, Addresses.AUTH, action, body);
  }

  @Override
  public void register(GrpcServer server) {
    server.addService(
        Service.service(
                AuthServiceGrpcService.SERVICE_NAME, AuthServiceGrpcService.SERVICE_DESCRIPTOR)
            .bind(
                AuthServiceGrpcService.Register,
                GrpcUnary.handler(
                    (req, c) ->
                        call(
                                AuthActions.REGISTER,
                                AuthRoutes.validateRegistration(
                                    new JsonObject()
                                        .put("username", req.getUsername())
                                        .put("email", req.getEmail())
                                        .put("password", req.getPassword())))
                            .map(AuthGrpc::profile)))
            .bind(
                AuthServiceGrpcService.Token,
                GrpcUnary.handler(
                    (req, c) -> {
                      JsonObject body = new JsonObject().put("password", req.getPassword());
                      if (!req.getUsername().isEmpty()) {
                        body.put("username", req.getUsername());
                      }
                      if (!req.getEmail().isEmpty()) {
                        body.put("email", req.getEmail());
                      }
                      return call(AuthActions.TOKEN, AuthRoutes.validateLogin(body, c.remoteHost()))
                          .map(AuthGrpc::tokens);
                    }))
            .bind(
                AuthServiceGrpcService.Refresh,
                GrpcUnary.handler(
                    (req, c) ->
                        call(
                                AuthActions.REFRESH,
                                new JsonObject()
                                    .put(
                                        "refresh_token",
                                        Bodies.string(
                                            new JsonObject()
                                                .put("refresh_token", req.getRefreshToken()),
                                            "refresh_token",
                                            1,
                                            512)))
                            .map(AuthGrpc::tokens)))
            .bind(
                AuthServiceGrpcService.Logout,
                GrpcUnary.handler(
                    (req, c) ->
                        GrpcUnary.principal(verifier, c)
                            .compose(
                                p -> {
                                  JsonObject body =
                                      new JsonObject()
                                          .put("user_id", p.userId())
                                          .put("jti", p.tokenId())
                                          .put("exp", p.expiresAt())
                                          .put("family_id", p.familyId());
                                  if (!req.getRefreshToken().isEmpty()) {
                                    body.put("refresh_token", req.getRefreshToken());
                                  }
                                  return call(AuthActions.LOGOUT, body);
                                })
                            .map(x -> io.chat4all.proto.v1.LogoutReply.getDefaultInstance())))
            .bind(
                AuthServiceGrpcService.Me,
                GrpcUnary.handler(
                    (req, c) ->
                        GrpcUnary.principal(verifier, c)
                            .compose(
                                p ->
                                    call(
                                        AuthActions.ME,
                                        new JsonObject().put("user_id", p.userId())))
                            .map(AuthGrpc::profile)))
            .bind(
                AuthServiceGrpcService.GetUser,
                GrpcUnary.handler(
                    (GetUserRequest req, GrpcUnary.Call c) ->
                        GrpcUnary.principal(verifier, c)
                            .compose(
                                p ->
                                    call(
                                        AuthActions.USER_GET,
                                        new JsonObject()
                                            .put("user_id", notFoundUnlessUuid(req.getUserId()))))
                            .map(AuthGrpc::profile)))
            .build());
  }

  private static String notFoundUnlessUuid(String id) {
    try {
      return java.util.UUID.fromString(id).toString();
    } catch (IllegalArgumentException e) {
      throw new io.chat4all.codecs.ServiceException(
          io.chat4all.codecs.ErrorCode.NOT_FOUND, "user not found");
    }
  }

  static UserProfile profile(JsonObject j) {
    UserProfile.Builder b =
        UserProfile.newBuilder()
            .setUserId(j.getString("user_id"))
            .setUsername(j.getString("username"));
    if (j.getString("email") != null) {
      b.setEmail(j.getString("email"));
    }
    if (j.getString("status") != null) {
      b.setStatus(j.getString("status"));
    }
    if (j.getString("created_at") != null) {
      b.setCreatedAt(j.getString("created_at"));
    }
    return b.build();
  }

  static TokenReply tokens(JsonObject j) {
    return TokenReply.newBuilder()
        .setAccessToken(j.getString("access_token"))
        .setRefreshToken(j.getString("refresh_token"))
        .setTokenType(j.getString("token_type"))
        .setExpiresIn(j.getInteger("expires_in"))
        .setRefreshExpiresIn(j.getInteger("refresh_expires_in"))
        .setUserId(j.getString("user_id"))
        .build();
  }
}
