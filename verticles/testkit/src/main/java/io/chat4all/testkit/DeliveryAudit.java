package io.chat4all.testkit;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The loss, duplicate and order audit of a load run (the chaos test, the soak bench), through the
 * public API of one node: every acknowledged message stored exactly once, each conversation
 * numbered 1..n without gap, each sender's messages in its send order (message texts are {@code
 * "<sender>:<n>"}), every member's feed holding every message in order (a repeat of an entry is
 * counted, not failed: the documented at-least-once feed), and the sockets' envelopes. A failed
 * check throws an {@link AssertionError} saying what and where.
 */
public final class DeliveryAudit {
  private static final HttpClient HTTP =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

  private final int port;

  /** Audits through the node on {@code port} (loopback). */
  public DeliveryAudit(int port) {
    this.port = port;
  }

  /** The JSON of a GET that must answer 2xx. */
  public JsonObject get(String path, String token) throws Exception {
    HttpResponse<String> r =
        HTTP.send(
            HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                .timeout(Duration.ofSeconds(30))
                .header("Authorization", "Bearer " + token)
                .GET()
                .build(),
            HttpResponse.BodyHandlers.ofString());
    if (r.statusCode() / 100 != 2) {
      throw new AssertionError("GET " + path + " answered " + r.statusCode() + " " + r.body());
    }
    return new JsonObject(r.body());
  }

  /** A conversation's whole history, in order. */
  public List<JsonObject> history(String token, String conv) throws Exception {
    List<JsonObject> history = new ArrayList<>();
    String path = "/v1/conversations/" + conv + "/messages?after_seq=0&limit=200";
    while (path != null) {
      JsonObject page = get(path, token);
      page.getJsonArray("items").forEach(o -> history.add((JsonObject) o));
      String next = page.getString("next_cursor");
      path =
          next == null ? null : "/v1/conversations/" + conv + "/messages?limit=200&cursor=" + next;
    }
    return history;
  }

  /**
   * Waits until every conversation holds as many messages as were acknowledged into it ({@code
   * acked}: conversation → acknowledged message ids), then checks each: numbered 1..n without gap,
   * each acknowledged id exactly once and nothing else, each sender's messages in send order.
   * Returns the histories.
   */
  public Map<String, List<JsonObject>> histories(
      Map<String, String> readerToken,
      Map<String, ? extends Collection<String>> acked,
      Duration timeout) {
    Map<String, List<JsonObject>> stored = new HashMap<>();
    Set<String> waiting = new HashSet<>(acked.keySet());
    Await.until(
        "every acknowledged message numbered and stored",
        timeout,
        () -> {
          for (String conv : List.copyOf(waiting)) {
            try {
              List<JsonObject> h = history(readerToken.get(conv), conv);
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
      gaplessAndOnce(h);
      Set<String> ids = new HashSet<>();
      h.forEach(m -> ids.add(m.getString("message_id")));
      Set<String> want = new HashSet<>(e.getValue());
      if (!ids.equals(want)) {
        Set<String> lost = new HashSet<>(want);
        lost.removeAll(ids);
        Set<String> extra = new HashSet<>(ids);
        extra.removeAll(want);
        throw new AssertionError(
            "conversation " + e.getKey() + ": lost " + lost + ", not acknowledged " + extra);
      }
      Map<String, Integer> lastOfSender = new HashMap<>();
      for (JsonObject m : h) {
        String[] text = m.getJsonObject("payload").getString("text").split(":");
        int n = Integer.parseInt(text[1]);
        Integer before = lastOfSender.put(text[0], n);
        if (before != null && before >= n) {
          throw new AssertionError(
              text[0]
                  + "'s messages in "
                  + e.getKey()
                  + " out of send order: "
                  + n
                  + " after "
                  + before);
        }
      }
    }
    return stored;
  }

  /** The message envelopes' messages of a user's change feed after {@code cursor}, in order. */
  public List<JsonObject> feed(String token, String cursor) throws Exception {
    List<JsonObject> out = new ArrayList<>();
    while (true) {
      JsonObject page = get("/v1/sync?limit=200&cursor=" + cursor, token);
      if (page.getBoolean("resync_required", false)) {
        throw new AssertionError("the feed lost entries to its cap (resync_required)");
      }
      JsonArray items = page.getJsonArray("items");
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

  /**
   * What the audit reads of a message (its ids and number): a long run keeps this of each envelope
   * it receives, not the whole message.
   */
  public static JsonObject auditFields(JsonObject message) {
    return new JsonObject()
        .put("message_id", message.getString("message_id"))
        .put("conversation_id", message.getString("conversation_id"))
        .put("sequence_number", message.getLong("sequence_number"));
  }

  /** {@code conversation:sequence} of a message. */
  public static String key(JsonObject m) {
    return m.getString("conversation_id") + ":" + m.getLong("sequence_number");
  }

  /** Numbered 1..n without gap, each message_id once. */
  public static void gaplessAndOnce(List<JsonObject> history) {
    Set<String> stored = new HashSet<>();
    for (int k = 0; k < history.size(); k++) {
      JsonObject m = history.get(k);
      if (m.getLong("sequence_number") != k + 1L) {
        throw new AssertionError(
            "gap: sequence " + m.getLong("sequence_number") + " at position " + (k + 1));
      }
      if (!stored.add(m.getString("message_id"))) {
        throw new AssertionError("stored twice: " + m.getString("message_id"));
      }
    }
  }

  /** Each message once, and per conversation in ascending sequence order. */
  public static void onceInOrder(String what, List<JsonObject> messages) {
    Set<String> seen = new HashSet<>();
    Map<String, Long> last = new HashMap<>();
    for (JsonObject m : messages) {
      if (!seen.add(key(m))) {
        throw new AssertionError(what + ": " + key(m) + " more than once");
      }
      Long before = last.put(m.getString("conversation_id"), m.getLong("sequence_number"));
      if (before != null && before >= m.getLong("sequence_number")) {
        throw new AssertionError(what + ": " + key(m) + " after " + before);
      }
    }
  }

  /**
   * At-least-once, as documented for feeds (a replayed pipeline batch appends its envelopes again):
   * every repeat is of a message already seen, and the first sightings are in ascending sequence
   * order per conversation. Returns how many repeats there were.
   */
  public static int inOrderWithRepeats(String what, List<JsonObject> messages) {
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

  /** The keys every member of {@code convs} must have seen. */
  public static Set<String> expected(
      Collection<String> convs, Map<String, List<JsonObject>> stored) {
    Set<String> keys = new HashSet<>();
    for (String c : convs) {
      stored.get(c).forEach(m -> keys.add(key(m)));
    }
    return keys;
  }

  /** What of {@code expected} is not among {@code got}'s keys. */
  public static List<String> missing(Set<String> expected, Collection<JsonObject> got) {
    Set<String> have = new HashSet<>();
    got.forEach(m -> have.add(key(m)));
    List<String> out = new ArrayList<>();
    for (String k : expected) {
      if (!have.contains(k)) {
        out.add(k);
      }
    }
    return out;
  }
}
