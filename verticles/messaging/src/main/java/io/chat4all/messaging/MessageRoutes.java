package io.chat4all.messaging;

import io.chat4all.codecs.Addresses;
import io.chat4all.codecs.ServiceBus;
import io.chat4all.codecs.Wire;
import io.chat4all.web.Authn;
import io.chat4all.web.Bodies;
import io.chat4all.web.Rest;
import io.chat4all.web.RouteModule;
import io.chat4all.web.StoreSafe;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import java.util.Set;

/** REST edge of the messaging service. */
public class MessageRoutes implements RouteModule {
  static final Set<String> CHANNELS =
      Set.of("whatsapp", "instagram", "telegram", "messenger", "all");
  private final Vertx vertx;
  private final MessagingConfig config;

  public MessageRoutes(Vertx vertx, MessagingConfig config) {
    this.vertx = vertx;
    this.config = config;
  }

  @Override
  public void mount(Router router) {
    router.post("/v1/messages").handler(Rest.json(202, this::send));
    router
        .get("/v1/messages/:message_id")
        .handler(Rest.json(200, ctx -> call(MessageActions.GET, byId(ctx))));
    router.patch("/v1/messages/:message_id").handler(Rest.json(202, this::edit));
    router
        .delete("/v1/messages/:message_id")
        .handler(Rest.json(202, ctx -> call(MessageActions.DELETE, byId(ctx))));
    router
        .post("/v1/messages/:message_id/delivered")
        .handler(Rest.json(202, ctx -> mark(ctx, MessageActions.DELIVERED)));
    router
        .post("/v1/messages/:message_id/read")
        .handler(Rest.json(202, ctx -> mark(ctx, MessageActions.READ)));
    router
        .get("/v1/conversations/:conversation_id/messages")
        .handler(Rest.json(200, this::history));
    router.get("/v1/sync").handler(Rest.json(200, this::sync));
  }

  private Future<JsonObject> call(String action, JsonObject body) {
    return ServiceBus.request(vertx, Addresses.MESSAGES, action, body);
  }

  private static JsonObject byId(RoutingContext ctx) {
    return new JsonObject()
        .put("user_id", Authn.principal(ctx).userId())
        .put("message_id", Bodies.pathId(ctx, "message_id"));
  }

  private Future<JsonObject> send(RoutingContext ctx) {
    JsonObject req = validateSend(Bodies.object(ctx), config);
    return call(MessageActions.SEND, req.put("user_id", Authn.principal(ctx).userId()));
  }

  /** Checks a send request (REST and gRPC); returns the normalised request. */
  public static JsonObject validateSend(JsonObject body, MessagingConfig config) {
    Bodies.onlyFields(
        body,
        Set.of("conversation_id", "message_id", "payload", "reply_to_message_id", "channels"));
    JsonObject req =
        new JsonObject()
            .put("conversation_id", Bodies.uuid(body, "conversation_id"))
            .put("message_id", Bodies.uuid(body, "message_id"));
    Object p = body.getValue("payload");
    if (!(p instanceof JsonObject payload)) {
      throw Bodies.invalid("payload", p == null ? "is required" : "must be a JSON object");
    }
    Bodies.onlyFields(payload, Set.of("type", "text", "file_id", "metadata"));
    // what the pipeline will store: every value storable, errors naming payload.<path>
    StoreSafe.document("payload", payload);
    String type = Bodies.string(payload, "type", 1, 16);
    if (!MessageActions.PAYLOAD_TYPES.contains(type)) {
      throw Bodies.invalid("payload.type", "must be one of text, file, image, video, audio");
    }
    JsonObject clean = new JsonObject().put("type", type);
    String text = Bodies.optionalString(payload, "text", 1, config.maxTextLength());
    if ("text".equals(type) && text == null) {
      throw Bodies.invalid(
          "payload.text",
          "is required for text messages (1 to " + config.maxTextLength() + " characters)");
    }
    if (text != null) {
      clean.put("text", text);
    }
    if (MessageActions.MEDIA_TYPES.contains(type)) {
      if (payload.getValue("file_id") == null) {
        throw Bodies.invalid("payload.file_id", "is required for " + type + " messages");
      }
      clean.put("file_id", Bodies.uuid("payload.file_id", payload.getValue("file_id")));
    } else if (payload.getValue("file_id") != null) {
      throw Bodies.invalid("payload.file_id", "is only for file, image, video and audio messages");
    }
    JsonObject metadata = Bodies.optionalObject(payload, "metadata", config.maxMetadataBytes());
    if (metadata != null) {
      clean.put("metadata", metadata);
    }
    req.put("payload", clean);
    if (body.getValue("reply_to_message_id") != null) {
      req.put(
          "reply_to_message_id",
          Bodies.uuid("reply_to_message_id", body.getValue("reply_to_message_id")));
    }
    Object ch = body.getValue("channels");
    JsonArray channels = new JsonArray();
    if (ch != null) {
      if (!(ch instanceof JsonArray array) || array.size() > CHANNELS.size()) {
        throw Bodies.invalid("channels", "must be an array of channel names or [\"all\"]");
      }
      for (Object c : array) {
        if (!(c instanceof String s) || !CHANNELS.contains(s)) {
          throw Bodies.invalid(
              "channels", "entries must be whatsapp, instagram, telegram, messenger or all");
        }
        if (!channels.contains(s)) {
          channels.add(s);
        }
      }
    }
    req.put("channels", channels);
    return req;
  }

