package io.chat4all.channel.meta;

import static org.assertj.core.api.Assertions.assertThat;

import io.chat4all.channel.spi.ConnectorException;
import io.chat4all.channel.spi.ErrorClass;
import io.chat4all.channel.spi.MediaDownload;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.json.JsonObject;
import io.vertx.core.streams.ReadStream;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** GraphClient against a real HTTP server answering like the Graph API. */
class GraphClientTest {
  static Vertx vertx;
  static HttpServer server;
  static HttpClient http;
  static volatile Consumer<HttpServerRequest> handler;
  static final List<String> seen = new CopyOnWriteArrayList<>();

  @BeforeAll
  static void up() throws Exception {
    vertx = Vertx.vertx();
    server =
        vertx
            .createHttpServer()
            .requestHandler(
                r -> {
                  seen.add(r.method() + " " + r.uri() + " " + r.getHeader("Authorization"));
                  handler.accept(r);
                })
            .listen(0, "127.0.0.1")
            .toCompletionStage()
            .toCompletableFuture()
            .get(10, TimeUnit.SECONDS);
    http = vertx.createHttpClient();
  }

  @AfterAll
  static void down() throws Exception {
    vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  private static GraphClient client() {
    return new GraphClient(
        http, "http://127.0.0.1:" + server.actualPort() + "/", "v21.0", "TOKEN", 5000, null);
  }

  private static <T> T await(Future<T> f) throws Exception {
    return f.toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
  }

  private static ConnectorException failure(Future<?> f) throws Exception {
    try {
      await(f);
    } catch (java.util.concurrent.ExecutionException e) {
      assertThat(e.getCause()).isInstanceOf(ConnectorException.class);
      return (ConnectorException) e.getCause();
    }
    throw new AssertionError("expected a failure");
  }

  @Test
  void postsJsonWithBearerToken() throws Exception {
    seen.clear();
    handler =
        r ->
            r.body()
                .onSuccess(
                    b ->
                        r.response()
                            .putHeader("Content-Type", "application/json")
                            .end(new JsonObject().put("echo", new JsonObject(b)).encode()));
    JsonObject answer = await(client().post("/123/messages", new JsonObject().put("a", 1)));
    assertThat(answer.getJsonObject("echo").getInteger("a")).isEqualTo(1);
    assertThat(seen).containsExactly("POST /v21.0/123/messages Bearer TOKEN");
    assertThat(client().url("/x")).endsWith("/v21.0/x");
  }

  @Test
  void errorEnvelopeIsClassifiedByCodeAndKeepsRetryAfter() throws Exception {
    handler =
        r ->
            r.response()
                .setStatusCode(400)
                .putHeader("Retry-After", "7")
                .end(
                    "{\"error\":{\"message\":\"Rate limit hit\",\"type\":\"OAuthException\","
                        + "\"code\":130429,\"error_data\":{\"details\":\"too many\"},"
                        + "\"fbtrace_id\":\"AbC\"}}");
    ConnectorException ce = failure(client().get("/123"));
    assertThat(ce.errorClass()).isEqualTo(ErrorClass.THROTTLED);
    assertThat(ce.providerCode()).isEqualTo("130429");
    assertThat(ce.retryAfter()).isEqualTo(Duration.ofSeconds(7));
    assertThat(ce.getMessage()).contains("too many").doesNotContain("TOKEN");

    handler =
        r ->
            r.response()
                .setStatusCode(401)
                .end("{\"error\":{\"message\":\"Invalid OAuth access token\",\"code\":190}}");
    assertThat(failure(client().get("/123")).errorClass()).isEqualTo(ErrorClass.AUTH);

    handler = r -> r.response().setStatusCode(502).end("<html>bad gateway</html>");
    assertThat(failure(client().get("/123")).errorClass()).isEqualTo(ErrorClass.RETRYABLE);
  }

  @Test
  void unreachableIsRetryable() throws Exception {
    GraphClient dead = new GraphClient(http, "http://127.0.0.1:1", "v21.0", "T", 2000, null);
    assertThat(failure(dead.get("/x")).errorClass()).isEqualTo(ErrorClass.RETRYABLE);
  }

  @Test
  void uploadStreamsMultipart() throws Exception {
    Promise<String> received = Promise.promise();
    handler =
        r ->
            r.body()
                .onSuccess(
                    b -> {
                      received.complete(r.getHeader("Content-Type") + "\n" + b.toString());
                      r.response().end("{\"id\":\"media-1\"}");
                    });
    Map<String, String> fields = new LinkedHashMap<>();
    fields.put("messaging_product", "whatsapp");
    fields.put("type", "image/png");
    Buffer bytes = Buffer.buffer("PNGDATA");
    JsonObject answer =
        await(
            client()
                .upload(
                    "/123/media",
                    fields,
                    "file",
                    "a.png",
                    "image/png",
                    bytes.length(),
                    stream(bytes),
                    5000));
    assertThat(answer.getString("id")).isEqualTo("media-1");
    String body = await(received.future());
    assertThat(body).startsWith("multipart/form-data; boundary=");
    assertThat(body).contains("name=\"messaging_product\"\r\n\r\nwhatsapp");
    assertThat(body).contains("filename=\"a.png\"").contains("PNGDATA");
  }

  @Test
  void downloadIsLimited() throws Exception {
    handler =
        r ->
            r.response().putHeader("Content-Type", "image/jpeg").end(Buffer.buffer(new byte[1000]));
    // the stream is read on the event loop that completed the download, as the host reads it (read
    // from another thread, a small body may have ended before the handlers are set)
    MediaDownload[] got = new MediaDownload[1];
    Buffer body =
        await(
            onLoop(
                () ->
                    client()
                        .download("/media/1", 5000, null, "x.jpg", 5000)
                        .compose(
                            dl -> {
                              got[0] = dl;
                              return collectOnLoop(dl.stream());
                            })));
    MediaDownload d = got[0];
    assertThat(d.mimeType()).isEqualTo("image/jpeg");
    assertThat(d.sizeBytes()).isEqualTo(1000);
    assertThat(body.length()).isEqualTo(1000);

    ConnectorException tooBig = failure(client().download("/media/1", 10, null, "x", 5000));
    assertThat(tooBig.errorClass()).isEqualTo(ErrorClass.MEDIA_REJECTED);

    // no Content-Length: the stream ends with an error past the limit
    handler =
        r -> {
          r.response().setChunked(true).write(Buffer.buffer(new byte[600]));
          r.response().end(Buffer.buffer(new byte[600]));
        };
    ConnectorException cut =
        failure(
            onLoop(
                () ->
                    client()
                        .download("/media/2", 1000, "image/png", "x", 5000)
                        .compose(
                            dl -> {
                              assertThat(dl.sizeBytes()).isEqualTo(-1);
                              return collectOnLoop(dl.stream());
                            })));
    assertThat(cut.errorClass()).isEqualTo(ErrorClass.MEDIA_REJECTED);

    handler =
        r -> r.response().setStatusCode(404).end("{\"error\":{\"message\":\"gone\",\"code\":100}}");
    assertThat(failure(client().download("/media/3", 10, null, "x", 5000)).errorClass())
        .isEqualTo(ErrorClass.PERMANENT);
  }

  @Test
  void theTokenGoesOnlyWhereItBelongs() throws Exception {
    handler = r -> r.response().end(Buffer.buffer(new byte[10]));
    List<String> foreignSeen = new CopyOnWriteArrayList<>();
    HttpServer foreign =
        await(
            vertx
                .createHttpServer()
                .requestHandler(
                    r -> {
                      foreignSeen.add(String.valueOf(r.getHeader("Authorization")));
                      r.response().end(Buffer.buffer(new byte[10]));
                    })
                .listen(0, "127.0.0.1"));
    try {
      seen.clear();
      drain(() -> client().download("/media/1", 100, null, "x", 5000));
      assertThat(seen).containsExactly("GET /v21.0/media/1 Bearer TOKEN");

      // a provider's CDN link: no token even to the Graph host
      seen.clear();
      drain(() -> client().download("/media/1", 100, null, "x", 5000, GraphClient.MediaAuth.NONE));
      assertThat(seen).containsExactly("GET /v21.0/media/1 null");

      // another host over plain http never sees the token
      drain(
          () ->
              client()
                  .download(
                      "http://127.0.0.1:" + foreign.actualPort() + "/cdn/1", 100, null, "x", 5000));
      assertThat(foreignSeen).containsExactly("null");
      assertThat(client().mayCarryToken("https://lookaside.example/m/1")).isTrue();
      assertThat(client().mayCarryToken("http://lookaside.example/m/1")).isFalse();
    } finally {
      await(foreign.close());
    }
  }

  private static void drain(java.util.function.Supplier<Future<MediaDownload>> download)
      throws Exception {
    await(onLoop(() -> download.get().compose(dl -> collectOnLoop(dl.stream()))));
  }

  private static ReadStream<Buffer> stream(Buffer bytes) {
    return new InMemoryStream(vertx, bytes);
  }

  /** Runs {@code call} on an event loop, as a connector's calls run. */
  private static <T> Future<T> onLoop(java.util.function.Supplier<Future<T>> call) {
    io.vertx.core.Context loop = vertx.getOrCreateContext();
    return Future.future(p -> loop.runOnContext(v -> call.get().onComplete(p)));
  }

  private static Future<Buffer> collectOnLoop(ReadStream<Buffer> s) {
    Promise<Buffer> done = Promise.promise();
    Buffer all = Buffer.buffer();
    s.exceptionHandler(done::tryFail);
    s.handler(all::appendBuffer);
    s.endHandler(e -> done.tryComplete(all));
    s.resume();
    return done.future();
  }

  private static Buffer collect(ReadStream<Buffer> s) throws Exception {
    Promise<Buffer> done = Promise.promise();
    Buffer all = Buffer.buffer();
    s.exceptionHandler(done::tryFail);
    s.handler(all::appendBuffer);
    s.endHandler(e -> done.tryComplete(all));
    s.resume();
    return await(done.future());
  }
}
