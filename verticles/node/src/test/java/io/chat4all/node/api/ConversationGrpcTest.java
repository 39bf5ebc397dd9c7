package io.chat4all.node.api;

import static org.assertj.core.api.Assertions.assertThat;

import io.chat4all.proto.v1.AddConversationMembersRequest;
import io.chat4all.proto.v1.Conversation;
import io.chat4all.proto.v1.ConversationMember;
import io.chat4all.proto.v1.ConversationServiceGrpcClient;
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
import io.chat4all.testkit.BackendsExtension;
import io.chat4all.testkit.TestBackends;
import io.vertx.core.json.JsonObject;
import io.vertx.grpc.common.GrpcStatus;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** ConversationService over gRPC: the REST rules with the error model's status codes. */
@ExtendWith(BackendsExtension.class)
class ConversationGrpcTest {
  static Api api;

  @BeforeAll
  static void start(TestBackends.Isolation iso) {
    api = Api.start(iso);
  }

  @AfterAll
  static void stop() {
    api.close();
  }

  static Api.GrpcRes<CreateConversationReply> create(
      Api.User me, String type, String name, String... memberIds) {
    CreateConversationRequest.Builder b =
        CreateConversationRequest.newBuilder().setType(type).addAllMemberIds(List.of(memberIds));
    if (name != null) {
      b.setName(name);
    }
    return api.grpc(ConversationServiceGrpcClient.CreateConversation, b.build(), me.accessToken());
  }

  static Api.GrpcRes<Conversation> get(Api.User me, String id) {
    return api.grpc(
        ConversationServiceGrpcClient.GetConversation,
        GetConversationRequest.newBuilder().setConversationId(id).build(),
        me.accessToken());
  }

  static Map<String, String> roles(Conversation c) {
    return c.getMembersList().stream()
        .collect(Collectors.toMap(ConversationMember::getUserId, ConversationMember::getRole));
  }

  static void expectError(Api.GrpcRes<?> res, GrpcStatus status, String code) {
    assertThat(res.status()).as(res.message()).isEqualTo(status);
    assertThat(res.errorCode()).as(res.message()).isEqualTo(code);
    assertThat(res.message()).startsWith(code + ": ");
  }

  @Test
  void privateAndGroupConversationsWithMembersRolesAndLeaving() {
    Api.User alice = api.newUser("galice");
    Api.User bob = api.newUser("gbob");
    Api.User carol = api.newUser("gcarol");

    Api.GrpcRes<CreateConversationReply> first = create(alice, "private", null, bob.id());
    assertThat(first.status()).as(first.message()).isEqualTo(GrpcStatus.OK);
    assertThat(first.value().getCreated()).isTrue();
    Conversation priv = first.value().getConversation();
    assertThat(priv.getType()).isEqualTo("private");
    assertThat(priv.hasName()).isFalse();
    assertThat(roles(priv)).isEqualTo(Map.of(alice.id(), "owner", bob.id(), "member"));
    Api.GrpcRes<CreateConversationReply> again = create(bob, "private", null, alice.id());
    assertThat(again.value().getCreated()).isFalse();
    assertThat(again.value().getConversation().getConversationId())
        .isEqualTo(priv.getConversationId());

    Conversation group = create(alice, "group", "grpc group", bob.id()).value().getConversation();
    assertThat(group.getName()).isEqualTo("grpc group");
    assertThat(group.getMemberCount()).isEqualTo(2);

    // the same conversation over REST
    JsonObject rest =
        api.get("/v1/conversations/" + group.getConversationId(), bob.accessToken())
            .expect(200)
            .json();
    assertThat(rest.getString("name")).isEqualTo("grpc group");

    // members may not add; the owner may
    expectError(
        api.grpc(
            ConversationServiceGrpcClient.AddMembers,
            AddConversationMembersRequest.newBuilder()
                .setConversationId(group.getConversationId())
                .addMemberIds(carol.id())
                .build(),
            bob.accessToken()),
        GrpcStatus.PERMISSION_DENIED,
        "forbidden");
    Api.GrpcRes<Conversation> added =
        api.grpc(
            ConversationServiceGrpcClient.AddMembers,
            AddConversationMembersRequest.newBuilder()
                .setConversationId(group.getConversationId())
                .addMemberIds(carol.id())
                .build(),
            alice.accessToken());
    assertThat(added.status()).as(added.message()).isEqualTo(GrpcStatus.OK);
    assertThat(roles(added.value())).containsEntry(carol.id(), "member");

    // transfer ownership to bob
    Api.GrpcRes<Conversation> transferred =
        api.grpc(
            ConversationServiceGrpcClient.SetMemberRole,
            SetConversationMemberRoleRequest.newBuilder()
                .setConversationId(group.getConversationId())
                .setUserId(bob.id())
                .setRole("owner")
                .build(),
            alice.accessToken());
    assertThat(transferred.status()).as(transferred.message()).isEqualTo(GrpcStatus.OK);
    assertThat(roles(transferred.value()))
        .isEqualTo(Map.of(bob.id(), "owner", alice.id(), "admin", carol.id(), "member"));

    // the admin removes carol, who loses access at once
    assertThat(get(carol, group.getConversationId()).status()).isEqualTo(GrpcStatus.OK);
    Api.GrpcRes<RemoveConversationMemberReply> removed =
        api.grpc(
            ConversationServiceGrpcClient.RemoveMember,
            RemoveConversationMemberRequest.newBuilder()
                .setConversationId(group.getConversationId())
                .setUserId(carol.id())
                .build(),
            alice.accessToken());
    assertThat(removed.status()).as(removed.message()).isEqualTo(GrpcStatus.OK);
    expectError(get(carol, group.getConversationId()), GrpcStatus.NOT_FOUND, "not_found");

    // the owner leaves: the admin takes over
    Api.GrpcRes<LeaveConversationReply> left =
        api.grpc(
            ConversationServiceGrpcClient.LeaveConversation,
            LeaveConversationRequest.newBuilder()
                .setConversationId(group.getConversationId())
                .build(),
            bob.accessToken());
    assertThat(left.status()).as(left.message()).isEqualTo(GrpcStatus.OK);
    assertThat(roles(get(alice, group.getConversationId()).value()))
        .isEqualTo(Map.of(alice.id(), "owner"));
    expectError(
        api.grpc(
            ConversationServiceGrpcClient.LeaveConversation,
            LeaveConversationRequest.newBuilder()
                .setConversationId(priv.getConversationId())
                .build(),
            alice.accessToken()),
        GrpcStatus.ALREADY_EXISTS,
        "conflict");
  }

