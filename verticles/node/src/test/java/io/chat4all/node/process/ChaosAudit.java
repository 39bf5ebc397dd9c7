package io.chat4all.node.process;

import static org.assertj.core.api.Assertions.assertThat;

import io.chat4all.testkit.Await;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** What the chaos tests check once the load is over, through the public API only. */
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
    Map<String, List<JsonObject>> stored = new HashMap<>();
    Set<String> waiting = new HashSet<>(acked.keySet());
    Await.until(
        "every acknowledged message numbered and stored",
        timeout,
        () -> {
          for (String conv : List.copyOf(waiting)) {
            try {
              List<JsonObject> h =
                  KillConsumerProcessTest.history(port, readerToken.get(conv), conv);
              stored.put(conv, h);
              if (h.size() >= acked.get(conv).size()) {
                waiting.remove(conv);
              }
            } catch (Exception e) {
              return false;
            }
          }
          return waiting.isEmpty();
        });
    for (var e : acked.entrySet()) {
      List<JsonObject> h = stored.get(e.getKey());
      KillConsumerProcessTest.gaplessAndOnce(h);
      assertThat(h)
          .as("conversation %s holds exactly the acknowledged messages", e.getKey())
          .extracting(m -> m.getString("message_id"))
          .containsExactlyInAnyOrderElementsOf(
              e.getValue().stream().map(ChaosSender.Ack::messageId).toList());
      Map<String, Integer> lastOfSender = new HashMap<>();
      for (JsonObject m : h) {
        String[] text = m.getJsonObject("payload").getString("text").split(":");
        int n = Integer.parseInt(text[1]);
        Integer before = lastOfSender.put(text[0], n);
        assertThat(before == null || before < n)
            .as("%s's messages in %s in send order (%s after %s)", text[0], e.getKey(), n, before)
            .isTrue();
      }
    }
    return stored;
  }

  /** The message envelopes of a user's change feed after {@code cursor}, in feed order. */
  static List<JsonObject> feed(int port, String token, String cursor) throws Exception {
    List<JsonObject> out = new ArrayList<>();
    while (true) {
      JsonObject page =
          ProcessRest.ok(port, "GET", "/v1/sync?limit=200&cursor=" + cursor, token, null);
      assertThat(page.getBoolean("resync_required", false)).as("feed kept everything").isFalse();
      var items = page.getJsonArray("items");
      for (int i = 0; i < items.size(); i++) {
        JsonObject env = items.getJsonObject(i);
        if ("message".equals(env.getString("type"))) {
          out.add(env.getJsonObject("message"));
        }
      }
      if (items.isEmpty() || page.getString("next_cursor").equals(cursor)) {
        return out;
      }
      cursor = page.getString("next_cursor");
    }
  }

  static String key(JsonObject m) {
    return m.getString("conversation_id") + ":" + m.getLong("sequence_number");
  }

  /** Each message once, and per conversation in ascending sequence order. */
  static void onceInOrder(String what, List<JsonObject> messages) {
    Set<String> seen = new HashSet<>();
    Map<String, Long> last = new HashMap<>();
    for (JsonObject m : messages) {
      assertThat(seen.add(key(m))).as("%s: %s only once", what, key(m)).isTrue();
      Long before = last.put(m.getString("conversation_id"), m.getLong("sequence_number"));
      assertThat(before == null || before < m.getLong("sequence_number"))
          .as("%s: %s after %s", what, key(m), before)
          .isTrue();
    }
  }

  /**
   * At-least-once, as documented for feeds (a replayed pipeline batch appends its envelopes again):
   * every repeat is of a message already seen, and the first sightings are in ascending sequence
   * order per conversation. Returns how many repeats there were.
   */
  static int inOrderWithRepeats(String what, List<JsonObject> messages) {
    List<JsonObject> first = new ArrayList<>();
    Set<String> seen = new HashSet<>();
    for (JsonObject m : messages) {
      if (seen.add(key(m))) {
        first.add(m);
      }
    }
    onceInOrder(what, first);
    return messages.size() - first.size();
  }

  /** The keys (conversation:sequence) every member of {@code convs} must have seen. */
  static Set<String> expected(List<String> convs, Map<String, List<JsonObject>> stored) {
    Set<String> keys = new HashSet<>();
    for (String c : convs) {
      stored.get(c).forEach(m -> keys.add(key(m)));
    }
    return keys;
  }
}
