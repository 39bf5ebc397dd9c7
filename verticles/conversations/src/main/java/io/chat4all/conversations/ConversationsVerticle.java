package io.chat4all.conversations;

import static io.chat4all.conversations.ConversationActions.ROLE_ADMIN;
import static io.chat4all.conversations.ConversationActions.ROLE_MEMBER;
import static io.chat4all.conversations.ConversationActions.ROLE_OWNER;
import static io.chat4all.conversations.ConversationActions.TYPE_GROUP;
import static io.chat4all.conversations.ConversationActions.TYPE_PRIVATE;

import io.chat4all.codecs.Addresses;
import io.chat4all.codecs.ErrorCode;
import io.chat4all.codecs.Outbox;
import io.chat4all.codecs.ServiceBus;
import io.chat4all.codecs.ServiceException;
import io.chat4all.codecs.Topics;
import io.chat4all.codecs.Wire;
import io.chat4all.web.Bodies;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.pgclient.PgException;
import io.vertx.redis.client.RedisAPI;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.SqlClient;
import io.vertx.sqlclient.SqlConnection;
import io.vertx.sqlclient.Tuple;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.UUID;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The conversation service on the event bus ({@value Addresses#CONVERSATIONS}): private and group
 * conversations, their members and roles. Requests arrive shape-validated by the edges; this
 * verticle owns the rules that need the database (membership, roles, limits, one private
 * conversation per pair). Every multi-statement change runs in one transaction that locks the
 * conversation row, so concurrent changes of one conversation serialize. After the commit the Redis
 * membership cache is invalidated. Each event ({@code conversation.created}, {@code
 * conversation.members_changed}, key = conversation id) is written to the outbox in the transaction
 * of its change, so it cannot be lost: the outbox relay publishes it to Kafka after the commit.
 */
public class ConversationsVerticle extends VerticleBase {
  private static final Logger LOG = LoggerFactory.getLogger(ConversationsVerticle.class);

  private static final String CONVERSATION_COLUMNS = ConversationList.COLUMNS;

  private final Pool pg;
  private final LocalMembers localMembers;
  private final String topicPrefix;
  private final ConversationsConfig config;
  private final MembershipCache cache;

  public ConversationsVerticle(
      Pool pg,
      RedisAPI redis,
      String redisKeyPrefix,
      String topicPrefix,
      ConversationsConfig config,
      LocalMembers localMembers) {
    this.pg = Objects.requireNonNull(pg, "pg");
    this.localMembers = Objects.requireNonNull(localMembers, "localMembers");
    this.topicPrefix = topicPrefix == null ? "" : topicPrefix;
    this.config = Objects.requireNonNull(config, "config");
    this.cache = new MembershipCache(pg, Objects.requireNonNull(redis, "redis"), redisKeyPrefix);
    if (config.maxGroupMembers() < 2) {
      throw new IllegalArgumentException("conversations.max_group_members must be at least 2");
    }
    if (config.maxNameLength() < 1 || config.maxNameLength() > ConversationRequests.NAME_HARD_MAX) {
      throw new IllegalArgumentException(
          "conversations.max_name_length must be 1 to " + ConversationRequests.NAME_HARD_MAX);
    }
  }

  @Override
  public final Future<?> start() {
    return ServiceBus.bind(
            vertx,
            Addresses.CONVERSATIONS,
            Map.of(
                ConversationActions.CREATE, this::create,
                ConversationActions.LIST, this::list,
                ConversationActions.GET, this::get,
                ConversationActions.ADD_MEMBERS, this::addMembers,
                ConversationActions.REMOVE_MEMBER, this::removeMember,
                ConversationActions.SET_ROLE, this::setRole,
                ConversationActions.LEAVE, this::leave,
                ConversationActions.MEMBERSHIP, this::membership))
        .completion();
  }

  // --- create ---

  private Future<JsonObject> create(JsonObject req) {
    UUID me = userId(req);
    List<UUID> ids = uuids(req, "member_ids");
    String type = req.getString("type");
    if (TYPE_PRIVATE.equals(type)) {
      return createPrivate(me, ids);
    }
    if (TYPE_GROUP.equals(type)) {
      return createGroup(me, req.getString("name"), ids);
    }
    throw Bodies.invalid("type", "must be one of [group, private]");
  }

  private Future<JsonObject> createPrivate(UUID me, List<UUID> ids) {
    if (ids.size() != 1) {
      throw Bodies.invalid("member_ids", "must hold exactly the other user's id");
    }
    UUID other = ids.get(0);
    if (other.equals(me)) {
      throw Bodies.invalid("member_ids", "must name another user than yourself");
    }
    return requireUsers(pg, List.of(other))
        .compose(
            x ->
                pg.withTransaction(
                    conn ->
                        findOrCreatePrivate(conn, me, other)
                            .compose(
                                result ->
                                    result.getBoolean("created")
                                        ? recordCreated(
                                                conn, me, result.getJsonObject("conversation"))
                                            .map(result)
                                        : Future.succeededFuture(result))))
        .recover(ConversationsVerticle::unknownUsers)
        .onSuccess(result -> Outbox.nudge(vertx, Outbox.POSTGRES));
  }

  /**
   * The one private conversation of a pair, keyed "smaller id:larger id". A concurrent creator
   * waits on the unique key until the first commits, then finds its conversation.
   */
  private static Future<JsonObject> findOrCreatePrivate(SqlConnection conn, UUID me, UUID other) {
    String a = me.toString();
    String b = other.toString();
    String key = a.compareTo(b) < 0 ? a + ":" + b : b + ":" + a;
    Future<JsonObject> found =
        conn.preparedQuery(
                "INSERT INTO conversations (type, created_by, private_key) VALUES ('private', $1, $2)"
                    + " ON CONFLICT (private_key) DO NOTHING RETURNING conversation_id")
            .execute(Tuple.of(me, key))
            .compose(
                rows -> {
                  if (rows.size() == 1) {
                    UUID id = rows.iterator().next().getUUID(0);
                    return conn.preparedQuery(
                            "INSERT INTO conversation_members"
                                + " (conversation_id, user_id, role, activity_at)"
                                + " SELECT $1, v.u, v.r, c.created_at FROM conversations c,"
                                + " (VALUES ($2::uuid, 'owner'), ($3::uuid, 'member')) AS v (u, r)"
                                + " WHERE c.conversation_id = $1")
                        .execute(Tuple.of(id, me, other))
                        .map(r -> new JsonObject().put("created", true).put("id", id.toString()));
                  }
                  return conn.preparedQuery(
                          "SELECT conversation_id FROM conversations WHERE private_key = $1")
                      .execute(Tuple.of(key))
                      .map(
                          r ->
                              new JsonObject()
                                  .put("created", false)
                                  .put("id", r.iterator().next().getUUID(0).toString()));
                });
    return found.compose(
        c ->
            load(conn, UUID.fromString(c.getString("id")), me)
                .map(
                    conv ->
                        new JsonObject()
                            .put("created", c.getBoolean("created"))
                            .put("conversation", conv)));
  }

  private Future<JsonObject> createGroup(UUID me, String name, List<UUID> ids) {
    if (name == null || name.isBlank()) {
      throw Bodies.invalid("name", "is required for group conversations");
    }
    String groupName = name.strip();
    if (groupName.codePointCount(0, groupName.length()) > config.maxNameLength()) {
      throw Bodies.invalid("name", "must be 1 to " + config.maxNameLength() + " characters long");
    }
    Set<UUID> all = new LinkedHashSet<>();
    all.add(me);
    all.addAll(ids);
    if (all.size() > config.maxGroupMembers()) {
      throw Bodies.invalid(
          "member_ids",
          "may hold at most "
              + (config.maxGroupMembers() - 1)
              + " other users (a group has at most "
              + config.maxGroupMembers()
              + " members)");
    }
    List<UUID> others = new ArrayList<>(all);
    others.remove(me);
    return requireUsers(pg, others)
        .compose(
            x ->
                pg.withTransaction(
                    conn ->
                        insertGroup(conn, me, groupName, all)
                            .compose(conv -> recordCreated(conn, me, conv).map(conv))))
        .recover(ConversationsVerticle::unknownUsers)
        .map(
            conv -> {
              Outbox.nudge(vertx, Outbox.POSTGRES);
              return new JsonObject().put("created", true).put("conversation", conv);
            });
  }

  private static Future<JsonObject> insertGroup(
      SqlConnection conn, UUID me, String name, Set<UUID> members) {
    return conn.preparedQuery(
            "INSERT INTO conversations (type, name, created_by) VALUES ('group', $1, $2)"
                + " RETURNING conversation_id")
        .execute(Tuple.of(name, me))
        .compose(
            rows -> {
              UUID id = rows.iterator().next().getUUID(0);
              return conn.preparedQuery(
                      "INSERT INTO conversation_members"
                          + " (conversation_id, user_id, role, activity_at)"
                          + " SELECT $1, u, CASE WHEN u = $2 THEN 'owner' ELSE 'member' END,"
                          + " c.created_at FROM conversations c, unnest($3::uuid[]) AS u"
                          + " WHERE c.conversation_id = $1")
                  .execute(Tuple.of(id, me).addArrayOfUUID(members.toArray(UUID[]::new)))
                  .compose(r -> load(conn, id, me));
            });
  }

  private Future<Void> recordCreated(SqlConnection conn, UUID me, JsonObject conversation) {
    JsonArray userIds = new JsonArray();
    conversation
        .getJsonArray("members")
        .forEach(m -> userIds.add(((JsonObject) m).getString("user_id")));
    JsonObject event =
        event(ConversationActions.EVENT_CREATED, conversation.getString("conversation_id"), me)
            .put("user_ids", userIds)
            .put("type", conversation.getString("type"))
            .put("name", conversation.getString("name"));
    return record(conn, Topics.CONVERSATION_CREATED, event);
  }

  // --- read ---

  private Future<JsonObject> list(JsonObject req) {
    UUID me = userId(req);
    int limit = Math.max(1, Math.min(Wire.MAX_LIMIT, req.getInteger("limit", Wire.DEFAULT_LIMIT)));
    String raw = req.getString("cursor");
    Cursor after = raw == null || raw.isEmpty() ? null : Cursor.parse(raw, "cursor");
    Future<io.vertx.sqlclient.RowSet<Row>> query =
        after == null
            ? pg.preparedQuery(ConversationList.FIRST_PAGE).execute(Tuple.of(me, limit + 1))
            : pg.preparedQuery(ConversationList.NEXT_PAGE)
                .execute(Tuple.of(me, after.activityAt(), after.conversationId(), limit + 1));
    return query.compose(
        rows -> {
          List<Row> page = new ArrayList<>();
          for (Row row : rows) {
            page.add(row);
          }
          String next = null;
          if (page.size() > limit) {
            page = page.subList(0, limit);
            Row last = page.get(limit - 1);
            next =
                new Cursor(last.getOffsetDateTime("activity_at"), last.getUUID("conversation_id"))
                    .encode();
          }
          String nextCursor = next;
          return withMembers(pg, page).map(items -> Wire.page(items, nextCursor));
        });
  }

  private Future<JsonObject> get(JsonObject req) {
    UUID me = userId(req);
    UUID id = conversationId(req);
    return cache
        .lookup(id.toString(), me.toString())
        .compose(m -> m.member() ? load(pg, id, me) : Future.failedFuture(notFound()));
  }

  private Future<JsonObject> membership(JsonObject req) {
    UUID me = userId(req);
    UUID id;
    try {
      id = UUID.fromString(String.valueOf(req.getValue("conversation_id")));
    } catch (IllegalArgumentException e) {
      return Future.succeededFuture(
          new JsonObject().put("member", false).putNull("role").put("joined_seq", 0L));
    }
    return cache
        .lookup(id.toString(), me.toString())
        .map(
            m ->
                new JsonObject()
                    .put("member", m.member())
                    .put("role", m.role())
                    .put("joined_seq", m.joinedSeq()));
  }

  /** One conversation as {@code viewer} sees it; fails not_found unless a member. */
  private static Future<JsonObject> load(SqlClient client, UUID id, UUID viewer) {
    return client
        .preparedQuery(
            "SELECT "
                + CONVERSATION_COLUMNS
                + " FROM conversations c JOIN conversation_members m"
                + " ON m.conversation_id = c.conversation_id AND m.user_id = $2"
                + " WHERE c.conversation_id = $1 AND c.is_active")
        .execute(Tuple.of(id, viewer))
        .compose(
            rows -> {
              if (rows.size() == 0) {
                return Future.failedFuture(notFound());
              }
              return withMembers(client, List.of(rows.iterator().next())).map(l -> l.get(0));
            });
  }

  /** Conversation rows with their members, in the rows' order. */
  private static Future<List<JsonObject>> withMembers(SqlClient client, List<Row> rows) {
    if (rows.isEmpty()) {
      return Future.succeededFuture(List.of());
    }
    UUID[] ids = rows.stream().map(r -> r.getUUID("conversation_id")).toArray(UUID[]::new);
    return client
        .preparedQuery(
            "SELECT m.conversation_id, m.user_id, u.username, m.role, m.joined_at"
                + " FROM conversation_members m JOIN users u ON u.user_id = m.user_id"
                + " WHERE m.conversation_id = ANY($1) ORDER BY m.joined_at, m.id")
        .execute(Tuple.tuple().addArrayOfUUID(ids))
        .map(
            memberRows -> {
              Map<UUID, JsonArray> members = new LinkedHashMap<>();
              for (UUID id : ids) {
                members.put(id, new JsonArray());
              }
              for (Row m : memberRows) {
                members
                    .get(m.getUUID("conversation_id"))
                    .add(
                        new JsonObject()
                            .put("user_id", m.getUUID("user_id").toString())
                            .put("username", m.getString("username"))
                            .put("role", m.getString("role"))
                            .put("joined_at", ts(m.getOffsetDateTime("joined_at"))));
              }
              List<JsonObject> out = new ArrayList<>();
              for (Row r : rows) {
                out.add(conversation(r, members.get(r.getUUID("conversation_id"))));
              }
              return out;
            });
  }

  private static JsonObject conversation(Row row, JsonArray members) {
    UUID lastMessage = row.getUUID("last_message_id");
    return new JsonObject()
        .put("conversation_id", row.getUUID("conversation_id").toString())
        .put("type", row.getString("type"))
        .put("name", row.getString("name"))
        .put("created_by", row.getUUID("created_by").toString())
        .put("created_at", ts(row.getOffsetDateTime("created_at")))
        .put("updated_at", ts(row.getOffsetDateTime("updated_at")))
        .put("members", members)
        .put("member_count", members.size())
        .put("last_message_id", lastMessage == null ? null : lastMessage.toString())
        .put("last_message_at", ts(row.getOffsetDateTime("last_message_at")))
        .put("last_message_snippet", row.getString("last_message_snippet"))
        .put("last_seq", row.getLong("last_seq"))
        .put("unread_count", row.getLong("unread_count"));
  }

  // --- membership changes ---

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
                                        : record(
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

  private Future<JsonObject> addMembers(JsonObject req) {
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
        .recover(ConversationsVerticle::unknownUsers);
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

  private Future<JsonObject> removeMember(JsonObject req) {
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

  private Future<JsonObject> setRole(JsonObject req) {
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

  private Future<JsonObject> leave(JsonObject req) {
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

  // --- helpers ---

  /** The event into the outbox, in the transaction of {@code conn} (published after the commit). */
  private Future<Void> record(SqlConnection conn, String topic, JsonObject event) {
    return conn.preparedQuery(Outbox.INSERT_SQL)
        .execute(
            Tuple.of(
                Topics.name(topicPrefix, topic),
                event.getString("conversation_id"),
                event.encode()))
        .mapEmpty();
  }

  private static JsonObject event(String name, String conversationId, UUID actor) {
    return new JsonObject()
        .put(Outbox.EVENT_ID, UUID.randomUUID().toString())
        .put("event", name)
        .put("conversation_id", conversationId)
        .put("actor_id", actor.toString())
        .put("at", Wire.timestamp(Instant.now()));
  }

  /** Fails validation_failed on member_ids unless every id is an active user. */
  private static Future<Void> requireUsers(SqlClient client, List<UUID> ids) {
    if (ids.isEmpty()) {
      return Future.succeededFuture();
    }
    return client
        .preparedQuery("SELECT user_id FROM users WHERE user_id = ANY($1) AND status = 'active'")
        .execute(Tuple.tuple().addArrayOfUUID(ids.toArray(UUID[]::new)))
        .compose(
            rows -> {
              Set<UUID> found = new LinkedHashSet<>();
              rows.forEach(r -> found.add(r.getUUID(0)));
              JsonArray unknown = new JsonArray();
              ids.stream().filter(u -> !found.contains(u)).forEach(u -> unknown.add(u.toString()));
              if (!unknown.isEmpty()) {
                return Future.failedFuture(unknownUsersError(unknown));
              }
              return Future.<Void>succeededFuture();
            });
  }

  private static ServiceException unknownUsersError(JsonArray unknown) {
    return new ServiceException(
        ErrorCode.VALIDATION_FAILED,
        "member_ids holds ids of no active user",
        new JsonObject().put("field", "member_ids").put("unknown_ids", unknown));
  }

  /** A user deleted between the check and the insert: the same error as an unknown id. */
  private static <T> Future<T> unknownUsers(Throwable err) {
    if (err instanceof PgException pe && "23503".equals(pe.getSqlState())) {
      return Future.failedFuture(unknownUsersError(new JsonArray()));
    }
    return Future.failedFuture(err);
  }

  private static ServiceException notFound() {
    return new ServiceException(ErrorCode.NOT_FOUND, "conversation not found");
  }

  private static UUID userId(JsonObject req) {
    return uuid(req, "user_id", false);
  }

  private static UUID conversationId(JsonObject req) {
    try {
      return UUID.fromString(String.valueOf(req.getValue("conversation_id")));
    } catch (IllegalArgumentException e) {
      throw notFound();
    }
  }

  private static UUID uuid(JsonObject req, String field, boolean notFoundIfMalformed) {
    Object v = req.getValue(field);
    try {
      return UUID.fromString((String) v);
    } catch (IllegalArgumentException | ClassCastException | NullPointerException e) {
      if (notFoundIfMalformed) {
        throw new ServiceException(ErrorCode.NOT_FOUND, "member not found");
      }
      throw Bodies.invalid(field, "must be a UUID");
    }
  }

  private static List<UUID> uuids(JsonObject req, String field) {
    Object v = req.getValue(field);
    if (v == null) {
      return List.of();
    }
    if (!(v instanceof JsonArray array)) {
      throw Bodies.invalid(field, "must be an array of UUIDs");
    }
    Set<UUID> ids = new LinkedHashSet<>();
    for (Object item : array) {
      ids.add(UUID.fromString(Bodies.uuid(field, item)));
    }
    return new ArrayList<>(ids);
  }

  private static String ts(OffsetDateTime t) {
    return t == null ? null : Wire.timestamp(t.toInstant());
  }
}
