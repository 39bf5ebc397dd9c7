package io.chat4all.node.api;

import static org.assertj.core.api.Assertions.assertThat;

import io.chat4all.node.Node;
import io.chat4all.node.config.ConfigLoader;
import io.chat4all.node.config.NodeConfig;
import io.chat4all.testkit.TestBackends;
import io.vertx.core.json.JsonObject;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.UUID;

/**
 * A REST client for API tests against a node started in the test JVM (one node per test class, on
 * the shared backends with the class's own isolation).
 */
public final class Api implements AutoCloseable {
  private final Node node;
  private final HttpClient http =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

  private Api(Node node) {
    this.node = node;
  }

  /** Starts a node with the isolation's names; {@code overrides} are merged over the config. */
  public static Api start(TestBackends.Isolation iso, JsonObject overrides) {
    JsonObject config = ConfigLoader.defaults().mergeIn(iso.nodeConfig(), true);
    if (overrides != null) {
      config.mergeIn(overrides, true);
    }
    return new Api(Node.start(NodeConfig.from(config)));
  }

  /** A node whose spans go to {@code spans} (with {@code tracing.enabled} in the overrides). */
  public static Api start(
      TestBackends.Isolation iso,
      JsonObject overrides,
      io.opentelemetry.sdk.trace.export.SpanExporter spans) {
    JsonObject config = ConfigLoader.defaults().mergeIn(iso.nodeConfig(), true);
    if (overrides != null) {
      config.mergeIn(overrides, true);
    }
    return new Api(Node.start(NodeConfig.from(config), spans));
  }

  public static Api start(TestBackends.Isolation iso) {
    return start(iso, null);
  }

  public Node node() {
    return node;
  }

  public String base() {
    return "http://127.0.0.1:" + node.httpPort();
  }

  /** A response: status, parsed JSON body (null when empty or not JSON), headers. */
  public record Res(int status, String raw, JsonObject json, java.net.http.HttpHeaders headers) {
    public String errorCode() {
      return json == null || json.getJsonObject("error") == null
          ? null
          : json.getJsonObject("error").getString("code");
    }

    public Res expect(int expected) {
      assertThat(status).as("HTTP status of response %s", raw).isEqualTo(expected);
      return this;
    }

    public Res expectError(int expected, String code) {
      assertThat(status).as("HTTP status of response %s", raw).isEqualTo(expected);
      assertThat(errorCode()).as("error code of %s", raw).isEqualTo(code);
      assertThat(json.getJsonObject("error").getString("message")).isNotBlank();
      return this;
    }
  }

  public Res call(String method, String path, String token, String body) {
    HttpRequest.Builder b =
        HttpRequest.newBuilder(URI.create(base() + path)).timeout(Duration.ofSeconds(30));
    if (token != null) {
      b.header("Authorization", "Bearer " + token);
    }
    if (body != null) {
      b.header("Content-Type", "application/json");
    }
    b.method(
        method,
        body == null
            ? HttpRequest.BodyPublishers.noBody()
            : HttpRequest.BodyPublishers.ofString(body));
    try {
      HttpResponse<String> r = http.send(b.build(), HttpResponse.BodyHandlers.ofString());
      JsonObject json = null;
      String text = r.body();
      if (text != null && text.startsWith("{")) {
        json = new JsonObject(text);
      }
      return new Res(r.statusCode(), text, json, r.headers());
    } catch (Exception e) {
      throw new AssertionError(method + " " + path + " failed", e);
    }
  }

  /** A request with a raw body of the given content type (null: no Content-Type header). */
  public Res raw(String method, String path, String token, String contentType, byte[] body) {
    HttpRequest.Builder b =
        HttpRequest.newBuilder(URI.create(base() + path)).timeout(Duration.ofSeconds(60));
    if (token != null) {
      b.header("Authorization", "Bearer " + token);
    }
    if (contentType != null) {
      b.header("Content-Type", contentType);
    }
    b.method(method, HttpRequest.BodyPublishers.ofByteArray(body));
    try {
      HttpResponse<String> r = http.send(b.build(), HttpResponse.BodyHandlers.ofString());
      String text = r.body();
      return new Res(
          r.statusCode(),
          text,
          text != null && text.startsWith("{") ? new JsonObject(text) : null,
          r.headers());
    } catch (Exception e) {
      throw new AssertionError(method + " " + path + " failed", e);
    }
  }

  public Res get(String path, String token) {
    return call("GET", path, token, null);
  }

  public Res post(String path, String token, JsonObject body) {
    return call("POST", path, token, body == null ? null : body.encode());
  }

  public Res delete(String path, String token) {
    return call("DELETE", path, token, null);
  }

