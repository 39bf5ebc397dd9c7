package io.chat4all.channels.identity;

import io.chat4all.codecs.ErrorCode;
import io.chat4all.codecs.ServiceException;
import io.chat4all.web.Authn;
import io.chat4all.web.Bodies;
import io.chat4all.web.Principal;
import io.chat4all.web.Rest;
import io.chat4all.web.RouteModule;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * REST edge of channel identities: a user verifies the channel link they created ({@code POST
 * /v1/me/channels/{channel_type}/verification} sends a one-time code through the channel, {@code
 * POST /v1/me/channels/{channel_type}/verify} confirms it); operators (accounts in {@code
 * admin.usernames}) verify a user's link and merge two contacts that are one person.
 */
public final class IdentityRoutes implements RouteModule {
  /** Channels a link can be verified on (internal identities need no verification). */
  static final Set<String> CHANNELS = Set.of("whatsapp", "instagram", "telegram", "messenger");

  private static final Pattern CODE = Pattern.compile("^[0-9]{6}$");

  private final LinkVerification verification;
  private final ContactMerge merge;
  private final java.util.function.Predicate<String> admins;

  /**
   * @param admins whether a username is an administrator ({@code admin.usernames} and those the
   *     runtime settings name, such as the CLI's {@code create-admin})
   */
  public IdentityRoutes(
      LinkVerification verification,
      ContactMerge merge,
      java.util.function.Predicate<String> admins) {
    this.verification = verification;
    this.merge = merge;
    this.admins = admins;
  }

  @Override
  public void mount(Router router) {
    router
        .post("/v1/me/channels/:channel_type/verification")
        .handler(
            Rest.json(
                202, ctx -> verification.requestCode(Authn.principal(ctx).userId(), channel(ctx))));
    router
        .post("/v1/me/channels/:channel_type/verify")
        .handler(
            Rest.json(
                200,
                ctx -> {
                  String channel = channel(ctx);
                  JsonObject body = Bodies.object(ctx);
                  Bodies.onlyFields(body, Set.of("code"));
                  String code = Bodies.string(body, "code", 1, 32).trim();
                  if (!CODE.matcher(code).matches()) {
                    throw Bodies.invalid("code", "must be the 6 digits sent to you");
                  }
                  return verification.confirm(Authn.principal(ctx).userId(), channel, code);
                }));
    router
        .post("/v1/admin/users/:user_id/channels/:channel_type/verify")
        .handler(
            Rest.json(
                200,
                ctx -> {
                  String admin = admin(ctx);
                  String user = Bodies.pathId(ctx, "user_id");
                  return verification.adminVerify(user, channel(ctx), admin);
                }));
    router
        .post("/v1/admin/contacts/:contact_id/merge")
        .handler(
            Rest.json(
                200,
                ctx -> {
                  String admin = admin(ctx);
                  String survivor = Bodies.pathId(ctx, "contact_id");
                  JsonObject body = Bodies.object(ctx);
                  Bodies.onlyFields(body, Set.of("contact_id"));
                  String other = Bodies.uuid(body, "contact_id");
                  return merge.merge(survivor, other, admin);
                }));
  }

  private static String channel(RoutingContext ctx) {
    String channel = ctx.pathParam("channel_type");
    if ("internal".equals(channel)) {
      throw Bodies.invalid("channel_type", "internal identities need no verification");
    }
    if (!CHANNELS.contains(channel)) {
      throw new ServiceException(ErrorCode.NOT_FOUND, "no " + channel + " identity linked");
    }
    return channel;
  }

  /** The caller's username when it is an administrator; else 403. */
  private String admin(RoutingContext ctx) {
    Principal p = Authn.principal(ctx);
    if (p.username() == null || !admins.test(p.username())) {
      throw new ServiceException(ErrorCode.FORBIDDEN, "only administrators may do this");
    }
    return p.username();
  }
}
