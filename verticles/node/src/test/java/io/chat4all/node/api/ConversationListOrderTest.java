package io.chat4all.node.api;

import static org.assertj.core.api.Assertions.assertThat;

import io.chat4all.conversations.ConversationList;
import io.chat4all.messaging.ReadHorizons;
import io.chat4all.testkit.Await;
import io.chat4all.testkit.BackendsExtension;
import io.chat4all.testkit.TestBackends;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.SqlConnection;
import io.vertx.sqlclient.Tuple;
import java.time.Duration;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The conversation list's order lives next to each member ({@code
 * conversation_members.activity_at}): a send moves its conversation to the top for every member,
 * pages walk it once each, and the query reads the user's memberships in order from an index
 * whatever their number (the plan, not a timing).
 */
@ExtendWith(BackendsExtension.class)
class ConversationListOrderTest {
  static final Duration WAIT = Duration.ofSeconds(30);
  static Api api;
  static Pool pg;

  @BeforeAll
  static void start(TestBackends.Isolation iso) {
    api = Api.start(iso);
    pg = api.node().clients().pg();
  }

  @AfterAll
  static void stop() {
    api.close();
  }

  static String group(Api.User owner, String name, Api.User... others) {
    JsonArray ids = new JsonArray();
    for (Api.User u : others) {
      ids.add(u.id());
    }
    return api.post(
            "/v1/conversations",
            owner.accessToken(),
            new JsonObject().put("type", "group").put("name", name).put("member_ids", ids))
        .expect(201)
        .json()
        .getString("conversation_id");
  }

  static void send(Api.User from, String conv) {
    api.post(
            "/v1/messages",
            from.accessToken(),
            Api.textMessage(conv, UUID.randomUUID().toString(), "hello"))
        .expect(202);
  }

  static List<String> list(Api.User u, int limit) {
    return api
        .get("/v1/conversations?limit=" + limit, u.accessToken())
        .expect(200)
        .json()
        .getJsonArray("items")
        .stream()
        .map(o -> ((JsonObject) o).getString("conversation_id"))
        .toList();
  }

  /** Every page of {@code u}'s list, {@code limit} at a time; {@code between} runs after page 1. */
  static List<String> walk(Api.User u, int limit, Runnable between) {
    List<String> walked = new ArrayList<>();
    String cursor = null;
    int pages = 0;
    do {
      String q = "/v1/conversations?limit=" + limit + (cursor == null ? "" : "&cursor=" + cursor);
      JsonObject page = api.get(q, u.accessToken()).expect(200).json();
      page.getJsonArray("items")
          .forEach(o -> walked.add(((JsonObject) o).getString("conversation_id")));
      cursor = page.getString("next_cursor");
      if (++pages == 1) {
        between.run();
      }
      assertThat(pages).isLessThan(50);
    } while (cursor != null);
    return walked;
  }

  /** Member rows whose activity differs from their conversation's (none when kept in step). */
  static List<String> outOfStep(String... convs) {
    List<UUID> ids = new ArrayList<>();
    for (String c : convs) {
      ids.add(UUID.fromString(c));
    }
    List<String> out = new ArrayList<>();
    Await.result(
            pg.preparedQuery(
                    "SELECT m.conversation_id, m.user_id FROM conversation_members m"
                        + " JOIN conversations c ON c.conversation_id = m.conversation_id"
                        + " WHERE m.conversation_id = ANY($1)"
                        + " AND m.activity_at <> COALESCE(c.last_message_at, c.created_at)")
                .execute(Tuple.tuple().addArrayOfUUID(ids.toArray(UUID[]::new))))
        .forEach(r -> out.add(r.getUUID(0) + "/" + r.getUUID(1)));
    return out;
  }

  static Row member(String conv, String user) {
    return Await.result(
            pg.preparedQuery(
                    "SELECT activity_at, last_read_seq, last_delivered_seq FROM conversation_members"
                        + " WHERE conversation_id = $1 AND user_id = $2")
                .execute(Tuple.of(UUID.fromString(conv), UUID.fromString(user))))
        .iterator()
        .next();
  }

  static OffsetDateTime lastMessageAt(String conv) {
    return Await.result(
            pg.preparedQuery("SELECT last_message_at FROM conversations WHERE conversation_id = $1")
                .execute(Tuple.of(UUID.fromString(conv))))
        .iterator()
        .next()
        .getOffsetDateTime(0);
  }

