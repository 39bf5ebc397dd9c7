package io.chat4all.node.process;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.json.JsonObject;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;

/** REST calls to a node process on loopback, for the process tests. */
final class ProcessRest {
  private ProcessRest() {}

  static final HttpClient http =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

  /** A response: status and JSON body (empty when the body is empty or not a JSON object). */
  record Res(int status, JsonObject json) {}

  static Res call(int port, String method, String path, String token, JsonObject body)
      throws Exception {
    HttpRequest.Builder b =
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
            .timeout(Duration.ofSeconds(30));
    if (token != null) {
      b.header("Authorization", "Bearer " + token);
    }
    b.method(
        method,
        body == null
            ? HttpRequest.BodyPublishers.noBody()
            : HttpRequest.BodyPublishers.ofString(body.encode()));
    HttpResponse<String> r = http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    String text = r.body();
    return new Res(
        r.statusCode(),
        text != null && text.startsWith("{") ? new JsonObject(text) : new JsonObject());
  }

  /** The JSON of a call that must succeed (2xx). */
  static JsonObject ok(int port, String method, String path, String token, JsonObject body)
      throws Exception {
    Res r = call(port, method, path, token, body);
    assertThat(r.status()).as(method + " " + path + " → " + r.json()).isBetween(200, 299);
    return r.json();
  }

  /** Registers {@code name} (password "kept-secret-1") and logs in; the access token. */
  static String login(int port, String name) throws Exception {
    call(
        port,
        "POST",
        "/v1/auth/register",
        null,
        new JsonObject()
            .put("username", name)
            .put("email", name + "@process.test")
            .put("password", "kept-secret-1"));
    return ok(
            port,
            "POST",
            "/v1/auth/token",
            null,
            new JsonObject().put("username", name).put("password", "kept-secret-1"))
        .getString("access_token");
  }
}
