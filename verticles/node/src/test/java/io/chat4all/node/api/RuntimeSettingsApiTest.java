package io.chat4all.node.api;

import static org.assertj.core.api.Assertions.assertThat;

import io.chat4all.testkit.Await;
import io.chat4all.testkit.BackendsExtension;
import io.chat4all.testkit.TestBackends;
import io.chat4all.testkit.WsTestSocket;
import io.chat4all.web.RuntimeSettings;
import io.vertx.core.Vertx;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The runtime settings API on one node: admins only, validation with stable codes, versions with
 * If-Match (412) and the body's version (409), the audit trail, and each limit and flag changing
 * what the node really does (message and upload rate limits, upload size, typing indicators).
 */
@ExtendWith(BackendsExtension.class)
class RuntimeSettingsApiTest {
  static final String ADMIN = "cfgadmin";
  static Api api;
  static Api.User admin;
  static final HttpClient http = HttpClient.newHttpClient();

  @BeforeAll
  static void start(TestBackends.Isolation iso) {
    api =
        Api.start(
            iso,
            new JsonObject()
                .put("admin", new JsonObject().put("usernames", new JsonArray().add(ADMIN))));
    admin = api.namedUser(ADMIN);
  }

  @AfterAll
  static void stop() {
    api.close();
  }

  record Res(int status, JsonObject json, String etag) {
    String code() {
      return json.getJsonObject("error", new JsonObject()).getString("code");
    }
  }

  static Res send(String method, String path, String token, JsonObject body, String ifMatch) {
    HttpRequest.Builder b =
        HttpRequest.newBuilder(URI.create(api.base() + path)).timeout(Duration.ofSeconds(30));
    if (token != null) {
      b.header("Authorization", "Bearer " + token);
    }
    if (ifMatch != null) {
      b.header("If-Match", ifMatch);
    }
    if (body != null) {
      b.header("Content-Type", "application/json");
    }
    b.method(
        method,
        body == null
            ? HttpRequest.BodyPublishers.noBody()
            : HttpRequest.BodyPublishers.ofString(body.encode()));
    try {
      HttpResponse<String> r = http.send(b.build(), HttpResponse.BodyHandlers.ofString());
      String text = r.body();
      return new Res(
          r.statusCode(),
          text != null && text.startsWith("{") ? new JsonObject(text) : new JsonObject(),
          r.headers().firstValue("ETag").orElse(null));
    } catch (Exception e) {
      throw new AssertionError(method + " " + path, e);
    }
  }

  static JsonObject putLimit(String name, long value) {
    Res r =
        send(
            "PUT",
            "/v1/admin/config/limits/" + name,
            admin.accessToken(),
            new JsonObject().put("value", value),
            null);
    assertThat(r.status()).as("%s", r.json()).isEqualTo(200);
    return r.json();
  }

  static void reset(String kind, String name) {
    Res r =
        send("DELETE", "/v1/admin/config/" + kind + "/" + name, admin.accessToken(), null, null);
    assertThat(r.status()).as("%s", r.json()).isEqualTo(200);
    assertThat(r.json().getString("source")).isEqualTo("default");
  }

  @Test
  void onlyAdministratorsReadOrChangeTheSettings() {
    Api.User someone = api.newUser("plain");
    for (String[] call :
        new String[][] {
          {"GET", "/v1/admin/config"},
          {"GET", "/v1/admin/config/audit"},
          {"GET", "/v1/admin/consumers"},
          {"GET", "/v1/admin/config/limits/max_upload_bytes"},
          {"PUT", "/v1/admin/config/limits/max_upload_bytes"},
          {"PUT", "/v1/admin/config/flags/typing_indicators"},
          {"DELETE", "/v1/admin/config/flags/typing_indicators"}
        }) {
      Res r =
          send(
              call[0],
              call[1],
              someone.accessToken(),
              call[0].equals("PUT") ? new JsonObject().put("value", 1) : null,
              null);
      assertThat(r.status()).as("%s %s", call[0], call[1]).isEqualTo(403);
      assertThat(r.code()).isEqualTo("forbidden");
    }
    assertThat(send("GET", "/v1/admin/config", null, null, null).status()).isEqualTo(401);
    // every user may read the flags as they apply to them
    Res mine = send("GET", "/v1/features", someone.accessToken(), null, null);
    assertThat(mine.status()).isEqualTo(200);
    assertThat(mine.json().getJsonObject("flags").getBoolean("typing_indicators")).isTrue();
  }

