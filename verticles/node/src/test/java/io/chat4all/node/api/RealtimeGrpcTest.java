package io.chat4all.node.api;

import static org.assertj.core.api.Assertions.assertThat;

import io.chat4all.proto.v1.ChatMessage;
import io.chat4all.proto.v1.EditMessageRequest;
import io.chat4all.proto.v1.Event;
import io.chat4all.proto.v1.GetPresenceReply;
import io.chat4all.proto.v1.GetPresenceRequest;
import io.chat4all.proto.v1.HeartbeatReply;
import io.chat4all.proto.v1.HeartbeatRequest;
import io.chat4all.proto.v1.MarkMessageRequest;
import io.chat4all.proto.v1.MessagePayload;
import io.chat4all.proto.v1.MessageServiceGrpcClient;
import io.chat4all.proto.v1.RealtimeServiceGrpcClient;
import io.chat4all.proto.v1.SendMessageRequest;
import io.chat4all.proto.v1.TypingReply;
import io.chat4all.proto.v1.TypingRequest;
import io.chat4all.testkit.Await;
import io.chat4all.testkit.BackendsExtension;
import io.chat4all.testkit.TestBackends;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.auth.JWTOptions;
import io.vertx.ext.auth.PubSecKeyOptions;
import io.vertx.ext.auth.jwt.JWTAuth;
import io.vertx.ext.auth.jwt.JWTAuthOptions;
import io.vertx.grpc.client.GrpcClient;
import io.vertx.grpc.common.GrpcStatus;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * {@code RealtimeService} over gRPC against a real node: the Subscribe stream (live events, resume
 * from a cursor, heartbeats, the end at token expiry and logout) and the typing and presence calls.
 */
@ExtendWith(BackendsExtension.class)
class RealtimeGrpcTest {
  static final Duration WAIT = GrpcSubscription.WAIT;

  static Api api;
  static String secret;
  static Vertx client;
  static GrpcClient grpc;

  @BeforeAll
  static void start(TestBackends.Isolation iso) {
    secret = iso.nodeConfig().getJsonObject("auth").getString("jwt_secret");
    api =
        Api.start(
            iso, new JsonObject().put("realtime", new JsonObject().put("ping_interval_ms", 500)));
    client = Vertx.vertx();
    grpc = GrpcClient.client(client);
  }

  @AfterAll
  static void stop() {
    Await.result(client.close());
    api.close();
  }

  static GrpcSubscription subscribe(Api.User u, String cursor) {
    return GrpcSubscription.ready(grpc, api.node().grpcPort(), u.accessToken(), cursor);
  }

  static String send(Api.User from, String conv, String text) {
    String id = UUID.randomUUID().toString();
    Api.GrpcRes<ChatMessage> r =
        api.grpc(
            MessageServiceGrpcClient.SendMessage,
            SendMessageRequest.newBuilder()
                .setConversationId(conv)
                .setMessageId(id)
                .setPayload(MessagePayload.newBuilder().setType("text").setText(text))
                .build(),
            from.accessToken());
    assertThat(r.status()).as(r.message()).isEqualTo(GrpcStatus.OK);
    return id;
  }

  static <T> void expectError(Api.GrpcRes<T> r, GrpcStatus status, String code) {
    assertThat(r.status()).as(r.message()).isEqualTo(status);
    assertThat(r.errorCode()).isEqualTo(code);
    assertThat(r.message()).startsWith(code + ": ");
  }

