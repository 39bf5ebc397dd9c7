package io.chat4all.messaging;

import io.chat4all.codecs.Addresses;
import io.chat4all.codecs.Envelopes;
import io.chat4all.codecs.ErrorCode;
import io.chat4all.codecs.ServiceBus;
import io.chat4all.codecs.ServiceException;
import io.chat4all.codecs.Wire;
import io.chat4all.proto.v1.ChatMessage;
import io.chat4all.proto.v1.DeleteMessageRequest;
import io.chat4all.proto.v1.EditMessageRequest;
import io.chat4all.proto.v1.GetMessageRequest;
import io.chat4all.proto.v1.ListMessagesReply;
import io.chat4all.proto.v1.ListMessagesRequest;
import io.chat4all.proto.v1.MarkMessageRequest;
import io.chat4all.proto.v1.MessageFileReference;
import io.chat4all.proto.v1.MessagePayload;
import io.chat4all.proto.v1.MessageServiceGrpcService;
import io.chat4all.proto.v1.MessageStatusChange;
import io.chat4all.proto.v1.MessageStatusEntry;
import io.chat4all.proto.v1.RecipientStatus;
import io.chat4all.proto.v1.SendMessageRequest;
import io.chat4all.proto.v1.SyncItem;
import io.chat4all.proto.v1.SyncReply;
import io.chat4all.proto.v1.SyncRequest;
import io.chat4all.web.Bodies;
import io.chat4all.web.GrpcModule;
import io.chat4all.web.GrpcUnary;
import io.chat4all.web.ProtoJson;
import io.chat4all.web.StrictJson;
import io.chat4all.web.TokenVerifier;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.grpc.server.GrpcServer;
import io.vertx.grpc.server.Service;
import java.util.ArrayList;
import java.util.function.Function;

/**
 * gRPC edge of the messaging service ({@code chat4all.v1.MessageService}): the same event-bus
 * actions, validation, rules and error model as {@link MessageRoutes}. Empty proto3 strings mean
 * "absent"; a malformed id where REST has it in the path is not found.
 */
public class MessageGrpc implements GrpcModule {
  private final Vertx vertx;
  private final TokenVerifier verifier;
  private final MessagingConfig config;

  public MessageGrpc(Vertx vertx, TokenVerifier verifier, MessagingConfig config) {
    this.vertx = vertx;
    this.verifier = verifier;
    this.config = config;
  }

  private Future<JsonObject> call(String action, JsonObject body) {
    return ServiceBus.request(vertx, Addresses.MESSAGES, action, body);
  }

  private Future<JsonObject> authed(
      GrpcUnary.Call c, String action, Function<JsonObject, JsonObject> request) {
    return GrpcUnary.authed(vertx, verifier, c, Addresses.MESSAGES, action, request);
  }

  @Override
  public void register(GrpcServer server) {
    server.addService(
        Service.service(
                MessageServiceGrpcService.SERVICE_NAME,
                MessageServiceGrpcService.SERVICE_DESCRIPTOR)
            .bind(
                MessageServiceGrpcService.SendMessage,
                GrpcUnary.handler(
                    (SendMessageRequest req, GrpcUnary.Call c) ->
                        authed(
                                c,
                                MessageActions.SEND,
                                me -> MessageRoutes.validateSend(sendBody(req), config).mergeIn(me))
                            .map(MessageGrpc::message)))
            .bind(
                MessageServiceGrpcService.GetMessage,
                GrpcUnary.handler(
                    (GetMessageRequest req, GrpcUnary.Call c) ->
                        authed(c, MessageActions.GET, me -> byId(me, req.getMessageId()))
                            .map(MessageGrpc::message)))
            .bind(
                MessageServiceGrpcService.ListMessages,
                GrpcUnary.handler(
                    (ListMessagesRequest req, GrpcUnary.Call c) ->
                        authed(c, MessageActions.HISTORY, me -> history(me, req))
                            .map(MessageGrpc::historyPage)))
            .bind(
                MessageServiceGrpcService.MarkDelivered,
                GrpcUnary.handler(
                    (MarkMessageRequest req, GrpcUnary.Call c) ->
                        authed(
                                c,
                                MessageActions.MARK,
                                me ->
                                    byId(me, req.getMessageId())
                                        .put("status", MessageActions.DELIVERED))
                            .map(MessageGrpc::statusChange)))
            .bind(
                MessageServiceGrpcService.MarkRead,
                GrpcUnary.handler(
                    (MarkMessageRequest req, GrpcUnary.Call c) ->
                        authed(
                                c,
                                MessageActions.MARK,
                                me ->
                                    byId(me, req.getMessageId()).put("status", MessageActions.READ))
                            .map(MessageGrpc::statusChange)))
            .bind(
                MessageServiceGrpcService.EditMessage,
                GrpcUnary.handler(
                    (EditMessageRequest req, GrpcUnary.Call c) ->
                        authed(
                                c,
                                MessageActions.EDIT,
                                me -> {
                                  JsonObject r = byId(me, req.getMessageId());
                                  return r.put(
                                      "text",
                                      Bodies.string(
                                          new JsonObject().put("text", req.getText()),
                                          "text",
                                          1,
                                          config.maxTextLength()));
                                })
                            .map(MessageGrpc::message)))
            .bind(
                MessageServiceGrpcService.DeleteMessage,
                GrpcUnary.handler(
                    (DeleteMessageRequest req, GrpcUnary.Call c) ->
                        authed(c, MessageActions.DELETE, me -> byId(me, req.getMessageId()))
                            .map(MessageGrpc::message)))
            .bind(
                MessageServiceGrpcService.Sync,
                GrpcUnary.handler(
                    (SyncRequest req, GrpcUnary.Call c) ->
                        authed(
                                c,
                                MessageActions.SYNC,
                                me -> {
                                  me.put("limit", limit(req.getLimit()));
                                  if (!req.getCursor().isEmpty()) {
                                    FeedStore.decode(req.getCursor());
                                    me.put("cursor", req.getCursor());
                                  }
                                  return me;
                                })
                            .map(MessageGrpc::syncPage)))
            .build());
  }

