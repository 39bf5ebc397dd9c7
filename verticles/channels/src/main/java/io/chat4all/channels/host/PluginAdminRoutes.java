package io.chat4all.channels.host;

import io.chat4all.codecs.ErrorCode;
import io.chat4all.codecs.ServiceException;
import io.chat4all.web.Authn;
import io.chat4all.web.Bodies;
import io.chat4all.web.HttpErrors;
import io.chat4all.web.Principal;
import io.chat4all.web.Rest;
import io.chat4all.web.RouteModule;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.Vertx;
import io.vertx.core.file.AsyncFile;
import io.vertx.core.file.OpenOptions;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpVersion;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import java.util.Locale;
import java.util.Set;
import java.util.function.Function;
import java.util.regex.Pattern;

/**
 * {@code /v1/admin/plugins}: only for the accounts named in {@code admin.usernames} (everyone else
 * gets 403 {@code forbidden}). The upload's body (the raw jar) is streamed to a temporary file of
 * the plugin store, never buffered whole, and refused with 413 past {@code channels.max_jar_bytes}.
 */
public final class PluginAdminRoutes implements RouteModule {
  /** The upload route streams its body itself. */
  public static final Pattern STREAMED = Pattern.compile("^/v1/admin/plugins/?$");

  private static final Set<String> JAR_TYPES =
      Set.of("application/java-archive", "application/x-java-archive", "application/octet-stream");

  private final Vertx vertx;
  private final PluginAdmin admin;
  private final java.util.function.Predicate<String> admins;

  public PluginAdminRoutes(Vertx vertx, PluginAdmin admin) {
    this(vertx, admin, admin.host().hostConfig().adminUsernames()::contains);
  }

  /**
   * @param isAdmin whether a username may manage plugins (the node: {@code admin.usernames} and the
   *     administrators stored in PostgreSQL)
   */
  public PluginAdminRoutes(
      Vertx vertx, PluginAdmin admin, java.util.function.Predicate<String> isAdmin) {
    this.vertx = vertx;
    this.admin = admin;
    this.admins = isAdmin;
  }

  @Override
  public Pattern streamedBodies() {
    return STREAMED;
  }

  @Override
  public void mount(Router router) {
    router.get("/v1/admin/plugins").handler(json(200, ctx -> admin.list()));
    router.post("/v1/admin/plugins").handler(this::upload);
    router
        .get("/v1/admin/plugins/:channel")
        .handler(json(200, ctx -> admin.describe(PluginAdmin.channelId(ctx.pathParam("channel")))));
    router
        .post("/v1/admin/plugins/:channel/activate")
        .handler(
            json(
                200,
                ctx -> {
                  String channel = PluginAdmin.channelId(ctx.pathParam("channel"));
                  JsonObject body = Bodies.object(ctx);
                  Bodies.onlyFields(body, Set.of("version"));
                  String version = Bodies.string(body, "version", 1, 64);
                  return admin.activate(channel, version, user(ctx));
                }));
    router
        .post("/v1/admin/plugins/:channel/rollback")
        .handler(
            json(
                200,
                ctx -> admin.rollback(PluginAdmin.channelId(ctx.pathParam("channel")), user(ctx))));
    router
        .post("/v1/admin/plugins/:channel/disable")
        .handler(
            json(
                200,
                ctx ->
                    admin.setEnabled(
                        PluginAdmin.channelId(ctx.pathParam("channel")), false, user(ctx))));
    router
        .post("/v1/admin/plugins/:channel/enable")
        .handler(
            json(
                200,
                ctx ->
                    admin.setEnabled(
                        PluginAdmin.channelId(ctx.pathParam("channel")), true, user(ctx))));
    router
        .delete("/v1/admin/plugins/:channel")
        .handler(
            json(
                200,
                ctx -> admin.remove(PluginAdmin.channelId(ctx.pathParam("channel")), user(ctx))));
  }

  /** The caller's username when it is an admin; else 403. */
  private String user(RoutingContext ctx) {
    Principal p = Authn.principal(ctx);
    if (p.username() == null || !admins.test(p.username())) {
      throw new ServiceException(ErrorCode.FORBIDDEN, "only administrators may manage plugins");
    }
    return p.username();
  }

  /** A JSON route for admins only (the check runs before anything else). */
  private Handler<RoutingContext> json(
      int status, Function<RoutingContext, Future<JsonObject>> call) {
    return Rest.json(
        status,
        ctx -> {
          if (!ctx.request().isEnded()) {
            // a GET on the upload's path was held unread for streaming: nothing to stream
            ctx.request().resume();
          }
          user(ctx);
          return call.apply(ctx);
        });
  }

