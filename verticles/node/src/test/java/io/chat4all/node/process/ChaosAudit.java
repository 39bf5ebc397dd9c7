package io.chat4all.node.process;

import io.chat4all.testkit.DeliveryAudit;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * What the chaos tests check once the load is over, through the public API only: {@link
 * DeliveryAudit} (shared with the soak bench) over the chaos senders' acknowledgements.
 */
final class ChaosAudit {
  private ChaosAudit() {}

  /**
   * Waits until every conversation holds as many messages as were acknowledged into it, then checks
   * each: numbered 1..n without gap, each acknowledged message_id exactly once and nothing else,
   * and each sender's messages in the order it sent them. Returns the histories.
   */
  static Map<String, List<JsonObject>> histories(
      int port,
      Map<String, String> readerToken,
      Map<String, List<ChaosSender.Ack>> acked,
      Duration timeout) {
    Map<String, List<String>> ids = new HashMap<>();
    acked.forEach(
        (conv, acks) -> ids.put(conv, acks.stream().map(ChaosSender.Ack::messageId).toList()));
    return new DeliveryAudit(port).histories(readerToken, ids, timeout);
  }

  /** The message envelopes of a user's change feed after {@code cursor}, in feed order. */
  static List<JsonObject> feed(int port, String token, String cursor) throws Exception {
    return new DeliveryAudit(port).feed(token, cursor);
  }

  static String key(JsonObject m) {
    return DeliveryAudit.key(m);
  }

  /** Each message once, and per conversation in ascending sequence order. */
  static void onceInOrder(String what, List<JsonObject> messages) {
    DeliveryAudit.onceInOrder(what, messages);
  }

  /** At-least-once with first sightings in order; how many repeats there were. */
  static int inOrderWithRepeats(String what, List<JsonObject> messages) {
    return DeliveryAudit.inOrderWithRepeats(what, messages);
  }

  /** The keys (conversation:sequence) every member of {@code convs} must have seen. */
  static Set<String> expected(List<String> convs, Map<String, List<JsonObject>> stored) {
    return DeliveryAudit.expected(convs, stored);
  }
}