  @Test
  void aSendMovesItsConversationToTheTopForEveryMember() {
    Api.User a = api.newUser("ord");
    Api.User b = api.newUser("ord");
    Api.User c = api.newUser("ord");
    List<Api.User> all = List.of(a, b, c);
    String g1 = group(a, "one", b, c);
    String g2 = group(b, "two", a, c);
    String g3 = group(c, "three", a, b);
    for (Api.User u : all) {
      assertThat(list(u, 50)).containsExactly(g3, g2, g1);
    }

    send(b, g1);
    for (Api.User u : all) {
      Await.until("g1 on top for " + u.username(), WAIT, () -> list(u, 50).get(0).equals(g1));
      assertThat(list(u, 50)).containsExactly(g1, g3, g2);
    }
    send(c, g2);
    for (Api.User u : all) {
      Await.until("g2 on top for " + u.username(), WAIT, () -> list(u, 50).get(0).equals(g2));
      assertThat(list(u, 50)).containsExactly(g2, g1, g3);
    }
    // the senders' rows got both updates: their horizons and their activity
    assertThat(member(g1, b.id()).getLong("last_read_seq")).isEqualTo(1L);
    assertThat(member(g2, c.id()).getLong("last_read_seq")).isEqualTo(1L);
    assertThat(outOfStep(g1, g2, g3)).isEmpty();
  }

  @Test
  void aBatchOfSendsMovesEveryMemberOnceAndEachSendersHorizons() {
    Api.User a = api.newUser("batch");
    Api.User b = api.newUser("batch");
    Api.User c = api.newUser("batch");
    String conv = group(a, "batch", b, c);
    OffsetDateTime t = OffsetDateTime.now(ZoneOffset.UTC).truncatedTo(ChronoUnit.MILLIS);
    List<JsonObject> docs =
        List.of(
            doc(conv, a, 1, t),
            doc(conv, b, 2, t.plusSeconds(1)),
            doc(conv, a, 3, t.plusSeconds(2)));
    List<ReadHorizons.Moved> moved = Await.result(new ReadHorizons(pg).afterSends(conv, docs));

    assertThat(moved)
        .extracting(ReadHorizons.Moved::userId)
        .containsExactlyInAnyOrder(a.id(), b.id());
    assertThat(member(conv, a.id()).getLong("last_read_seq")).isEqualTo(3L);
    assertThat(member(conv, b.id()).getLong("last_read_seq")).isEqualTo(2L);
    OffsetDateTime newest = t.plusSeconds(2);
    for (Api.User u : List.of(a, b, c)) {
      assertThat(member(conv, u.id()).getOffsetDateTime("activity_at").toInstant())
          .isEqualTo(newest.toInstant());
    }
    assertThat(outOfStep(conv)).isEmpty();

    // a replay of the batch moves nothing
    assertThat(Await.result(new ReadHorizons(pg).afterSends(conv, docs))).isEmpty();
    assertThat(outOfStep(conv)).isEmpty();
  }

  @Test
  void onePollsRunsOfSeveralConversationsMoveTogetherEachItsOwn() {
    Api.User a = api.newUser("poll");
    Api.User b = api.newUser("poll");
    Api.User c = api.newUser("poll");
    String ab = group(a, "poll-ab", b);
    String bc = group(b, "poll-bc", c);
    OffsetDateTime t = OffsetDateTime.now(ZoneOffset.UTC).truncatedTo(ChronoUnit.MILLIS);
    List<JsonObject> abDocs = List.of(doc(ab, a, 1, t), doc(ab, b, 2, t.plusSeconds(1)));
    List<JsonObject> bcDocs = List.of(doc(bc, c, 1, t.plusSeconds(5)));
    Map<String, List<ReadHorizons.Moved>> moved =
        Await.result(new ReadHorizons(pg).afterSends(Map.of(ab, abDocs, bc, bcDocs)));

    assertThat(moved.get(ab))
        .extracting(ReadHorizons.Moved::userId)
        .containsExactlyInAnyOrder(a.id(), b.id());
    assertThat(moved.get(bc)).extracting(ReadHorizons.Moved::userId).containsExactly(c.id());
    // each conversation's own last message and senders, not the other's
    assertThat(member(ab, b.id()).getLong("last_read_seq")).isEqualTo(2L);
    assertThat(member(bc, b.id()).getLong("last_read_seq")).isEqualTo(0L);
    assertThat(member(bc, c.id()).getLong("last_read_seq")).isEqualTo(1L);
    assertThat(lastMessageAt(ab).toInstant()).isEqualTo(t.plusSeconds(1).toInstant());
    assertThat(lastMessageAt(bc).toInstant()).isEqualTo(t.plusSeconds(5).toInstant());
    assertThat(outOfStep(ab, bc)).isEmpty();

    // a replay of one with a new run of the other: only the new run moves anything
    List<JsonObject> bcMore = List.of(doc(bc, b, 2, t.plusSeconds(6)));
    moved = Await.result(new ReadHorizons(pg).afterSends(Map.of(ab, abDocs, bc, bcMore)));
    assertThat(moved.get(ab)).isNull();
    assertThat(moved.get(bc)).extracting(ReadHorizons.Moved::userId).containsExactly(b.id());
    assertThat(member(bc, b.id()).getLong("last_read_seq")).isEqualTo(2L);
    assertThat(lastMessageAt(ab).toInstant()).isEqualTo(t.plusSeconds(1).toInstant());
    assertThat(outOfStep(ab, bc)).isEmpty();
  }

