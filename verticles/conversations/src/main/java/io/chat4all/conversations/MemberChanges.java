package io.chat4all.conversations;

import static io.chat4all.conversations.ConversationActions.ROLE_ADMIN;
import static io.chat4all.conversations.ConversationActions.ROLE_MEMBER;
import static io.chat4all.conversations.ConversationActions.ROLE_OWNER;
import static io.chat4all.conversations.ConversationActions.TYPE_PRIVATE;
import static io.chat4all.conversations.ConversationEvents.event;
import static io.chat4all.conversations.ConversationRequests.conversationId;
import static io.chat4all.conversations.ConversationRequests.userId;
import static io.chat4all.conversations.ConversationRequests.uuid;
import static io.chat4all.conversations.ConversationRequests.uuids;
import static io.chat4all.conversations.ConversationRows.load;
import static io.chat4all.conversations.ConversationRows.notFound;
import static io.chat4all.conversations.ConversationRows.requireUsers;

import io.chat4all.codecs.ErrorCode;
import io.chat4all.codecs.Outbox;
import io.chat4all.codecs.ServiceException;
import io.chat4all.codecs.Topics;
import io.chat4all.web.Bodies;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.SqlConnection;
import io.vertx.sqlclient.Tuple;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The membership changes of {@link ConversationsVerticle}: adding and removing members, roles,
 * leaving. Each change runs in one transaction that locks the conversation row, so concurrent
 * changes of one conversation serialize; its {@code conversation.members_changed} event is written
 * to the outbox in that transaction, and the Redis membership cache and this node's {@link
 * LocalMembers} are invalidated around it.
 */
final class MemberChanges {
  // the verticle's logger: the log lines keep their logger name
  private static final Logger LOG = LoggerFactory.getLogger(ConversationsVerticle.class);

  private final Vertx vertx;
  private final Pool pg;
  private final MembershipCache cache;
  private final LocalMembers localMembers;
  private final ConversationsConfig config;
  private final ConversationEvents events;

  MemberChanges(
      Vertx vertx,
      Pool pg,
      MembershipCache cache,
      LocalMembers localMembers,
      ConversationsConfig config,
      ConversationEvents events) {
    this.vertx = vertx;
    this.pg = pg;
    this.cache = cache;
    this.localMembers = localMembers;
    this.config = config;
    this.events = events;
  }

  /** The locked conversation and the caller's role in it. */
  private record Locked(UUID id, String type, long lastSeq, String role) {
    boolean isPrivate() {
      return TYPE_PRIVATE.equals(type);
    }
  }

  /** The result of a change: the reply, and the event to publish (null: nothing changed). */
  private record Change(JsonObject reply, JsonObject event) {}

  /**
   * Locks the conversation row for the transaction; not_found unless it is active and the caller is
   * a member; conflict for private conversations (their membership never changes).
   */
  private static Future<Locked> lockGroup(SqlConnection conn, UUID id, UUID me) {
    return conn.preparedQuery(
            "SELECT c.type, c.last_seq, m.role FROM conversations c"
                + " LEFT JOIN conversation_members m"
                + " ON m.conversation_id = c.conversation_id AND m.user_id = $2"
                + " WHERE c.conversation_id = $1 AND c.is_active FOR UPDATE OF c")
        .execute(Tuple.of(id, me))
        .map(
            rows -> {
              Row row = rows.size() == 0 ? null : rows.iterator().next();
              if (row == null || row.getString("role") == null) {
                throw notFound();
              }
              Locked locked =
                  new Locked(
                      id, row.getString("type"), row.getLong("last_seq"), row.getString("role"));
              if (locked.isPrivate()) {
                throw new ServiceException(
                    ErrorCode.CONFLICT, "private conversations have exactly two members");
              }
              return locked;
            });
  }

  private static Future<String> memberRole(SqlConnection conn, UUID id, UUID user) {
    return conn.preparedQuery(
            "SELECT role FROM conversation_members WHERE conversation_id = $1 AND user_id = $2"
                + " FOR UPDATE")
        .execute(Tuple.of(id, user))
        .map(
            rows -> {
              if (rows.size() == 0) {
                throw new ServiceException(
                    ErrorCode.NOT_FOUND, "user " + user + " is not a member of this conversation");
              }
              return rows.iterator().next().getString("role");
            });
  }

  private static Future<Void> touch(SqlConnection conn, UUID id) {
    return conn.preparedQuery(
            "UPDATE conversations SET updated_at = now(),"
                + " is_active = EXISTS (SELECT 1 FROM conversation_members WHERE conversation_id = $1)"
                + " WHERE conversation_id = $1")
        .execute(Tuple.of(id))
        .mapEmpty();
  }

