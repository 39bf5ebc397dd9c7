package io.chat4all.auth;

import io.chat4all.codecs.Addresses;
import io.chat4all.codecs.ErrorCode;
import io.chat4all.codecs.ServiceBus;
import io.chat4all.codecs.ServiceException;
import io.chat4all.web.Authn;
import io.chat4all.web.Bodies;
import io.chat4all.web.Principal;
import io.chat4all.web.Rest;
import io.chat4all.web.RouteModule;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import java.util.Set;
import java.util.regex.Pattern;

/** REST edge of the auth service: /v1/auth/*, /v1/me, /v1/me/channels, /v1/users. */
public class AuthRoutes implements RouteModule {
  static final Pattern USERNAME = Pattern.compile("[A-Za-z0-9_.-]{3,32}");
  static final Pattern EMAIL = Pattern.compile("[^@\\s]{1,64}@[^@\\s]+\\.[^@\\s]+");

  private final Vertx vertx;

  public AuthRoutes(Vertx vertx) {
    this.vertx = vertx;
  }

  @Override
  public void mount(Router router) {
    router.post("/v1/auth/register").handler(Rest.json(201, this::register));
    router.post("/v1/auth/token").handler(Rest.json(200, this::token));
    router.post("/v1/auth/refresh").handler(Rest.json(200, this::refresh));
    router.post("/v1/auth/logout").handler(Rest.json(204, this::logout));
    router.get("/v1/me").handler(Rest.json(200, ctx -> call(AuthActions.ME, me(ctx))));
    router
        .get("/v1/me/channels")
        .handler(Rest.json(200, ctx -> call(AuthActions.CHANNELS_LIST, me(ctx))));
    router.post("/v1/me/channels").handler(Rest.json(201, this::link));
    router.delete("/v1/me/channels/:channel_type").handler(Rest.json(204, this::unlink));
    router.get("/v1/users").handler(Rest.json(200, this::findUser));
    router.get("/v1/users/:user_id").handler(Rest.json(200, this::getUser));
  }

  private Future<JsonObject> call(String action, JsonObject body) {
    return ServiceBus.request(vertx, Addresses.AUTH, action, body);
  }

  private static JsonObject me(RoutingContext ctx) {
    return new JsonObject().put("user_id", Authn.principal(ctx).userId());
  }

  private Future<JsonObject> register(RoutingContext ctx) {
    JsonObject body = Bodies.object(ctx);
    Bodies.onlyFields(body, Set.of("username", "email", "password"));
    return call(AuthActions.REGISTER, validateRegistration(body));
  }

  /** Shared by REST and gRPC. */
  static JsonObject validateRegistration(JsonObject body) {
    String username = Bodies.string(body, "username", 3, 32);
    if (!USERNAME.matcher(username).matches()) {
      throw Bodies.invalid("username", "may only hold letters, digits, '.', '_' and '-' (3 to 32)");
    }
    String email = Bodies.string(body, "email", 3, 254).trim();
    if (!EMAIL.matcher(email).matches()) {
      throw Bodies.invalid("email", "must be an email address");
    }
    String password = Bodies.string(body, "password", 1, 128);
    PasswordPolicy.check(username, password);
    return new JsonObject().put("username", username).put("email", email).put("password", password);
  }

  private Future<JsonObject> token(RoutingContext ctx) {
    JsonObject body = Bodies.object(ctx);
    Bodies.onlyFields(body, Set.of("username", "email", "password"));
    return call(
        AuthActions.TOKEN, validateLogin(body, ctx.request().remoteAddress().hostAddress()));
  }

  static JsonObject validateLogin(JsonObject body, String ip) {
    String username = Bodies.optionalString(body, "username", 1, 254);
    String email = Bodies.optionalString(body, "email", 1, 254);
    if ((username == null) == (email == null)) {
      throw Bodies.invalid("username", "or email is required (exactly one of them)");
    }
    String password = Bodies.string(body, "password", 1, 128);
    return new JsonObject()
        .put("login", username != null ? username : email.trim())
        .put("password", password)
        .put("ip", ip);
  }

  private Future<JsonObject> refresh(RoutingContext ctx) {
    JsonObject body = Bodies.object(ctx);
    Bodies.onlyFields(body, Set.of("refresh_token"));
    return call(
        AuthActions.REFRESH,
        new JsonObject().put("refresh_token", Bodies.string(body, "refresh_token", 1, 512)));
  }

  private Future<JsonObject> logout(RoutingContext ctx) {
    Principal p = Authn.principal(ctx);
    JsonObject req =
        new JsonObject()
            .put("user_id", p.userId())
            .put("jti", p.tokenId())
            .put("exp", p.expiresAt())
            .put("family_id", p.familyId());
    if (ctx.body() != null && ctx.body().length() > 0) {
      JsonObject body = Bodies.object(ctx);
      Bodies.onlyFields(body, Set.of("refresh_token"));
      req.put("refresh_token", Bodies.optionalString(body, "refresh_token", 1, 512));
    }
    return call(AuthActions.LOGOUT, req);
  }

  private Future<JsonObject> link(RoutingContext ctx) {
    JsonObject body = Bodies.object(ctx);
    Bodies.onlyFields(body, Set.of("channel_type", "channel_user_id", "channel_metadata"));
    String type = Bodies.string(body, "channel_type", 1, 50);
    if (!AuthActions.CHANNEL_TYPES.contains(type)) {
      throw Bodies.invalid(
          "channel_type", "must be one of " + new java.util.TreeSet<>(AuthActions.CHANNEL_TYPES));
    }
    JsonObject req =
        me(ctx)
            .put("channel_type", type)
            .put("channel_user_id", Bodies.string(body, "channel_user_id", 1, 255))
            .put("channel_metadata", Bodies.optionalObject(body, "channel_metadata", 4096));
    return call(AuthActions.CHANNELS_LINK, req);
  }

  private Future<JsonObject> unlink(RoutingContext ctx) {
    String type = ctx.pathParam("channel_type");
    if (!AuthActions.CHANNEL_TYPES.contains(type)) {
      throw new ServiceException(ErrorCode.NOT_FOUND, "unknown channel type " + type);
    }
    return call(AuthActions.CHANNELS_UNLINK, me(ctx).put("channel_type", type));
  }

  private Future<JsonObject> findUser(RoutingContext ctx) {
    String username = ctx.queryParams().get("username");
    if (username == null || username.isBlank() || username.length() > 64) {
      throw Bodies.invalid("username", "query parameter is required (exact username)");
    }
    return call(AuthActions.USER_FIND, new JsonObject().put("username", username));
  }

  private Future<JsonObject> getUser(RoutingContext ctx) {
    return call(
        AuthActions.USER_GET, new JsonObject().put("user_id", Bodies.pathId(ctx, "user_id")));
  }
}