  // --- requests ---

  private static JsonObject byId(JsonObject me, String messageId) {
    return me.put("message_id", Bodies.idOrNotFound("message_id", messageId));
  }

  /** The limit as REST reads its query parameter; 0 (unset) is the default. */
  static int limit(int raw) {
    return raw == 0 ? Wire.DEFAULT_LIMIT : Wire.limit(Integer.toString(raw));
  }

  /** The REST JSON body of a send, for {@link MessageRoutes#validateSend}. */
  static JsonObject sendBody(SendMessageRequest req) {
    JsonObject body = new JsonObject();
    ProtoJson.putIfSet(body, "conversation_id", req.getConversationId());
    ProtoJson.putIfSet(body, "message_id", req.getMessageId());
    if (req.hasPayload()) {
      MessagePayload p = req.getPayload();
      JsonObject payload = new JsonObject();
      ProtoJson.putIfSet(payload, "type", p.getType());
      ProtoJson.putIfSet(payload, "text", p.getText());
      ProtoJson.putIfSet(payload, "file_id", p.getFileId());
      if (!p.getMetadataJson().isEmpty()) {
        JsonObject metadata;
        try {
          metadata = StrictJson.object(p.getMetadataJson(), "payload.metadata_json");
        } catch (ServiceException e) {
          // the same strict JSON as a REST body; a field error, as the JSON is a field here
          throw new ServiceException(
              ErrorCode.VALIDATION_FAILED,
              e.getMessage(),
              new JsonObject().put("field", "payload.metadata_json"));
        }
        payload.put("metadata", metadata);
      }
      if (p.hasFileReference()) {
        // request payloads name the file by file_id only; rejected as an unknown field
        payload.put("file_reference", new JsonObject());
      }
      body.put("payload", payload);
    }
    ProtoJson.putIfSet(body, "reply_to_message_id", req.getReplyToMessageId());
    if (req.getChannelsCount() > 0) {
      body.put("channels", new JsonArray(new ArrayList<Object>(req.getChannelsList())));
    }
    return body;
  }

  private static JsonObject history(JsonObject me, ListMessagesRequest req) {
    JsonObject r =
        me.put("conversation_id", Bodies.idOrNotFound("conversation_id", req.getConversationId()))
            .put("limit", limit(req.getLimit()));
    Long before = req.hasBeforeSeq() ? seq("before_seq", req.getBeforeSeq()) : null;
    Long after = req.hasAfterSeq() ? seq("after_seq", req.getAfterSeq()) : null;
    if (!req.getCursor().isEmpty()) {
      JsonObject c = HistoryCursor.decode(req.getCursor());
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
      r.put("before_seq", before);
    }
    if (after != null) {
      r.put("after_seq", after);
    }
    return r;
  }

  private static long seq(String name, long value) {
    if (value < 0) {
      throw Bodies.invalid(name, "must be a non-negative integer");
    }
    return value;
  }

  // --- replies ---

