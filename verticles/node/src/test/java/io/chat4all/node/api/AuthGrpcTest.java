package io.chat4all.node.api;

import static org.assertj.core.api.Assertions.assertThat;

import io.chat4all.proto.v1.AuthServiceGrpcClient;
import io.chat4all.proto.v1.GetUserRequest;
import io.chat4all.proto.v1.LogoutRequest;
import io.chat4all.proto.v1.MeRequest;
import io.chat4all.proto.v1.RefreshRequest;
import io.chat4all.proto.v1.RegisterRequest;
import io.chat4all.proto.v1.TokenReply;
import io.chat4all.proto.v1.TokenRequest;
import io.chat4all.proto.v1.UserProfile;
import io.chat4all.testkit.Await;
import io.chat4all.testkit.BackendsExtension;
import io.chat4all.testkit.TestBackends;
import io.vertx.grpc.common.GrpcStatus;
import java.time.Duration;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** AuthService over gRPC: same rules and the error model's status codes and trailers. */
@ExtendWith(BackendsExtension.class)
class AuthGrpcTest {
  static Api api;

  @BeforeAll
  static void start(TestBackends.Isolation iso) {
    api = Api.start(iso);
  }

  @AfterAll
  static void stop() {
    api.close();
  }

  @Test
  void registerLoginMeLogout() {
    String name = "grpc_" + UUID.randomUUID().toString().substring(0, 8);
    Api.GrpcRes<UserProfile> created =
        api.grpc(
            AuthServiceGrpcClient.Register,
            RegisterRequest.newBuilder()
                .setUsername(name)
                .setEmail(name + "@g.test")
                .setPassword("kept-secret-1")
                .build(),
            null);
    assertThat(created.status()).isEqualTo(GrpcStatus.OK);
    assertThat(created.value().getUsername()).isEqualTo(name);

    Api.GrpcRes<TokenReply> tokens =
        api.grpc(
            AuthServiceGrpcClient.Token,
            TokenRequest.newBuilder().setUsername(name).setPassword("kept-secret-1").build(),
            null);
    assertThat(tokens.status()).isEqualTo(GrpcStatus.OK);
    String access = tokens.value().getAccessToken();

    Api.GrpcRes<UserProfile> me =
        api.grpc(AuthServiceGrpcClient.Me, MeRequest.getDefaultInstance(), access);
    assertThat(me.status()).isEqualTo(GrpcStatus.OK);
    assertThat(me.value().getUserId()).isEqualTo(created.value().getUserId());
    assertThat(me.value().getEmail()).isEqualTo(name + "@g.test");

    // a token from gRPC works over REST and the other way round
    api.get("/v1/me", access).expect(200);

    Api.GrpcRes<UserProfile> other =
        api.grpc(
            AuthServiceGrpcClient.GetUser,
            GetUserRequest.newBuilder().setUserId(created.value().getUserId()).build(),
            access);
    assertThat(other.value().getEmail()).isEmpty();

    assertThat(
            api.grpc(AuthServiceGrpcClient.Logout, LogoutRequest.getDefaultInstance(), access)
                .status())
        .isEqualTo(GrpcStatus.OK);
    Api.GrpcRes<UserProfile> revoked =
        api.grpc(AuthServiceGrpcClient.Me, MeRequest.getDefaultInstance(), access);
    assertThat(revoked.status()).isEqualTo(GrpcStatus.UNAUTHENTICATED);
    assertThat(revoked.errorCode()).isEqualTo("token_revoked");
  }

