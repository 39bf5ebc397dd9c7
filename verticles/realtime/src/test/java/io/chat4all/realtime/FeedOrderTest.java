package io.chat4all.realtime;

import static org.assertj.core.api.Assertions.assertThat;

import io.chat4all.codecs.Envelopes;
import io.chat4all.messaging.FeedStore;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * {@link FeedOrder} against an in-memory feed: entries whose envelopes arrive within the grace time
 * are handed over from the envelopes, with no read of their messages; an entry whose envelope never
 * comes is read with its message once the grace time has passed; order holds either way.
 */
class FeedOrderTest {
  static final String CONV = "c1";

  /** A user's feed: entries as stored (message references) and as read with their messages. */
  static final class Feed {
    final List<JsonObject> refs = new ArrayList<>();
    final List<JsonObject> full = new ArrayList<>();
    final AtomicInteger messageReads = new AtomicInteger();

    /** Appends the entry of message {@code seq}; returns its live envelope. */
    JsonObject append(long seq) {
      String cursor = cursor(seq);
      refs.add(
          new JsonObject()
              .put(Envelopes.TYPE, Envelopes.MESSAGE)
              .put(
                  FeedStore.MESSAGE_REF,
                  new JsonObject().put("conversation_id", CONV).put("sequence_number", seq))
              .put(Envelopes.CURSOR, cursor));
      JsonObject envelope =
          new JsonObject()
              .put(Envelopes.TYPE, Envelopes.MESSAGE)
              .put(
                  "message",
                  new JsonObject()
                      .put("conversation_id", CONV)
                      .put("sequence_number", seq)
                      .put("text", "m" + seq))
              .put(Envelopes.CURSOR, cursor);
      full.add(envelope);
      return envelope;
    }

    FeedOrder.Reader positions() {
      return (from, limit) -> Future.succeededFuture(page(refs, from, limit));
    }

    FeedOrder.Reader messages() {
      return (from, limit) -> {
        messageReads.incrementAndGet();
        return Future.succeededFuture(page(full, from, limit));
      };
    }

    private static JsonObject page(List<JsonObject> entries, String from, int limit) {
      long[] after = from == null ? null : Cursors.parse(from);
      JsonArray items = new JsonArray();
      String last = from;
      for (JsonObject e : entries) {
        long[] p = Cursors.parse(e.getString(Envelopes.CURSOR));
        if ((after == null || Cursors.compare(p, after) > 0) && items.size() < limit) {
          items.add(e.copy());
          last = e.getString(Envelopes.CURSOR);
        }
      }
      return new JsonObject().put("items", items).put("next_cursor", last);
    }
  }

  static String cursor(long seq) {
    return Base64.getUrlEncoder()
        .withoutPadding()
        .encodeToString(("1000-" + seq).getBytes(StandardCharsets.UTF_8));
  }

  /** Timers fired by hand. */
  static final class Timers implements FeedOrder.Timer {
    final List<Runnable> due = new ArrayList<>();

    @Override
    public void after(long delayMs, Runnable task) {
      due.add(task);
    }

    void fire() {
      List<Runnable> now = new ArrayList<>(due);
      due.clear();
      now.forEach(Runnable::run);
    }
  }

  final Feed feed = new Feed();
  final Timers timers = new Timers();
  final List<JsonObject> out = new ArrayList<>();

  FeedOrder order(long graceMs) {
    FeedOrder order =
        new FeedOrder(
            feed.positions(),
            feed.messages(),
            new Dedup(64),
            100,
            1000,
            graceMs,
            timers,
            out::add,
            e -> {
              throw new AssertionError(e);
            });
    order.startAt(null);
    return order;
  }

  static long seq(JsonObject envelope) {
    return envelope.getJsonObject("message").getLong("sequence_number");
  }

  void offer(FeedOrder order, JsonObject envelope) {
    order.offer(envelope, Cursors.parse(envelope.getString(Envelopes.CURSOR)));
  }

  @Test
  void aBatchWhoseEnvelopesFollowItsAppendsIsHandedOverWithoutReadingMessages() {
    FeedOrder order = order(60_000);
    // a batch: all appends first, then the publishes
    List<JsonObject> envelopes = new ArrayList<>();
    for (long s = 1; s <= 5; s++) {
      envelopes.add(feed.append(s));
    }
    for (JsonObject e : envelopes) {
      offer(order, e);
    }
    assertThat(out).extracting(FeedOrderTest::seq).containsExactly(1L, 2L, 3L, 4L, 5L);
    assertThat(feed.messageReads).as("reads of messages").hasValue(0);
    assertThat(order.position()).isEqualTo(cursor(5));
  }

  @Test
  void anEntryWhoseEnvelopeNeverComesIsReadOnceTheGraceTimeHasPassed() {
    FeedOrder order = order(1);
    JsonObject first = feed.append(1);
    feed.append(2); // its publisher died before publishing
    JsonObject third = feed.append(3);
    offer(order, first);
    offer(order, third);
    // 1 is handed over at once; 3 waits behind 2 until the grace time is up
    assertThat(out).extracting(FeedOrderTest::seq).startsWith(1L);
    long deadline = System.nanoTime() + 5_000_000_000L;
    while (out.size() < 3 && System.nanoTime() < deadline) {
      timers.fire();
    }
    assertThat(out).extracting(FeedOrderTest::seq).containsExactly(1L, 2L, 3L);
    assertThat(feed.messageReads).as("reads of messages").hasValue(1);
    assertThat(out.get(1).getJsonObject("message").getString("text")).isEqualTo("m2");
  }

  @Test
  void withoutGraceAMissingEnvelopeIsReadAtOnce() {
    FeedOrder order = order(0);
    JsonObject first = feed.append(1);
    feed.append(2);
    offer(order, first);
    assertThat(out).extracting(FeedOrderTest::seq).containsExactly(1L, 2L);
    assertThat(feed.messageReads).hasValue(1);
    assertThat(timers.due).isEmpty();
  }

  @Test
  void whileHeldTheEnvelopesBehindTheMissingEntryAreNotHandedOverOutOfOrder() {
    FeedOrder order = order(60_000);
    feed.append(1);
    JsonObject second = feed.append(2);
    JsonObject third = feed.append(3);
    offer(order, third);
    offer(order, second);
    assertThat(out).as("nothing before entry 1 is known").isEmpty();
    assertThat(feed.messageReads).hasValue(0);
  }
}
