package io.chat4all.node.api;

import static org.assertj.core.api.Assertions.assertThat;

import io.chat4all.codecs.Topics;
import io.chat4all.codecs.Wire;
import io.chat4all.testkit.Await;
import io.chat4all.testkit.BackendsExtension;
import io.chat4all.testkit.TestBackends;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A batch the pipeline applies a second time (as after a node was killed between its effects and
 * its offset commit, or a partition moved mid-batch) changes nothing: every message is stored once
 * under its first number, and every member's change feed holds it once. The second copy of the
 * batch is produced straight to Kafka with the same records.
 */
@ExtendWith(BackendsExtension.class)
class FeedReplayTest {
  static final Duration WAIT = Duration.ofSeconds(60);
  static final int BATCH = 25;
  static Api api;
  static TestBackends.Isolation iso;
  static KafkaProducer<String, String> producer;

  @BeforeAll
  static void start(TestBackends.Isolation isolation) {
    iso = isolation;
    api = Api.start(iso, new JsonObject().put("kafka", new JsonObject().put("partitions", 2)));
    Properties p = new Properties();
    p.put("bootstrap.servers", iso.endpoints().kafkaBootstrapServers());
    p.put("key.serializer", StringSerializer.class.getName());
    p.put("value.serializer", StringSerializer.class.getName());
    // records sent together travel in one produce request, so the pipeline fetches them together
    p.put("linger.ms", "200");
    producer = new KafkaProducer<>(p);
  }

  @AfterAll
  static void stop() {
    producer.close();
    api.close();
  }

  static JsonObject sendRecord(String conv, String messageId, String from, String text) {
    return new JsonObject()
        .put("message_id", messageId)
        .put("conversation_id", conv)
        .put("from_user_id", from)
        .put("payload", new JsonObject().put("type", "text").put("text", text))
        .put("reply_to_message_id", null)
        .put("channels", new JsonArray())
        .put("created_at", Wire.timestamp(Instant.now()));
  }

  static List<JsonObject> history(Api.User u, String conv) {
    return api
        .get("/v1/conversations/" + conv + "/messages?after_seq=0&limit=200", u.accessToken())
        .expect(200)
        .json()
        .getJsonArray("items")
        .stream()
        .map(o -> (JsonObject) o)
        .toList();
  }

  /** The message ids of every message entry in {@code u}'s feed after {@code cursor}. */
  static List<String> feedMessages(Api.User u, String cursor) {
    List<String> ids = new ArrayList<>();
    String at = cursor;
    while (true) {
      JsonObject page =
          api.get("/v1/sync?limit=100&cursor=" + at, u.accessToken()).expect(200).json();
      JsonArray items = page.getJsonArray("items");
      for (Object o : items) {
        JsonObject e = (JsonObject) o;
        if ("message".equals(e.getString("type")) && e.getJsonObject("message") != null) {
          ids.add(e.getJsonObject("message").getString("message_id"));
        }
      }
      if (items.isEmpty()) {
        return ids;
      }
      at = page.getString("next_cursor");
    }
  }

  @Test
  void aReappliedBatchStoresAndFeedsEachMessageOnce() throws Exception {
    Api.User a = api.newUser("replay");
    Api.User b = api.newUser("replay");
    Api.User c = api.newUser("replay");
    String one = api.privateChat(a, b);
    String two = api.privateChat(a, c);
    Map<Api.User, String> start = new java.util.HashMap<>();
    for (Api.User u : List.of(a, b, c)) {
      start.put(u, api.get("/v1/sync", u.accessToken()).json().getString("next_cursor"));
    }

    // one batch over two conversations, then the very same records again
    List<ProducerRecord<String, String>> batch = new ArrayList<>();
    List<String> ids = new ArrayList<>();
    for (int i = 0; i < BATCH; i++) {
      String conv = i % 2 == 0 ? one : two;
      String id = UUID.randomUUID().toString();
      ids.add(id);
      batch.add(
          new ProducerRecord<>(
              Topics.name(iso.topicPrefix(), Topics.MESSAGE_SENT),
              conv,
              sendRecord(conv, id, a.id(), "replayed " + i).encode()));
    }
    for (ProducerRecord<String, String> r : batch) {
      producer.send(r);
    }
    producer.flush();
    Await.until(
        "the first copy stored",
        WAIT,
        () -> history(a, one).size() + history(a, two).size() == BATCH);
    for (ProducerRecord<String, String> r : batch) {
      producer.send(r);
    }
    producer.flush();
    // a message sent after the replay, in each conversation: once it is stored, so is the replay
    String lastOne = UUID.randomUUID().toString();
    String lastTwo = UUID.randomUUID().toString();
    api.post("/v1/messages", a.accessToken(), Api.textMessage(one, lastOne, "after")).expect(202);
    api.post("/v1/messages", a.accessToken(), Api.textMessage(two, lastTwo, "after")).expect(202);
    Await.until(
        "the messages after the replay stored",
        WAIT,
        () ->
            history(a, one).stream().anyMatch(m -> lastOne.equals(m.getString("message_id")))
                && history(a, two).stream()
                    .anyMatch(m -> lastTwo.equals(m.getString("message_id"))));

    for (String conv : List.of(one, two)) {
      List<JsonObject> h = history(a, conv);
      List<Long> seqs = h.stream().map(m -> m.getLong("sequence_number")).toList();
      List<Long> gapless = new ArrayList<>();
      for (long s = 1; s <= h.size(); s++) {
        gapless.add(s);
      }
      assertThat(seqs).as("numbers in %s", conv).isEqualTo(gapless);
      assertThat(h.stream().map(m -> m.getString("message_id")).distinct().count())
          .isEqualTo(h.size());
    }
    assertThat(history(a, one).size() + history(a, two).size()).isEqualTo(BATCH + 2);

    // each feed: each of its messages exactly once
    List<String> all = new ArrayList<>(ids);
    all.add(lastOne);
    all.add(lastTwo);
    assertThat(once(feedMessages(a, start.get(a))))
        .as("the sender's feed")
        .containsExactlyInAnyOrderElementsOf(all);
    List<String> toB = new ArrayList<>();
    List<String> toC = new ArrayList<>();
    for (int i = 0; i < BATCH; i++) {
      (i % 2 == 0 ? toB : toC).add(ids.get(i));
    }
    toB.add(lastOne);
    toC.add(lastTwo);
    assertThat(once(feedMessages(b, start.get(b)))).containsExactlyInAnyOrderElementsOf(toB);
    assertThat(once(feedMessages(c, start.get(c)))).containsExactlyInAnyOrderElementsOf(toC);
  }

  /** The ids, after checking none appears twice. */
  static List<String> once(List<String> ids) {
    Map<String, Long> counts =
        ids.stream().collect(Collectors.groupingBy(Function.identity(), Collectors.counting()));
    assertThat(counts.entrySet().stream().filter(e -> e.getValue() > 1).map(Map.Entry::getKey))
        .as("messages in the feed more than once")
        .isEmpty();
    return ids;
  }
}
