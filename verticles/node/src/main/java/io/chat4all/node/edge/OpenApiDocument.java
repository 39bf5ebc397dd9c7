package io.chat4all.node.edge;

import io.chat4all.web.RouteModule;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * The OpenAPI 3 document of the REST API, served at {@code /v1/openapi.json}: a base document
 * (info, security, shared schemas) merged with each service module's fragment {@code
 * openapi/<module>.json} (its paths and schemas).
 */
public final class OpenApiDocument implements RouteModule {
  private final JsonObject document;

  private OpenApiDocument(JsonObject document) {
    this.document = document;
  }

  /**
   * Loads and merges the fragments (blocking class-path reads: call at start, off the event loop).
   */
  public static OpenApiDocument load(List<String> modules) {
    JsonObject doc = read("openapi/base.json");
    JsonObject paths = doc.getJsonObject("paths", new JsonObject());
    JsonObject schemas = doc.getJsonObject("components").getJsonObject("schemas", new JsonObject());
    for (String module : modules) {
      JsonObject fragment = read("openapi/" + module + ".json");
      fragment
          .getJsonObject("paths", new JsonObject())
          .forEach(e -> paths.put(e.getKey(), e.getValue()));
      JsonObject fs =
          fragment
              .getJsonObject("components", new JsonObject())
              .getJsonObject("schemas", new JsonObject());
      fs.forEach(e -> schemas.put(e.getKey(), e.getValue()));
    }
    doc.put("paths", paths);
    doc.getJsonObject("components").put("schemas", schemas);
    return new OpenApiDocument(doc);
  }

  private static JsonObject read(String resource) {
    try (InputStream in = OpenApiDocument.class.getClassLoader().getResourceAsStream(resource)) {
      if (in == null) {
        throw new IllegalStateException("missing class-path resource " + resource);
      }
      return new JsonObject(new String(in.readAllBytes(), StandardCharsets.UTF_8));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  public JsonObject document() {
    return document.copy();
  }

  @Override
  public void mount(Router router) {
    String body = document.encodePrettily();
    router
        .get("/v1/openapi.json")
        .handler(
            ctx ->
                ctx.response()
                    .putHeader("content-type", "application/json; charset=utf-8")
                    .end(body));
  }
}