  @Test
  void liveMessageEditStatusTypingAndPresenceReachTheStream() {
    Api.User a = api.newUser("gsa");
    Api.User b = api.newUser("gsb");
    String conv = api.privateChat(a, b);
    GrpcSubscription bob = subscribe(b, null);
    assertThat(bob.events.get(0).getReady().getUserId()).isEqualTo(b.id());
    GrpcSubscription alice = subscribe(a, null);
    try {
      // alice's stream makes her online for the people she shares a conversation with
      Event online =
          bob.await(
              "alice online",
              e ->
                  "presence".equals(e.getType())
                      && a.id().equals(e.getPresence().getUserId())
                      && "online".equals(e.getPresence().getStatus()));
      assertThat(online.getCursor()).isEmpty();
      Api.GrpcRes<GetPresenceReply> seen =
          api.grpc(
              RealtimeServiceGrpcClient.GetPresence,
              GetPresenceRequest.newBuilder()
                  .addUserIds(a.id())
                  .addUserIds(UUID.randomUUID().toString())
                  .build(),
              b.accessToken());
      assertThat(seen.status()).as(seen.message()).isEqualTo(GrpcStatus.OK);
      assertThat(seen.value().getItemsList()).hasSize(1);
      assertThat(seen.value().getItems(0).getStatus()).isEqualTo("online");

      // a message, live, with the typed fields and the envelope's JSON
      String id = send(a, conv, "hello over grpc");
      Event m = bob.message(id);
      assertThat(m.getCursor()).isNotEmpty();
      assertThat(m.getMessage().getPayload().getText()).isEqualTo("hello over grpc");
      assertThat(m.getMessage().getFromUserId()).isEqualTo(a.id());
      assertThat(m.getMessage().getSequenceNumber()).isEqualTo(1L);
      assertThat(new JsonObject(m.getJson()).getJsonObject("message").getString("message_id"))
          .isEqualTo(id);
      alice.message(id); // the sender's own message too

      // an edit
      Api.GrpcRes<ChatMessage> edited =
          api.grpc(
              MessageServiceGrpcClient.EditMessage,
              EditMessageRequest.newBuilder().setMessageId(id).setText("hello, edited").build(),
              a.accessToken());
      assertThat(edited.status()).as(edited.message()).isEqualTo(GrpcStatus.OK);
      Event updated =
          bob.await(
              "edit",
              e ->
                  "message_updated".equals(e.getType())
                      && id.equals(e.getMessage().getMessageId()));
      assertThat(updated.getMessage().getPayload().getText()).isEqualTo("hello, edited");
      assertThat(updated.getMessage().getIsEdited()).isTrue();

      // bob reads it: alice gets the status
      Api.GrpcRes<?> read =
          api.grpc(
              MessageServiceGrpcClient.MarkRead,
              MarkMessageRequest.newBuilder().setMessageId(id).build(),
              b.accessToken());
      assertThat(read.status()).as(read.message()).isEqualTo(GrpcStatus.OK);
      Event status =
          alice.await(
              "status",
              e -> "status".equals(e.getType()) && id.equals(e.getStatus().getMessageId()));
      assertThat(status.getStatus().getStatus()).isEqualTo("read");
      assertThat(status.getStatus().getUserId()).isEqualTo(b.id());
      assertThat(status.getCursor()).isNotEmpty();

      // typing reaches the other member only; a repeat within the interval is merged
      TypingRequest typing = TypingRequest.newBuilder().setConversationId(conv).build();
      Api.GrpcRes<TypingReply> t =
          api.grpc(RealtimeServiceGrpcClient.SendTyping, typing, a.accessToken());
      assertThat(t.status()).as(t.message()).isEqualTo(GrpcStatus.OK);
      assertThat(t.value().getMerged()).isFalse();
      Event typed = bob.await("typing", e -> "typing".equals(e.getType()));
      assertThat(typed.getTyping().getUserId()).isEqualTo(a.id());
      assertThat(typed.getTyping().getConversationId()).isEqualTo(conv);
      Api.GrpcRes<TypingReply> again =
          api.grpc(RealtimeServiceGrpcClient.SendTyping, typing, a.accessToken());
      assertThat(again.value().getMerged()).isTrue();
      assertThat(again.value().getAt()).isEqualTo(t.value().getAt());
      bob.awaitHeartbeat();
      assertThat(bob.events.stream().filter(e -> "typing".equals(e.getType()))).hasSize(1);
      alice.awaitHeartbeat();
      assertThat(alice.types()).doesNotContain("typing");

      // keepalive: heartbeats keep coming on an idle stream
      Event beat = bob.await("heartbeat", e -> "heartbeat".equals(e.getType()));
      assertThat(beat.getHeartbeat().getAt()).isNotEmpty();
    } finally {
      alice.cancel();
    }
    // alice's stream went away: she goes offline
    bob.await(
        "alice offline",
        e ->
            "presence".equals(e.getType())
                && a.id().equals(e.getPresence().getUserId())
                && "offline".equals(e.getPresence().getStatus()));
    // the presence heartbeat call (an HTTP-style entry: it would keep alice online, so bob's)
    Api.GrpcRes<HeartbeatReply> hb =
        api.grpc(
            RealtimeServiceGrpcClient.Heartbeat,
            HeartbeatRequest.getDefaultInstance(),
            b.accessToken());
    assertThat(hb.status()).as(hb.message()).isEqualTo(GrpcStatus.OK);
    bob.cancel();
  }

  @Test
  void resumingWithTheLastCursorReplaysExactlyWhatWasMissedThenGoesLive() {
    Api.User a = api.newUser("gra");
    Api.User b = api.newUser("grb");
    String conv = api.privateChat(a, b);
    GrpcSubscription first = subscribe(b, null);
    String m0 = send(a, conv, "m0");
    String cursor = first.message(m0).getCursor();
    first.cancel();

    List<String> missed = new ArrayList<>();
    for (int i = 1; i <= 3; i++) {
      missed.add(send(a, conv, "m" + i));
    }
    Await.until(
        "history of 4",
        WAIT,
        () ->
            api.get("/v1/conversations/" + conv + "/messages?after_seq=0", b.accessToken())
                    .json()
                    .getJsonArray("items")
                    .size()
                >= 4);

    GrpcSubscription again = subscribe(b, cursor);
    try {
      assertThat(again.events.get(0).getCursor()).isEqualTo(cursor);
      again.message(missed.get(2));
      String live = send(a, conv, "live");
      again.message(live);
      again.awaitHeartbeat();
      List<String> expected = new ArrayList<>(missed);
      expected.add(live);
      assertThat(again.messageIds()).containsExactlyElementsOf(expected);
      assertThat(
              again.events.stream()
                  .filter(e -> "message".equals(e.getType()))
                  .map(e -> e.getMessage().getSequenceNumber()))
          .containsExactly(2L, 3L, 4L, 5L);
    } finally {
      again.cancel();
    }
  }