  @Test
  void theWholeConfigShowsDefaultsFromTheConfiguration() {
    Res r = send("GET", "/v1/admin/config", admin.accessToken(), null, null);
    assertThat(r.status()).isEqualTo(200);
    JsonObject limits = r.json().getJsonObject("limits");
    assertThat(limits.fieldNames())
        .contains(
            "requests_per_minute_per_user",
            "requests_per_minute_per_ip",
            "messages_per_minute_per_user",
            "files_per_hour_per_user",
            "max_upload_bytes",
            "user_quota_bytes");
    JsonObject perUser = limits.getJsonObject("requests_per_minute_per_user");
    assertThat(perUser.getLong("default")).isEqualTo(1200L);
    assertThat(perUser.getString("source")).isEqualTo("default");
    JsonObject flags = r.json().getJsonObject("flags");
    assertThat(flags.fieldNames()).contains("typing_indicators", "outbound_delivery.telegram");
  }

  @Test
  void badWritesAreRefusedWithStableCodes() {
    String token = admin.accessToken();
    String lim = "/v1/admin/config/limits/messages_per_minute_per_user";
    String flag = "/v1/admin/config/flags/typing_indicators";
    Object[][] cases = {
      {"/v1/admin/config/limits/no_such_limit", new JsonObject().put("value", 1), 404, "not_found"},
      {
        "/v1/admin/config/flags/no_such_flag",
        new JsonObject().put("enabled", true),
        404,
        "not_found"
      },
      {lim, new JsonObject(), 400, "validation_failed"},
      {lim, new JsonObject().put("value", -1), 400, "validation_failed"},
      {lim, new JsonObject().put("value", 1.5), 400, "validation_failed"},
      {lim, new JsonObject().put("value", "10"), 400, "validation_failed"},
      {lim, new JsonObject().put("value", 1e30), 400, "validation_failed"},
      {lim, new JsonObject().put("value", 1).put("extra", 1), 400, "validation_failed"},
      {lim, new JsonObject().put("value", 1).put("version", -2), 400, "validation_failed"},
      {
        "/v1/admin/config/limits/max_upload_bytes",
        new JsonObject().put("value", 0),
        400,
        "validation_failed"
      },
      {flag, new JsonObject(), 400, "validation_failed"},
      {flag, new JsonObject().put("rollout_percentage", 101), 400, "validation_failed"},
      {flag, new JsonObject().put("rollout_percentage", 50.5), 400, "validation_failed"},
      {flag, new JsonObject().put("enabled", "yes"), 400, "validation_failed"},
    };
    for (Object[] c : cases) {
      Res r = send("PUT", (String) c[0], token, (JsonObject) c[1], null);
      assertThat(r.status()).as("PUT %s %s → %s", c[0], c[1], r.json()).isEqualTo(c[2]);
      assertThat(r.code()).isEqualTo(c[3]);
    }
    Res neg = send("PUT", lim, token, new JsonObject().put("value", -1), null);
    assertThat(neg.json().getJsonObject("error").getJsonObject("details").getString("field"))
        .isEqualTo("value");
    assertThat(neg.json().getJsonObject("error").getJsonObject("details").getLong("min"))
        .isEqualTo(0L);
    Res badTag = send("PUT", lim, token, new JsonObject().put("value", 1), "not-a-version");
    assertThat(badTag.status()).isEqualTo(400);
    assertThat(badTag.code()).isEqualTo("bad_request");
    Res text =
        new Res(
            api.raw("PUT", lim, token, "text/plain", "{\"value\":1}".getBytes()).status(),
            new JsonObject(),
            null);
    assertThat(text.status()).isEqualTo(415);
    Res audit = send("GET", "/v1/admin/config/audit?kind=other", token, null, null);
    assertThat(audit.status()).isEqualTo(400);
    // nothing was stored by any of these
    assertThat(send("GET", lim, token, null, null).json().getLong("version")).isEqualTo(0L);
  }

