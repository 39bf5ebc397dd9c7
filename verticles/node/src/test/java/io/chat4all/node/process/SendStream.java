package io.chat4all.node.process;

import static io.chat4all.node.process.ProcessRest.call;
import static org.assertj.core.api.Assertions.assertThat;

import io.chat4all.node.process.ProcessRest.Res;
import io.chat4all.testkit.Await;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * One client sending into a private conversation without pause (a refused send is followed by the
 * next after 20 ms), for the outage tests: what each send was answered, and the audit afterwards —
 * every send not accepted was refused with 503 {@code unavailable} before the event-bus timeout;
 * half of the refused ids sent again are accepted and stored once; nothing acknowledged is lost,
 * nothing stored that was never sent, and the conversation is numbered 1..n without gap.
 */
final class SendStream implements AutoCloseable {
  /** An answer to one send: its body and status, how long it took. */
  record Outcome(String id, JsonObject body, int status, String code, long ms) {}

  final int port;
  final String sender;
  final String reader;
  final String conv;
  final List<Outcome> outcomes = new CopyOnWriteArrayList<>();
  private final AtomicBoolean stop = new AtomicBoolean();
  private final ExecutorService pool = Executors.newSingleThreadExecutor();
  private Future<?> running;

  private SendStream(int port, String sender, String reader, String conv) {
    this.port = port;
    this.sender = sender;
    this.reader = reader;
    this.conv = conv;
  }

  /** Registers two users {@code prefix_a} and {@code prefix_b}, their conversation, and starts. */
  static SendStream start(int port, String prefix) throws Exception {
    String a = ProcessRest.login(port, prefix + "_a");
    String b = ProcessRest.login(port, prefix + "_b");
    String bId = ProcessRest.ok(port, "GET", "/v1/me", b, null).getString("user_id");
    String conv =
        ProcessRest.ok(
                port,
                "POST",
                "/v1/conversations",
                a,
                new JsonObject().put("type", "private").put("member_ids", new JsonArray().add(bId)))
            .getString("conversation_id");
    SendStream s = new SendStream(port, a, b, conv);
    s.running = s.pool.submit(s::loop);
    return s;
  }

  private Void loop() throws InterruptedException {
    for (int n = 0; !stop.get(); n++) {
      String id = UUID.randomUUID().toString();
      JsonObject body = KillConsumerProcessTest.text(conv, id, "m" + n);
      long t0 = System.nanoTime();
      Res r;
      try {
        r = call(port, "POST", "/v1/messages", sender, body);
      } catch (Exception e) {
        // no answer at all (for the audit to show)
        r = new Res(-1, new JsonObject().put("error", new JsonObject().put("code", e.toString())));
      }
      JsonObject err = r.json().getJsonObject("error");
      outcomes.add(
          new Outcome(
              id,
              body,
              r.status(),
              err == null ? null : err.getString("code"),
              (System.nanoTime() - t0) / 1_000_000));
      if (r.status() != 202) {
        Thread.sleep(20); // pacing while refused: the outage is watched, not flooded
      }
    }
    return null;
  }

  /**
   * The answers after the first {@code from}, as a snapshot: a sublist of the live list fails with
   * a ConcurrentModificationException once the sender adds to it meanwhile.
   */
  List<Outcome> after(int from) {
    List<Outcome> all = List.copyOf(outcomes);
    return all.subList(Math.min(from, all.size()), all.size());
  }

  long count(int status, int from) {
    return after(from).stream().filter(o -> o.status() == status).count();
  }

  /** Waits for {@code n} more answers with {@code status} after the first {@code from}. */
  void await(String what, int status, int n, int from, Duration timeout) {
    try {
      Await.until(what, timeout, () -> count(status, from) >= n);
    } catch (AssertionError e) {
      throw new AssertionError(e.getMessage() + "; answers meanwhile: " + answers(from), e);
    }
  }

  /** How the sends after the first {@code from} were answered: "status code" → how many. */
  Map<String, Long> answers(int from) {
    Map<String, Long> seen = new java.util.TreeMap<>();
    for (Outcome o : after(from)) {
      seen.merge(o.status() + (o.code() == null ? "" : " " + o.code()), 1L, Long::sum);
    }
    return seen;
  }

  /** Stops sending, then audits what was answered against what is stored. */
  void stopAndAudit(String outage) throws Exception {
    stop.set(true);
    running.get(2, TimeUnit.MINUTES);
    Map<String, Outcome> acked = new LinkedHashMap<>();
    List<Outcome> refused = new ArrayList<>();
    for (Outcome o : outcomes) {
      if (o.status() == 202) {
        acked.put(o.id(), o);
      } else {
        assertThat(o.status()).as("a send during the %s: %s", outage, o).isEqualTo(503);
        assertThat(o.code()).as("a send during the %s: %s", outage, o).isEqualTo("unavailable");
        // refused, not left hanging until a timeout
        assertThat(o.ms()).as("refused before the event-bus timeout: %s", o).isLessThan(15_000);
        refused.add(o);
      }
    }
    // every other refused message_id is sent again now: accepted, and stored once
    Set<String> mayBeStored = new HashSet<>(acked.keySet());
    for (int i = 0; i < refused.size(); i++) {
      Outcome o = refused.get(i);
      mayBeStored.add(o.id());
      if (i % 2 == 0) {
        Res r = call(port, "POST", "/v1/messages", sender, o.body());
        assertThat(r.status()).as("resend of %s → %s", o.id(), r.json()).isEqualTo(202);
        acked.put(o.id(), o);
      }
    }
    // an acknowledged send repeated gets its first reply (the claim survived the outage)
    Outcome early = acked.values().iterator().next();
    Res again = call(port, "POST", "/v1/messages", sender, early.body());
    assertThat(again.status()).isEqualTo(202);
    assertThat(again.json().getString("message_id")).isEqualTo(early.id());

    List<JsonObject> history =
        KillConsumerProcessTest.awaitHistory(port, reader, conv, acked.size());
    KillConsumerProcessTest.gaplessAndOnce(history);
    Set<String> stored = new HashSet<>();
    history.forEach(m -> stored.add(m.getString("message_id")));
    assertThat(stored).as("nothing acknowledged lost").containsAll(acked.keySet());
    assertThat(mayBeStored).as("nothing stored that was never sent").containsAll(stored);
    System.out.printf(
        "%s: %d sends accepted, %d refused with 503 during the outage (%d sent again), %d"
            + " stored%n",
        outage,
        outcomes.size() - refused.size(),
        refused.size(),
        (refused.size() + 1) / 2,
        history.size());
  }

  @Override
  public void close() {
    stop.set(true);
    pool.shutdownNow();
  }
}