  @Test
  void aBadCursorOrNoTokenIsRefusedAtOnce() {
    Api.User a = api.newUser("gbc");
    GrpcSubscription bad =
        GrpcSubscription.open(grpc, api.node().grpcPort(), a.accessToken(), "zz!");
    assertThat(bad.awaitEnd()).as(bad.statusMessage()).isEqualTo(GrpcStatus.INVALID_ARGUMENT);
    assertThat(bad.errorCode()).isEqualTo("validation_failed");
    assertThat(new JsonObject(bad.errorDetails()).getString("field")).isEqualTo("cursor");
    assertThat(bad.events).isEmpty();

    GrpcSubscription anonymous = GrpcSubscription.open(grpc, api.node().grpcPort(), null, null);
    assertThat(anonymous.awaitEnd()).isEqualTo(GrpcStatus.UNAUTHENTICATED);
    assertThat(anonymous.errorCode()).isEqualTo("unauthenticated");

    GrpcSubscription forged =
        GrpcSubscription.open(grpc, api.node().grpcPort(), "not.a.token", null);
    assertThat(forged.awaitEnd()).isEqualTo(GrpcStatus.UNAUTHENTICATED);
    assertThat(forged.errorCode()).isEqualTo("token_invalid");

    // the unary calls: the error model as well
    Api.User other = api.newUser("gbo");
    Api.User third = api.newUser("gbt");
    String theirs = api.privateChat(other, third);
    expectError(
        api.grpc(
            RealtimeServiceGrpcClient.SendTyping,
            TypingRequest.newBuilder().setConversationId(theirs).build(),
            a.accessToken()),
        GrpcStatus.NOT_FOUND,
        "not_found");
    expectError(
        api.grpc(
            RealtimeServiceGrpcClient.SendTyping,
            TypingRequest.newBuilder().setConversationId("nope").build(),
            a.accessToken()),
        GrpcStatus.INVALID_ARGUMENT,
        "validation_failed");
    expectError(
        api.grpc(
            RealtimeServiceGrpcClient.GetPresence,
            GetPresenceRequest.getDefaultInstance(),
            a.accessToken()),
        GrpcStatus.INVALID_ARGUMENT,
        "validation_failed");
    expectError(
        api.grpc(RealtimeServiceGrpcClient.Heartbeat, HeartbeatRequest.getDefaultInstance(), null),
        GrpcStatus.UNAUTHENTICATED,
        "unauthenticated");
  }

  @Test
  void theStreamEndsWhenItsTokenExpires() {
    Api.User a = api.newUser("gex");
    long exp = System.currentTimeMillis() / 1000 + 3;
    GrpcSubscription s =
        GrpcSubscription.ready(grpc, api.node().grpcPort(), shortLived(a, exp), null);
    assertThat(s.awaitEnd()).as(s.statusMessage()).isEqualTo(GrpcStatus.UNAUTHENTICATED);
    assertThat(s.errorCode()).isEqualTo("token_expired");
    assertThat(s.statusMessage()).startsWith("token_expired: ");
    assertThat(System.currentTimeMillis()).isGreaterThanOrEqualTo(exp * 1000 - 1000);
  }

  @Test
  void logoutEndsTheStreamsOfTheLoginAndNewOnesAreRefused() {
    Api.User a = api.newUser("glo");
    GrpcSubscription s = subscribe(a, null);
    GrpcSubscription other = subscribe(a, null);
    api.post("/v1/auth/logout", a.accessToken(), null).expect(204);
    assertThat(s.awaitEnd()).as(s.statusMessage()).isEqualTo(GrpcStatus.UNAUTHENTICATED);
    assertThat(s.errorCode()).isEqualTo("token_revoked");
    assertThat(other.awaitEnd()).isEqualTo(GrpcStatus.UNAUTHENTICATED);
    assertThat(other.errorCode()).isEqualTo("token_revoked");

    GrpcSubscription late =
        GrpcSubscription.open(grpc, api.node().grpcPort(), a.accessToken(), null);
    assertThat(late.awaitEnd()).isEqualTo(GrpcStatus.UNAUTHENTICATED);
    assertThat(late.errorCode()).isEqualTo("token_revoked");
    assertThat(late.events).isEmpty();
  }

  /** An access token of {@code u} signed with the node's key that expires at {@code exp}. */
  static String shortLived(Api.User u, long exp) {
    JWTAuth jwt =
        JWTAuth.create(
            client,
            new JWTAuthOptions()
                .addPubSecKey(new PubSecKeyOptions().setAlgorithm("HS256").setBuffer(secret)));
    return jwt.generateToken(
        new JsonObject()
            .put("sub", u.id())
            .put("username", u.username())
            .put("jti", UUID.randomUUID().toString())
            .put("typ", "access")
            .put("iat", exp - 60)
            .put("exp", exp),
        new JWTOptions().setIssuer("chat4all"));
  }
}