  private Future<JsonObject> edit(RoutingContext ctx) {
    JsonObject body = Bodies.object(ctx);
    Bodies.onlyFields(body, Set.of("text", "payload"));
    String text;
    if (body.containsKey("payload")) {
      // exactly one of {"text"} and {"payload":{"text"}}; a payload that is not an object is
      // not silently passed over for the other form
      if (!(body.getValue("payload") instanceof JsonObject payload)) {
        throw Bodies.invalid("payload", "must be a JSON object");
      }
      if (body.containsKey("text")) {
        throw Bodies.invalid("text", "and payload.text are exclusive: give one of them");
      }
      Bodies.onlyFields(payload, Set.of("text"));
      text = Bodies.string(payload, "text", 1, config.maxTextLength());
    } else {
      text = Bodies.string(body, "text", 1, config.maxTextLength());
    }
    return call(MessageActions.EDIT, byId(ctx).put("text", text));
  }

  private Future<JsonObject> mark(RoutingContext ctx, String status) {
    return call(MessageActions.MARK, byId(ctx).put("status", status));
  }

  private Future<JsonObject> history(RoutingContext ctx) {
    JsonObject req =
        new JsonObject()
            .put("user_id", Authn.principal(ctx).userId())
            .put("conversation_id", Bodies.pathId(ctx, "conversation_id"))
            .put("limit", Wire.limit(ctx.queryParams().get("limit")));
    String cursor = ctx.queryParams().get("cursor");
    Long before = seqParam(ctx, "before_seq");
    Long after = seqParam(ctx, "after_seq");
    if (cursor != null) {
      JsonObject c = HistoryCursor.decode(cursor);
      if (c.getBoolean("after")) {
        after = c.getLong("seq");
      } else {
        before = c.getLong("seq");
      }
    }
    if (before != null && after != null) {
      throw Bodies.invalid("before_seq", "and after_seq are exclusive: give one of them");
    }
    if (before != null) {
      req.put("before_seq", before);
    }
    if (after != null) {
      req.put("after_seq", after);
    }
    return call(MessageActions.HISTORY, req);
  }

  private static Long seqParam(RoutingContext ctx, String name) {
    String raw = ctx.queryParams().get(name);
    if (raw == null) {
      return null;
    }
    try {
      long v = Long.parseLong(raw);
      if (v < 0) {
        throw new NumberFormatException();
      }
      return v;
    } catch (NumberFormatException e) {
      throw Bodies.invalid(name, "must be a non-negative integer");
    }
  }

  private Future<JsonObject> sync(RoutingContext ctx) {
    String cursor = ctx.queryParams().get("cursor");
    if (cursor != null) {
      FeedStore.decode(cursor);
    }
    JsonObject req =
        new JsonObject()
            .put("user_id", Authn.principal(ctx).userId())
            .put("limit", Wire.limit(ctx.queryParams().get("limit")));
    if (cursor != null) {
      req.put("cursor", cursor);
    }
    return call(MessageActions.SYNC, req);
  }
}
