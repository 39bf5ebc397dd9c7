package io.chat4all.messaging;

import io.chat4all.codecs.Envelopes;
import io.chat4all.codecs.ErrorCode;
import io.chat4all.codecs.ServiceException;
import io.chat4all.codecs.Wire;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.Request;
import io.vertx.redis.client.Response;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * Each user's change feed: a Redis stream of the envelopes sent to them (messages, edits, deletes,
 * status changes), capped at {@code feed_max_entries}. A stream id is the position; the API hands
 * it out as an opaque cursor. A message envelope is kept as a reference ({@code message_ref}:
 * conversation, sequence number, id), never with the message's content: readers of the feed get the
 * message as it is when they read (so an edit or a delete reaches old entries too).
 *
 * <p>Appending a message is idempotent: next to the stream, a hash {@code feedseen:<user>} keeps
 * per conversation the highest sequence number appended and its entry id. A conversation's messages
 * reach a feed in sequence order (the pipeline applies them in order), so a message at or below
 * that number is already there: appending it again (a batch re-applied after a crash or a
 * rebalance) adds nothing and answers the kept entry id. The hash holds one field per conversation
 * of the user.
 */
public final class FeedStore {
  private static final Pattern STREAM_ID = Pattern.compile("\\d{1,20}-\\d{1,20}");
  private final Redis redis;
  private final String prefix;
  private final int maxEntries;

  public FeedStore(Redis redis, String keyPrefix, int maxEntries) {
    this.redis = redis;
    this.prefix = keyPrefix;
    this.maxEntries = maxEntries;
  }

  String key(String userId) {
    return prefix + "feed:" + userId;
  }

  String seenKey(String userId) {
    return prefix + "feedseen:" + userId;
  }

  /**
   * KEYS: stream, seen hash; ARGV: max entries, conversation, sequence number, entry. Appends
   * unless the conversation's kept number is at or past this one; answers the entry id.
   */
  static final String APPEND_ONCE =
      "local kept = redis.call('HGET', KEYS[2], ARGV[2])\n"
          + "if kept then\n"
          + "  local sep = string.find(kept, ' ', 1, true)\n"
          + "  if tonumber(ARGV[3]) <= tonumber(string.sub(kept, 1, sep - 1)) then\n"
          + "    return string.sub(kept, sep + 1)\n"
          + "  end\n"
          + "end\n"
          + "local id = redis.call('XADD', KEYS[1], 'MAXLEN', ARGV[1], '*', 'e', ARGV[4])\n"
          + "redis.call('HSET', KEYS[2], ARGV[2], ARGV[3] .. ' ' .. id)\n"
          + "return id\n";

  /**
   * Appends one envelope per user (one pipelined round trip); returns each user's new cursor, in
   * the order given.
   */
  public Future<List<String>> append(List<Map.Entry<String, JsonObject>> entries) {
    if (entries.isEmpty()) {
      return Future.succeededFuture(List.of());
    }
    // pipelined in chunks, one after the other, so a large fan-out never floods the client's queue
    List<String> ids = new ArrayList<>(entries.size());
    Future<Void> chain = Future.succeededFuture();
    for (int from = 0; from < entries.size(); from += CHUNK) {
      List<Map.Entry<String, JsonObject>> chunk =
          entries.subList(from, Math.min(entries.size(), from + CHUNK));
      chain =
          chain.compose(
              v ->
                  appendChunk(chunk)
                      .map(
                          chunkIds -> {
                            ids.addAll(chunkIds);
                            return null;
                          }));
    }
    return chain.map(v -> ids);
  }

  private static final int CHUNK = 256;

  private Future<List<String>> appendChunk(List<Map.Entry<String, JsonObject>> entries) {
    List<Request> batch = new ArrayList<>(entries.size());
    for (Map.Entry<String, JsonObject> e : entries) {
      JsonObject kept = reference(e.getValue());
      JsonObject ref =
          Envelopes.MESSAGE.equals(kept.getString(Envelopes.TYPE))
              ? kept.getJsonObject(MESSAGE_REF)
              : null;
      if (ref != null
          && ref.getString("conversation_id") != null
          && ref.getLong("sequence_number") != null) {
        batch.add(
            Request.cmd(Command.EVAL)
                .arg(APPEND_ONCE)
                .arg(2)
                .arg(key(e.getKey()))
                .arg(seenKey(e.getKey()))
                .arg(maxEntries)
                .arg(ref.getString("conversation_id"))
                .arg(ref.getLong("sequence_number"))
                .arg(kept.encode()));
      } else {
        batch.add(
            Request.cmd(Command.XADD)
                .arg(key(e.getKey()))
                .arg("MAXLEN")
                .arg(maxEntries)
                .arg("*")
                .arg("e")
                .arg(kept.encode()));
      }
    }
    return redis
        .batch(batch)
        .map(
            responses -> {
              List<String> ids = new ArrayList<>(responses.size());
              for (Response r : responses) {
                ids.add(encode(r.toString()));
              }
              return ids;
            });
  }

