package io.chat4all.conversations;

import static io.chat4all.conversations.ConversationActions.TYPE_GROUP;
import static io.chat4all.conversations.ConversationActions.TYPE_PRIVATE;
import static io.chat4all.conversations.ConversationEvents.event;
import static io.chat4all.conversations.ConversationRequests.conversationId;
import static io.chat4all.conversations.ConversationRequests.userId;
import static io.chat4all.conversations.ConversationRequests.uuids;
import static io.chat4all.conversations.ConversationRows.load;
import static io.chat4all.conversations.ConversationRows.notFound;
import static io.chat4all.conversations.ConversationRows.requireUsers;
import static io.chat4all.conversations.ConversationRows.withMembers;

import io.chat4all.codecs.Addresses;
import io.chat4all.codecs.Outbox;
import io.chat4all.codecs.ServiceBus;
import io.chat4all.codecs.Topics;
import io.chat4all.codecs.Wire;
import io.chat4all.web.Bodies;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.redis.client.RedisAPI;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.SqlConnection;
import io.vertx.sqlclient.Tuple;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.UUID;

/**
 * The conversation service on the event bus ({@value Addresses#CONVERSATIONS}): private and group
 * conversations, their members and roles. Requests arrive shape-validated by the edges; this
 * verticle owns the rules that need the database (membership, roles, limits, one private
 * conversation per pair). Every multi-statement change runs in one transaction that locks the
 * conversation row, so concurrent changes of one conversation serialize. After the commit the Redis
 * membership cache is invalidated. Each event ({@code conversation.created}, {@code
 * conversation.members_changed}, key = conversation id) is written to the outbox in the transaction
 * of its change, so it cannot be lost: the outbox relay publishes it to Kafka after the commit.
 *
 * <p>This class binds the actions and holds create and read; the membership changes are in {@link
 * MemberChanges}, loading and mapping rows in {@link ConversationRows}, the outbox writes in {@link
 * ConversationEvents}.
 */
public class ConversationsVerticle extends VerticleBase {
  private final Pool pg;
  private final LocalMembers localMembers;
  private final ConversationEvents events;
  private final ConversationsConfig config;
  private final MembershipCache cache;
  private MemberChanges members;

  public ConversationsVerticle(
      Pool pg,
      RedisAPI redis,
      String redisKeyPrefix,
      String topicPrefix,
      ConversationsConfig config,
      LocalMembers localMembers) {
    this.pg = Objects.requireNonNull(pg, "pg");
    this.localMembers = Objects.requireNonNull(localMembers, "localMembers");
    this.events = new ConversationEvents(topicPrefix == null ? "" : topicPrefix);
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
    members = new MemberChanges(vertx, pg, cache, localMembers, config, events);
    return ServiceBus.bind(
            vertx,
            Addresses.CONVERSATIONS,
            Map.of(
                ConversationActions.CREATE, this::create,
                ConversationActions.LIST, this::list,
                ConversationActions.GET, this::get,
                ConversationActions.ADD_MEMBERS, members::addMembers,
                ConversationActions.REMOVE_MEMBER, members::removeMember,
                ConversationActions.SET_ROLE, members::setRole,
                ConversationActions.LEAVE, members::leave,
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
        .recover(ConversationRows::unknownUsers)
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
        .recover(ConversationRows::unknownUsers)
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
    return events.record(conn, Topics.CONVERSATION_CREATED, event);
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
}
