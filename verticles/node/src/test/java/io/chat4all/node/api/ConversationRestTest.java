package io.chat4all.node.api;

import static org.assertj.core.api.Assertions.assertThat;

import io.chat4all.testkit.BackendsExtension;
import io.chat4all.testkit.TestBackends;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Conversations over REST: creation, listing, members, roles, leaving, and every kind of bad input.
 */
@ExtendWith(BackendsExtension.class)
class ConversationRestTest {
  static Api api;

  @BeforeAll
  static void start(TestBackends.Isolation iso) {
    // small groups, so that the size limit can be reached
    api =
        Api.start(
            iso,
            new JsonObject().put("conversations", new JsonObject().put("max_group_members", 4)));
  }

  @AfterAll
  static void stop() {
    api.close();
  }

  static Api.Res createPrivate(Api.User me, Api.User other) {
    return api.post(
        "/v1/conversations",
        me.accessToken(),
        new JsonObject().put("type", "private").put("member_ids", new JsonArray().add(other.id())));
  }

  static JsonObject createGroup(Api.User owner, String name, Api.User... members) {
    JsonArray ids = new JsonArray();
    for (Api.User m : members) {
      ids.add(m.id());
    }
    return api.post(
            "/v1/conversations",
            owner.accessToken(),
            new JsonObject().put("type", "group").put("name", name).put("member_ids", ids))
        .expect(201)
        .json();
  }

  static Api.Res create(Api.User me, String rawBody) {
    return api.call("POST", "/v1/conversations", me.accessToken(), rawBody);
  }

  static String path(JsonObject conversation) {
    return "/v1/conversations/" + conversation.getString("conversation_id");
  }

  static Map<String, String> roles(JsonObject conversation) {
    return conversation.getJsonArray("members").stream()
        .map(o -> (JsonObject) o)
        .collect(Collectors.toMap(m -> m.getString("user_id"), m -> m.getString("role")));
  }

  static List<String> listIds(Api.User me) {
    return api
        .get("/v1/conversations?limit=200", me.accessToken())
        .expect(200)
        .json()
        .getJsonArray("items")
        .stream()
        .map(o -> ((JsonObject) o).getString("conversation_id"))
        .toList();
  }

  static Api.Res patchRole(Api.User caller, JsonObject conv, Api.User target, String role) {
    return api.call(
        "PATCH",
        path(conv) + "/members/" + target.id(),
        caller.accessToken(),
        new JsonObject().put("role", role).encode());
  }

  static Api.Res addMembers(Api.User caller, JsonObject conv, Api.User... users) {
    JsonArray ids = new JsonArray();
    for (Api.User u : users) {
      ids.add(u.id());
    }
    return api.post(
        path(conv) + "/members", caller.accessToken(), new JsonObject().put("member_ids", ids));
  }

  @Test
  void privateConversationIsCreatedOnceAndFoundAgainFromEitherSide() {
    Api.User alice = api.newUser("alice");
    Api.User bob = api.newUser("bob");

    JsonObject first = createPrivate(alice, bob).expect(201).json();
    assertThat(first.getString("type")).isEqualTo("private");
    assertThat(first.containsKey("name")).isTrue();
    assertThat(first.getString("name")).isNull();
    assertThat(first.getString("created_by")).isEqualTo(alice.id());
    assertThat(first.getString("created_at"))
        .matches("\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}Z");
    assertThat(first.getString("updated_at")).isNotNull();
    assertThat(first.getLong("last_seq")).isZero();
    assertThat(first.getLong("unread_count")).isZero();
    assertThat(first.getValue("last_message_id")).isNull();
    assertThat(first.getValue("last_message_at")).isNull();
    assertThat(first.getValue("last_message_snippet")).isNull();
    assertThat(roles(first)).isEqualTo(Map.of(alice.id(), "owner", bob.id(), "member"));
    JsonObject bobEntry =
        first.getJsonArray("members").stream()
            .map(o -> (JsonObject) o)
            .filter(m -> m.getString("user_id").equals(bob.id()))
            .findFirst()
            .orElseThrow();
    assertThat(bobEntry.getString("username")).isEqualTo(bob.username());
    assertThat(bobEntry.getString("joined_at")).isNotNull();

    JsonObject again = createPrivate(alice, bob).expect(200).json();
    JsonObject fromBob = createPrivate(bob, alice).expect(200).json();
    assertThat(again.getString("conversation_id")).isEqualTo(first.getString("conversation_id"));
    assertThat(fromBob.getString("conversation_id")).isEqualTo(first.getString("conversation_id"));

    JsonObject got = api.get(path(first), bob.accessToken()).expect(200).json();
    assertThat(got.getString("conversation_id")).isEqualTo(first.getString("conversation_id"));
    assertThat(listIds(alice)).containsExactly(first.getString("conversation_id"));
    assertThat(listIds(bob)).containsExactly(first.getString("conversation_id"));
  }