  @Test
  void logoutOverGrpcEndsTheLoginEverywhere() {
    Api.User u = api.newUser("grpcbye");
    assertThat(
            api.grpc(
                    AuthServiceGrpcClient.Logout,
                    LogoutRequest.getDefaultInstance(),
                    u.accessToken())
                .status())
        .isEqualTo(GrpcStatus.OK);
    Await.holds(
        "the logged-out token refused over gRPC and REST",
        Duration.ofSeconds(7),
        () -> {
          Api.GrpcRes<UserProfile> me =
              api.grpc(AuthServiceGrpcClient.Me, MeRequest.getDefaultInstance(), u.accessToken());
          assertThat(me.status()).isEqualTo(GrpcStatus.UNAUTHENTICATED);
          assertThat(me.errorCode()).isEqualTo("token_revoked");
          api.get("/v1/me", u.accessToken()).expectError(401, "token_revoked");
        });
    // no refresh token was given, and still the login's refresh token is dead
    Api.GrpcRes<TokenReply> refreshed =
        api.grpc(
            AuthServiceGrpcClient.Refresh,
            RefreshRequest.newBuilder().setRefreshToken(u.refreshToken()).build(),
            null);
    assertThat(refreshed.status()).isEqualTo(GrpcStatus.UNAUTHENTICATED);
    assertThat(refreshed.errorCode()).isEqualTo("token_revoked");
  }

  @Test
  void errorsMapToGrpcStatus() {
    Api.GrpcRes<UserProfile> noToken =
        api.grpc(AuthServiceGrpcClient.Me, MeRequest.getDefaultInstance(), null);
    assertThat(noToken.status()).isEqualTo(GrpcStatus.UNAUTHENTICATED);
    assertThat(noToken.errorCode()).isEqualTo("unauthenticated");
    assertThat(noToken.message()).startsWith("unauthenticated: ");

    Api.GrpcRes<UserProfile> forged =
        api.grpc(AuthServiceGrpcClient.Me, MeRequest.getDefaultInstance(), "a.b.c");
    assertThat(forged.errorCode()).isEqualTo("token_invalid");

    Api.GrpcRes<UserProfile> weak =
        api.grpc(
            AuthServiceGrpcClient.Register,
            RegisterRequest.newBuilder()
                .setUsername("weak_pw")
                .setEmail("w@g.test")
                .setPassword("123")
                .build(),
            null);
    assertThat(weak.status()).isEqualTo(GrpcStatus.INVALID_ARGUMENT);
    assertThat(weak.errorCode()).isEqualTo("weak_password");
    assertThat(weak.trailers().get("chat4all-error-details")).contains("\"field\":\"password\"");
    Api.GrpcRes<UserProfile> common =
        api.grpc(
            AuthServiceGrpcClient.Register,
            RegisterRequest.newBuilder()
                .setUsername("common_pw")
                .setEmail("c@g.test")
                .setPassword("Password123")
                .build(),
            null);
    assertThat(common.status()).isEqualTo(GrpcStatus.INVALID_ARGUMENT);
    assertThat(common.errorCode()).isEqualTo("weak_password");
    assertThat(common.trailers().get("chat4all-error-details")).contains("\"reason\":\"common\"");

    Api.User u = api.newUser("g");
    Api.GrpcRes<UserProfile> dup =
        api.grpc(
            AuthServiceGrpcClient.Register,
            RegisterRequest.newBuilder()
                .setUsername(u.username())
                .setEmail("other-" + u.username() + "@g.test")
                .setPassword("kept-secret-1")
                .build(),
            null);
    assertThat(dup.status()).isEqualTo(GrpcStatus.ALREADY_EXISTS);

    Api.GrpcRes<UserProfile> missing =
        api.grpc(
            AuthServiceGrpcClient.GetUser,
            GetUserRequest.newBuilder().setUserId(UUID.randomUUID().toString()).build(),
            u.accessToken());
    assertThat(missing.status()).isEqualTo(GrpcStatus.NOT_FOUND);
    Api.GrpcRes<UserProfile> garbage =
        api.grpc(
            AuthServiceGrpcClient.GetUser,
            GetUserRequest.newBuilder().setUserId("xyz").build(),
            u.accessToken());
    assertThat(garbage.status()).isEqualTo(GrpcStatus.NOT_FOUND);
  }
}