  /** A registered and logged-in user: id, name and tokens. */
  public record User(String id, String username, String accessToken, String refreshToken) {}

  /** A private conversation of {@code a} with {@code b} (created or the existing one). */
  public String privateChat(User a, User b) {
    return post(
            "/v1/conversations",
            a.accessToken(),
            new JsonObject()
                .put("type", "private")
                .put("member_ids", new io.vertx.core.json.JsonArray().add(b.id())))
        .json()
        .getString("conversation_id");
  }

  /** The body of a text message send. */
  public static JsonObject textMessage(String conversationId, String messageId, String text) {
    return new JsonObject()
        .put("conversation_id", conversationId)
        .put("message_id", messageId)
        .put("payload", new JsonObject().put("type", "text").put("text", text));
  }

  /** Registers a user with a unique name and logs in. */
  public User newUser(String prefix) {
    return namedUser((prefix + "_" + UUID.randomUUID().toString().substring(0, 8)).toLowerCase());
  }

  /** Registers {@code username} and logs in. */
  public User namedUser(String username) {
    post(
            "/v1/auth/register",
            null,
            new JsonObject()
                .put("username", username)
                .put("email", username + "@example.test")
                .put("password", "correct horse"))
        .expect(201);
    JsonObject tokens =
        post(
                "/v1/auth/token",
                null,
                new JsonObject().put("username", username).put("password", "correct horse"))
            .expect(200)
            .json();
    return new User(
        tokens.getString("user_id"),
        username,
        tokens.getString("access_token"),
        tokens.getString("refresh_token"));
  }

  private io.vertx.core.Vertx clientVertx;
  private io.vertx.grpc.client.GrpcClient grpcClient;

  /** A gRPC reply: status, status message, the message (null on error) and the trailers. */
  public record GrpcRes<T>(
      io.vertx.grpc.common.GrpcStatus status,
      String message,
      T value,
      io.vertx.core.MultiMap trailers) {
    public String errorCode() {
      return trailers == null ? null : trailers.get("chat4all-error-code");
    }
  }

  /** One unary call over h2c, with {@code authorization: Bearer token} when a token is given. */
  public synchronized <Req, Resp> GrpcRes<Resp> grpc(
      io.vertx.grpc.common.ServiceMethod<Resp, Req> method, Req message, String token) {
    if (grpcClient == null) {
      clientVertx = io.vertx.core.Vertx.vertx();
      grpcClient = io.vertx.grpc.client.GrpcClient.client(clientVertx);
    }
    io.vertx.core.Future<GrpcRes<Resp>> result =
        grpcClient
            .request(
                io.vertx.core.net.SocketAddress.inetSocketAddress(node.grpcPort(), "127.0.0.1"),
                method)
            .compose(
                req -> {
                  if (token != null) {
                    req.headers().set("authorization", "Bearer " + token);
                  }
                  req.end(message);
                  return req.response()
                      .compose(
                          resp -> {
                            java.util.List<Resp> got = new java.util.ArrayList<>();
                            resp.handler(got::add);
                            return resp.end()
                                .transform(
                                    ar ->
                                        io.vertx.core.Future.succeededFuture(
                                            new GrpcRes<>(
                                                resp.status(),
                                                resp.statusMessage(),
                                                got.isEmpty() ? null : got.get(0),
                                                // a reply without messages is "trailers-only": the
                                                // trailers arrive as headers
                                                io.vertx.core.MultiMap.caseInsensitiveMultiMap()
                                                    .addAll(resp.headers())
                                                    .addAll(resp.trailers()))));
                          });
                });
    return io.chat4all.testkit.Await.result(result);
  }

  @Override
  public void close() {
    if (clientVertx != null) {
      io.chat4all.testkit.Await.result(clientVertx.close());
    }
    node.close();
  }

  /** An S3 client on the shared S3 server (path-style, the embedded credentials); close it. */
  public static software.amazon.awssdk.services.s3.S3Client s3(TestBackends.Isolation iso) {
    var e = iso.endpoints();
    return software.amazon.awssdk.services.s3.S3Client.builder()
        .endpointOverride(URI.create(e.s3Endpoint()))
        .region(software.amazon.awssdk.regions.Region.of(e.s3Region()))
        .credentialsProvider(
            software.amazon.awssdk.auth.credentials.StaticCredentialsProvider.create(
                software.amazon.awssdk.auth.credentials.AwsBasicCredentials.create(
                    e.s3AccessKey(), e.s3SecretKey())))
        .serviceConfiguration(
            software.amazon.awssdk.services.s3.S3Configuration.builder()
                .pathStyleAccessEnabled(true)
                .build())
        .build();
  }
}