  @Test
  void concurrentCreationsOfOnePairMakeOneConversation() throws Exception {
    Api.User a = api.newUser("cona");
    Api.User b = api.newUser("conb");
    ExecutorService pool = Executors.newFixedThreadPool(10);
    try {
      List<CompletableFuture<Api.Res>> calls = new ArrayList<>();
      for (int i = 0; i < 10; i++) {
        boolean fromA = i % 2 == 0;
        calls.add(
            CompletableFuture.supplyAsync(
                () -> fromA ? createPrivate(a, b) : createPrivate(b, a), pool));
      }
      Set<String> ids = new HashSet<>();
      int created = 0;
      for (CompletableFuture<Api.Res> call : calls) {
        Api.Res res = call.get();
        assertThat(res.status()).as(res.raw()).isIn(200, 201);
        if (res.status() == 201) {
          created++;
        }
        ids.add(res.json().getString("conversation_id"));
      }
      assertThat(ids).hasSize(1);
      assertThat(created).isEqualTo(1);
      assertThat(listIds(a)).containsExactlyElementsOf(ids);
      assertThat(listIds(b)).containsExactlyElementsOf(ids);
    } finally {
      pool.shutdownNow();
    }
  }

  @Test
  void groupWithMembersIsVisibleToMembersOnly() {
    Api.User owner = api.newUser("gowner");
    Api.User m1 = api.newUser("gm1");
    Api.User m2 = api.newUser("gm2");
    Api.User outsider = api.newUser("gout");

    JsonObject group = createGroup(owner, "  Team  ", m1, m2, m1);
    assertThat(group.getString("type")).isEqualTo("group");
    assertThat(group.getString("name")).isEqualTo("Team");
    assertThat(group.getInteger("member_count")).isEqualTo(3);
    assertThat(roles(group))
        .isEqualTo(Map.of(owner.id(), "owner", m1.id(), "member", m2.id(), "member"));

    assertThat(api.get(path(group), m2.accessToken()).expect(200).json().getString("name"))
        .isEqualTo("Team");
    api.get(path(group), outsider.accessToken()).expectError(404, "not_found");
    assertThat(listIds(outsider)).isEmpty();

    // a group of one (no other members) is fine too
    JsonObject alone = createGroup(outsider, "notes");
    assertThat(roles(alone)).isEqualTo(Map.of(outsider.id(), "owner"));
  }

  @Test
  void groupsHoldAtMostTheConfiguredNumberOfMembers() {
    Api.User owner = api.newUser("sowner");
    Api.User[] others = new Api.User[4];
    for (int i = 0; i < others.length; i++) {
      others[i] = api.newUser("s" + i);
    }
    expectField(
        api.post(
            "/v1/conversations",
            owner.accessToken(),
            new JsonObject()
                .put("type", "group")
                .put("name", "too big")
                .put(
                    "member_ids",
                    new JsonArray()
                        .add(others[0].id())
                        .add(others[1].id())
                        .add(others[2].id())
                        .add(others[3].id()))),
        "member_ids");
    assertThat(listIds(owner)).isEmpty();

    JsonObject group = createGroup(owner, "full", others[0], others[1]);
    // one more fits, two more do not: nothing of the failed request is written
    addMembers(owner, group, others[2], others[3]).expectError(409, "conflict");
    assertThat(api.get(path(group), owner.accessToken()).expect(200).json().getJsonArray("members"))
        .hasSize(3);
    api.get(path(group), others[2].accessToken()).expectError(404, "not_found");
    assertThat(roles(addMembers(owner, group, others[2]).expect(200).json())).hasSize(4);
    addMembers(owner, group, others[3]).expectError(409, "conflict");
    // re-adding present members is still fine when full
    addMembers(owner, group, others[0]).expect(200);
  }

