package io.chat4all.realtime;

import io.chat4all.codecs.Envelopes;
import io.chat4all.codecs.ErrorCode;
import io.chat4all.codecs.ServiceException;
import io.chat4all.messaging.FeedStore;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.TreeMap;
import java.util.function.Consumer;

/**
 * Hands one subscriber its change feed in feed order, so that the cursor of every envelope it gets
 * is a safe place to resume from: everything at or before it was handed over.
 *
 * <p>The live envelopes alone cannot give that. In a cluster each partition owner appends to the
 * user's feed and then publishes the envelope on its own, so two owners' envelopes reach a socket
 * in any order, and the publish of an owner that dies between its append and its publish never
 * comes (a publish can also miss a subscription its node has not heard of yet). A client that kept
 * the cursor of an envelope that overtook an earlier one, and then lost its connection, would
 * resume after the earlier one and never get it. So a live envelope waits here until a read of the
 * feed from the {@link #position} shows what lies before it: entries whose envelope is waiting are
 * handed over from it, repeats of a message already handed over are passed over, and anything else
 * (an entry whose publish has not come, or never will) is read with its message ({@code sync}) and
 * handed over in its place — once it has been missing for {@code gapGraceMs}: a publish follows its
 * append by moments (a batch's envelopes go out right after its appends), so a subscriber that
 * reads the feed on the first envelope of a batch finds the others' entries before their envelopes;
 * reading their messages then would cost a message read per recipient for what is about to arrive
 * anyway. A read also runs every {@code checkMs} while nothing else made one, for entries no
 * envelope announced at all. One read at a time; envelopes arriving meanwhile are handled by the
 * next.
 */
final class FeedOrder {
  /** Reads one page of the feed after a cursor ({@code {items, next_cursor, resync_required}}). */
  interface Reader {
    Future<JsonObject> page(String cursor, int limit);
  }

  /** Runs a task once after a delay (the subscriber's event loop's timer). */
  interface Timer {
    void after(long delayMs, Runnable task);
  }

  private final Reader positions;
  private final Reader messages;
  private final Dedup dedup;
  private final Consumer<JsonObject> out;
  private final Consumer<ServiceException> fail;
  private final int limit;
  private final int maxPending;
  private final long gapGraceMs;
  private final Timer timer;
  private final TreeMap<long[], JsonObject> pending = new TreeMap<>(Cursors::compare);

  private String position;
  private long[] at;
  private boolean live;
  private boolean reading;
  private boolean again;
  private boolean closed;
  private long lastReadAt;

  /** The first entry the last walk could not hand over, and since when it has been missing. */
  private long[] gapAt;

  private long[] missing;
  private long missingSince;
  private boolean held;
  private boolean graceArmed;

  /**
   * {@code positions} reads the feed as stored (messages as references, cheap), {@code messages}
   * with the messages filled in; {@code out} gets each envelope to hand over, {@code fail} a reason
   * to end the feed.
   */
  FeedOrder(
      Reader positions,
      Reader messages,
      Dedup dedup,
      int limit,
      int maxPending,
      long gapGraceMs,
      Timer timer,
      Consumer<JsonObject> out,
      Consumer<ServiceException> fail) {
    this.positions = positions;
    this.messages = messages;
    this.dedup = dedup;
    this.limit = limit;
    this.maxPending = maxPending;
    this.gapGraceMs = gapGraceMs;
    this.timer = timer;
    this.out = out;
    this.fail = fail;
  }

  /** Where the subscriber is: everything at or before it was handed over (null before a start). */
  String position() {
    return position;
  }

  /** Starts from {@code cursor} without a replay (the client asked for no history). */
  void startAt(String cursor) {
    advance(cursor);
    goLive();
  }

  /** Replays from {@code first}, the page read after the client's cursor, then goes live. */
  void replay(JsonObject first) {
    handOver(first);
    replayFrom(first);
  }

