package io.chat4all.node.settings;

import io.chat4all.codecs.ErrorCode;
import io.chat4all.codecs.ServiceException;
import io.chat4all.web.Authn;
import io.chat4all.web.Bodies;
import io.chat4all.web.Principal;
import io.chat4all.web.Rest;
import io.chat4all.web.RouteModule;
import io.chat4all.web.RuntimeSettings;
import io.chat4all.web.RuntimeSettings.Flag;
import io.chat4all.web.RuntimeSettings.LimitSpec;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import java.util.Set;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * {@code /v1/admin/config} (flags, limits, audit) and {@code /v1/admin/consumers} for the
 * administrators ({@code admin.usernames} and the stored ones; everyone else 403), and {@code
 * /v1/features} (the flags evaluated for the caller) for every user. A write names the version it
 * read in {@code If-Match} (stale: 412) or the body's {@code version} (stale: 409), is audited,
 * committed in PostgreSQL, and then announced cluster-wide so every node applies it at once.
 */
public final class ConfigAdminRoutes implements RouteModule {
  private static final Pattern ETAG = Pattern.compile("^(?:W/)?\"?(\\d{1,18})\"?$");
  private static final String FLAG = "flag";
  private static final String LIMIT = "limit";

  private final Vertx vertx;
  private final RuntimeSettings settings;
  private final SettingsStore store;
  private final SettingsSync sync;
  private final ConsumerLag lag;

  public ConfigAdminRoutes(
      Vertx vertx,
      RuntimeSettings settings,
      SettingsStore store,
      SettingsSync sync,
      ConsumerLag lag) {
    this.vertx = vertx;
    this.settings = settings;
    this.store = store;
    this.sync = sync;
    this.lag = lag;
  }

  @Override
  public void mount(Router router) {
    router
        .get("/v1/features")
        .handler(
            Rest.json(
                200,
                ctx -> {
                  String user = Authn.principal(ctx).userId();
                  return Future.succeededFuture(
                      new JsonObject().put("user_id", user).put("flags", settings.evaluate(user)));
                }));
    router.get("/v1/admin/config").handler(admin(200, ctx -> Future.succeededFuture(all())));
    router
        .get("/v1/admin/config/audit")
        .handler(
            admin(
                200,
                ctx -> {
                  String kind = ctx.request().getParam("kind");
                  if (kind != null && !kind.equals(FLAG) && !kind.equals(LIMIT)) {
                    throw Bodies.invalid("kind", "must be flag or limit");
                  }
                  String name = ctx.request().getParam("name");
                  if (name != null && !SettingsCatalog.NAME.matcher(name).matches()) {
                    throw Bodies.invalid("name", "is not a setting name");
                  }
                  int limit = io.chat4all.codecs.Wire.limit(ctx.request().getParam("limit"));
                  String cursor = ctx.request().getParam("cursor");
                  long before = 0;
                  if (cursor != null) {
                    try {
                      before = Long.parseLong(cursor);
                    } catch (NumberFormatException e) {
                      throw Bodies.invalid("cursor", "is not a cursor of this list");
                    }
                    if (before < 1) {
                      throw Bodies.invalid("cursor", "is not a cursor of this list");
                    }
                  }
                  return store.audit(kind, name, before, limit);
                }));
    router.get("/v1/admin/consumers").handler(admin(200, ctx -> lag.describe()));
    router
        .get("/v1/admin/config/flags/:name")
        .handler(admin(200, ctx -> Future.succeededFuture(flagView(flagName(ctx)))));
    router.put("/v1/admin/config/flags/:name").handler(admin(200, this::putFlag));
    router
        .delete("/v1/admin/config/flags/:name")
        .handler(admin(200, ctx -> write(ctx, FLAG, flagName(ctx), null, versionOnly(ctx))));
    router
        .get("/v1/admin/config/limits/:name")
        .handler(admin(200, ctx -> Future.succeededFuture(limitView(limitName(ctx)))));
    router.put("/v1/admin/config/limits/:name").handler(admin(200, this::putLimit));
    router
        .delete("/v1/admin/config/limits/:name")
        .handler(admin(200, ctx -> write(ctx, LIMIT, limitName(ctx), null, versionOnly(ctx))));
  }

  // --- views ---