  @Test
  void listIsNewestFirstWithUnreadCountsAndWalksPageByPage() {
    Api.User me = api.newUser("lister");
    Api.User other = api.newUser("listother");
    List<String> created = new ArrayList<>();
    created.add(createGroup(me, "first").getString("conversation_id"));
    created.add(createPrivate(me, other).expect(201).json().getString("conversation_id"));
    created.add(createGroup(me, "third", other).getString("conversation_id"));
    created.add(createGroup(other, "fourth", me).getString("conversation_id"));
    List<String> newestFirst = new ArrayList<>(created);
    java.util.Collections.reverse(newestFirst);

    JsonObject all = api.get("/v1/conversations", me.accessToken()).expect(200).json();
    assertThat(all.getValue("next_cursor")).isNull();
    List<JsonObject> items = all.getJsonArray("items").stream().map(o -> (JsonObject) o).toList();
    assertThat(items.stream().map(i -> i.getString("conversation_id")).toList())
        .containsExactlyElementsOf(newestFirst);
    assertThat(items).allSatisfy(i -> assertThat(i.getLong("unread_count")).isZero());
    assertThat(items).allSatisfy(i -> assertThat(i.getJsonArray("members")).isNotEmpty());

    List<String> walked = new ArrayList<>();
    String cursor = null;
    int pages = 0;
    do {
      String q = "/v1/conversations?limit=1" + (cursor == null ? "" : "&cursor=" + cursor);
      JsonObject page = api.get(q, me.accessToken()).expect(200).json();
      assertThat(page.getJsonArray("items")).hasSizeLessThanOrEqualTo(1);
      page.getJsonArray("items")
          .forEach(o -> walked.add(((JsonObject) o).getString("conversation_id")));
      cursor = page.getString("next_cursor");
      pages++;
      assertThat(pages).isLessThan(10);
    } while (cursor != null);
    assertThat(walked).containsExactlyElementsOf(newestFirst);

    api.get("/v1/conversations?cursor=not-a-cursor", me.accessToken())
        .expectError(400, "validation_failed");
    assertThat(
            api.get("/v1/conversations?cursor=bm9wZQ", me.accessToken())
                .expectError(400, "validation_failed")
                .json()
                .getJsonObject("error")
                .getJsonObject("details")
                .getString("field"))
        .isEqualTo("cursor");
    api.get("/v1/conversations?limit=0", me.accessToken()).expectError(400, "validation_failed");
    api.get("/v1/conversations?limit=201", me.accessToken()).expectError(400, "validation_failed");
  }

  @Test
  void ownerAndAdminsManageMembersAndARemovedMemberLosesAccessAtOnce() {
    Api.User owner = api.newUser("mowner");
    Api.User admin = api.newUser("madmin");
    Api.User member = api.newUser("mmember");
    Api.User newcomer = api.newUser("mnew");
    Api.User later = api.newUser("mlater");
    JsonObject group = createGroup(owner, "managed", admin, member);

    // a plain member may not add anyone
    addMembers(member, group, newcomer).expectError(403, "forbidden");
    api.get(path(group), newcomer.accessToken()).expectError(404, "not_found");

    patchRole(owner, group, admin, "admin").expect(200);
    JsonObject added = addMembers(admin, group, newcomer, member).expect(200).json();
    assertThat(roles(added)).containsEntry(newcomer.id(), "member").hasSize(4);
    // adding again changes nothing
    JsonObject again = addMembers(owner, group, newcomer).expect(200).json();
    assertThat(again.getJsonArray("members")).hasSize(4);
    assertThat(
            api.get(path(group), newcomer.accessToken()).expect(200).json().getLong("unread_count"))
        .isZero();

    // a member may not remove anyone; an admin may not remove the owner or another admin
    api.delete(path(group) + "/members/" + newcomer.id(), member.accessToken())
        .expectError(403, "forbidden");
    api.delete(path(group) + "/members/" + owner.id(), admin.accessToken())
        .expectError(403, "forbidden");
    // removing someone who is not a member
    api.delete(path(group) + "/members/" + later.id(), owner.accessToken())
        .expectError(404, "not_found");

    // warm the membership cache, then remove: access is gone at once
    api.get(path(group), member.accessToken()).expect(200);
    api.delete(path(group) + "/members/" + member.id(), admin.accessToken()).expect(204);
    api.get(path(group), member.accessToken()).expectError(404, "not_found");
    assertThat(listIds(member)).doesNotContain(group.getString("conversation_id"));
    addMembers(member, group, later).expectError(404, "not_found");

    // the owner removes an admin; a member leaves by removing themself
    api.delete(path(group) + "/members/" + admin.id(), owner.accessToken()).expect(204);
    api.get(path(group), admin.accessToken()).expectError(404, "not_found");
    api.delete(path(group) + "/members/" + newcomer.id(), newcomer.accessToken()).expect(204);
    JsonObject left = api.get(path(group), owner.accessToken()).expect(200).json();
    assertThat(roles(left)).isEqualTo(Map.of(owner.id(), "owner"));

    // a removed member can be added again
    assertThat(roles(addMembers(owner, group, member).expect(200).json()))
        .containsEntry(member.id(), "member");
    api.get(path(group), member.accessToken()).expect(200);
  }

