package io.chat4all.webhooks;

import io.chat4all.codecs.Addresses;
import io.chat4all.codecs.ServiceBus;
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

/**
 * REST edge of the webhook service: {@code /v1/webhooks}, the delivery log and redeliveries. Every
 * route needs an authenticated caller; a webhook of another user is not found.
 */
public class WebhookRoutes implements RouteModule {
  private static final String ONE = "/v1/webhooks/:webhook_id";

  private final Vertx vertx;
  private final boolean allowHttp;
  private final java.util.function.Predicate<String> isAdmin;

  public WebhookRoutes(Vertx vertx, WebhooksConfig config) {
    this(vertx, config, name -> false);
  }

  /**
   * @param isAdmin whether a username is an administrator beyond {@code admin.usernames} (the
   *     runtime settings' administrators, such as the CLI's {@code create-admin})
   */
  public WebhookRoutes(
      Vertx vertx, WebhooksConfig config, java.util.function.Predicate<String> isAdmin) {
    this.vertx = vertx;
    this.allowHttp = config.allowHttp();
    this.isAdmin = isAdmin;
  }

  @Override
  public void mount(Router router) {
    router
        .post("/v1/webhooks")
        .handler(
            Rest.json(
                201,
                ctx ->
                    call(
                        WebhookActions.CREATE,
                        WebhookRequests.create(Bodies.object(ctx), allowHttp).mergeIn(me(ctx)))));
    router.get("/v1/webhooks").handler(Rest.json(200, ctx -> call(WebhookActions.LIST, me(ctx))));
    router.get(ONE).handler(Rest.json(200, ctx -> call(WebhookActions.GET, target(ctx))));
    router
        .patch(ONE)
        .handler(
            Rest.json(
                200,
                ctx ->
                    call(
                        WebhookActions.UPDATE,
                        WebhookRequests.update(Bodies.object(ctx), allowHttp)
                            .mergeIn(target(ctx)))));
    router.delete(ONE).handler(Rest.json(204, ctx -> call(WebhookActions.DELETE, target(ctx))));
    router
        .post(ONE + "/rotate-secret")
        .handler(
            Rest.json(
                200,
                ctx ->
                    call(
                        WebhookActions.ROTATE,
                        WebhookRequests.rotate(optionalBody(ctx)).mergeIn(target(ctx)))));
    router
        .post(ONE + "/test")
        .handler(Rest.json(202, ctx -> call(WebhookActions.TEST, target(ctx))));
    router
        .get(ONE + "/deliveries")
        .handler(
            Rest.json(
                200,
                ctx ->
                    call(
                        WebhookActions.DELIVERIES,
                        WebhookRequests.page(
                                ctx.queryParams().get("status"),
                                ctx.queryParams().get("limit"),
                                ctx.queryParams().get("cursor"))
                            .mergeIn(target(ctx)))));
    router
        .get(ONE + "/deliveries/:delivery_id")
        .handler(Rest.json(200, ctx -> call(WebhookActions.DELIVERY, delivery(ctx))));
    router
        .post(ONE + "/deliveries/:delivery_id/redeliver")
        .handler(Rest.json(202, ctx -> call(WebhookActions.REDELIVER, delivery(ctx))));
    router
        .post(ONE + "/redeliver")
        .handler(
            Rest.json(
                202,
                ctx ->
                    call(
                        WebhookActions.REDELIVER_FAILED,
                        WebhookRequests.redeliverFailed(Bodies.object(ctx)).mergeIn(target(ctx)))));
  }

  private Future<JsonObject> call(String action, JsonObject body) {
    return ServiceBus.request(vertx, Addresses.WEBHOOKS, action, body);
  }

  private JsonObject me(RoutingContext ctx) {
    Principal p = Authn.principal(ctx);
    return new JsonObject()
        .put("user_id", p.userId())
        .put("username", p.username())
        .put("admin", p.username() != null && isAdmin.test(p.username()));
  }

  private JsonObject target(RoutingContext ctx) {
    return me(ctx).put("webhook_id", Bodies.pathId(ctx, "webhook_id"));
  }

  private JsonObject delivery(RoutingContext ctx) {
    return target(ctx).put("delivery_id", Bodies.pathId(ctx, "delivery_id"));
  }

  /** The JSON object body, or an empty object when there is no body at all. */
  private static JsonObject optionalBody(RoutingContext ctx) {
    if (ctx.body() == null || ctx.body().length() <= 0) {
      return new JsonObject();
    }
    return Bodies.object(ctx);
  }
}
