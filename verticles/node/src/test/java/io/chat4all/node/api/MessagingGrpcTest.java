package io.chat4all.node.api;

import static org.assertj.core.api.Assertions.assertThat;

import io.chat4all.proto.v1.ChatMessage;
import io.chat4all.proto.v1.DeleteMessageRequest;
import io.chat4all.proto.v1.EditMessageRequest;
import io.chat4all.proto.v1.GetMessageRequest;
import io.chat4all.proto.v1.ListMessagesReply;
import io.chat4all.proto.v1.ListMessagesRequest;
import io.chat4all.proto.v1.MarkMessageRequest;
import io.chat4all.proto.v1.MessagePayload;
import io.chat4all.proto.v1.MessageServiceGrpcClient;
import io.chat4all.proto.v1.MessageStatusChange;
import io.chat4all.proto.v1.SendMessageRequest;
import io.chat4all.proto.v1.SyncReply;
import io.chat4all.proto.v1.SyncRequest;
import io.chat4all.testkit.Await;
import io.chat4all.testkit.BackendsExtension;
import io.chat4all.testkit.TestBackends;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.grpc.common.GrpcStatus;
import java.time.Duration;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** MessageService over gRPC: the REST message path's rules, status codes and error trailers. */
@ExtendWith(BackendsExtension.class)
class MessagingGrpcTest {
  static Api api;

  @BeforeAll
  static void start(TestBackends.Isolation iso) {
    api = Api.start(iso);
  }

  @AfterAll
  static void stop() {
    api.close();
  }

  static String privateChat(Api.User a, Api.User b) {
    return api.post(
            "/v1/conversations",
            a.accessToken(),
            new JsonObject().put("type", "private").put("member_ids", new JsonArray().add(b.id())))
        .json()
        .getString("conversation_id");
  }

  static SendMessageRequest text(String conv, String id, String text) {
    return SendMessageRequest.newBuilder()
        .setConversationId(conv)
        .setMessageId(id)
        .setPayload(MessagePayload.newBuilder().setType("text").setText(text))
        .build();
  }

  static ListMessagesReply history(Api.User u, String conv) {
    Api.GrpcRes<ListMessagesReply> r =
        api.grpc(
            MessageServiceGrpcClient.ListMessages,
            ListMessagesRequest.newBuilder().setConversationId(conv).setAfterSeq(0).build(),
            u.accessToken());
    assertThat(r.status()).as(r.message()).isEqualTo(GrpcStatus.OK);
    return r.value();
  }

  static <T> void expectError(Api.GrpcRes<T> r, GrpcStatus status, String code) {
    assertThat(r.status()).as(r.message()).isEqualTo(status);
    assertThat(r.errorCode()).isEqualTo(code);
    assertThat(r.message()).startsWith(code + ": ");
  }