  @Test
  void roleChangesAreForTheOwnerAndOwnershipCanBeTransferred() {
    Api.User owner = api.newUser("rowner");
    Api.User heir = api.newUser("rheir");
    Api.User member = api.newUser("rmember");
    Api.User outsider = api.newUser("rout");
    JsonObject group = createGroup(owner, "roles", heir, member);

    patchRole(member, group, heir, "admin").expectError(403, "forbidden");
    patchRole(outsider, group, heir, "admin").expectError(404, "not_found");
    patchRole(owner, group, outsider, "admin").expectError(404, "not_found");
    // the owner cannot step down without naming a successor
    patchRole(owner, group, owner, "admin").expectError(409, "conflict");

    JsonObject promoted = patchRole(owner, group, heir, "admin").expect(200).json();
    assertThat(roles(promoted)).containsEntry(heir.id(), "admin");
    // an admin still cannot change roles
    patchRole(heir, group, member, "admin").expectError(403, "forbidden");

    JsonObject transferred = patchRole(owner, group, heir, "owner").expect(200).json();
    assertThat(roles(transferred))
        .isEqualTo(Map.of(heir.id(), "owner", owner.id(), "admin", member.id(), "member"));
    patchRole(owner, group, member, "admin").expectError(403, "forbidden");
    JsonObject demoted = patchRole(heir, group, owner, "member").expect(200).json();
    assertThat(roles(demoted)).containsEntry(owner.id(), "member");
    assertThat(roles(demoted).values().stream().filter("owner"::equals)).hasSize(1);

    // bad role bodies
    api.call(
            "PATCH",
            path(group) + "/members/" + member.id(),
            heir.accessToken(),
            "{\"role\":\"king\"}")
        .expectError(400, "validation_failed");
    api.call("PATCH", path(group) + "/members/" + member.id(), heir.accessToken(), "{\"role\":1}")
        .expectError(400, "validation_failed");
    api.call("PATCH", path(group) + "/members/" + member.id(), heir.accessToken(), "{}")
        .expectError(400, "validation_failed");
    api.call("PATCH", path(group) + "/members/" + member.id(), heir.accessToken(), "{role")
        .expectError(400, "malformed_json");
    assertThat(roles(api.get(path(group), heir.accessToken()).expect(200).json()))
        .containsEntry(member.id(), "member");
  }