  @Test
  void aMemberAddedWhileASendIsStoredMovesWithIt() throws Exception {
    Api.User a = api.newUser("join");
    Api.User b = api.newUser("join");
    Api.User late = api.newUser("join");
    String conv = group(a, "join", b);
    UUID id = UUID.fromString(conv);
    OffsetDateTime at =
        OffsetDateTime.now(ZoneOffset.UTC).plusMinutes(1).truncatedTo(ChronoUnit.MILLIS);

    // as the conversation service adds a member: the conversation row locked, the new member
    // given the activity it reads (the one before the send)
    SqlConnection adder = Await.result(pg.getConnection());
    try {
      Await.result(adder.query("BEGIN").execute());
      Await.result(
          adder
              .preparedQuery("SELECT 1 FROM conversations WHERE conversation_id = $1 FOR UPDATE")
              .execute(Tuple.of(id)));
      Await.result(
          adder
              .preparedQuery(
                  "INSERT INTO conversation_members (conversation_id, user_id, role, activity_at)"
                      + " SELECT $1, $2, 'member', COALESCE(last_message_at, created_at)"
                      + " FROM conversations WHERE conversation_id = $1")
              .execute(Tuple.of(id, UUID.fromString(late.id()))));
      Future<List<ReadHorizons.Moved>> stored =
          new ReadHorizons(pg).afterSends(conv, List.of(doc(conv, a, 1, at)));
      Await.until(
          "the send's update waits on the conversation row",
          WAIT,
          () ->
              Await.result(
                          pg.query(
                                  "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
                                      + " AND query LIKE 'WITH conv AS (UPDATE conversations%'")
                              .execute())
                      .iterator()
                      .next()
                      .getLong(0)
                  > 0);
      Await.result(adder.query("COMMIT").execute());
      Await.result(stored);
    } finally {
      adder.close();
    }
    assertThat(member(conv, late.id()).getOffsetDateTime("activity_at").toInstant())
        .isEqualTo(at.toInstant());
    assertThat(outOfStep(conv)).isEmpty();
  }

  static JsonObject doc(String conv, Api.User from, long seq, OffsetDateTime at) {
    return new JsonObject()
        .put("conversation_id", conv)
        .put("message_id", UUID.randomUUID().toString())
        .put("from_user_id", from.id())
        .put("sequence_number", seq)
        .put("created_at", at.toString())
        .put("payload", new JsonObject().put("type", "text").put("text", "m" + seq));
  }

  @Test
  void pagesAcrossBoundariesGiveEachConversationOnceEvenWhenOneMovesUp() {
    Api.User me = api.newUser("pages");
    Api.User other = api.newUser("pages");
    List<String> convs = new ArrayList<>();
    for (int i = 0; i < 7; i++) {
      convs.add(group(other, "p" + i, me));
    }
    // two ties on the activity time: the conversation id orders them
    OffsetDateTime tie =
        OffsetDateTime.now(ZoneOffset.UTC).minusHours(1).truncatedTo(ChronoUnit.MICROS);
    Await.result(
        pg.preparedQuery(
                "WITH c AS (UPDATE conversations SET created_at = $2 WHERE conversation_id = ANY($1))"
                    + " UPDATE conversation_members SET activity_at = $2 WHERE conversation_id = ANY($1)")
            .execute(
                Tuple.tuple()
                    .addArrayOfUUID(
                        new UUID[] {
                          UUID.fromString(convs.get(1)),
                          UUID.fromString(convs.get(2)),
                          UUID.fromString(convs.get(3))
                        })
                    .addOffsetDateTime(tie)));
    List<String> expected =
        new ArrayList<>(List.of(convs.get(6), convs.get(5), convs.get(4), convs.get(0)));
    expected.addAll(
        convs.subList(1, 4).stream().sorted(ConversationListOrderTest::byUuid).toList());
    assertThat(walk(me, 2, () -> {})).containsExactlyElementsOf(expected);
    assertThat(walk(me, 3, () -> {})).containsExactlyElementsOf(expected);

    // a conversation of the first page moves up while the walk goes on: each still comes once
    String moved = expected.get(1);
    List<String> walked =
        walk(
            me,
            2,
            () -> {
              send(other, moved);
              Await.until("moved up", WAIT, () -> list(me, 1).get(0).equals(moved));
            });
    assertThat(walked).doesNotHaveDuplicates().containsExactlyInAnyOrderElementsOf(expected);
  }