  @Test
  void sendListMarkEditDeleteAndSync() {
    Api.User a = api.newUser("gsend");
    Api.User b = api.newUser("grecv");
    String conv = privateChat(a, b);
    String since =
        api.grpc(MessageServiceGrpcClient.Sync, SyncRequest.getDefaultInstance(), b.accessToken())
            .value()
            .getNextCursor();
    assertThat(since).isNotEmpty();

    String id = UUID.randomUUID().toString();
    SendMessageRequest send =
        text(conv, id, "olá 👋").toBuilder()
            .setPayload(
                MessagePayload.newBuilder()
                    .setType("text")
                    .setText("olá 👋")
                    .setMetadataJson("{\"n\":1}"))
            .build();
    Api.GrpcRes<ChatMessage> accepted =
        api.grpc(MessageServiceGrpcClient.SendMessage, send, a.accessToken());
    assertThat(accepted.status()).as(accepted.message()).isEqualTo(GrpcStatus.OK);
    ChatMessage m = accepted.value();
    assertThat(m.getStatus()).isEqualTo("sent");
    assertThat(m.getMessageId()).isEqualTo(id);
    assertThat(m.getFromUserId()).isEqualTo(a.id());
    assertThat(m.getSequenceNumber()).isZero();
    assertThat(new JsonObject(m.getPayload().getMetadataJson()))
        .isEqualTo(new JsonObject("{\"n\":1}"));

    // the same key and body: the same reply; another body: idempotency_conflict
    assertThat(api.grpc(MessageServiceGrpcClient.SendMessage, send, a.accessToken()).value())
        .isEqualTo(m);
    expectError(
        api.grpc(MessageServiceGrpcClient.SendMessage, text(conv, id, "other"), a.accessToken()),
        GrpcStatus.ALREADY_EXISTS,
        "idempotency_conflict");

    Await.until(
        "numbered in history", Duration.ofSeconds(60), () -> history(b, conv).getItemsCount() == 1);
    ListMessagesReply page = history(b, conv);
    ChatMessage stored = page.getItems(0);
    assertThat(stored.getSequenceNumber()).isEqualTo(1L);
    assertThat(page.getLastSeq()).isEqualTo(1L);
    assertThat(stored.getPayload().getText()).isEqualTo("olá 👋");
    assertThat(
            api.grpc(
                    MessageServiceGrpcClient.GetMessage,
                    GetMessageRequest.newBuilder().setMessageId(id).build(),
                    b.accessToken())
                .value()
                .getSequenceNumber())
        .isEqualTo(1L);

    MarkMessageRequest mark = MarkMessageRequest.newBuilder().setMessageId(id).build();
    Api.GrpcRes<MessageStatusChange> delivered =
        api.grpc(MessageServiceGrpcClient.MarkDelivered, mark, b.accessToken());
    assertThat(delivered.status()).as(delivered.message()).isEqualTo(GrpcStatus.OK);
    assertThat(delivered.value().getStatus()).isEqualTo("delivered");
    Api.GrpcRes<MessageStatusChange> read =
        api.grpc(MessageServiceGrpcClient.MarkRead, mark, b.accessToken());
    assertThat(read.value().getStatus()).isEqualTo("read");
    assertThat(read.value().getUserId()).isEqualTo(b.id());
    // the author does not mark their own message
    assertThat(api.grpc(MessageServiceGrpcClient.MarkRead, mark, a.accessToken()).status())
        .isEqualTo(GrpcStatus.ALREADY_EXISTS);
    Await.until(
        "read status stored",
        Duration.ofSeconds(60),
        () ->
            "read"
                .equals(
                    api.grpc(
                            MessageServiceGrpcClient.GetMessage,
                            GetMessageRequest.newBuilder().setMessageId(id).build(),
                            a.accessToken())
                        .value()
                        .getRecipientStatusOrDefault(
                            b.id(), io.chat4all.proto.v1.RecipientStatus.getDefaultInstance())
                        .getStatus()));

    // edit and delete by the author only
    expectError(
        api.grpc(
            MessageServiceGrpcClient.EditMessage,
            EditMessageRequest.newBuilder().setMessageId(id).setText("mine?").build(),
            b.accessToken()),
        GrpcStatus.PERMISSION_DENIED,
        "forbidden");
    Api.GrpcRes<ChatMessage> edited =
        api.grpc(
            MessageServiceGrpcClient.EditMessage,
            EditMessageRequest.newBuilder().setMessageId(id).setText("edited").build(),
            a.accessToken());
    assertThat(edited.status()).as(edited.message()).isEqualTo(GrpcStatus.OK);
    assertThat(edited.value().getIsEdited()).isTrue();
    assertThat(edited.value().getPayload().getText()).isEqualTo("edited");
    Api.GrpcRes<ChatMessage> deleted =
        api.grpc(
            MessageServiceGrpcClient.DeleteMessage,
            DeleteMessageRequest.newBuilder().setMessageId(id).build(),
            a.accessToken());
    assertThat(deleted.value().getIsDeleted()).isTrue();
    assertThat(deleted.value().getSequenceNumber()).isEqualTo(1L);

    // b's change feed has the message, its status changes and the updates
    Await.until(
        "sync shows the delete",
        Duration.ofSeconds(60),
        () -> {
          SyncReply s =
              api.grpc(
                      MessageServiceGrpcClient.Sync,
                      SyncRequest.newBuilder().setCursor(since).setLimit(200).build(),
                      b.accessToken())
                  .value();
          return s.getItemsList().stream()
              .anyMatch(
                  i -> "message_updated".equals(i.getType()) && i.getMessage().getIsDeleted());
        });
    SyncReply feed =
        api.grpc(
                MessageServiceGrpcClient.Sync,
                SyncRequest.newBuilder().setCursor(since).setLimit(200).build(),
                b.accessToken())
            .value();
    assertThat(feed.getItems(0).getType()).isEqualTo("message");
    assertThat(feed.getItems(0).getMessage().getMessageId()).isEqualTo(id);
    assertThat(feed.getItemsList())
        .anyMatch(i -> "status".equals(i.getType()) && "read".equals(i.getStatus().getStatus()));
    assertThat(feed.getNextCursor()).isNotEqualTo(since);
  }