  /**
   * Runs a membership change: the cache is invalidated before (so that nothing is written while the
   * cache cannot be invalidated) and again after the commit (dropping what readers cached
   * meanwhile); the event is written to the outbox in the change's transaction.
   */
  private Future<JsonObject> change(
      UUID id, java.util.function.Function<SqlConnection, Future<Change>> tx) {
    return cache
        .invalidate(id.toString())
        .recover(
            err -> {
              LOG.warn("membership cache unavailable: {}", err.toString());
              return Future.failedFuture(
                  new ServiceException(
                      ErrorCode.UNAVAILABLE, "the membership cache is unavailable; retry later"));
            })
        .compose(
            x ->
                pg.withTransaction(
                    conn ->
                        tx.apply(conn)
                            .compose(
                                change ->
                                    change.event() == null
                                        ? Future.succeededFuture(change)
                                        : events
                                            .record(
                                                conn,
                                                Topics.CONVERSATION_MEMBERS_CHANGED,
                                                change.event())
                                            .map(change))))
        .compose(
            change -> {
              if (change.event() == null) {
                return Future.succeededFuture(change.reply());
              }
              return cache
                  .invalidate(id.toString())
                  .recover(
                      err -> {
                        LOG.error(
                            "cannot invalidate the membership cache of {} (stale for up to {} s)",
                            id,
                            MembershipCache.TTL_SECONDS,
                            err);
                        return Future.succeededFuture();
                      })
                  .map(
                      x -> {
                        // this node before the answer, the others by the event
                        localMembers.forget(id.toString());
                        LocalMembers.publishChanged(vertx, id.toString());
                        Outbox.nudge(vertx, Outbox.POSTGRES);
                        return change.reply();
                      });
            });
  }

  Future<JsonObject> addMembers(JsonObject req) {
    UUID me = userId(req);
    UUID id = conversationId(req);
    List<UUID> ids = uuids(req, "member_ids");
    if (ids.isEmpty()) {
      throw Bodies.invalid("member_ids", "must hold at least one id");
    }
    if (ids.size() > config.maxGroupMembers()) {
      throw Bodies.invalid("member_ids", "must hold at most " + config.maxGroupMembers() + " ids");
    }
    return change(
            id,
            conn ->
                lockGroup(conn, id, me)
                    .compose(
                        locked -> {
                          if (ROLE_MEMBER.equals(locked.role())) {
                            throw new ServiceException(
                                ErrorCode.FORBIDDEN, "only the owner and admins can add members");
                          }
                          return requireUsers(conn, ids)
                              .compose(x -> insertMembers(conn, locked, ids));
                        })
                    .compose(
                        added -> {
                          if (added.isEmpty()) {
                            // all of them were members already: nothing changes
                            return load(conn, id, me).map(conv -> new Change(conv, null));
                          }
                          JsonObject event =
                              event(ConversationActions.EVENT_MEMBERS_ADDED, id.toString(), me)
                                  .put("user_ids", added);
                          return touch(conn, id)
                              .compose(x -> load(conn, id, me))
                              .map(conv -> new Change(conv, event));
                        }))
        .recover(ConversationRows::unknownUsers);
  }

  /**
   * Adds the users who are not members yet (they see history from the conversation's current
   * sequence number on); fails conflict, rolling back, when the group would grow too big.
   */
  private Future<JsonArray> insertMembers(SqlConnection conn, Locked locked, List<UUID> ids) {
    return conn.preparedQuery(
            "INSERT INTO conversation_members"
                + " (conversation_id, user_id, role, joined_seq, last_read_seq, activity_at)"
                + " SELECT $1, u, 'member', $2, $2, COALESCE(c.last_message_at, c.created_at)"
                + " FROM conversations c, unnest($3::uuid[]) AS u WHERE c.conversation_id = $1"
                + " ON CONFLICT (conversation_id, user_id) DO NOTHING RETURNING user_id")
        .execute(Tuple.of(locked.id(), locked.lastSeq()).addArrayOfUUID(ids.toArray(UUID[]::new)))
        .compose(
            rows -> {
              JsonArray added = new JsonArray();
              rows.forEach(r -> added.add(r.getUUID(0).toString()));
              if (added.isEmpty()) {
                return Future.succeededFuture(added);
              }
              return conn.preparedQuery(
                      "SELECT count(*) FROM conversation_members WHERE conversation_id = $1")
                  .execute(Tuple.of(locked.id()))
                  .map(
                      count -> {
                        if (count.iterator().next().getLong(0) > config.maxGroupMembers()) {
                          throw new ServiceException(
                              ErrorCode.CONFLICT,
                              "a group has at most " + config.maxGroupMembers() + " members",
                              new JsonObject().put("field", "member_ids"));
                        }
                        return added;
                      });
            });
  }