  static int byUuid(String x, String y) {
    // PostgreSQL orders uuids by their bytes, as their text in lower-case hex
    return x.compareTo(y);
  }

  // --- the plan ---

  @Test
  void theListReadsTheMembershipsInIndexOrderWithoutSortingThem() {
    Api.User me = api.newUser("many");
    Api.User other = api.newUser("many");
    int n = 3000;
    Await.result(
        pg.preparedQuery(
                "WITH c AS (INSERT INTO conversations (type, name, created_by, last_message_at)"
                    + " SELECT 'group', 'many ' || g, $1, now() - g * interval '1 second'"
                    + " FROM generate_series(1, $3) g RETURNING conversation_id, last_message_at)"
                    + " INSERT INTO conversation_members (conversation_id, user_id, role, activity_at)"
                    + " SELECT conversation_id, $1, 'owner', last_message_at FROM c"
                    + " UNION ALL SELECT conversation_id, $2, 'member', last_message_at FROM c")
            .execute(Tuple.of(UUID.fromString(me.id()), UUID.fromString(other.id()), n)));
    Await.result(pg.query("ANALYZE conversations").execute());
    Await.result(pg.query("ANALYZE conversation_members").execute());
    assertThat(list(me, 50)).hasSize(50);

    UUID user = UUID.fromString(me.id());
    Row middle =
        Await.result(pg.preparedQuery(ConversationList.FIRST_PAGE).execute(Tuple.of(user, n / 2)))
            .iterator()
            .next();
    OffsetDateTime at = middle.getOffsetDateTime("activity_at");
    UUID after = middle.getUUID("conversation_id");

    Map<String, JsonArray> plans = new HashMap<>();
    plans.put(
        "first page",
        explain("EXPLAIN (FORMAT JSON) " + ConversationList.FIRST_PAGE, Tuple.of(user, 51)));
    plans.put(
        "next page",
        explain(
            "EXPLAIN (FORMAT JSON) " + ConversationList.NEXT_PAGE, Tuple.of(user, at, after, 51)));
    // the plan a prepared statement may settle on after some executions: no parameter values
    plans.put(
        "first page, generic",
        generic(ConversationList.FIRST_PAGE, "uuid, int", "'" + user + "', 51"));
    plans.put(
        "next page, generic",
        generic(
            ConversationList.NEXT_PAGE,
            "uuid, timestamptz, uuid, int",
            "'" + user + "', '" + at + "', '" + after + "', 51"));

    plans.forEach(
        (name, plan) -> {
          JsonObject top = plan.getJsonObject(0).getJsonObject("Plan");
          List<JsonObject> nodes = new ArrayList<>();
          flatten(top, nodes);
          assertThat(top.getString("Node Type")).as(name + ": " + plan).isEqualTo("Limit");
          assertThat(nodes)
              .as(name + ": no sort: " + plan)
              .noneMatch(p -> p.getString("Node Type").contains("Sort"));
          assertThat(nodes)
              .as(name + ": the activity index: " + plan)
              .anyMatch(
                  p ->
                      p.getString("Node Type").startsWith("Index")
                          && "idx_conversation_members_activity".equals(p.getString("Index Name")));
          assertThat(nodes)
              .as(name + ": no scan of the whole table: " + plan)
              .noneMatch(p -> "Seq Scan".equals(p.getString("Node Type")));
        });
  }

  static JsonArray explain(String sql, Tuple args) {
    Row r = Await.result(pg.preparedQuery(sql).execute(args)).iterator().next();
    return new JsonArray(String.valueOf(r.getValue(0)));
  }

  static JsonArray generic(String sql, String types, String values) {
    return Await.result(
        pg.withConnection(
            conn ->
                conn.query("SET plan_cache_mode = force_generic_plan")
                    .execute()
                    .compose(
                        x -> conn.query("PREPARE list_page (" + types + ") AS " + sql).execute())
                    .compose(
                        x ->
                            conn.query("EXPLAIN (FORMAT JSON) EXECUTE list_page (" + values + ")")
                                .execute())
                    .compose(
                        rows ->
                            conn.query("DEALLOCATE list_page")
                                .execute()
                                .compose(x -> conn.query("RESET plan_cache_mode").execute())
                                .map(
                                    x ->
                                        new JsonArray(
                                            String.valueOf(rows.iterator().next().getValue(0)))))));
  }

  static void flatten(JsonObject plan, List<JsonObject> out) {
    out.add(plan);
    JsonArray children = plan.getJsonArray("Plans");
    if (children != null) {
      children.forEach(c -> flatten((JsonObject) c, out));
    }
  }
}