  @Test
  void aLeavingOwnerHandsOverToTheLongestStandingAdminElseMember() {
    Api.User owner = api.newUser("lowner");
    Api.User early = api.newUser("learly");
    Api.User admin = api.newUser("ladmin");
    JsonObject group = createGroup(owner, "leaving", early);
    addMembers(owner, group, admin).expect(200);
    patchRole(owner, group, admin, "admin").expect(200);

    api.post(path(group) + "/leave", owner.accessToken(), null).expect(204);
    api.get(path(group), owner.accessToken()).expectError(404, "not_found");
    JsonObject afterOwner = api.get(path(group), early.accessToken()).expect(200).json();
    assertThat(roles(afterOwner)).isEqualTo(Map.of(admin.id(), "owner", early.id(), "member"));

    api.post(path(group) + "/leave", admin.accessToken(), null).expect(204);
    assertThat(roles(api.get(path(group), early.accessToken()).expect(200).json()))
        .isEqualTo(Map.of(early.id(), "owner"));

    // the last member leaves: the group is gone for everyone
    api.post(path(group) + "/leave", early.accessToken(), null).expect(204);
    api.get(path(group), early.accessToken()).expectError(404, "not_found");
    assertThat(listIds(early)).doesNotContain(group.getString("conversation_id"));
    api.post(path(group) + "/leave", early.accessToken(), null).expectError(404, "not_found");
  }

  @Test
  void privateConversationsKeepTheirTwoMembers() {
    Api.User a = api.newUser("pa");
    Api.User b = api.newUser("pb");
    Api.User c = api.newUser("pc");
    JsonObject conv = createPrivate(a, b).expect(201).json();
    api.post(path(conv) + "/leave", a.accessToken(), null).expectError(409, "conflict");
    addMembers(a, conv, c).expectError(409, "conflict");
    api.delete(path(conv) + "/members/" + b.id(), a.accessToken()).expectError(409, "conflict");
    api.delete(path(conv) + "/members/" + a.id(), a.accessToken()).expectError(409, "conflict");
    patchRole(a, conv, b, "admin").expectError(409, "conflict");
    // outsiders still learn nothing
    api.post(path(conv) + "/leave", c.accessToken(), null).expectError(404, "not_found");
    assertThat(roles(api.get(path(conv), b.accessToken()).expect(200).json()))
        .isEqualTo(Map.of(a.id(), "owner", b.id(), "member"));
  }

  @Test
  void badCreateRequestsGetA400AndWriteNothing() {
    Api.User me = api.newUser("bad");
    Api.User other = api.newUser("badother");
    String unknown = UUID.randomUUID().toString();

    create(me, "{\"type\":\"group\",").expectError(400, "malformed_json");
    create(me, "[1,2]").expectError(400, "malformed_json");
    create(me, "").expectError(400, "malformed_json");
    expectField(create(me, "{\"type\":5,\"member_ids\":[]}"), "type");
    expectField(create(me, "{\"type\":\"channel\",\"member_ids\":[]}"), "type");
    expectField(create(me, "{\"member_ids\":[\"" + other.id() + "\"]}"), "type");
    expectField(create(me, "{\"type\":\"group\",\"member_ids\":[]}"), "name");
    expectField(create(me, "{\"type\":\"group\",\"name\":7}"), "name");
    expectField(create(me, "{\"type\":\"group\",\"name\":\"   \"}"), "name");
    expectField(create(me, "{\"type\":\"group\",\"name\":\"" + "n".repeat(101) + "\"}"), "name");
    expectField(create(me, "{\"type\":\"group\",\"name\":\"" + "n".repeat(300) + "\"}"), "name");
    expectField(
        create(me, "{\"type\":\"group\",\"name\":\"x\",\"member_ids\":\"abc\"}"), "member_ids");
    expectField(
        create(me, "{\"type\":\"group\",\"name\":\"x\",\"member_ids\":[42]}"), "member_ids");
    expectField(
        create(me, "{\"type\":\"group\",\"name\":\"x\",\"member_ids\":[\"nope\"]}"), "member_ids");
    expectField(create(me, "{\"type\":\"group\",\"name\":\"x\",\"colour\":\"red\"}"), "colour");
    Api.Res unknownIds =
        create(
            me,
            "{\"type\":\"group\",\"name\":\"x\",\"member_ids\":[\""
                + other.id()
                + "\",\""
                + unknown
                + "\"]}");
    expectField(unknownIds, "member_ids");
    assertThat(
            unknownIds
                .json()
                .getJsonObject("error")
                .getJsonObject("details")
                .getJsonArray("unknown_ids"))
        .containsExactly(unknown);
    expectField(create(me, "{\"type\":\"private\",\"member_ids\":[]}"), "member_ids");
    expectField(create(me, "{\"type\":\"private\"}"), "member_ids");
    expectField(
        create(
            me,
            "{\"type\":\"private\",\"member_ids\":[\"" + other.id() + "\",\"" + unknown + "\"]}"),
        "member_ids");
    expectField(
        create(me, "{\"type\":\"private\",\"member_ids\":[\"" + unknown + "\"]}"), "member_ids");
    expectField(
        create(me, "{\"type\":\"private\",\"member_ids\":[\"" + me.id() + "\"]}"), "member_ids");
    expectField(
        create(me, "{\"type\":\"private\",\"name\":\"x\",\"member_ids\":[\"" + other.id() + "\"]}"),
        "name");

    assertThat(listIds(me)).isEmpty();
    assertThat(listIds(other)).isEmpty();
  }

