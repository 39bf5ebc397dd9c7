package io.chat4all.node.api;

import static org.assertj.core.api.Assertions.assertThat;

import io.chat4all.testkit.BackendsExtension;
import io.chat4all.testkit.TestBackends;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Per-user request limits from config, counted in Redis: over the limit is 429 with Retry-After.
 */
@ExtendWith(BackendsExtension.class)
class RateLimitTest {
  static Api api;

  @BeforeAll
  static void start(TestBackends.Isolation iso) {
    api =
        Api.start(
            iso,
            new JsonObject()
                .put(
                    "rate_limit",
                    new JsonObject().put("per_user_per_minute", 5).put("per_ip_per_minute", 1000)));
  }

  @AfterAll
  static void stop() {
    api.close();
  }

  @Test
  void overTheLimitIs429WithRetryAfter() {
    Api.User u = api.newUser("busy");
    Api.User other = api.newUser("calm");
    int ok = 0;
    Api.Res last = null;
    for (int i = 0; i < 8; i++) {
      last = api.get("/v1/me", u.accessToken());
      if (last.status() == 200) {
        ok++;
      } else {
        break;
      }
    }
    assertThat(ok).isLessThanOrEqualTo(5);
    last.expectError(429, "rate_limited");
    assertThat(last.headers().firstValue("Retry-After")).isPresent();
    assertThat(Integer.parseInt(last.headers().firstValue("Retry-After").get())).isBetween(1, 60);
    // another user is not affected
    api.get("/v1/me", other.accessToken()).expect(200);
  }

  @Test
  void grpcCallsCountTowardsTheSameLimit() {
    Api.User u = api.newUser("grpcbusy");
    io.vertx.grpc.common.GrpcStatus last = null;
    String code = null;
    for (int i = 0; i < 8; i++) {
      Api.GrpcRes<io.chat4all.proto.v1.UserProfile> r =
          api.grpc(
              io.chat4all.proto.v1.AuthServiceGrpcClient.Me,
              io.chat4all.proto.v1.MeRequest.getDefaultInstance(),
              u.accessToken());
      last = r.status();
      code = r.errorCode();
      if (last != io.vertx.grpc.common.GrpcStatus.OK) {
        break;
      }
    }
    assertThat(last).isEqualTo(io.vertx.grpc.common.GrpcStatus.RESOURCE_EXHAUSTED);
    assertThat(code).isEqualTo("rate_limited");
  }
}
