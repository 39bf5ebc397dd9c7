package io.chat4all.node.authz;

import io.chat4all.node.api.Api;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.function.Function;

/**
 * The REST matrix: for every documented operation, the request and the documented answer of each
 * role (owner/author, other member, outsider, admin), as "status" or "status code". Operations
 * without a conversation, message, file, webhook or plugin id are listed as authenticated-only (the
 * unauthenticated variants are checked on them) or public.
 */
final class RestRows {
  private RestRows() {}

  /**
   * A row. {@code fresh}: every call gets its own fixture (the call changes or removes what it
   * names). {@code adminOnly}: everyone but the admin gets 403. {@code expect} is null for
   * authenticated-only operations.
   */
  record Row(
      String op, boolean fresh, boolean adminOnly, Function<Fixture, Http> req, String[] expect) {}

  /** Operations anyone may call without a token. */
  static final Set<String> PUBLIC =
      Set.of(
          "POST /v1/auth/register",
          "POST /v1/auth/token",
          "POST /v1/auth/refresh",
          "GET /v1/openapi.json",
          "GET /v1/ws",
          "GET /webhooks/{channel}",
          "POST /webhooks/{channel}");

  static List<Row> rows() {
    List<Row> r = new ArrayList<>();
    // conversations
    r.add(
        row(
            "GET /v1/conversations/{conversation_id}",
            f -> get("/v1/conversations/" + f.conv()),
            "200",
            "200",
            "404",
            "404"));
    r.add(
        fresh(
            "POST /v1/conversations/{conversation_id}/members",
            f ->
                Http.json(
                    "POST",
                    "/v1/conversations/" + f.conv() + "/members",
                    new JsonObject().put("member_ids", new JsonArray().add(f.w.newcomer().id()))),
            "200",
            "403",
            "404",
            "404"));
    r.add(
        fresh(
            "DELETE /v1/conversations/{conversation_id}/members/{user_id}",
            f ->
                Http.of("DELETE", "/v1/conversations/" + f.conv() + "/members/" + f.w.extra().id()),
            "204",
            "403",
            "404",
            "404"));
    r.add(
        fresh(
            "PATCH /v1/conversations/{conversation_id}/members/{user_id}",
            f ->
                Http.json(
                    "PATCH",
                    "/v1/conversations/" + f.conv() + "/members/" + f.w.extra().id(),
                    new JsonObject().put("role", "admin")),
            "200",
            "403",
            "404",
            "404"));
    r.add(
        fresh(
            "POST /v1/conversations/{conversation_id}/leave",
            f -> Http.of("POST", "/v1/conversations/" + f.conv() + "/leave"),
            "204",
            "204",
            "404",
            "404"));
    r.add(
        row(
            "GET /v1/conversations/{conversation_id}/messages",
            f -> get("/v1/conversations/" + f.conv() + "/messages"),
            "200",
            "200",
            "404",
            "404"));
    // messages
    r.add(
        row(
            "POST /v1/messages",
            f ->
                Http.json(
                    "POST",
                    "/v1/messages",
                    Api.textMessage(f.conv(), UUID.randomUUID().toString(), "hi")),
            "202",
            "202",
            "404",
            "404"));
    r.add(
        row(
            "GET /v1/messages/{message_id}",
            f -> get("/v1/messages/" + f.msg()),
            "200",
            "200",
            "404",
            "404"));
    r.add(
        row(
            "PATCH /v1/messages/{message_id}",
            f ->
                Http.json(
                    "PATCH", "/v1/messages/" + f.msg(), new JsonObject().put("text", "edited")),
            "202",
            "403",
            "404",
            "404"));
    r.add(
        fresh(
            "DELETE /v1/messages/{message_id}",
            f -> Http.of("DELETE", "/v1/messages/" + f.msg()),
            "202",
            "403",
            "404",
            "404"));
    r.add(
        row(
            "POST /v1/messages/{message_id}/delivered",
            f -> Http.of("POST", "/v1/messages/" + f.msg() + "/delivered"),
            "409 conflict",
            "202",
            "404",
            "404"));
    r.add(
        row(
            "POST /v1/messages/{message_id}/read",
            f -> Http.of("POST", "/v1/messages/" + f.msg() + "/read"),
            "409 conflict",
            "202",
            "404",
            "404"));
    // files
    r.add(
        row(
            "POST /v1/files",
            f -> Http.json("POST", "/v1/files", Fixture.initiateBody(f.conv())),
            "201",
            "201",
            "404",
            "404"));
    r.add(
        row(
            "GET /v1/files/{file_id}",
            f -> get("/v1/files/" + f.file()),
            "200",
            "200",
            "404",
            "404"));
    r.add(
        row(
            "GET /v1/files/{file_id}/download",
            f -> get("/v1/files/" + f.file() + "/download?redirect=false"),
            "200",
            "200",
            "404",
            "404"));
    r.add(
        fresh(
            "DELETE /v1/files/{file_id}",
            f -> Http.of("DELETE", "/v1/files/" + f.upload()),
            "200",
            "404",
            "404",
            "404"));
    r.add(
        fresh(
            "PUT /v1/files/{file_id}/chunks/{chunk_number}",
            f -> Fixture.putChunk(f.upload()),
            "200",
            "404",
            "404",
            "404"));
    r.add(
        fresh(
            "POST /v1/files/{file_id}/complete",
            f -> Http.of("POST", "/v1/files/" + f.staged() + "/complete"),
            "200",
            "404",
            "404",
            "404"));
    // webhooks: someone else's is 404
    String hook = "/v1/webhooks/";
    r.add(
        row(
            "GET /v1/webhooks/{webhook_id}",
            f -> get(hook + f.hook()),
            "200",
            "404",
            "404",
            "404"));
    r.add(
        row(
            "PATCH /v1/webhooks/{webhook_id}",
            f -> Http.json("PATCH", hook + f.hook(), new JsonObject().put("description", "matrix")),
            "200",
            "404",
            "404",
            "404"));
    r.add(
        fresh(
            "DELETE /v1/webhooks/{webhook_id}",
            f -> Http.of("DELETE", hook + f.hook()),
            "204",
            "404",
            "404",
            "404"));
    r.add(
        row(
            "POST /v1/webhooks/{webhook_id}/rotate-secret",
            f -> Http.of("POST", hook + f.hook() + "/rotate-secret"),
            "200",
            "404",
            "404",
            "404"));
    r.add(
        row(
            "POST /v1/webhooks/{webhook_id}/test",
            f -> Http.of("POST", hook + f.hook() + "/test"),
            "202",
            "404",
            "404",
            "404"));
    r.add(
        row(
            "GET /v1/webhooks/{webhook_id}/deliveries",
            f -> get(hook + f.hook() + "/deliveries"),
            "200",
            "404",
            "404",
            "404"));
    r.add(
        row(
            "GET /v1/webhooks/{webhook_id}/deliveries/{delivery_id}",
            f -> get(hook + f.hook() + "/deliveries/" + f.delivery()),
            "200",
            "404",
            "404",
            "404"));
    r.add(
        fresh(
            "POST /v1/webhooks/{webhook_id}/deliveries/{delivery_id}/redeliver",
            f -> Http.of("POST", hook + f.hook() + "/deliveries/" + f.delivery() + "/redeliver"),
            "202",
            "404",
            "404",
            "404"));
    r.add(
        row(
            "POST /v1/webhooks/{webhook_id}/redeliver",
            f ->
                Http.json(
                    "POST",
                    hook + f.hook() + "/redeliver",
                    new JsonObject().put("since", "2020-01-01T00:00:00.000Z")),
            "202",
            "404",
            "404",
            "404"));
    // the plugin admin API: 403 for everyone but an admin
    String plugins = "/v1/admin/plugins";
    r.add(admin("GET /v1/admin/plugins", f -> get(plugins), "200"));
    r.add(
        admin(
            "POST /v1/admin/plugins",
            f ->
                Http.raw(
                    "POST",
                    plugins + "?activate=false",
                    "application/java-archive",
                    "not a jar".getBytes(java.nio.charset.StandardCharsets.UTF_8),
                    Map.of()),
            "400 validation_failed"));
    r.add(admin("GET /v1/admin/plugins/{channel}", f -> get(plugins + "/" + f.channel()), "200"));
    r.add(
        admin(
            "DELETE /v1/admin/plugins/{channel}",
            f -> Http.of("DELETE", plugins + "/" + f.channel()),
            "200"));
    r.add(
        admin(
            "POST /v1/admin/plugins/{channel}/activate",
            f ->
                Http.json(
                    "POST",
                    plugins + "/" + f.channel() + "/activate",
                    new JsonObject().put("version", "9.9.9")),
            "404"));
    r.add(
        admin(
            "POST /v1/admin/plugins/{channel}/rollback",
            f -> Http.of("POST", plugins + "/" + f.channel() + "/rollback"),
            "409 conflict"));
    r.add(
        admin(
            "POST /v1/admin/plugins/{channel}/disable",
            f -> Http.of("POST", plugins + "/" + f.channel() + "/disable"),
            "200"));
    r.add(
        admin(
            "POST /v1/admin/plugins/{channel}/enable",
            f -> Http.of("POST", plugins + "/" + f.channel() + "/enable"),
            "200"));
    // runtime settings: only unknown names are touched, so nothing in force changes
    String config = "/v1/admin/config";
    r.add(admin("GET /v1/admin/config", f -> get(config), "200"));
    r.add(admin("GET /v1/admin/config/audit", f -> get(config + "/audit"), "200"));
    r.add(admin("GET /v1/admin/consumers", f -> get("/v1/admin/consumers"), "200"));
    for (String kind : List.of("flags", "limits")) {
      String path = config + "/" + kind + "/mx_no_such_setting";
      JsonObject body =
          kind.equals("flags")
              ? new JsonObject().put("enabled", true)
              : new JsonObject().put("value", 1);
      r.add(admin("GET /v1/admin/config/" + kind + "/{name}", f -> get(path), "404"));
      r.add(
          admin(
              "PUT /v1/admin/config/" + kind + "/{name}",
              f -> Http.json("PUT", path, body),
              "404"));
      r.add(
          admin(
              "DELETE /v1/admin/config/" + kind + "/{name}", f -> Http.of("DELETE", path), "404"));
    }
    // forgetting a cluster member that went missing (none is missing here: the admin gets 404)
    r.add(
        admin(
            "DELETE /v1/admin/cluster/members/{id}",
            f -> Http.of("DELETE", "/v1/admin/cluster/members/" + UUID.randomUUID()),
            "404"));
    // operator actions on contacts and users (no contact exists here: the admin gets 404)
    r.add(
        admin(
            "POST /v1/admin/contacts/{contact_id}/merge",
            f ->
                Http.json(
                    "POST",
                    "/v1/admin/contacts/" + UUID.randomUUID() + "/merge",
                    new JsonObject().put("contact_id", UUID.randomUUID().toString())),
            "404"));
    r.add(
        admin(
            "POST /v1/admin/users/{user_id}/channels/{channel_type}/verify",
            f ->
                Http.of(
                    "POST", "/v1/admin/users/" + f.w.outsider().id() + "/channels/telegram/verify"),
            "404"));
    // authenticated, without an id of the matrix
    String any = UUID.randomUUID().toString();
    JsonObject empty = new JsonObject();
    r.add(authOnly("POST /v1/auth/logout", Http.json("POST", "/v1/auth/logout", empty)));
    r.add(authOnly("GET /v1/me", Http.of("GET", "/v1/me")));
    r.add(authOnly("GET /v1/me/channels", Http.of("GET", "/v1/me/channels")));
    r.add(authOnly("POST /v1/me/channels", Http.json("POST", "/v1/me/channels", empty)));
    r.add(
        authOnly(
            "DELETE /v1/me/channels/{channel_type}",
            Http.of("DELETE", "/v1/me/channels/telegram")));
    r.add(
        authOnly(
            "POST /v1/me/channels/{channel_type}/verification",
            Http.of("POST", "/v1/me/channels/telegram/verification")));
    r.add(
        authOnly(
            "POST /v1/me/channels/{channel_type}/verify",
            Http.json(
                "POST",
                "/v1/me/channels/telegram/verify",
                new JsonObject().put("code", "123456"))));
    r.add(authOnly("GET /v1/features", Http.of("GET", "/v1/features")));
    r.add(authOnly("GET /v1/users", Http.of("GET", "/v1/users?username=x")));
    r.add(authOnly("GET /v1/users/{user_id}", Http.of("GET", "/v1/users/" + any)));
    r.add(authOnly("POST /v1/conversations", Http.json("POST", "/v1/conversations", empty)));
    r.add(authOnly("GET /v1/conversations", Http.of("GET", "/v1/conversations")));
    r.add(authOnly("GET /v1/sync", Http.of("GET", "/v1/sync")));
    r.add(authOnly("POST /v1/presence/heartbeat", Http.of("POST", "/v1/presence/heartbeat")));
    r.add(authOnly("GET /v1/presence", Http.of("GET", "/v1/presence?user_ids=" + any)));
    r.add(authOnly("POST /v1/webhooks", Http.json("POST", "/v1/webhooks", empty)));
    r.add(authOnly("GET /v1/webhooks", Http.of("GET", "/v1/webhooks")));
    return r;
  }

  private static Http get(String path) {
    return Http.of("GET", path);
  }

  private static Row row(String op, Function<Fixture, Http> req, String... expect) {
    return new Row(op, false, false, req, expect);
  }

  private static Row fresh(String op, Function<Fixture, Http> req, String... expect) {
    return new Row(op, true, false, req, expect);
  }

  /**
   * An admin-only operation: 403 for the others, {@code forAdmin} for the admin (fresh fixtures).
   */
  private static Row admin(String op, Function<Fixture, Http> req, String forAdmin) {
    return new Row(op, true, true, req, new String[] {"403", "403", "403", forAdmin});
  }

  private static Row authOnly(String op, Http req) {
    return new Row(op, false, false, f -> req, null);
  }
}