  @Test
  void errorsMatchTheRestModel() {
    Api.User a = api.newUser("gerr");
    Api.User b = api.newUser("gerr");
    Api.User stranger = api.newUser("gstr");
    String conv = privateChat(a, b);
    String id = UUID.randomUUID().toString();

    expectError(
        api.grpc(MessageServiceGrpcClient.SendMessage, text(conv, id, "hi"), null),
        GrpcStatus.UNAUTHENTICATED,
        "unauthenticated");
    expectError(
        api.grpc(
            MessageServiceGrpcClient.ListMessages,
            ListMessagesRequest.newBuilder().setConversationId(conv).build(),
            null),
        GrpcStatus.UNAUTHENTICATED,
        "unauthenticated");

    Api.GrpcRes<ChatMessage> empty =
        api.grpc(MessageServiceGrpcClient.SendMessage, text(conv, id, ""), a.accessToken());
    expectError(empty, GrpcStatus.INVALID_ARGUMENT, "validation_failed");
    assertThat(empty.trailers().get("chat4all-error-details")).contains("payload.text");
    SendMessageRequest sticker =
        text(conv, id, "hi").toBuilder()
            .setPayload(MessagePayload.newBuilder().setType("sticker").setText("hi"))
            .build();
    expectError(
        api.grpc(MessageServiceGrpcClient.SendMessage, sticker, a.accessToken()),
        GrpcStatus.INVALID_ARGUMENT,
        "validation_failed");
    expectError(
        api.grpc(
            MessageServiceGrpcClient.SendMessage, text(conv, "not-a-uuid", "hi"), a.accessToken()),
        GrpcStatus.INVALID_ARGUMENT,
        "validation_failed");
    SendMessageRequest badMetadata =
        text(conv, id, "hi").toBuilder()
            .setPayload(
                MessagePayload.newBuilder().setType("text").setText("hi").setMetadataJson("[1]"))
            .build();
    expectError(
        api.grpc(MessageServiceGrpcClient.SendMessage, badMetadata, a.accessToken()),
        GrpcStatus.INVALID_ARGUMENT,
        "validation_failed");
    expectError(
        api.grpc(
            MessageServiceGrpcClient.SendMessage,
            text(conv, id, "hi").toBuilder().addChannels("fax").build(),
            a.accessToken()),
        GrpcStatus.INVALID_ARGUMENT,
        "validation_failed");
    expectError(
        api.grpc(
            MessageServiceGrpcClient.ListMessages,
            ListMessagesRequest.newBuilder().setConversationId(conv).setLimit(500).build(),
            a.accessToken()),
        GrpcStatus.INVALID_ARGUMENT,
        "validation_failed");
    expectError(
        api.grpc(
            MessageServiceGrpcClient.Sync,
            SyncRequest.newBuilder().setCursor("bogus!").build(),
            a.accessToken()),
        GrpcStatus.INVALID_ARGUMENT,
        "validation_failed");

    // a stranger sees neither the conversation nor its messages
    expectError(
        api.grpc(
            MessageServiceGrpcClient.SendMessage,
            text(conv, UUID.randomUUID().toString(), "hi"),
            stranger.accessToken()),
        GrpcStatus.NOT_FOUND,
        "not_found");
    assertThat(
            api.grpc(MessageServiceGrpcClient.SendMessage, text(conv, id, "hi"), a.accessToken())
                .status())
        .isEqualTo(GrpcStatus.OK);
    Await.until("numbered", Duration.ofSeconds(60), () -> history(a, conv).getItemsCount() == 1);
    expectError(
        api.grpc(
            MessageServiceGrpcClient.ListMessages,
            ListMessagesRequest.newBuilder().setConversationId(conv).build(),
            stranger.accessToken()),
        GrpcStatus.NOT_FOUND,
        "not_found");
    expectError(
        api.grpc(
            MessageServiceGrpcClient.GetMessage,
            GetMessageRequest.newBuilder().setMessageId(id).build(),
            stranger.accessToken()),
        GrpcStatus.NOT_FOUND,
        "not_found");
    expectError(
        api.grpc(
            MessageServiceGrpcClient.MarkRead,
            MarkMessageRequest.newBuilder().setMessageId(id).build(),
            stranger.accessToken()),
        GrpcStatus.NOT_FOUND,
        "not_found");
    // malformed ids are simply not found, as in REST paths
    expectError(
        api.grpc(
            MessageServiceGrpcClient.GetMessage,
            GetMessageRequest.newBuilder().setMessageId("xyz").build(),
            a.accessToken()),
        GrpcStatus.NOT_FOUND,
        "not_found");
    expectError(
        api.grpc(
            MessageServiceGrpcClient.ListMessages,
            ListMessagesRequest.newBuilder().setConversationId("xyz").build(),
            a.accessToken()),
        GrpcStatus.NOT_FOUND,
        "not_found");
  }

  @Test
  void aReplyToAMessageOfAnotherConversationOrNoneIsNotFound() {
    Api.User a = api.newUser("grp");
    Api.User b = api.newUser("grp");
    String conv = privateChat(a, b);
    String other = privateChat(a, api.newUser("grp"));
    String elsewhere = UUID.randomUUID().toString();
    assertThat(
            api.grpc(
                    MessageServiceGrpcClient.SendMessage,
                    text(other, elsewhere, "elsewhere"),
                    a.accessToken())
                .status())
        .isEqualTo(GrpcStatus.OK);
    Await.until("numbered", Duration.ofSeconds(60), () -> history(a, other).getItemsCount() == 1);
    for (String target : java.util.List.of(elsewhere, UUID.randomUUID().toString())) {
      Api.GrpcRes<ChatMessage> r =
          api.grpc(
              MessageServiceGrpcClient.SendMessage,
              text(conv, UUID.randomUUID().toString(), "re").toBuilder()
                  .setReplyToMessageId(target)
                  .build(),
              a.accessToken());
      expectError(r, GrpcStatus.NOT_FOUND, "not_found");
      assertThat(new JsonObject(r.trailers().get("chat4all-error-details")).getString("field"))
          .isEqualTo("reply_to_message_id");
    }
    assertThat(history(a, conv).getItemsCount()).isZero();
  }
}
