package io.chat4all.node.api;

import static org.assertj.core.api.Assertions.assertThat;

import io.chat4all.messaging.FeedStore;
import io.chat4all.testkit.Await;
import io.chat4all.testkit.BackendsExtension;
import io.chat4all.testkit.TestBackends;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.RedisOptions;
import io.vertx.redis.client.Request;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Reading a change feed after a cursor ({@link FeedStore#since}, what every live envelope's feed
 * order and every {@code GET /v1/sync} does), against the embedded Redis: a reader at an entry the
 * feed still holds reads once; a position between entries, or one the cap went past, takes the
 * check of the oldest entry kept, and the latter gets {@code resync_required}. The commands are
 * counted on Redis's own MONITOR stream.
 */
@ExtendWith(BackendsExtension.class)
class FeedReadTest {
  static JsonObject nodeConfig;
  static String prefix;
  static Vertx vertx;
  static Redis redis;
  static FeedStore feed;

  @BeforeAll
  static void start(TestBackends.Isolation iso) {
    nodeConfig = iso.nodeConfig();
    prefix = iso.redisKeyPrefix() + "feedread:";
    vertx = Vertx.vertx();
    redis =
        Redis.createClient(
            vertx,
            new RedisOptions()
                .setConnectionString(
                    nodeConfig.getJsonObject("redis").getString("connection_string")));
    feed = new FeedStore(redis, prefix, 100);
  }

  @AfterAll
  static void stop() {
    Await.result(vertx.close());
  }

  static String cursor(String streamId) {
    return Base64.getUrlEncoder()
        .withoutPadding()
        .encodeToString(streamId.getBytes(StandardCharsets.UTF_8));
  }

  /** A feed with entries at stream ids 100-1, 100-3, 100-5, 100-7 (status envelopes n = 1..4). */
  static String feedOfFour() {
    String user = UUID.randomUUID().toString();
    int n = 1;
    for (String id : List.of("100-1", "100-3", "100-5", "100-7")) {
      JsonObject entry = new JsonObject().put("type", "status").put("n", n++);
      Await.result(
          redis.send(
              Request.cmd(Command.XADD)
                  .arg(prefix + "feed:" + user)
                  .arg(id)
                  .arg("e")
                  .arg(entry.encode())));
    }
    return user;
  }

  static List<Integer> ns(JsonObject page) {
    List<Integer> out = new ArrayList<>();
    for (Object o : page.getJsonArray("items", new JsonArray())) {
      out.add(((JsonObject) o).getInteger("n"));
    }
    return out;
  }

  /** The commands on the user's feed while {@code read} ran, once all have reached the monitor. */
  static List<String> commands(String user, Runnable read) throws Exception {
    try (AcceptPathBudgetTest.Monitor monitor =
        new AcceptPathBudgetTest.Monitor(nodeConfig, prefix)) {
      read.run();
      // a marker after the read: once the monitor shows it, it shows everything before it
      String marker = prefix + "marker:" + UUID.randomUUID();
      Await.result(redis.send(Request.cmd(Command.EXISTS).arg(marker)));
      Await.until(
          "the marker on MONITOR", Duration.ofSeconds(10), () -> !monitor.on(marker).isEmpty());
      return monitor.on(prefix + "feed:" + user);
    }
  }

  @Test
  void aReaderAtAnEntryTheFeedHoldsReadsItOnce() throws Exception {
    String user = feedOfFour();
    JsonObject[] page = new JsonObject[1];
    List<String> sent =
        commands(user, () -> page[0] = Await.result(feed.since(user, cursor("100-3"), 10)));
    assertThat(ns(page[0])).containsExactly(3, 4);
    assertThat(page[0].getString("next_cursor")).isEqualTo(cursor("100-7"));
    assertThat(page[0].getBoolean("resync_required")).isFalse();
    assertThat(page[0].getJsonArray("items").getJsonObject(0).getString("cursor"))
        .isEqualTo(cursor("100-5"));
    assertThat(sent).hasSize(1);
    assertThat(sent.get(0)).containsIgnoringCase("\"xrange\"").contains("\"100-3\"");

    // the limit counts entries after the cursor; at the last entry, an empty page at it
    JsonObject two = Await.result(feed.since(user, cursor("100-1"), 2));
    assertThat(ns(two)).containsExactly(2, 3);
    assertThat(two.getString("next_cursor")).isEqualTo(cursor("100-5"));
    JsonObject end = Await.result(feed.since(user, cursor("100-7"), 10));
    assertThat(ns(end)).isEmpty();
    assertThat(end.getString("next_cursor")).isEqualTo(cursor("100-7"));
    assertThat(end.getBoolean("resync_required")).isFalse();
  }

  @Test
  void aPositionBetweenEntriesGetsWhatFollowsItAfterTheCheck() throws Exception {
    String user = feedOfFour();
    JsonObject[] page = new JsonObject[1];
    List<String> sent =
        commands(user, () -> page[0] = Await.result(feed.since(user, cursor("100-4"), 10)));
    assertThat(ns(page[0])).containsExactly(3, 4);
    assertThat(page[0].getBoolean("resync_required")).isFalse();
    // the inclusive read found no entry at the position, then the oldest entry, then the rest
    assertThat(sent).hasSize(3);
  }

  @Test
  void aPositionBeforeTheOldestEntryKeptAsksForAResync() {
    String user = feedOfFour();
    JsonObject stale = Await.result(feed.since(user, cursor("100-0"), 10));
    assertThat(stale.getBoolean("resync_required")).isTrue();
    assertThat(ns(stale)).isEmpty();
    assertThat(stale.getString("next_cursor")).isEqualTo(cursor("100-7"));
    // the start of the feed is not stale: everything from there
    JsonObject all = Await.result(feed.since(user, cursor("0-0"), 10));
    assertThat(ns(all)).containsExactly(1, 2, 3, 4);
    assertThat(all.getBoolean("resync_required")).isFalse();
  }
}
