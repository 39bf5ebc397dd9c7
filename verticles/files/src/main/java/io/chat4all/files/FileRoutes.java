package io.chat4all.files;

import io.chat4all.codecs.Addresses;
import io.chat4all.codecs.ErrorCode;
import io.chat4all.codecs.ServiceBus;
import io.chat4all.codecs.ServiceException;
import io.chat4all.web.Authn;
import io.chat4all.web.Bodies;
import io.chat4all.web.Rest;
import io.chat4all.web.RouteModule;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import java.util.Locale;
import java.util.regex.Pattern;

/**
 * REST edge of the files service. Chunk bodies are not buffered: the node's body handler skips
 * {@link #STREAMED} paths and the chunk route streams the request straight into S3.
 */
public class FileRoutes implements RouteModule {
  /** Request paths whose bodies are streamed, never buffered by the edge. */
  public static final Pattern STREAMED = Pattern.compile("^/v1/files/[^/]+/chunks/[^/]+$");

  private final Vertx vertx;
  private final ChunkIngest ingest;

  public FileRoutes(Vertx vertx, ChunkIngest ingest) {
    this.vertx = vertx;
    this.ingest = ingest;
  }

  @Override
  public void mount(Router router) {
    router
        .post("/v1/files")
        .handler(
            Rest.json(
                201,
                ctx ->
                    call(
                        FileActions.INITIATE,
                        Bodies.object(ctx).put("user_id", Authn.principal(ctx).userId()))));
    router
        .get("/v1/files/:file_id")
        .handler(Rest.json(200, ctx -> call(FileActions.STATUS, byId(ctx))));
    router.put("/v1/files/:file_id/chunks/:chunk_number").handler(this::putChunk);
    router.post("/v1/files/:file_id/complete").handler(this::complete);
    router
        .delete("/v1/files/:file_id")
        .handler(Rest.json(200, ctx -> call(FileActions.ABORT, byId(ctx))));
    router.get("/v1/files/:file_id/download").handler(this::download);
  }

  @Override
  public Pattern streamedBodies() {
    return STREAMED;
  }

  private Future<JsonObject> call(String action, JsonObject body) {
    return ServiceBus.request(vertx, Addresses.FILES, action, body);
  }

  private static JsonObject byId(RoutingContext ctx) {
    return new JsonObject()
        .put("user_id", Authn.principal(ctx).userId())
        .put("file_id", Bodies.pathId(ctx, "file_id"));
  }

  private void complete(RoutingContext ctx) {
    JsonObject req;
    try {
      req = byId(ctx);
      if (ctx.body() != null && ctx.body().length() > 0) {
        JsonObject body = Bodies.object(ctx);
        Bodies.onlyFields(body, java.util.Set.of("checksum_sha256"));
        String given = Bodies.optionalString(body, "checksum_sha256", 64, 64);
        if (given != null) {
          req.put("checksum_sha256", given);
        }
      }
    } catch (RuntimeException e) {
      ctx.fail(e);
      return;
    }
    call(FileActions.COMPLETE, req)
        .onSuccess(
            r ->
                ctx.response()
                    .setStatusCode(
                        FileStore.COMPLETED.equals(r.getString("upload_status")) ? 200 : 202)
                    .putHeader(HttpHeaders.CONTENT_TYPE, "application/json; charset=utf-8")
                    .end(r.toBuffer()))
        .onFailure(ctx::fail);
  }

  private void download(RoutingContext ctx) {
    String redirect = ctx.request().getParam("redirect", "true");
    if (!redirect.equals("true") && !redirect.equals("false")) {
      ctx.fail(Bodies.invalid("redirect", "must be true or false"));
      return;
    }
    JsonObject req;
    try {
      req = byId(ctx);
    } catch (RuntimeException e) {
      ctx.fail(e);
      return;
    }
    call(FileActions.DOWNLOAD, req)
        .onSuccess(
            r -> {
              ctx.response().putHeader(HttpHeaders.CACHE_CONTROL, "no-store");
              if (redirect.equals("true")) {
                ctx.response()
                    .setStatusCode(302)
                    .putHeader(HttpHeaders.LOCATION, r.getString("url"))
                    .end();
              } else {
                ctx.response()
                    .putHeader(HttpHeaders.CONTENT_TYPE, "application/json; charset=utf-8")
                    .end(r.toBuffer());
              }
            })
        .onFailure(ctx::fail);
  }