  private void replayFrom(JsonObject page) {
    if (closed) {
      return;
    }
    String next = page.getString("next_cursor");
    if (page.getJsonArray("items", new JsonArray()).isEmpty() || next == null) {
      goLive();
      return;
    }
    messages
        .page(next, limit)
        .onComplete(
            ar -> {
              if (closed) {
                return;
              }
              if (ar.failed()) {
                fail.accept(ServiceException.from(ar.cause()));
                return;
              }
              handOver(ar.result());
              replayFrom(ar.result());
            });
  }

  private void goLive() {
    if (closed) {
      return;
    }
    live = true;
    if (!pending.isEmpty()) {
      read();
    }
  }

  /**
   * A live envelope with a feed cursor: handed over once the feed shows nothing before it is
   * missing; dropped when it is at or before the position.
   */
  void offer(JsonObject envelope, long[] cursor) {
    if (closed || (at != null && Cursors.compare(cursor, at) <= 0)) {
      return;
    }
    if (pending.size() >= maxPending) {
      fail.accept(new ServiceException(ErrorCode.UNAVAILABLE, "too many pending events"));
      return;
    }
    // two envelopes under one cursor: a repeat carries the entry of its conversation's highest
    // number (see announces), so the one with the higher number is that entry's own
    pending.merge(
        cursor, envelope, (kept, offered) -> sequence(offered) >= sequence(kept) ? offered : kept);
    if (live) {
      read();
    }
  }

  /** The periodic check: reads the feed when nothing else did for {@code periodMs}. */
  void check(long periodMs) {
    if (live && !reading && System.currentTimeMillis() - lastReadAt >= periodMs) {
      read();
    }
  }

  void close() {
    closed = true;
    pending.clear();
  }

  private void read() {
    if (closed) {
      return;
    }
    if (reading) {
      again = true;
      return;
    }
    reading = true;
    again = false;
    lastReadAt = System.currentTimeMillis();
    positions
        .page(position, limit)
        .compose(page -> walk(page) ? Future.succeededFuture(page) : gap(page))
        .onComplete(
            ar -> {
              reading = false;
              if (closed) {
                return;
              }
              if (ar.failed()) {
                // the envelopes keep waiting (bounded by maxPending); the check reads again
                lastReadAt = System.currentTimeMillis();
                return;
              }
              if (held) {
                // waiting for a missing entry's envelope: its arrival reads again, or the timer
                held = false;
                if (again) {
                  read();
                }
                return;
              }
              JsonObject page = ar.result();
              boolean full = page.getJsonArray("items", new JsonArray()).size() >= limit;
              if (full || again) {
                read();
              } else if (!pending.isEmpty()) {
                // envelopes for entries the feed does not hold (cannot be resumed from anyway)
                for (JsonObject e : new ArrayList<>(pending.values())) {
                  emit(e, e.getString(Envelopes.CURSOR));
                }
              }
            });
  }

  /**
   * Hands over the entries of a page of stored positions while each is a waiting envelope, a
   * complete stored envelope or a repeat; false at the first one that needs its message read.
   */
  private boolean walk(JsonObject page) {
    if (page.getBoolean("resync_required", false)) {
      handOver(page);
      return true;
    }
    JsonArray items = page.getJsonArray("items", new JsonArray());
    for (int i = 0; i < items.size() && !closed; i++) {
      JsonObject entry = items.getJsonObject(i);
      String cursor = entry.getString(Envelopes.CURSOR);
      long[] p = Cursors.parse(cursor);
      JsonObject waiting = p == null ? null : pending.remove(p);
      if (waiting != null && !announces(waiting, entry)) {
        // a repeat published with a later entry's cursor: a feed answers a message appended again
        // with the entry of the conversation's highest number it holds (FeedStore.APPEND_ONCE), so
        // a re-applied batch's envelopes carry that entry's cursor; it stands for this entry only
        // if it holds this entry's message
        waiting = null;
      }
      if (waiting != null) {
        emit(waiting, cursor);
      } else if (!(entry.getValue(FeedStore.MESSAGE_REF) instanceof JsonObject ref)) {
        emit(entry, cursor);
      } else if (Envelopes.MESSAGE.equals(entry.getString(Envelopes.TYPE))
          && dedup.seenMessage(ref.getValue("conversation_id"), ref.getValue("sequence_number"))) {
        advance(cursor);
      } else {
        gapAt = p;
        return false;
      }
    }
    if (!items.isEmpty()) {
      advance(page.getString("next_cursor"));
    }
    return true;
  }

