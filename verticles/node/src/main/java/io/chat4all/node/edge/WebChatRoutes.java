package io.chat4all.node.edge;

import io.chat4all.node.config.ConfigException;
import io.chat4all.web.RouteModule;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.JarURLConnection;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Collections;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * The web chat (the Angular build of {@code frontend/}, on the class path under {@value #ROOT}) at
 * {@code /}. Files are read once at start and served from memory: hashed bundles with a one-year
 * immutable cache, {@code index.html} revalidated every time, deep links ({@code /c/<id>}) answered
 * with {@code index.html} for browsers (requests accepting {@code text/html}), a strict
 * Content-Security-Policy (scripts, styles and connections only to this origin, plus WebSocket to
 * this host and images from the files' S3 endpoint). Responses are gzip-compressed by the HTTP
 * server. API, health, metrics and event-bus paths are never touched.
 */
public final class WebChatRoutes implements RouteModule {
  /** Class-path folder the frontend module's jar puts the build in. */
  public static final String ROOT = "chat4all-webroot";

  private static final Pattern HASHED = Pattern.compile(".*-[A-Z0-9]{8}\\.(js|mjs|css)$");
  private static final Pattern HOST = Pattern.compile("[A-Za-z0-9.-]{1,253}(:\\d{1,5})?");
  private static final String[] NOT_OURS = {"/v1", "/health", "/metrics", "/eventbus"};
  private static final Map<String, String> TYPES =
      Map.ofEntries(
          Map.entry("html", "text/html; charset=utf-8"),
          Map.entry("js", "text/javascript; charset=utf-8"),
          Map.entry("mjs", "text/javascript; charset=utf-8"),
          Map.entry("css", "text/css; charset=utf-8"),
          Map.entry("json", "application/json"),
          Map.entry("txt", "text/plain; charset=utf-8"),
          Map.entry("svg", "image/svg+xml"),
          Map.entry("png", "image/png"),
          Map.entry("ico", "image/x-icon"),
          Map.entry("webp", "image/webp"),
          Map.entry("woff2", "font/woff2"),
          Map.entry("webmanifest", "application/manifest+json"));

  record Asset(Buffer body, String contentType, String etag, String cacheControl) {}

  private final Map<String, Asset> assets;
  private final Asset index;
  private final String mediaOrigin;

  private WebChatRoutes(Map<String, Asset> assets, String mediaOrigin) {
    this.assets = assets;
    this.index = assets.get("/index.html");
    this.mediaOrigin = mediaOrigin;
  }

  /**
   * Whether the node serves the web chat ({@code http.frontend_enabled}, default true; false for
   * headless deployments).
   */
  public static boolean enabled(JsonObject config) {
    JsonObject http = config.getJsonObject("http", new JsonObject());
    Object v = http.getValue("frontend_enabled", Boolean.TRUE);
    if (v instanceof Boolean b) {
      return b;
    }
    throw new ConfigException("http.frontend_enabled", "must be true or false, got \"" + v + "\"");
  }

  /**
   * Loads the build from the class path (blocking: call it while the node starts, not on an event
   * loop). {@code mediaOrigin} is the origin presigned file URLs point at (images and media are
   * shown from there), or empty.
   */
  public static WebChatRoutes load(String mediaOrigin) {
    return load(Thread.currentThread().getContextClassLoader(), mediaOrigin);
  }

  static WebChatRoutes load(ClassLoader loader, String mediaOrigin) {
    Map<String, Asset> assets = new LinkedHashMap<>();
    URL indexUrl = loader.getResource(ROOT + "/index.html");
    if (indexUrl != null) {
      try {
        for (String name : list(indexUrl)) {
          try (InputStream in = loader.getResourceAsStream(ROOT + "/" + name)) {
            if (in != null) {
              assets.put("/" + name, asset(name, in.readAllBytes()));
            }
          }
        }
      } catch (IOException e) {
        throw new UncheckedIOException("reading the web chat from the class path", e);
      }
    }
    return new WebChatRoutes(Collections.unmodifiableMap(assets), origin(mediaOrigin));
  }

  /** True when this build contains the web chat (the frontend was not skipped). */
  public boolean available() {
    return index != null;
  }

  @Override
  public void mount(Router router) {
    if (!available()) {
      return;
    }
    router.route().method(HttpMethod.GET).method(HttpMethod.HEAD).handler(this::serve);
  }

  private void serve(RoutingContext ctx) {
    String path = ctx.normalizedPath();
    for (String p : NOT_OURS) {
      if (path.equals(p) || path.startsWith(p + "/")) {
        ctx.next();
        return;
      }
    }
    Asset a = path.equals("/") ? index : assets.get(path);
    if (a == null) {
      String last = path.substring(path.lastIndexOf('/') + 1);
      String accept = ctx.request().getHeader("Accept");
      if (last.contains(".") || accept == null || !accept.contains("text/html")) {
        ctx.next(); // a missing file, or not a browser page load: the JSON 404
        return;
      }
      a = index; // a deep link of the single-page app
    }
    send(ctx, a);
  }

  private void send(RoutingContext ctx, Asset a) {
    HttpServerResponse res = ctx.response();
    res.putHeader("Content-Type", a.contentType())
        .putHeader("Cache-Control", a.cacheControl())
        .putHeader("ETag", a.etag())
        .putHeader("X-Content-Type-Options", "nosniff")
        .putHeader("Referrer-Policy", "same-origin")
        .putHeader("X-Frame-Options", "DENY")
        .putHeader("Vary", "Accept-Encoding");
    if (a == index) {
      io.vertx.core.net.HostAndPort authority = ctx.request().authority();
      res.putHeader(
          "Content-Security-Policy",
          csp(
              authority == null
                  ? null
                  : authority.host() + (authority.port() >= 0 ? ":" + authority.port() : "")));
    }
    String inm = ctx.request().getHeader("If-None-Match");
    if (inm != null && (inm.equals(a.etag()) || inm.equals("W/" + a.etag()))) {
      res.setStatusCode(304).end();
      return;
    }
    if (ctx.request().method() == HttpMethod.HEAD) {
      res.putHeader("Content-Length", String.valueOf(a.body().length())).end();
      return;
    }
    res.end(a.body());
  }

  /**
   * The page's policy: everything from this origin only; WebSockets to this host; media from S3.
   */
  public String csp(String host) {
    String ws =
        host != null && HOST.matcher(host).matches() ? " ws://" + host + " wss://" + host : "";
    String media = mediaOrigin.isEmpty() ? "" : " " + mediaOrigin;
    return "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' blob:"
        + media
        + "; media-src 'self' blob:"
        + media
        + "; connect-src 'self'"
        + ws
        + "; font-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self';"
        + " frame-ancestors 'none'; worker-src 'self'; manifest-src 'self'";
  }

  private static Asset asset(String name, byte[] bytes) {
    String ext = name.substring(name.lastIndexOf('.') + 1).toLowerCase(Locale.ROOT);
    String type = TYPES.getOrDefault(ext, "application/octet-stream");
    String cache =
        name.equals("index.html")
            ? "no-cache"
            : HASHED.matcher(name).matches() || name.startsWith("media/")
                ? "public, max-age=31536000, immutable"
                : "public, max-age=3600";
    return new Asset(Buffer.buffer(bytes), type, etag(bytes), cache);
  }

  private static String etag(byte[] bytes) {
    try {
      byte[] d = MessageDigest.getInstance("SHA-256").digest(bytes);
      return "\"" + HexFormat.of().formatHex(d, 0, 12) + "\"";
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  /** The files beside index.html, relative to {@value #ROOT}, from a directory or a jar. */
  private static Iterable<String> list(URL indexUrl) throws IOException {
    if ("jar".equals(indexUrl.getProtocol())) {
      JarURLConnection conn = (JarURLConnection) indexUrl.openConnection();
      conn.setUseCaches(false);
      try (JarFile jar = conn.getJarFile()) {
        return jar.stream()
            .filter(e -> !e.isDirectory() && e.getName().startsWith(ROOT + "/"))
            .map(JarEntry::getName)
            .map(n -> n.substring(ROOT.length() + 1))
            .toList();
      }
    }
    Path dir;
    try {
      dir = Paths.get(indexUrl.toURI()).getParent();
    } catch (URISyntaxException e) {
      throw new IOException(e);
    }
    try (Stream<Path> files = Files.walk(dir)) {
      return files
          .filter(Files::isRegularFile)
          .map(p -> dir.relativize(p).toString().replace('\\', '/'))
          .toList();
    }
  }

  private static String origin(String endpoint) {
    if (endpoint == null || endpoint.isBlank()) {
      return "";
    }
    try {
      URI u = new URI(endpoint.trim());
      if (u.getScheme() == null || u.getHost() == null) {
        return "";
      }
      return u.getScheme() + "://" + u.getHost() + (u.getPort() >= 0 ? ":" + u.getPort() : "");
    } catch (URISyntaxException e) {
      return "";
    }
  }
}
