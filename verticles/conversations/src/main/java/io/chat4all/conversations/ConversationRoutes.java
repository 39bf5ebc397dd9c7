package io.chat4all.conversations;

import io.chat4all.codecs.Addresses;
import io.chat4all.codecs.ServiceBus;
import io.chat4all.codecs.Wire;
import io.chat4all.web.Authn;
import io.chat4all.web.Bodies;
import io.chat4all.web.Rest;
import io.chat4all.web.RouteModule;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;

/**
 * REST edge of the conversation service: /v1/conversations and its members. Every route needs an
 * authenticated caller (the edge security puts the principal into the context).
 */
public class ConversationRoutes implements RouteModule {
  private final Vertx vertx;

  public ConversationRoutes(Vertx vertx) {
    this.vertx = vertx;
  }

  @Override
  public void mount(Router router) {
    router.post("/v1/conversations").handler(this::create);
    router.get("/v1/conversations").handler(Rest.json(200, this::list));
    router
        .get("/v1/conversations/:conversation_id")
        .handler(Rest.json(200, ctx -> call(ConversationActions.GET, target(ctx))));
    router
        .post("/v1/conversations/:conversation_id/members")
        .handler(Rest.json(200, this::addMembers));
    router
        .delete("/v1/conversations/:conversation_id/members/:user_id")
        .handler(
            Rest.json(
                204,
                ctx ->
                    call(
                        ConversationActions.REMOVE_MEMBER,
                        target(ctx).put("member_id", Bodies.pathId(ctx, "user_id")))));
    router
        .patch("/v1/conversations/:conversation_id/members/:user_id")
        .handler(Rest.json(200, this::setRole));
    router
        .post("/v1/conversations/:conversation_id/leave")
        .handler(Rest.json(204, ctx -> call(ConversationActions.LEAVE, target(ctx))));
  }

  private Future<JsonObject> call(String action, JsonObject body) {
    return ServiceBus.request(vertx, Addresses.CONVERSATIONS, action, body);
  }

  private static JsonObject me(RoutingContext ctx) {
    return new JsonObject().put("user_id", Authn.principal(ctx).userId());
  }

  /** The caller and the conversation of the path (a malformed id is not found). */
  private static JsonObject target(RoutingContext ctx) {
    String id = Bodies.pathId(ctx, "conversation_id");
    return me(ctx).put("conversation_id", id);
  }

  /** 201 with the new conversation, or 200 with the private conversation that already existed. */
  private void create(RoutingContext ctx) {
    Future<JsonObject> result;
    try {
      JsonObject req = ConversationRequests.create(Bodies.object(ctx)).mergeIn(me(ctx));
      result = call(ConversationActions.CREATE, req);
    } catch (RuntimeException e) {
      ctx.fail(e);
      return;
    }
    result.onComplete(
        r -> {
          if (r.failed()) {
            ctx.fail(r.cause());
            return;
          }
          ctx.response()
              .setStatusCode(r.result().getBoolean("created") ? 201 : 200)
              .putHeader("content-type", "application/json; charset=utf-8")
              .end(r.result().getJsonObject("conversation").toBuffer());
        });
  }

  private Future<JsonObject> list(RoutingContext ctx) {
    int limit = Wire.limit(ctx.queryParams().get("limit"));
    String cursor = ConversationRequests.cursor(ctx.queryParams().get("cursor"), "cursor");
    return call(ConversationActions.LIST, me(ctx).put("limit", limit).put("cursor", cursor));
  }

  private Future<JsonObject> addMembers(RoutingContext ctx) {
    JsonObject target = target(ctx);
    JsonObject req = ConversationRequests.addMembers(Bodies.object(ctx));
    return call(ConversationActions.ADD_MEMBERS, req.mergeIn(target));
  }

  private Future<JsonObject> setRole(RoutingContext ctx) {
    JsonObject target = target(ctx).put("member_id", Bodies.pathId(ctx, "user_id"));
    JsonObject req = ConversationRequests.setRole(Bodies.object(ctx));
    return call(ConversationActions.SET_ROLE, req.mergeIn(target));
  }
}
