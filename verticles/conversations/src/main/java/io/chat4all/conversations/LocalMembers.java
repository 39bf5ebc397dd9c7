package io.chat4all.conversations;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.redis.client.RedisAPI;
import io.vertx.sqlclient.Pool;
import java.util.Iterator;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * This node's copy of conversation members, in front of the Redis membership cache, so that a send
 * asks no backend who may write. It is kept exact by events: every membership change publishes
 * {@value #CHANGED} on the (clustered) event bus after its commit and its Redis invalidation, and
 * every node drops its copy on it. A load that began before an event is not kept (a counter of
 * events seen), and every copy is also dropped after {@link #MAX_AGE_MS} in case an event was lost
 * (a node cut off from the cluster for a while).
 */
public final class LocalMembers {
  /** Published (cluster-wide) with {@code {conversation_id}} after a membership change. */
  public static final String CHANGED = io.chat4all.codecs.Addresses.MEMBERS_CHANGED;

  static final long MAX_AGE_MS = 30_000;
  static final int MAX_CONVERSATIONS = 100_000;

  private record Copy(Map<String, MembershipCache.Membership> members, long loadedAt) {}

  private final Vertx vertx;
  private final MembershipCache cache;
  private final Map<String, Copy> copies = new ConcurrentHashMap<>();
  private final AtomicLong events = new AtomicLong();

  public LocalMembers(Vertx vertx, Pool pg, RedisAPI redis, String keyPrefix) {
    this.vertx = vertx;
    this.cache = new MembershipCache(pg, redis, keyPrefix);
  }

  /** Subscribes to the change events; complete before answering. */
  public Future<Void> start() {
    return vertx
        .eventBus()
        .<JsonObject>consumer(
            CHANGED,
            msg -> {
              Object conv = msg.body() == null ? null : msg.body().getValue("conversation_id");
              events.incrementAndGet();
              if (conv != null) {
                copies.remove(conv.toString());
              }
            })
        .completion();
  }

  /**
   * Drops this node's copy of {@code conversationId} at once, for a change made on this node: a
   * request that follows the change's answer to this node sees the change, not only once the event
   * has been delivered here (an event-bus publish reaches the local consumer later, on its own
   * event loop). A load already under way is not kept either.
   */
  public void forget(String conversationId) {
    events.incrementAndGet();
    copies.remove(conversationId);
  }

  /** Tells every node that the members of {@code conversationId} changed. */
  static void publishChanged(Vertx vertx, String conversationId) {
    vertx.eventBus().publish(CHANGED, new JsonObject().put("conversation_id", conversationId));
  }

  /** {@code {member, role, joined_seq}} of {@code userId} in the conversation. */
  public Future<JsonObject> of(String conversation, String userId) {
    String conversationId;
    try {
      conversationId = java.util.UUID.fromString(String.valueOf(conversation)).toString();
    } catch (IllegalArgumentException e) {
      return Future.succeededFuture(answer(null));
    }
    Copy copy = copies.get(conversationId);
    long now = System.currentTimeMillis();
    if (copy != null && now - copy.loadedAt() < MAX_AGE_MS) {
      return Future.succeededFuture(answer(copy.members().get(userId)));
    }
    long seen = events.get();
    return cache
        .members(conversationId)
        .map(
            members -> {
              if (events.get() == seen) {
                if (copies.size() >= MAX_CONVERSATIONS) {
                  evictSome();
                }
                copies.put(conversationId, new Copy(Map.copyOf(members), now));
              }
              return answer(members.get(userId));
            });
  }

  private void evictSome() {
    Iterator<String> it = copies.keySet().iterator();
    for (int i = 0; i < MAX_CONVERSATIONS / 10 && it.hasNext(); i++) {
      it.next();
      it.remove();
    }
  }

  private static JsonObject answer(MembershipCache.Membership m) {
    return m == null
        ? new JsonObject().put("member", false).putNull("role").put("joined_seq", 0L)
        : new JsonObject()
            .put("member", true)
            .put("role", m.role())
            .put("joined_seq", m.joinedSeq());
  }
}
