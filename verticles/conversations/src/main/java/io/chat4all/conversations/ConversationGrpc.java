package io.chat4all.conversations;

import io.chat4all.codecs.Addresses;
import io.chat4all.codecs.ServiceBus;
import io.chat4all.codecs.Wire;
import io.chat4all.proto.v1.AddConversationMembersRequest;
import io.chat4all.proto.v1.Conversation;
import io.chat4all.proto.v1.ConversationMember;
import io.chat4all.proto.v1.ConversationServiceGrpcService;
import io.chat4all.proto.v1.CreateConversationReply;
import io.chat4all.proto.v1.CreateConversationRequest;
import io.chat4all.proto.v1.GetConversationRequest;
import io.chat4all.proto.v1.LeaveConversationReply;
import io.chat4all.proto.v1.LeaveConversationRequest;
import io.chat4all.proto.v1.ListConversationsReply;
import io.chat4all.proto.v1.ListConversationsRequest;
import io.chat4all.proto.v1.RemoveConversationMemberReply;
import io.chat4all.proto.v1.RemoveConversationMemberRequest;
import io.chat4all.proto.v1.SetConversationMemberRoleRequest;
import io.chat4all.web.GrpcModule;
import io.chat4all.web.GrpcUnary;
import io.chat4all.web.TokenVerifier;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.grpc.server.GrpcServer;
import io.vertx.grpc.server.Service;
import java.util.function.Function;

/**
 * gRPC edge of the conversation service ({@code chat4all.v1.ConversationService}): the same
 * validation, rules and error model as REST. Empty proto3 strings mean "absent".
 */
public class ConversationGrpc implements GrpcModule {
  private final Vertx vertx;
  private final TokenVerifier verifier;

  public ConversationGrpc(Vertx vertx, TokenVerifier verifier) {
    this.vertx = vertx;
    this.verifier = verifier;
  }

  private Future<JsonObject> call(String action, JsonObject body) {
    return ServiceBus.request(vertx, Addresses.CONVERSATIONS, action, body);
  }

  private Future<JsonObject> authed(
      GrpcUnary.Call c, String action, Function<JsonObject, JsonObject> request) {
    return GrpcUnary.authed(vertx, verifier, c, Addresses.CONVERSATIONS, action, request);
  }

  @Override
  public void register(GrpcServer server) {
    server.addService(
        Service.service(
                ConversationServiceGrpcService.SERVICE_NAME,
                ConversationServiceGrpcService.SERVICE_DESCRIPTOR)
            .bind(
                ConversationServiceGrpcService.CreateConversation,
                GrpcUnary.handler(
                    (CreateConversationRequest req, GrpcUnary.Call c) ->
                        authed(c, ConversationActions.CREATE, me -> create(req).mergeIn(me))
                            .map(
                                r ->
                                    CreateConversationReply.newBuilder()
                                        .setConversation(
                                            conversation(r.getJsonObject("conversation")))
                                        .setCreated(r.getBoolean("created"))
                                        .build())))
            .bind(
                ConversationServiceGrpcService.ListConversations,
                GrpcUnary.handler(
                    (ListConversationsRequest req, GrpcUnary.Call c) ->
                        authed(
                                c,
                                ConversationActions.LIST,
                                me ->
                                    me.put(
                                            "limit",
                                            req.getPageSize() == 0
                                                ? Wire.DEFAULT_LIMIT
                                                : pageSize(req.getPageSize()))
                                        .put(
                                            "cursor",
                                            ConversationRequests.cursor(
                                                req.getPageToken(), "page_token")))
                            .map(ConversationGrpc::page)))
            .bind(
                ConversationServiceGrpcService.GetConversation,
                GrpcUnary.handler(
                    (GetConversationRequest req, GrpcUnary.Call c) ->
                        authed(
                                c,
                                ConversationActions.GET,
                                me ->
                                    me.put(
                                        "conversation_id", conversationId(req.getConversationId())))
                            .map(ConversationGrpc::conversation)))
            .bind(
                ConversationServiceGrpcService.AddMembers,
                GrpcUnary.handler(
                    (AddConversationMembersRequest req, GrpcUnary.Call c) ->
                        authed(
                                c,
                                ConversationActions.ADD_MEMBERS,
                                me ->
                                    ConversationRequests.addMembers(
                                            new JsonObject()
                                                .put(
                                                    "member_ids",
                                                    new JsonArray(req.getMemberIdsList())))
                                        .mergeIn(me)
                                        .put(
                                            "conversation_id",
                                            conversationId(req.getConversationId())))
                            .map(ConversationGrpc::conversation)))
            .bind(
                ConversationServiceGrpcService.RemoveMember,
                GrpcUnary.handler(
                    (RemoveConversationMemberRequest req, GrpcUnary.Call c) ->
                        authed(
                                c,
                                ConversationActions.REMOVE_MEMBER,
                                me ->
                                    me.put(
                                            "conversation_id",
                                            conversationId(req.getConversationId()))
                                        .put(
                                            "member_id",
                                            ConversationRequests.idOrNotFound(
                                                req.getUserId(), "member")))
                            .map(x -> RemoveConversationMemberReply.getDefaultInstance())))
            .bind(
                ConversationServiceGrpcService.SetMemberRole,
                GrpcUnary.handler(
                    (SetConversationMemberRoleRequest req, GrpcUnary.Call c) ->
                        authed(
                                c,
                                ConversationActions.SET_ROLE,
                                me ->
                                    ConversationRequests.setRole(
                                            new JsonObject().put("role", req.getRole()))
                                        .mergeIn(me)
                                        .put(
                                            "conversation_id",
                                            conversationId(req.getConversationId()))
                                        .put(
                                            "member_id",
                                            ConversationRequests.idOrNotFound(
                                                req.getUserId(), "member")))
                            .map(ConversationGrpc::conversation)))
            .bind(
                ConversationServiceGrpcService.LeaveConversation,
                GrpcUnary.handler(
                    (LeaveConversationRequest req, GrpcUnary.Call c) ->
                        authed(
                                c,
                                ConversationActions.LEAVE,
                                me ->
                                    me.put(
                                        "conversation_id", conversationId(req.getConversationId())))
                            .map(x -> LeaveConversationReply.getDefaultInstance())))
            .build());
  }