  public static ChatMessage message(JsonObject j) {
    ChatMessage.Builder b =
        ChatMessage.newBuilder()
            .setMessageId(ProtoJson.str(j, "message_id"))
            .setConversationId(ProtoJson.str(j, "conversation_id"))
            .setFromUserId(ProtoJson.str(j, "from_user_id"))
            .setSequenceNumber(ProtoJson.num(j, "sequence_number"))
            .setStatus(ProtoJson.str(j, "status"))
            .setCreatedAt(ProtoJson.str(j, "created_at"))
            .setUpdatedAt(ProtoJson.str(j, "updated_at"))
            .setIsEdited(j.getBoolean("is_edited", false))
            .setIsDeleted(j.getBoolean("is_deleted", false))
            .setReplyToMessageId(ProtoJson.str(j, "reply_to_message_id"));
    JsonObject payload = j.getJsonObject("payload");
    if (payload != null) {
      b.setPayload(payload(payload));
    }
    JsonArray history = j.getJsonArray("status_history");
    if (history != null) {
      for (int i = 0; i < history.size(); i++) {
        JsonObject h = history.getJsonObject(i);
        b.addStatusHistory(
            MessageStatusEntry.newBuilder()
                .setStatus(ProtoJson.str(h, "status"))
                .setTimestamp(ProtoJson.str(h, "timestamp"))
                .setUserId(ProtoJson.str(h, "user_id"))
                .setReason(ProtoJson.str(h, "reason")));
      }
    }
    JsonObject recipients = j.getJsonObject("recipient_status");
    if (recipients != null) {
      for (String user : recipients.fieldNames()) {
        JsonObject s = recipients.getJsonObject(user);
        b.putRecipientStatus(
            user,
            RecipientStatus.newBuilder()
                .setStatus(ProtoJson.str(s, "status"))
                .setAt(ProtoJson.str(s, "at"))
                .setReason(ProtoJson.str(s, "reason"))
                .build());
      }
    }
    JsonArray channels = j.getJsonArray("channels");
    if (channels == null) {
      channels = j.getJsonArray("target_channels");
    }
    if (channels != null) {
      for (int i = 0; i < channels.size(); i++) {
        b.addChannels(channels.getString(i));
      }
    }
    return b.build();
  }

  private static MessagePayload payload(JsonObject p) {
    MessagePayload.Builder b =
        MessagePayload.newBuilder()
            .setType(ProtoJson.str(p, "type"))
            .setText(ProtoJson.str(p, "text"))
            .setFileId(ProtoJson.str(p, "file_id"));
    JsonObject metadata = p.getJsonObject("metadata");
    if (metadata != null) {
      b.setMetadataJson(metadata.encode());
    }
    JsonObject ref = p.getJsonObject("file_reference");
    if (ref != null) {
      b.setFileReference(
          MessageFileReference.newBuilder()
              .setFileId(ProtoJson.str(ref, "file_id"))
              .setFilename(ProtoJson.str(ref, "filename"))
              .setSizeBytes(ProtoJson.num(ref, "size_bytes"))
              .setMimeType(ProtoJson.str(ref, "mime_type"))
              .setChecksum(ProtoJson.str(ref, "checksum")));
    }
    return b.build();
  }

  public static MessageStatusChange statusChange(JsonObject j) {
    return MessageStatusChange.newBuilder()
        .setMessageId(ProtoJson.str(j, "message_id"))
        .setConversationId(ProtoJson.str(j, "conversation_id"))
        .setSequenceNumber(ProtoJson.num(j, "sequence_number"))
        .setUserId(ProtoJson.str(j, "user_id"))
        .setStatus(ProtoJson.str(j, "status"))
        .setAt(ProtoJson.str(j, "at"))
        .setMessageStatus(ProtoJson.str(j, "message_status"))
        .build();
  }

  static ListMessagesReply historyPage(JsonObject page) {
    ListMessagesReply.Builder b =
        ListMessagesReply.newBuilder()
            .setNextCursor(ProtoJson.str(page, "next_cursor"))
            .setLastSeq(ProtoJson.num(page, "last_seq"));
    JsonArray items = page.getJsonArray("items");
    for (int i = 0; i < items.size(); i++) {
      b.addItems(message(items.getJsonObject(i)));
    }
    return b.build();
  }

  static SyncReply syncPage(JsonObject page) {
    SyncReply.Builder b =
        SyncReply.newBuilder()
            .setNextCursor(ProtoJson.str(page, "next_cursor"))
            .setResyncRequired(page.getBoolean("resync_required", false));
    JsonArray items = page.getJsonArray("items");
    for (int i = 0; i < items.size(); i++) {
      JsonObject e = items.getJsonObject(i);
      SyncItem.Builder item =
          SyncItem.newBuilder()
              .setType(ProtoJson.str(e, Envelopes.TYPE))
              .setCursor(ProtoJson.str(e, Envelopes.CURSOR))
              .setJson(e.encode());
      JsonObject m = e.getJsonObject("message");
      if (m != null) {
        item.setMessage(message(m));
      }
      if (Envelopes.STATUS.equals(e.getString(Envelopes.TYPE))) {
        item.setStatus(statusChange(e));
      }
      b.addItems(item);
    }
    return b.build();
  }
}
