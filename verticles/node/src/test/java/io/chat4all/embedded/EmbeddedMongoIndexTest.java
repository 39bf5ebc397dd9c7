package io.chat4all.embedded;

import static org.assertj.core.api.Assertions.assertThat;

import de.bwaldvogel.mongo.MongoServer;
import de.bwaldvogel.mongo.backend.h2.H2Backend;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.mongo.BulkOperation;
import io.vertx.ext.mongo.IndexOptions;
import io.vertx.ext.mongo.MongoClient;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.h2.mvstore.MVStore;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The embedded MongoDB-wire server's unique indexes, keyed by {@link KeyValueType}: they refuse
 * duplicates and find by key over the wire as before, and a data directory written by the library's
 * own index maps (every data directory before this change) is taken over with its keys, still
 * refusing duplicates of what was stored before.
 */
class EmbeddedMongoIndexTest {
  private final Vertx vertx = Vertx.vertx();

  @AfterEach
  void close() throws Exception {
    vertx.close().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
  }

  private static <T> T await(Future<T> f) throws Exception {
    return f.toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
  }

  private MongoClient client(int port) {
    return MongoClient.createShared(
        vertx,
        new JsonObject()
            .put("connection_string", "mongodb://127.0.0.1:" + port)
            .put("db_name", "idx"),
        "idx-" + port);
  }

  private static JsonObject doc(String conv, int seq) {
    return new JsonObject()
        .put("_id", conv + ":" + seq)
        .put("message_id", "m-" + conv + "-" + seq)
        .put("conversation_id", conv)
        .put("sequence_number", seq);
  }

  private static boolean refused(Future<?> f) throws Exception {
    try {
      await(f);
      return false;
    } catch (java.util.concurrent.ExecutionException e) {
      return String.valueOf(e.getCause().getMessage()).contains("E11000");
    }
  }

  /** Uniqueness and look-ups by every index, for the documents of {@code convs} × 1..n. */
  private void assertIndexesServe(MongoClient mongo, List<String> convs, int n) throws Exception {
    String c = convs.get(convs.size() - 1);
    assertThat(refused(mongo.insert("messages", doc(c, 1)))).as("duplicate _id").isTrue();
    assertThat(
            refused(
                mongo.insert(
                    "messages", doc(c, 1).put("_id", "other").put("sequence_number", 10_000))))
        .as("duplicate message_id")
        .isTrue();
    assertThat(
            refused(
                mongo.insert(
                    "messages", doc(c, 1).put("_id", "other").put("message_id", "m-other"))))
        .as("duplicate (conversation_id, sequence_number)")
        .isTrue();
    JsonArray ids = new JsonArray();
    for (String conv : convs) {
      for (int i = 1; i <= n; i += 7) {
        ids.add(conv + ":" + i);
      }
    }
    assertThat(
            await(
                mongo.find(
                    "messages", new JsonObject().put("_id", new JsonObject().put("$in", ids)))))
        .hasSize(ids.size());
    JsonObject byId =
        await(mongo.findOne("messages", new JsonObject().put("message_id", "m-" + c + "-3"), null));
    assertThat(byId.getString("_id")).isEqualTo(c + ":3");
    JsonObject byPair =
        await(
            mongo.findOne(
                "messages",
                new JsonObject().put("conversation_id", c).put("sequence_number", n),
                null));
    assertThat(byPair.getString("message_id")).isEqualTo("m-" + c + "-" + n);
  }

  private static Future<?> fill(MongoClient mongo, String conv, int n) {
    List<BulkOperation> ops = new ArrayList<>();
    for (int i = 1; i <= n; i++) {
      ops.add(BulkOperation.createInsert(doc(conv, i)));
    }
    return mongo.bulkWrite("messages", ops);
  }

  @Test
  void keyedIndexesRefuseDuplicatesAndTakeOverAnOlderDataDirectory(@TempDir Path dir)
      throws Exception {
    // a data directory as the library's own H2 backend writes it
    int legacyPort = Ports.free("127.0.0.1");
    H2Backend legacyBackend = new H2Backend(dir.resolve("mongo.mv").toString());
    MongoServer legacy = new MongoServer(legacyBackend);
    legacy.bind("127.0.0.1", legacyPort);
    MongoClient old = client(legacyPort);
    await(
        old.createIndexWithOptions(
            "messages", new JsonObject().put("message_id", 1), new IndexOptions().unique(true)));
    await(
        old.createIndexWithOptions(
            "messages",
            new JsonObject().put("conversation_id", 1).put("sequence_number", 1),
            new IndexOptions().unique(true)));
    await(fill(old, "c1", 200));
    assertIndexesServe(old, List.of("c1"), 200);
    await(old.close());
    legacy.shutdown();
    legacyBackend.close();

    int port = Ports.free("127.0.0.1");
    MongoRunner runner = new MongoRunner("127.0.0.1", port, dir);
    runner.start();
    try {
      MongoClient mongo = client(port);
      // what was stored before is still unique and found by every index
      assertIndexesServe(mongo, List.of("c1"), 200);
      await(fill(mongo, "c2", 300));
      assertIndexesServe(mongo, List.of("c1", "c2"), 200);
      assertThat(await(mongo.count("messages", new JsonObject()))).isEqualTo(500L);
      await(mongo.close());
    } finally {
      runner.stop();
    }

    // the old index maps are gone, the keyed ones hold every key, and they open again
    MVStore store = MVStore.open(dir.resolve("mongo.mv").toString());
    try {
      assertThat(store.getMapNames()).noneMatch(n -> n.contains("._index_"));
      assertThat(store.getMapNames()).filteredOn(n -> n.contains("messages._kindex_")).hasSize(3);
    } finally {
      store.close();
    }
    runner = new MongoRunner("127.0.0.1", port, dir);
    runner.start();
    try {
      MongoClient mongo = client(port);
      assertIndexesServe(mongo, List.of("c1", "c2"), 200);
      // a dropped collection takes its keyed index maps with it: created again, it holds no key of
      // before (a stale map would refuse these as duplicates)
      await(mongo.dropCollection("messages"));
      await(
          mongo.createIndexWithOptions(
              "messages", new JsonObject().put("message_id", 1), new IndexOptions().unique(true)));
      await(fill(mongo, "c1", 10));
      assertThat(await(mongo.count("messages", new JsonObject()))).isEqualTo(10L);
      assertThat(refused(mongo.insert("messages", doc("c1", 3)))).isTrue();
      await(mongo.close());
    } finally {
      runner.stop();
    }
  }
}
