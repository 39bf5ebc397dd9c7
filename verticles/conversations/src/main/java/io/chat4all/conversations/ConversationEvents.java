package io.chat4all.conversations;

import io.chat4all.codecs.Outbox;
import io.chat4all.codecs.Topics;
import io.chat4all.codecs.Wire;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.SqlConnection;
import io.vertx.sqlclient.Tuple;
import java.time.Instant;
import java.util.UUID;

/** The conversation events, written to the outbox under the node's topic prefix. */
final class ConversationEvents {
  private final String topicPrefix;

  ConversationEvents(String topicPrefix) {
    this.topicPrefix = topicPrefix;
  }

  /** The event into the outbox, in the transaction of {@code conn} (published after the commit). */
  Future<Void> record(SqlConnection conn, String topic, JsonObject event) {
    return conn.preparedQuery(Outbox.INSERT_SQL)
        .execute(
            Tuple.of(
                Topics.name(topicPrefix, topic),
                event.getString("conversation_id"),
                event.encode()))
        .mapEmpty();
  }

  static JsonObject event(String name, String conversationId, UUID actor) {
    return new JsonObject()
        .put(Outbox.EVENT_ID, UUID.randomUUID().toString())
        .put("event", name)
        .put("conversation_id", conversationId)
        .put("actor_id", actor.toString())
        .put("at", Wire.timestamp(Instant.now()));
  }
}