  static void expectField(Api.Res res, String field) {
    res.expectError(400, "validation_failed");
    assertThat(res.json().getJsonObject("error").getJsonObject("details").getString("field"))
        .as("details.field of %s", res.raw())
        .isEqualTo(field);
  }

  @Test
  void unknownMalformedAndForeignConversationsAreNotFound() {
    Api.User owner = api.newUser("fowner");
    Api.User member = api.newUser("fmember");
    Api.User stranger = api.newUser("fstranger");
    JsonObject group = createGroup(owner, "private club", member);
    String unknown = "/v1/conversations/" + UUID.randomUUID();

    for (String p : List.of(unknown, path(group))) {
      api.get(p, stranger.accessToken()).expectError(404, "not_found");
      addMembers(
              stranger,
              new JsonObject().put("conversation_id", p.substring(p.lastIndexOf('/') + 1)),
              stranger)
          .expectError(404, "not_found");
      api.delete(p + "/members/" + member.id(), stranger.accessToken())
          .expectError(404, "not_found");
      api.call(
              "PATCH",
              p + "/members/" + member.id(),
              stranger.accessToken(),
              "{\"role\":\"admin\"}")
          .expectError(404, "not_found");
      api.post(p + "/leave", stranger.accessToken(), null).expectError(404, "not_found");
    }
    api.get("/v1/conversations/not-a-uuid", owner.accessToken()).expectError(404, "not_found");
    api.post("/v1/conversations/123/leave", owner.accessToken(), null)
        .expectError(404, "not_found");
    api.delete(path(group) + "/members/not-a-uuid", owner.accessToken())
        .expectError(404, "not_found");

    // bad member bodies on a real conversation
    api.call("POST", path(group) + "/members", owner.accessToken(), "{oops")
        .expectError(400, "malformed_json");
    expectField(
        api.call("POST", path(group) + "/members", owner.accessToken(), "{\"member_ids\":[]}"),
        "member_ids");
    expectField(
        api.call("POST", path(group) + "/members", owner.accessToken(), "{\"member_ids\":7}"),
        "member_ids");
    expectField(
        api.call("POST", path(group) + "/members", owner.accessToken(), "{\"user_ids\":[]}"),
        "user_ids");
    expectField(
        api.post(
            path(group) + "/members",
            owner.accessToken(),
            new JsonObject()
                .put(
                    "member_ids",
                    new JsonArray().add(stranger.id()).add(UUID.randomUUID().toString()))),
        "member_ids");
    // nothing was written: the stranger was not added with the unknown id
    assertThat(api.get(path(group), owner.accessToken()).expect(200).json().getJsonArray("members"))
        .hasSize(2);
    assertThat(listIds(stranger)).isEmpty();
  }

  @Test
  void missingOrForgedTokensAreRefused() {
    Api.User me = api.newUser("tok");
    Api.User other = api.newUser("tokother");
    JsonObject body =
        new JsonObject().put("type", "private").put("member_ids", new JsonArray().add(other.id()));
    api.post("/v1/conversations", null, body).expectError(401, "unauthenticated");
    api.get("/v1/conversations", null).expectError(401, "unauthenticated");
    String forged = me.accessToken().substring(0, me.accessToken().lastIndexOf('.') + 1) + "AAAA";
    api.post("/v1/conversations", forged, body).expectError(401, "token_invalid");
    api.get("/v1/conversations", "not.a.jwt").expectError(401, "token_invalid");
    assertThat(listIds(me)).isEmpty();
    assertThat(listIds(other)).isEmpty();
  }
}