  private static String conversationId(String raw) {
    return ConversationRequests.idOrNotFound(raw, "conversation");
  }

  private static int pageSize(int size) {
    return Wire.limit(Integer.toString(size));
  }

  /** The proto request as the JSON body REST would have sent, validated the same way. */
  static JsonObject create(CreateConversationRequest req) {
    JsonObject body = new JsonObject().put("member_ids", new JsonArray(req.getMemberIdsList()));
    if (!req.getType().isEmpty()) {
      body.put("type", req.getType());
    }
    if (!req.getName().isEmpty()) {
      body.put("name", req.getName());
    }
    return ConversationRequests.create(body);
  }

  static ListConversationsReply page(JsonObject page) {
    ListConversationsReply.Builder b = ListConversationsReply.newBuilder();
    page.getJsonArray("items").forEach(i -> b.addConversations(conversation((JsonObject) i)));
    String next = page.getString("next_cursor");
    if (next != null) {
      b.setNextPageToken(next);
    }
    return b.build();
  }

  static Conversation conversation(JsonObject j) {
    Conversation.Builder b =
        Conversation.newBuilder()
            .setConversationId(j.getString("conversation_id"))
            .setType(j.getString("type"))
            .setCreatedBy(j.getString("created_by"))
            .setCreatedAt(j.getString("created_at"))
            .setUpdatedAt(j.getString("updated_at"))
            .setLastSeq(j.getLong("last_seq", 0L))
            .setUnreadCount(j.getLong("unread_count", 0L))
            .setMemberCount(j.getInteger("member_count", 0));
    if (j.getString("name") != null) {
      b.setName(j.getString("name"));
    }
    if (j.getString("last_message_id") != null) {
      b.setLastMessageId(j.getString("last_message_id"));
    }
    if (j.getString("last_message_at") != null) {
      b.setLastMessageAt(j.getString("last_message_at"));
    }
    if (j.getString("last_message_snippet") != null) {
      b.setLastMessageSnippet(j.getString("last_message_snippet"));
    }
    for (Object o : j.getJsonArray("members", new JsonArray())) {
      JsonObject m = (JsonObject) o;
      b.addMembers(
          ConversationMember.newBuilder()
              .setUserId(m.getString("user_id"))
              .setUsername(m.getString("username"))
              .setRole(m.getString("role"))
              .setJoinedAt(m.getString("joined_at")));
    }
    return b.build();
  }
}