  private JsonObject all() {
    JsonObject flags = new JsonObject();
    settings.defaultFlags().keySet().forEach(n -> flags.put(n, flagView(n)));
    JsonObject limits = new JsonObject();
    settings.limitSpecs().keySet().forEach(n -> limits.put(n, limitView(n)));
    return new JsonObject()
        .put("revision", settings.snapshot().revision())
        .put("flags", flags)
        .put("limits", limits);
  }

  private JsonObject flagView(String name) {
    Flag f = settings.flag(name);
    JsonObject out =
        f.toJson().put("name", name).put("default", settings.defaultFlags().get(name).toJson());
    return stored(out, settings.snapshot().flags().get(name));
  }

  private JsonObject limitView(String name) {
    LimitSpec spec = settings.limitSpecs().get(name);
    JsonObject out =
        new JsonObject()
            .put("name", name)
            .put("value", settings.limit(name))
            .put("default", spec.defaultValue())
            .put("min", spec.min())
            .put("max", spec.max())
            .put("description", spec.description());
    return stored(out, settings.snapshot().limits().get(name));
  }

  private static JsonObject stored(JsonObject out, RuntimeSettings.Override o) {
    boolean override = o != null && o.value() != null;
    return out.put("source", override ? "override" : "default")
        .put("version", o == null ? 0 : o.version())
        .put("updated_by", o == null ? null : o.updatedBy())
        .put("updated_at", o == null ? null : o.updatedAt());
  }

  private String flagName(RoutingContext ctx) {
    String name = ctx.pathParam("name");
    if (!settings.defaultFlags().containsKey(name)) {
      throw new ServiceException(
          ErrorCode.NOT_FOUND,
          "no such flag",
          new JsonObject()
              .put(
                  "known",
                  new io.vertx.core.json.JsonArray(
                      new java.util.ArrayList<>(settings.defaultFlags().keySet()))));
    }
    return name;
  }

  private String limitName(RoutingContext ctx) {
    String name = ctx.pathParam("name");
    if (!settings.limitSpecs().containsKey(name)) {
      throw new ServiceException(
          ErrorCode.NOT_FOUND,
          "no such limit",
          new JsonObject()
              .put(
                  "known",
                  new io.vertx.core.json.JsonArray(
                      new java.util.ArrayList<>(settings.limitSpecs().keySet()))));
    }
    return name;
  }

  // --- writes ---

  /** The version a write expects: If-Match when sent, else the body's {@code version}. */
  private record Expect(SettingsStore.Precondition how, long version) {}

  private static Expect expect(RoutingContext ctx, JsonObject body) {
    String ifMatch = ctx.request().getHeader("If-Match");
    if (ifMatch != null && !ifMatch.trim().equals("*")) {
      Matcher m = ETAG.matcher(ifMatch.trim());
      if (!m.matches()) {
        throw new ServiceException(
            ErrorCode.BAD_REQUEST,
            "If-Match must be the setting's version as an entity tag, e.g. \"3\"",
            new JsonObject().put("field", "If-Match"));
      }
      return new Expect(SettingsStore.Precondition.IF_MATCH, Long.parseLong(m.group(1)));
    }
    if (body != null && body.containsKey("version")) {
      Object v = body.getValue("version");
      if (!(v instanceof Number n)
          || n.doubleValue() != Math.rint(n.doubleValue())
          || n.longValue() < 0) {
        throw Bodies.invalid("version", "must be a non-negative integer (the version you read)");
      }
      return new Expect(SettingsStore.Precondition.BODY, n.longValue());
    }
    return new Expect(SettingsStore.Precondition.NONE, 0);
  }

  private static Expect versionOnly(RoutingContext ctx) {
    io.vertx.core.buffer.Buffer raw = ctx.body() == null ? null : ctx.body().buffer();
    JsonObject body = raw == null || raw.length() == 0 ? null : Bodies.object(ctx);
    if (body != null) {
      Bodies.onlyFields(body, Set.of("version"));
    }
    return expect(ctx, body);
  }