  @Test
  void staleVersionsAreRefusedAndEveryChangeIsAudited() {
    String token = admin.accessToken();
    String path = "/v1/admin/config/limits/user_quota_bytes";
    Res first = send("GET", path, token, null, null);
    assertThat(first.json().getLong("version")).isEqualTo(0L);
    assertThat(first.etag()).isEqualTo("\"0\"");

    Res v1 = send("PUT", path, token, new JsonObject().put("value", 5000), "\"0\"");
    assertThat(v1.status()).as("%s", v1.json()).isEqualTo(200);
    assertThat(v1.json().getLong("version")).isEqualTo(1L);
    assertThat(v1.json().getLong("value")).isEqualTo(5000L);
    assertThat(v1.json().getString("source")).isEqualTo("override");
    assertThat(v1.json().getString("updated_by")).isEqualTo(ADMIN);
    assertThat(v1.etag()).isEqualTo("\"1\"");

    Res staleTag = send("PUT", path, token, new JsonObject().put("value", 6000), "\"0\"");
    assertThat(staleTag.status()).isEqualTo(412);
    assertThat(staleTag.code()).isEqualTo("precondition_failed");
    assertThat(staleTag.json().getJsonObject("error").getJsonObject("details").getLong("current"))
        .isEqualTo(1L);
    Res staleBody =
        send("PUT", path, token, new JsonObject().put("value", 6000).put("version", 0), null);
    assertThat(staleBody.status()).isEqualTo(409);
    assertThat(staleBody.code()).isEqualTo("conflict");
    assertThat(send("GET", path, token, null, null).json().getLong("value")).isEqualTo(5000L);

    Res v2 = send("PUT", path, token, new JsonObject().put("value", 7000).put("version", 1), null);
    assertThat(v2.json().getLong("version")).isEqualTo(2L);
    Res v3 = send("DELETE", path, token, null, "W/\"2\"");
    assertThat(v3.status()).as("%s", v3.json()).isEqualTo(200);
    assertThat(v3.json().getLong("version")).isEqualTo(3L);
    assertThat(v3.json().getString("source")).isEqualTo("default");
    assertThat(v3.json().getLong("value")).isEqualTo(v3.json().getLong("default"));

    Res audit =
        send("GET", "/v1/admin/config/audit?name=user_quota_bytes&limit=2", token, null, null);
    JsonArray items = audit.json().getJsonArray("items");
    assertThat(items).hasSize(2);
    JsonObject reset = items.getJsonObject(0);
    assertThat(reset.getString("kind")).isEqualTo("limit");
    assertThat(reset.getLong("old_version")).isEqualTo(2L);
    assertThat(reset.getLong("new_version")).isEqualTo(3L);
    assertThat(reset.getJsonObject("old_value").getLong("value")).isEqualTo(7000L);
    assertThat(reset.getValue("new_value")).isNull();
    assertThat(reset.getString("changed_by")).isEqualTo(ADMIN);
    assertThat(reset.getString("changed_at")).isNotBlank();
    String cursor = audit.json().getString("next_cursor");
    assertThat(cursor).isNotNull();
    JsonArray older =
        send(
                "GET",
                "/v1/admin/config/audit?name=user_quota_bytes&limit=2&cursor=" + cursor,
                token,
                null,
                null)
            .json()
            .getJsonArray("items");
    assertThat(older).hasSize(1);
    assertThat(older.getJsonObject(0).getValue("old_value")).isNull();
    assertThat(older.getJsonObject(0).getJsonObject("new_value").getLong("value")).isEqualTo(5000L);
  }

  @Test
  void limitsChangeWhatTheNodeAllows() {
    Api.User a = api.newUser("lim");
    Api.User b = api.newUser("lim");
    String conv = api.privateChat(a, b);
    putLimit(RuntimeSettings.MESSAGES_PER_MINUTE_PER_USER, 2);
    try {
      List<Integer> statuses = new ArrayList<>();
      for (int i = 0; i < 3; i++) {
        statuses.add(
            api.post(
                    "/v1/messages",
                    a.accessToken(),
                    Api.textMessage(conv, UUID.randomUUID().toString(), "m" + i))
                .status());
      }
      assertThat(statuses).containsExactly(202, 202, 429);
      // the other user has their own budget
      api.post(
              "/v1/messages",
              b.accessToken(),
              Api.textMessage(conv, UUID.randomUUID().toString(), "hi"))
          .expect(202);
    } finally {
      reset("limits", RuntimeSettings.MESSAGES_PER_MINUTE_PER_USER);
    }
    api.post(
            "/v1/messages",
            a.accessToken(),
            Api.textMessage(conv, UUID.randomUUID().toString(), "again"))
        .expect(202);

    putLimit(RuntimeSettings.MAX_UPLOAD_BYTES, 1000);
    putLimit(RuntimeSettings.FILES_PER_HOUR_PER_USER, 1);
    try {
      Api.Res big = api.post("/v1/files", a.accessToken(), upload(conv, 1001));
      big.expectError(413, "payload_too_large");
      assertThat(
              big.json().getJsonObject("error").getJsonObject("details").getLong("max_size_bytes"))
          .isEqualTo(1000L);
      api.post("/v1/files", a.accessToken(), upload(conv, 1000)).expect(201);
      api.post("/v1/files", a.accessToken(), upload(conv, 10)).expectError(429, "rate_limited");
    } finally {
      reset("limits", RuntimeSettings.MAX_UPLOAD_BYTES);
      reset("limits", RuntimeSettings.FILES_PER_HOUR_PER_USER);
    }
    api.post("/v1/files", a.accessToken(), upload(conv, 1001)).expect(201);
  }

  static JsonObject upload(String conv, long size) {
    return new JsonObject()
        .put("filename", "f.bin")
        .put("size_bytes", size)
        .put("mime_type", "application/octet-stream")
        .put("conversation_id", conv);
  }