  /** PUT /v1/files/{id}/chunks/{n}: the body streamed into the chunk's S3 part. */
  private void putChunk(RoutingContext ctx) {
    HttpServerRequest request = ctx.request();
    request.pause();
    String userId;
    String fileId;
    int n;
    String checksum;
    Long declared = null;
    try {
      userId = Authn.principal(ctx).userId();
      fileId = Bodies.pathId(ctx, "file_id");
      n = chunkNumber(ctx.pathParam("chunk_number"));
      checksum = checksum(request.getHeader(FileActions.CHECKSUM_HEADER));
      String length = request.getHeader(HttpHeaders.CONTENT_LENGTH);
      if (length != null) {
        try {
          declared = Long.parseLong(length.trim());
        } catch (NumberFormatException e) {
          throw new ServiceException(ErrorCode.BAD_REQUEST, "Content-Length is not a number");
        }
      } else if (!request.headers().contains(HttpHeaders.TRANSFER_ENCODING, "chunked", true)) {
        throw new ServiceException(
            ErrorCode.BAD_REQUEST, "a chunk needs a Content-Length (or chunked transfer encoding)");
      }
    } catch (RuntimeException e) {
      refuse(ctx, e);
      return;
    }
    boolean expectContinue =
        request.headers().contains(HttpHeaders.EXPECT, HttpHeaders.CONTINUE, true);
    ingest
        .open(userId, fileId, n, declared)
        .compose(
            slot -> {
              if (expectContinue) {
                ctx.response().writeContinue();
              }
              return ChunkIngest.pump(request, slot.writer())
                  .recover(err -> ingest.<Void>explain(slot, err))
                  .compose(x -> ingest.finish(slot, checksum))
                  .onFailure(err -> slot.writer().reset(err));
            })
        .onSuccess(
            r ->
                ctx.response()
                    .putHeader(HttpHeaders.CONTENT_TYPE, "application/json; charset=utf-8")
                    .end(r.toBuffer()))
        .onFailure(err -> refuse(ctx, err));
  }

  /** Fails the request; a body not read to its end closes the connection after the answer. */
  private static void refuse(RoutingContext ctx, Throwable err) {
    if (!ctx.request().isEnded() && !ctx.response().headWritten()) {
      ctx.response().putHeader(HttpHeaders.CONNECTION, "close");
    }
    if (!ctx.response().ended()) {
      ctx.fail(err);
    }
  }

  static int chunkNumber(String raw) {
    try {
      int n = Integer.parseInt(raw);
      if (n >= 1 && n <= FilesConfig.MAX_CHUNKS) {
        return n;
      }
    } catch (NumberFormatException | NullPointerException e) {
      // below
    }
    throw Bodies.invalid("chunk_number", "must be a number from 1 to " + FilesConfig.MAX_CHUNKS);
  }

  static String checksum(String header) {
    if (header == null || header.isBlank()) {
      throw new ServiceException(
          ErrorCode.VALIDATION_FAILED,
          "the " + FileActions.CHECKSUM_HEADER + " header (the chunk's SHA-256, hex) is required",
          new JsonObject().put("field", FileActions.CHECKSUM_HEADER));
    }
    String h = header.trim().toLowerCase(Locale.ROOT);
    if (!FilesVerticle.SHA256.matcher(h).matches()) {
      throw new ServiceException(
          ErrorCode.VALIDATION_FAILED,
          FileActions.CHECKSUM_HEADER + " must be 64 hex digits (SHA-256)",
          new JsonObject().put("field", FileActions.CHECKSUM_HEADER));
    }
    return h;
  }
}
