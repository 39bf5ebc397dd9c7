package io.chat4all.node.webchat;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.chat4all.node.api.Api;
import io.chat4all.node.config.ConfigException;
import io.chat4all.node.config.ConfigLoader;
import io.chat4all.node.config.NodeConfig;
import io.chat4all.node.edge.WebChatRoutes;
import io.chat4all.testkit.BackendsExtension;
import io.chat4all.testkit.TestBackends;
import io.vertx.core.json.JsonObject;
import java.io.ByteArrayInputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.zip.GZIPInputStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** How the node serves the web chat: caching, compression, the CSP, deep links, the off switch. */
@ExtendWith(BackendsExtension.class)
class WebChatServingTest {
  static Api api;
  // HTTP/1.1 as browsers speak it to a plain-http origin
  static final HttpClient http =
      HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

  @BeforeAll
  static void start(TestBackends.Isolation iso) {
    api = Api.start(iso);
  }

  @AfterAll
  static void stop() {
    api.close();
  }

  static HttpResponse<byte[]> get(String path, String... headers) throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(api.base() + path)).GET();
    for (int i = 0; i < headers.length; i += 2) {
      b.header(headers[i], headers[i + 1]);
    }
    return http.send(b.build(), HttpResponse.BodyHandlers.ofByteArray());
  }

  static String text(HttpResponse<byte[]> r) {
    return new String(r.body(), java.nio.charset.StandardCharsets.UTF_8);
  }

  @Test
  void indexIsRevalidatedAndCarriesAStrictPolicy() throws Exception {
    HttpResponse<byte[]> r = get("/", "Accept", "text/html");
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.headers().firstValue("Content-Type")).hasValue("text/html; charset=utf-8");
    assertThat(r.headers().firstValue("Cache-Control")).hasValue("no-cache");
    assertThat(text(r)).contains("<c4a-root>");
    String csp = r.headers().firstValue("Content-Security-Policy").orElseThrow();
    String host = "127.0.0.1:" + api.node().httpPort();
    assertThat(csp)
        .contains("default-src 'self'")
        .contains("script-src 'self';")
        .contains("style-src 'self';")
        .contains("connect-src 'self' ws://" + host + " wss://" + host + ";")
        .contains("frame-ancestors 'none'")
        .contains("object-src 'none'")
        .doesNotContain("unsafe-inline")
        .doesNotContain("unsafe-eval");
    // images and media of messages come from the S3 endpoint the presigned URLs name
    String s3 = URI.create(api.node().config().s3().endpoint()).getPort() + "";
    assertThat(csp).containsPattern("img-src 'self' blob: http://[^ ;]+:" + s3 + ";");
    assertThat(r.headers().firstValue("X-Content-Type-Options")).hasValue("nosniff");

    // unchanged: 304 with the ETag
    String etag = r.headers().firstValue("ETag").orElseThrow();
    assertThat(get("/", "Accept", "text/html", "If-None-Match", etag).statusCode()).isEqualTo(304);

    // a Host header that is not a host name does not get into the policy
    assertThat(WebChatRoutes.load("").csp("evil.example; script-src *")).doesNotContain("evil");
  }

  @Test
  void hashedBundlesAreCachedForAYearAndGzipped() throws Exception {
    String index = text(get("/", "Accept", "text/html"));
    Matcher m = Pattern.compile("src=\"(main-[A-Z0-9]{8}\\.js)\"").matcher(index);
    assertThat(m.find()).as("main bundle in %s", index).isTrue();
    HttpResponse<byte[]> plain = get("/" + m.group(1));
    assertThat(plain.statusCode()).isEqualTo(200);
    assertThat(plain.headers().firstValue("Content-Type"))
        .hasValue("text/javascript; charset=utf-8");
    assertThat(plain.headers().firstValue("Cache-Control"))
        .hasValue("public, max-age=31536000, immutable");

    HttpResponse<byte[]> gz = get("/" + m.group(1), "Accept-Encoding", "gzip");
    assertThat(gz.headers().firstValue("Content-Encoding")).hasValue("gzip");
    assertThat(gz.body().length).isLessThan(plain.body().length / 2);
    byte[] unzipped = new GZIPInputStream(new ByteArrayInputStream(gz.body())).readAllBytes();
    assertThat(unzipped).isEqualTo(plain.body());

    // files without a content hash are cached briefly
    assertThat(get("/favicon.svg").headers().firstValue("Cache-Control"))
        .hasValue("public, max-age=3600");
  }

  @Test
  void deepLinksGetTheAppWhileApiAndMissingFilesKeepJsonErrors() throws Exception {
    HttpResponse<byte[]> deep =
        get("/c/7b0e3c4e-6a52-4a8e-9c55-0d7e1f3a9a10", "Accept", "text/html,application/xhtml+xml");
    assertThat(deep.statusCode()).isEqualTo(200);
    assertThat(text(deep)).contains("<c4a-root>");
    assertThat(deep.headers().firstValue("Cache-Control")).hasValue("no-cache");

    // a missing bundle is a 404, never the page (a browser would run HTML as script)
    HttpResponse<byte[]> missing = get("/main-AAAAAAAA.js", "Accept", "text/html");
    assertThat(missing.statusCode()).isEqualTo(404);
    assertThat(new JsonObject(text(missing)).getJsonObject("error").getString("code"))
        .isEqualTo("route_not_found");
    // programs asking for JSON keep the JSON 404
    HttpResponse<byte[]> json = get("/nope", "Accept", "application/json");
    assertThat(json.statusCode()).isEqualTo(404);
    // the API, health and metrics are untouched
    HttpResponse<byte[]> api401 = get("/v1/conversations", "Accept", "text/html");
    assertThat(api401.statusCode()).isEqualTo(401);
    HttpResponse<byte[]> unknownHealth = get("/health/nope", "Accept", "text/html");
    assertThat(unknownHealth.statusCode()).isEqualTo(404);
    assertThat(text(unknownHealth)).contains("route_not_found");
    assertThat(get("/eventbus/info").headers().firstValue("Content-Type").orElse(""))
        .contains("json");
  }

  @Test
  void theSwitchTurnsTheWebChatOffAndRefusesNonBooleans(TestBackends.Isolation iso) {
    assertThat(WebChatRoutes.enabled(new JsonObject())).isTrue();
    assertThat(
            WebChatRoutes.enabled(
                new JsonObject().put("http", new JsonObject().put("frontend_enabled", false))))
        .isFalse();
    assertThatThrownBy(
            () ->
                WebChatRoutes.enabled(
                    new JsonObject()
                        .put("http", new JsonObject().put("frontend_enabled", "maybe"))))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("http.frontend_enabled");
    // environment overrides become booleans through the defaults' types
    JsonObject fromEnv =
        ConfigLoader.load(
            null,
            java.util.Map.of("CHAT4ALL_HTTP_FRONTEND_ENABLED", "false"),
            new java.util.Properties(),
            java.util.Map.of());
    assertThat(WebChatRoutes.enabled(fromEnv)).isFalse();
    assertThat(NodeConfig.from(fromEnv).http().port()).isEqualTo(8080);

    try (Api headless =
        Api.start(
            iso, new JsonObject().put("http", new JsonObject().put("frontend_enabled", false)))) {
      assertThat(headless.node().webChat()).isEqualTo(io.chat4all.node.Node.WebChat.DISABLED);
      HttpResponse<byte[]> r =
          http.send(
              HttpRequest.newBuilder(URI.create(headless.base() + "/"))
                  .header("Accept", "text/html")
                  .build(),
              HttpResponse.BodyHandlers.ofByteArray());
      assertThat(r.statusCode()).isEqualTo(404);
    } catch (Exception e) {
      throw new AssertionError(e);
    }
    assertThat(api.node().webChat()).isEqualTo(io.chat4all.node.Node.WebChat.SERVED);
  }
}
