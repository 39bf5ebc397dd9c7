package io.chat4all.node.authz;

import io.chat4all.node.api.Api;
import io.vertx.core.json.JsonObject;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;

/** One REST request of the matrix: method, path, optional body with its type, extra headers. */
record Http(
    String method, String path, String contentType, byte[] body, Map<String, String> headers) {
  private static final HttpClient CLIENT =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

  static Http of(String method, String path) {
    return new Http(method, path, null, null, Map.of());
  }

  static Http json(String method, String path, JsonObject body) {
    return new Http(
        method, path, "application/json", body.encode().getBytes(StandardCharsets.UTF_8), Map.of());
  }

  static Http raw(String method, String path, String type, byte[] body, Map<String, String> h) {
    return new Http(method, path, type, body, h);
  }

  /** Sends it with {@code Authorization: Bearer token} (none when null). */
  Api.Res send(Api api, String token) {
    HttpRequest.Builder b =
        HttpRequest.newBuilder(URI.create(api.base() + path)).timeout(Duration.ofSeconds(30));
    if (token != null) {
      b.header("Authorization", "Bearer " + token);
    }
    if (contentType != null) {
      b.header("Content-Type", contentType);
    }
    headers.forEach(b::header);
    b.method(
        method,
        body == null
            ? HttpRequest.BodyPublishers.noBody()
            : HttpRequest.BodyPublishers.ofByteArray(body));
    try {
      HttpResponse<String> r = CLIENT.send(b.build(), HttpResponse.BodyHandlers.ofString());
      String text = r.body();
      JsonObject json = text != null && text.startsWith("{") ? new JsonObject(text) : null;
      return new Api.Res(r.statusCode(), text, json, r.headers());
    } catch (Exception e) {
      throw new AssertionError(method + " " + path + " failed", e);
    }
  }
}
