package io.chat4all.realtime;

import io.chat4all.codecs.Envelopes;
import io.chat4all.codecs.Wire;
import io.chat4all.messaging.MessageGrpc;
import io.chat4all.proto.v1.Event;
import io.chat4all.proto.v1.Heartbeat;
import io.chat4all.proto.v1.PresenceEvent;
import io.chat4all.proto.v1.Ready;
import io.chat4all.proto.v1.TypingEvent;
import io.chat4all.web.ProtoJson;
import io.vertx.core.json.JsonObject;
import java.time.Instant;

/** The WebSocket protocol's envelopes as {@code chat4all.v1.Event}s of the gRPC stream. */
final class GrpcEvents {
  static final String READY = "ready";
  static final String HEARTBEAT = "heartbeat";

  private GrpcEvents() {}

  static Event ready(String userId, String cursor) {
    JsonObject json =
        new JsonObject().put(Envelopes.TYPE, READY).put("user_id", userId).put("cursor", cursor);
    return Event.newBuilder()
        .setType(READY)
        .setCursor(cursor == null ? "" : cursor)
        .setReady(Ready.newBuilder().setUserId(userId))
        .setJson(json.encode())
        .build();
  }

  static Event heartbeat() {
    return Event.newBuilder()
        .setType(HEARTBEAT)
        .setHeartbeat(Heartbeat.newBuilder().setAt(Wire.timestamp(Instant.now())))
        .build();
  }

  static Event of(JsonObject envelope) {
    String type = ProtoJson.str(envelope, Envelopes.TYPE);
    Event.Builder b =
        Event.newBuilder()
            .setType(type)
            .setCursor(ProtoJson.str(envelope, Envelopes.CURSOR))
            .setJson(envelope.encode());
    switch (type) {
      case Envelopes.MESSAGE, Envelopes.MESSAGE_UPDATED -> {
        JsonObject m = envelope.getJsonObject("message");
        if (m != null) {
          b.setMessage(MessageGrpc.message(m));
        }
      }
      case Envelopes.STATUS -> b.setStatus(MessageGrpc.statusChange(envelope));
      case Envelopes.TYPING ->
          b.setTyping(
              TypingEvent.newBuilder()
                  .setConversationId(ProtoJson.str(envelope, "conversation_id"))
                  .setUserId(ProtoJson.str(envelope, "user_id"))
                  .setAt(ProtoJson.str(envelope, "at")));
      case Envelopes.PRESENCE -> b.setPresence(presence(envelope));
      default -> {
        // resync_required and future types: type, cursor and json
      }
    }
    return b.build();
  }

  static PresenceEvent presence(JsonObject j) {
    return PresenceEvent.newBuilder()
        .setUserId(ProtoJson.str(j, "user_id"))
        .setStatus(ProtoJson.str(j, "status"))
        .setLastSeen(ProtoJson.str(j, "last_seen"))
        .build();
  }
}