  @Test
  void listPagesThroughEveryConversation() {
    Api.User me = api.newUser("glist");
    List<String> ids = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      ids.add(create(me, "group", "g" + i).value().getConversation().getConversationId());
    }
    List<String> walked = new ArrayList<>();
    String token = "";
    int pages = 0;
    do {
      Api.GrpcRes<ListConversationsReply> page =
          api.grpc(
              ConversationServiceGrpcClient.ListConversations,
              ListConversationsRequest.newBuilder().setPageSize(2).setPageToken(token).build(),
              me.accessToken());
      assertThat(page.status()).as(page.message()).isEqualTo(GrpcStatus.OK);
      page.value().getConversationsList().forEach(c -> walked.add(c.getConversationId()));
      token = page.value().getNextPageToken();
      pages++;
    } while (!token.isEmpty() && pages < 10);
    assertThat(pages).isEqualTo(2);
    assertThat(walked).containsExactly(ids.get(2), ids.get(1), ids.get(0));

    expectError(
        api.grpc(
            ConversationServiceGrpcClient.ListConversations,
            ListConversationsRequest.newBuilder().setPageToken("garbage!").build(),
            me.accessToken()),
        GrpcStatus.INVALID_ARGUMENT,
        "validation_failed");
    expectError(
        api.grpc(
            ConversationServiceGrpcClient.ListConversations,
            ListConversationsRequest.newBuilder().setPageSize(1000).build(),
            me.accessToken()),
        GrpcStatus.INVALID_ARGUMENT,
        "validation_failed");
  }

  @Test
  void badRequestsUnknownIdsAndTokensGetTheModelsStatus() {
    Api.User me = api.newUser("gbad");
    Api.User other = api.newUser("gbadother");
    expectError(create(me, "", null, other.id()), GrpcStatus.INVALID_ARGUMENT, "validation_failed");
    expectError(
        create(me, "group", "", other.id()), GrpcStatus.INVALID_ARGUMENT, "validation_failed");
    expectError(
        create(me, "group", "n".repeat(101)), GrpcStatus.INVALID_ARGUMENT, "validation_failed");
    expectError(
        create(me, "group", "x", "not-a-uuid"), GrpcStatus.INVALID_ARGUMENT, "validation_failed");
    Api.GrpcRes<CreateConversationReply> unknown =
        create(me, "group", "x", UUID.randomUUID().toString());
    expectError(unknown, GrpcStatus.INVALID_ARGUMENT, "validation_failed");
    assertThat(new JsonObject(unknown.trailers().get("chat4all-error-details")).getString("field"))
        .isEqualTo("member_ids");
    expectError(
        create(me, "private", null, me.id()), GrpcStatus.INVALID_ARGUMENT, "validation_failed");

    expectError(get(me, UUID.randomUUID().toString()), GrpcStatus.NOT_FOUND, "not_found");
    expectError(get(me, "nope"), GrpcStatus.NOT_FOUND, "not_found");
    String foreign = create(other, "group", "theirs").value().getConversation().getConversationId();
    expectError(get(me, foreign), GrpcStatus.NOT_FOUND, "not_found");

    expectError(
        api.grpc(
            ConversationServiceGrpcClient.CreateConversation,
            CreateConversationRequest.newBuilder()
                .setType("private")
                .addMemberIds(other.id())
                .build(),
            null),
        GrpcStatus.UNAUTHENTICATED,
        "unauthenticated");
    expectError(
        api.grpc(
            ConversationServiceGrpcClient.ListConversations,
            ListConversationsRequest.getDefaultInstance(),
            "forged.token.value"),
        GrpcStatus.UNAUTHENTICATED,
        "token_invalid");

    // nothing was written by any of the failures
    Api.GrpcRes<ListConversationsReply> mine =
        api.grpc(
            ConversationServiceGrpcClient.ListConversations,
            ListConversationsRequest.getDefaultInstance(),
            me.accessToken());
    assertThat(mine.value().getConversationsList()).isEmpty();
  }
}