  @Test
  void rolloutSplitsUsersByAStableHashAndGatesTyping() {
    Res put =
        send(
            "PUT",
            "/v1/admin/config/flags/typing_indicators",
            admin.accessToken(),
            new JsonObject().put("rollout_percentage", 50),
            null);
    assertThat(put.status()).as("%s", put.json()).isEqualTo(200);
    assertThat(put.json().getBoolean("enabled")).isTrue();
    assertThat(put.json().getInteger("rollout_percentage")).isEqualTo(50);
    Vertx vertx = Vertx.vertx();
    try {
      Api.User in = null;
      Api.User out = null;
      int on = 0;
      for (int i = 0; i < 24; i++) {
        Api.User u = api.newUser("roll");
        boolean expected = RuntimeSettings.bucket("typing_indicators", u.id()) < 50;
        boolean seen =
            send("GET", "/v1/features", u.accessToken(), null, null)
                .json()
                .getJsonObject("flags")
                .getBoolean("typing_indicators");
        assertThat(seen).as("user %s", u.id()).isEqualTo(expected);
        // the same answer every time
        assertThat(
                send("GET", "/v1/features", u.accessToken(), null, null)
                    .json()
                    .getJsonObject("flags")
                    .getBoolean("typing_indicators"))
            .isEqualTo(expected);
        if (seen) {
          on++;
          in = in == null ? u : in;
        } else {
          out = out == null ? u : out;
        }
      }
      assertThat(on).isBetween(3, 21);
      WebSocketClient client = vertx.createWebSocketClient();
      String conv = api.privateChat(in, out);
      try (WsTestSocket sIn = socket(client, in);
          WsTestSocket sOut = socket(client, out)) {
        sOut.send(
            new JsonObject()
                .put("type", "typing")
                .put("conversation_id", conv)
                .put("request_id", "t1"));
        JsonObject err = sOut.await("error", f -> "error".equals(f.getString("type")));
        assertThat(err.getJsonObject("error").getString("code")).isEqualTo("feature_disabled");
        sIn.send(new JsonObject().put("type", "typing").put("conversation_id", conv));
        JsonObject t = sOut.await("typing", f -> "typing".equals(f.getString("type")));
        assertThat(t.getString("user_id")).isEqualTo(in.id());
        assertThat(sIn.frames).noneMatch(f -> "typing".equals(f.getString("type")));
      }
    } finally {
      reset("flags", "typing_indicators");
      Await.result(vertx.close());
    }
  }

  static WsTestSocket socket(WebSocketClient client, Api.User u) {
    WsTestSocket s =
        new WsTestSocket(client, api.node().httpPort(), "/v1/ws", Duration.ofSeconds(30));
    s.authenticate(u.accessToken(), null);
    return s;
  }

  @Test
  void thePipelineCommitsWhatItAppliedWithoutFurtherTraffic() {
    // the tests of this class run one after the other: only this one's sends move the commits now
    long before = committedSends(pipelineGroup());
    Api.User a = api.newUser("lag");
    Api.User b = api.newUser("lag");
    String conv = api.privateChat(a, b);
    int sends = 7;
    for (int i = 0; i < sends; i++) {
      Api.Res r =
          api.post(
              "/v1/messages",
              a.accessToken(),
              Api.textMessage(conv, UUID.randomUUID().toString(), "lag " + i));
      assertThat(r.status()).as("%s", r.raw()).isEqualTo(202);
    }
    Await.until(
        sends + " messages stored",
        Duration.ofSeconds(30),
        () -> {
          Api.Res h = api.get("/v1/conversations/" + conv + "/messages?limit=50", b.accessToken());
          return h.status() == 200 && h.json().getJsonArray("items").size() == sends;
        });
    // nothing is sent from here on: the consumer's own background commit (on its idle polls)
    // brings the committed offsets of the pipeline's group to the end of every partition, past
    // every one of these sends
    Await.until(
        "the pipeline's offsets committed to the end",
        Duration.ofSeconds(20),
        () -> {
          JsonObject pipeline = pipelineGroup();
          return pipeline.getLong("lag") == 0 && committedSends(pipeline) >= before + sends;
        });
  }

  static JsonObject pipelineGroup() {
    Res r = send("GET", "/v1/admin/consumers", admin.accessToken(), null, null);
    assertThat(r.status()).as("%s", r.json()).isEqualTo(200);
    for (Object o : r.json().getJsonArray("groups")) {
      JsonObject g = (JsonObject) o;
      if ("pipeline".equals(g.getString("role"))) {
        return g;
      }
    }
    throw new AssertionError("no pipeline group in " + r.json());
  }

  /** The committed offsets of the group on {@code message.sent}, summed over its partitions. */
  static long committedSends(JsonObject group) {
    long sum = 0;
    for (Object o : group.getJsonArray("partitions")) {
      JsonObject p = (JsonObject) o;
      if (p.getString("topic").endsWith("message.sent")) {
        sum += p.getLong("committed");
      }
    }
    return sum;
  }
}