  /** The sequence number of an envelope's message, or -1. */
  private static long sequence(JsonObject envelope) {
    return envelope.getValue("message") instanceof JsonObject m
            && m.getValue("sequence_number") instanceof Number n
        ? n.longValue()
        : -1;
  }

  /**
   * Whether a live envelope waiting under an entry's cursor is that entry: for a message entry, the
   * envelope holds the message the entry refers to (conversation and sequence number).
   */
  private static boolean announces(JsonObject envelope, JsonObject entry) {
    if (!(entry.getValue(FeedStore.MESSAGE_REF) instanceof JsonObject ref)) {
      return true;
    }
    JsonObject m =
        envelope.getValue("message") instanceof JsonObject message ? message : new JsonObject();
    // the number first: it tells two entries apart soonest (a read of a group's feed walks many)
    return sameNumber(ref.getValue("sequence_number"), m.getValue("sequence_number"))
        && java.util.Objects.equals(ref.getValue("conversation_id"), m.getValue("conversation_id"))
        && java.util.Objects.equals(
            entry.getString(Envelopes.TYPE), envelope.getString(Envelopes.TYPE));
  }

  /** Two sequence numbers as equal as their text is (an int and a long of one value are). */
  private static boolean sameNumber(Object a, Object b) {
    if ((a instanceof Long || a instanceof Integer)
        && (b instanceof Long || b instanceof Integer)) {
      return ((Number) a).longValue() == ((Number) b).longValue();
    }
    return String.valueOf(a).equals(String.valueOf(b));
  }

  /**
   * The walk stopped at {@link #gapAt}: reads the messages from there if that entry has been
   * missing for the grace time, else holds (its envelope's arrival, or the timer, reads again).
   */
  private Future<JsonObject> gap(JsonObject page) {
    long now = System.currentTimeMillis();
    if (missing == null || gapAt == null || !java.util.Arrays.equals(missing, gapAt)) {
      missing = gapAt;
      missingSince = now;
    }
    long left = gapGraceMs - (now - missingSince);
    if (left <= 0) {
      missing = null;
      RealtimeMeters.gapRead();
      return fillGap();
    }
    held = true;
    if (!graceArmed) {
      graceArmed = true;
      timer.after(
          left,
          () -> {
            graceArmed = false;
            if (live && !closed) {
              read();
            }
          });
    }
    return Future.succeededFuture(page);
  }

  /** Reads the rest of the page with its messages and hands it over. */
  private Future<JsonObject> fillGap() {
    return messages
        .page(position, limit)
        .map(
            page -> {
              if (!closed) {
                handOver(page);
              }
              // read again: the positions after this page may be waiting
              again = true;
              return page;
            });
  }

  /** Hands over a page read with its messages (the replay's and a gap's). */
  private void handOver(JsonObject page) {
    if (page.getBoolean("resync_required", false)) {
      out.accept(
          new JsonObject()
              .put(Envelopes.TYPE, "resync_required")
              .put(Envelopes.CURSOR, page.getString("next_cursor")));
    }
    JsonArray items = page.getJsonArray("items", new JsonArray());
    for (int i = 0; i < items.size() && !closed; i++) {
      JsonObject envelope = items.getJsonObject(i);
      emit(envelope, envelope.getString(Envelopes.CURSOR));
    }
    advance(page.getString("next_cursor"));
  }

  private void emit(JsonObject envelope, String cursor) {
    if (closed) {
      return;
    }
    boolean fresh = dedup.firstTime(envelope);
    advance(cursor);
    if (fresh) {
      out.accept(envelope);
    }
  }

  private void advance(String cursor) {
    long[] p = Cursors.parse(cursor);
    if (p == null || (at != null && Cursors.compare(p, at) <= 0)) {
      return;
    }
    at = p;
    position = cursor;
    dedup.replayed(p);
    pending.headMap(p, true).clear();
  }
}