  /**
   * Entries after {@code cursor} ({@code {items, next_cursor, resync_required}}). No cursor: no
   * items, the current position. A cursor older than what the capped feed still holds:
   * resync_required (reload conversations and history, then sync from next_cursor).
   */
  public Future<JsonObject> since(String userId, String cursor, int limit) {
    String key = key(userId);
    if (cursor == null) {
      return redis
          .send(Request.cmd(Command.XREVRANGE).arg(key).arg("+").arg("-").arg("COUNT").arg(1))
          .map(
              r ->
                  page(
                      List.of(),
                      r == null || r.size() == 0
                          ? encode("0-0")
                          : encode(r.get(0).get(0).toString()),
                      false));
    }
    String from = decode(cursor);
    if ("0-0".equals(from)) {
      // the start of the feed: nothing before it to have lost
      return after(key, from, limit);
    }
    // One round trip when the cursor's own entry is still in the feed, as a reader's position
    // almost always is: read from it, inclusive; the cap removes the oldest entries first, so
    // while it is there nothing after it was removed
    return redis
        .send(Request.cmd(Command.XRANGE).arg(key).arg(from).arg("+").arg("COUNT").arg(limit + 1))
        .compose(
            r -> {
              if (r != null && r.size() > 0 && from.equals(r.get(0).get(0).toString())) {
                return Future.succeededFuture(page(r, 1, from));
              }
              return checkedAfter(key, from, limit);
            });
  }

  /**
   * Entries after {@code from}, whose own entry is not in the feed (trimmed away, or a position
   * between entries): resync_required when the oldest entry kept is past it.
   */
  private Future<JsonObject> checkedAfter(String key, String from, int limit) {
    Future<Response> first =
        redis.send(Request.cmd(Command.XRANGE).arg(key).arg("-").arg("+").arg("COUNT").arg(1));
    return first.compose(
        f -> {
          if (f != null && f.size() > 0 && compare(f.get(0).get(0).toString(), from) > 0) {
            return redis
                .send(Request.cmd(Command.XREVRANGE).arg(key).arg("+").arg("-").arg("COUNT").arg(1))
                .map(last -> page(List.of(), encode(last.get(0).get(0).toString()), true));
          }
          return after(key, from, limit);
        });
  }

  /** Up to {@code limit} entries after {@code from}, without a check. */
  private Future<JsonObject> after(String key, String from, int limit) {
    return redis
        .send(Request.cmd(Command.XRANGE).arg(key).arg("(" + from).arg("+").arg("COUNT").arg(limit))
        .map(r -> page(r, 0, from));
  }

  /** A page of the entries of an {@code XRANGE} answer from its {@code skip}-th on. */
  private static JsonObject page(Response r, int skip, String from) {
    List<Object> items = new ArrayList<>();
    String last = from;
    if (r != null) {
      for (int i = skip; i < r.size(); i++) {
        Response entry = r.get(i);
        last = entry.get(0).toString();
        JsonObject envelope = new JsonObject(entry.get(1).get(1).toString());
        envelope.put("cursor", encode(last));
        items.add(envelope);
      }
    }
    return page(items, encode(last), false);
  }

  /** The key under which an envelope's message is referenced instead of copied. */
  public static final String MESSAGE_REF = "message_ref";

  /** What is kept of an envelope: a message is replaced by its reference. */
  static JsonObject reference(JsonObject envelope) {
    String type = envelope.getString(Envelopes.TYPE);
    if ((Envelopes.MESSAGE.equals(type) || Envelopes.MESSAGE_UPDATED.equals(type))
        && envelope.getValue("message") instanceof JsonObject m) {
      // a shallow copy without the message: it is encoded at once, nothing keeps it
      JsonObject kept = new JsonObject();
      for (Map.Entry<String, Object> f : envelope) {
        if (!"message".equals(f.getKey())) {
          kept.put(f.getKey(), f.getValue());
        }
      }
      kept.put(
          MESSAGE_REF,
          new JsonObject()
              .put("conversation_id", m.getString("conversation_id"))
              .put("sequence_number", m.getLong("sequence_number"))
              .put("message_id", m.getString("message_id")));
      return kept;
    }
    return envelope;
  }

  private static JsonObject page(List<Object> items, String next, boolean resync) {
    return Wire.page(items, next).put("resync_required", resync);
  }

  static String encode(String streamId) {
    return Base64.getUrlEncoder()
        .withoutPadding()
        .encodeToString(streamId.getBytes(StandardCharsets.UTF_8));
  }

  static String decode(String cursor) {
    try {
      String id = new String(Base64.getUrlDecoder().decode(cursor), StandardCharsets.UTF_8);
      if (STREAM_ID.matcher(id).matches()) {
        return id;
      }
    } catch (IllegalArgumentException ignored) {
      // fall through
    }
    throw new ServiceException(
        ErrorCode.VALIDATION_FAILED,
        "cursor is not a cursor this API handed out",
        new JsonObject().put("field", "cursor"));
  }

  static int compare(String a, String b) {
    String[] x = a.split("-");
    String[] y = b.split("-");
    int c = Long.compareUnsigned(Long.parseUnsignedLong(x[0]), Long.parseUnsignedLong(y[0]));
    return c != 0
        ? c
        : Long.compareUnsigned(Long.parseUnsignedLong(x[1]), Long.parseUnsignedLong(y[1]));
  }

  static JsonArray none() {
    return new JsonArray();
  }
}