  Future<JsonObject> removeMember(JsonObject req) {
    UUID me = userId(req);
    UUID id = conversationId(req);
    UUID target = uuid(req, "member_id", true);
    if (target.equals(me)) {
      return leave(req);
    }
    return change(
        id,
        conn ->
            lockGroup(conn, id, me)
                .compose(
                    locked -> {
                      if (ROLE_MEMBER.equals(locked.role())) {
                        throw new ServiceException(
                            ErrorCode.FORBIDDEN, "only the owner and admins can remove members");
                      }
                      return memberRole(conn, id, target)
                          .compose(
                              targetRole -> {
                                if (ROLE_ADMIN.equals(locked.role())
                                    && !ROLE_MEMBER.equals(targetRole)) {
                                  throw new ServiceException(
                                      ErrorCode.FORBIDDEN,
                                      "admins can only remove members; ask the owner");
                                }
                                return conn.preparedQuery(
                                        "DELETE FROM conversation_members"
                                            + " WHERE conversation_id = $1 AND user_id = $2")
                                    .execute(Tuple.of(id, target));
                              })
                          .compose(x -> touch(conn, id))
                          .map(
                              x ->
                                  new Change(
                                      new JsonObject(),
                                      event(
                                              ConversationActions.EVENT_MEMBER_REMOVED,
                                              id.toString(),
                                              me)
                                          .put(
                                              "user_ids", new JsonArray().add(target.toString()))));
                    }));
  }

  Future<JsonObject> setRole(JsonObject req) {
    UUID me = userId(req);
    UUID id = conversationId(req);
    UUID target = uuid(req, "member_id", true);
    String role = req.getString("role");
    if (!ConversationActions.ROLES.contains(role)) {
      throw Bodies.invalid("role", "must be one of [admin, member, owner]");
    }
    return change(
        id,
        conn ->
            lockGroup(conn, id, me)
                .compose(
                    locked -> {
                      if (!ROLE_OWNER.equals(locked.role())) {
                        throw new ServiceException(
                            ErrorCode.FORBIDDEN, "only the owner can change roles");
                      }
                      return memberRole(conn, id, target);
                    })
                .compose(
                    targetRole -> {
                      JsonObject roles = new JsonObject();
                      Future<Void> done;
                      if (target.equals(me)) {
                        if (!ROLE_OWNER.equals(role)) {
                          throw new ServiceException(
                              ErrorCode.CONFLICT,
                              "a group always has an owner: make another member the owner instead");
                        }
                        done = Future.succeededFuture();
                      } else if (ROLE_OWNER.equals(role)) {
                        // transfer: demote first (at most one owner at any moment)
                        done =
                            setRole(conn, id, me, ROLE_ADMIN)
                                .compose(x -> setRole(conn, id, target, ROLE_OWNER));
                        roles.put(target.toString(), ROLE_OWNER).put(me.toString(), ROLE_ADMIN);
                      } else if (role.equals(targetRole)) {
                        done = Future.succeededFuture();
                      } else {
                        done = setRole(conn, id, target, role);
                        roles.put(target.toString(), role);
                      }
                      return done.compose(
                              x -> roles.isEmpty() ? Future.succeededFuture() : touch(conn, id))
                          .compose(x -> load(conn, id, me))
                          .map(
                              conv ->
                                  new Change(
                                      conv,
                                      roles.isEmpty()
                                          ? null
                                          : event(
                                                  ConversationActions.EVENT_ROLE_CHANGED,
                                                  id.toString(),
                                                  me)
                                              .put(
                                                  "user_ids",
                                                  new JsonArray(
                                                      new ArrayList<>(roles.fieldNames())))
                                              .put("roles", roles)));
                    }));
  }

  private static Future<Void> setRole(SqlConnection conn, UUID id, UUID user, String role) {
    return conn.preparedQuery(
            "UPDATE conversation_members SET role = $3 WHERE conversation_id = $1 AND user_id = $2")
        .execute(Tuple.of(id, user, role))
        .mapEmpty();
  }

  Future<JsonObject> leave(JsonObject req) {
    UUID me = userId(req);
    UUID id = conversationId(req);
    return change(
        id,
        conn ->
            lockGroup(conn, id, me)
                .compose(
                    locked ->
                        conn.preparedQuery(
                                "DELETE FROM conversation_members"
                                    + " WHERE conversation_id = $1 AND user_id = $2")
                            .execute(Tuple.of(id, me))
                            .compose(
                                x ->
                                    ROLE_OWNER.equals(locked.role())
                                        ? passOwnership(conn, id)
                                        : Future.<UUID>succeededFuture(null)))
                .compose(
                    newOwner ->
                        touch(conn, id)
                            .map(
                                x -> {
                                  JsonObject event =
                                      event(
                                              ConversationActions.EVENT_MEMBER_LEFT,
                                              id.toString(),
                                              me)
                                          .put("user_ids", new JsonArray().add(me.toString()));
                                  if (newOwner != null) {
                                    event.put("new_owner_id", newOwner.toString());
                                  }
                                  return new Change(new JsonObject(), event);
                                })));
  }

  /** Makes the longest-standing admin, else member, the owner; null when nobody is left. */
  private static Future<UUID> passOwnership(SqlConnection conn, UUID id) {
    return conn.preparedQuery(
            "SELECT user_id FROM conversation_members WHERE conversation_id = $1"
                + " ORDER BY CASE role WHEN 'admin' THEN 0 ELSE 1 END, joined_at, id LIMIT 1")
        .execute(Tuple.of(id))
        .compose(
            rows -> {
              if (rows.size() == 0) {
                return Future.succeededFuture(null);
              }
              UUID next = rows.iterator().next().getUUID(0);
              return setRole(conn, id, next, ROLE_OWNER).map(next);
            });
  }
}