  private Future<JsonObject> putFlag(RoutingContext ctx) {
    String name = flagName(ctx);
    JsonObject body = Bodies.object(ctx);
    Bodies.onlyFields(body, Set.of("enabled", "rollout_percentage", "version"));
    Flag now = settings.flag(name);
    boolean enabled = now.enabled();
    int rollout = now.rolloutPercentage();
    if (!body.containsKey("enabled") && !body.containsKey("rollout_percentage")) {
      throw Bodies.invalid("enabled", "give enabled and/or rollout_percentage");
    }
    if (body.containsKey("enabled")) {
      if (!(body.getValue("enabled") instanceof Boolean b)) {
        throw Bodies.invalid("enabled", "must be true or false");
      }
      enabled = b;
    }
    if (body.containsKey("rollout_percentage")) {
      Object r = body.getValue("rollout_percentage");
      if (!(r instanceof Number n)
          || n.doubleValue() != Math.rint(n.doubleValue())
          || n.doubleValue() < 0
          || n.doubleValue() > 100) {
        throw Bodies.invalid("rollout_percentage", "must be an integer from 0 to 100");
      }
      rollout = n.intValue();
    }
    return write(ctx, FLAG, name, new Flag(enabled, rollout).toJson(), expect(ctx, body));
  }

  private Future<JsonObject> putLimit(RoutingContext ctx) {
    String name = limitName(ctx);
    JsonObject body = Bodies.object(ctx);
    Bodies.onlyFields(body, Set.of("value", "version"));
    LimitSpec spec = settings.limitSpecs().get(name);
    Object v = body.getValue("value");
    if (!(v instanceof Number n) || n.doubleValue() != Math.rint(n.doubleValue())) {
      throw Bodies.invalid("value", v == null ? "is required" : "must be an integer");
    }
    // a JSON number past 2^63 arrives as a BigInteger/double: check before narrowing
    if (n.doubleValue() < spec.min() || n.doubleValue() > spec.max()) {
      throw new ServiceException(
          ErrorCode.VALIDATION_FAILED,
          name + " must be from " + spec.min() + " to " + spec.max(),
          new JsonObject().put("field", "value").put("min", spec.min()).put("max", spec.max()));
    }
    long value = n.longValue();
    if (value < spec.min() || value > spec.max()) {
      throw new ServiceException(
          ErrorCode.VALIDATION_FAILED,
          name + " must be from " + spec.min() + " to " + spec.max(),
          new JsonObject().put("field", "value").put("min", spec.min()).put("max", spec.max()));
    }
    return write(ctx, LIMIT, name, new JsonObject().put("value", value), expect(ctx, body));
  }

  /**
   * Commits the change (audited), re-reads this node's copy, then announces it to the cluster; the
   * answer is the setting as now in force, with its version as the ETag.
   */
  private Future<JsonObject> write(
      RoutingContext ctx, String kind, String name, JsonObject value, Expect expect) {
    String user = Authn.principal(ctx).username();
    return store
        .put(kind, name, value, expect.version(), expect.how(), user)
        .compose(
            version ->
                sync.refresh()
                    .recover(err -> Future.succeededFuture())
                    .map(
                        x -> {
                          vertx
                              .eventBus()
                              .publish(
                                  SettingsSync.CHANGED,
                                  new JsonObject()
                                      .put("kind", kind)
                                      .put("name", name)
                                      .put("version", version));
                          JsonObject view = kind.equals(FLAG) ? flagView(name) : limitView(name);
                          ctx.response().putHeader("ETag", "\"" + view.getLong("version") + "\"");
                          return view;
                        }));
  }

  // --- access ---

  private String requireAdmin(RoutingContext ctx) {
    Principal p = Authn.principal(ctx);
    if (!settings.isAdmin(p.username())) {
      throw new ServiceException(
          ErrorCode.FORBIDDEN, "only administrators may read or change the runtime settings");
    }
    return p.username();
  }

  private io.vertx.core.Handler<RoutingContext> admin(
      int status, Function<RoutingContext, Future<JsonObject>> call) {
    return Rest.json(
        status,
        ctx -> {
          requireAdmin(ctx);
          Future<JsonObject> f = call.apply(ctx);
          return f.map(
              j -> {
                if (j.containsKey("version")
                    && j.containsKey("source")
                    && ctx.response().headers().get("ETag") == null) {
                  ctx.response().putHeader("ETag", "\"" + j.getLong("version") + "\"");
                }
                return j;
              });
        });
  }
}