  /** POST /v1/admin/plugins: the raw jar as the body. */
  private void upload(RoutingContext ctx) {
    HttpServerRequest request = ctx.request();
    request.pause();
    long max = admin.host().hostConfig().maxJarBytes();
    String user;
    boolean activate;
    try {
      user = user(ctx);
      String type = request.getHeader(HttpHeaders.CONTENT_TYPE);
      String base = type == null ? "" : type.split(";", 2)[0].trim().toLowerCase(Locale.ROOT);
      if (!JAR_TYPES.contains(base)) {
        throw new ServiceException(
            ErrorCode.UNSUPPORTED_MEDIA_TYPE,
            "upload the jar as the raw body with Content-Type application/java-archive or"
                + " application/octet-stream");
      }
      String length = request.getHeader(HttpHeaders.CONTENT_LENGTH);
      if (length != null) {
        long declared;
        try {
          declared = Long.parseLong(length.trim());
        } catch (NumberFormatException e) {
          throw new ServiceException(ErrorCode.BAD_REQUEST, "Content-Length is not a number");
        }
        if (declared > max) {
          throw tooLarge(max);
        }
      }
      String a = request.getParam("activate", "true");
      if (!a.equals("true") && !a.equals("false")) {
        throw Bodies.invalid("activate", "must be true or false");
      }
      activate = a.equals("true");
    } catch (RuntimeException e) {
      refuse(ctx, e);
      return;
    }
    ContentStore store = admin.host().store();
    vertx
        .executeBlocking(store::tempFile, false)
        .compose(
            tmp ->
                vertx
                    .fileSystem()
                    .open(tmp.toString(), new OpenOptions().setWrite(true))
                    .compose(file -> receive(request, file, max))
                    .compose(
                        size -> {
                          if (size == 0) {
                            return Future.failedFuture(
                                new ServiceException(
                                    ErrorCode.VALIDATION_FAILED,
                                    "the body must be the connector jar",
                                    new JsonObject().put("field", "body")));
                          }
                          return admin.upload(tmp, user, activate);
                        })
                    .onFailure(
                        err ->
                            vertx.executeBlocking(
                                () -> {
                                  ContentStore.deleteQuietly(tmp);
                                  return null;
                                },
                                false)))
        .onSuccess(
            r ->
                ctx.response()
                    .setStatusCode(r.getBoolean("created") ? 201 : 200)
                    .putHeader(HttpHeaders.CONTENT_TYPE, "application/json; charset=utf-8")
                    .end(r.toBuffer()))
        .onFailure(err -> refuse(ctx, err));
  }

  private static ServiceException tooLarge(long max) {
    return new ServiceException(
        ErrorCode.PAYLOAD_TOO_LARGE,
        "a plugin jar may have at most " + max + " bytes (channels.max_jar_bytes)",
        new JsonObject().put("max_bytes", max));
  }

  /** Writes the body into {@code file} (with back-pressure); its size. Fails past {@code max}. */
  private static Future<Long> receive(HttpServerRequest request, AsyncFile file, long max) {
    io.vertx.core.Promise<Long> done = io.vertx.core.Promise.promise();
    long[] total = {0};
    request.handler(
        buf -> {
          total[0] += buf.length();
          if (total[0] > max) {
            request.pause();
            request.handler(null);
            file.close();
            done.tryFail(tooLarge(max));
            return;
          }
          file.write(buf);
          if (file.writeQueueFull()) {
            request.pause();
            file.drainHandler(v -> request.resume());
          }
        });
    request.exceptionHandler(
        err -> {
          file.close();
          done.tryFail(err);
        });
    request.endHandler(
        v -> {
          if (total[0] <= max) {
            file.close()
                .onComplete(
                    ar -> {
                      if (ar.succeeded()) {
                        done.tryComplete(total[0]);
                      } else {
                        done.tryFail(ar.cause());
                      }
                    });
          }
        });
    request.resume();
    return done.future();
  }

  /**
   * Fails the request. A body not read to its end is read and dropped (so that the client, which
   * may only look at the answer once it has sent everything, gets it), up to twice the jar limit;
   * past that the connection is closed. An HTTP/1 connection is not kept after such an answer.
   */
  private void refuse(RoutingContext ctx, Throwable err) {
    HttpServerRequest request = ctx.request();
    if (!request.isEnded()) {
      long cap = 2 * admin.host().hostConfig().maxJarBytes();
      long[] dropped = {0};
      if (!ctx.response().headWritten() && request.version() != HttpVersion.HTTP_2) {
        ctx.response().putHeader(HttpHeaders.CONNECTION, "close");
      }
      request.exceptionHandler(e -> {});
      request.endHandler(null);
      request.handler(
          buf -> {
            dropped[0] += buf.length();
            if (dropped[0] > cap) {
              request.handler(null);
              request.connection().close();
            }
          });
      request.resume();
    }
    if (!ctx.response().ended()) {
      if (err instanceof ServiceException se) {
        HttpErrors.send(ctx, se);
      } else {
        ctx.fail(err);
      }
    }
  }
}
