package io.chat4all.node.api;

import static org.assertj.core.api.Assertions.assertThat;

import io.chat4all.codecs.Addresses;
import io.chat4all.codecs.ServiceBus;
import io.chat4all.codecs.Topics;
import io.chat4all.conversations.ConversationActions;
import io.chat4all.testkit.Await;
import io.chat4all.testkit.BackendsExtension;
import io.chat4all.testkit.TestBackends;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.kafka.client.consumer.KafkaConsumer;
import io.vertx.kafka.client.consumer.KafkaConsumerRecord;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * What the conversation service tells the rest of the platform: Kafka records on creation and on
 * membership changes, and the event-bus membership lookup (cached in Redis, invalidated at once).
 */
@ExtendWith(BackendsExtension.class)
class ConversationEventsTest {
  static Api api;
  static TestBackends.Isolation iso;
  static Vertx clientVertx;

  @BeforeAll
  static void start(TestBackends.Isolation isolation) {
    iso = isolation;
    api = Api.start(iso);
    clientVertx = Vertx.vertx();
  }

  @AfterAll
  static void stop() {
    Await.result(clientVertx.close());
    api.close();
  }

  /** A consumer of {@code topic} from the beginning, keeping the records that match. */
  static final class Records {
    final KafkaConsumer<String, String> consumer;
    final List<KafkaConsumerRecord<String, String>> seen =
        java.util.Collections.synchronizedList(new java.util.ArrayList<>());
    final Map<
            Predicate<KafkaConsumerRecord<String, String>>,
            Promise<KafkaConsumerRecord<String, String>>>
        waiting = new ConcurrentHashMap<>();

    Records(String topic) {
      consumer =
          KafkaConsumer.create(
              clientVertx,
              Map.of(
                  "bootstrap.servers",
                  iso.endpoints().kafkaBootstrapServers(),
                  "group.id",
                  "test-" + UUID.randomUUID(),
                  "auto.offset.reset",
                  "earliest",
                  "key.deserializer",
                  "org.apache.kafka.common.serialization.StringDeserializer",
                  "value.deserializer",
                  "org.apache.kafka.common.serialization.StringDeserializer"));
      consumer.handler(
          r -> {
            seen.add(r);
            waiting.forEach(
                (p, promise) -> {
                  if (p.test(r)) {
                    promise.tryComplete(r);
                  }
                });
          });
      Await.result(consumer.subscribe(Topics.name(iso.topicPrefix(), topic)));
    }

    KafkaConsumerRecord<String, String> await(Predicate<KafkaConsumerRecord<String, String>> p) {
      Promise<KafkaConsumerRecord<String, String>> promise = Promise.promise();
      waiting.put(p, promise);
      synchronized (seen) {
        seen.stream().filter(p).findFirst().ifPresent(promise::tryComplete);
      }
      return Await.result(promise.future(), Duration.ofSeconds(30));
    }

    void close() {
      Await.result(consumer.close());
    }
  }

  @Test
  void creationIsPublishedKeyedByConversation() {
    Records created = new Records(Topics.CONVERSATION_CREATED);
    try {
      Api.User alice = api.newUser("kalice");
      Api.User bob = api.newUser("kbob");
      JsonObject conv =
          api.post(
                  "/v1/conversations",
                  alice.accessToken(),
                  new JsonObject()
                      .put("type", "group")
                      .put("name", "kafka")
                      .put("member_ids", new JsonArray().add(bob.id())))
              .expect(201)
              .json();
      String id = conv.getString("conversation_id");
      KafkaConsumerRecord<String, String> record = created.await(r -> id.equals(r.key()));
      JsonObject value = new JsonObject(record.value());
      assertThat(value.getString("event")).isEqualTo("conversation_created");
      assertThat(value.getString("conversation_id")).isEqualTo(id);
      assertThat(value.getString("actor_id")).isEqualTo(alice.id());
      assertThat(value.getString("type")).isEqualTo("group");
      assertThat(value.getString("name")).isEqualTo("kafka");
      assertThat(value.getJsonArray("user_ids")).containsExactlyInAnyOrder(alice.id(), bob.id());
      assertThat(value.getString("at")).isNotBlank();

      // a private conversation asked for twice is published once
      String priv =
          api.post(
                  "/v1/conversations",
                  alice.accessToken(),
                  new JsonObject()
                      .put("type", "private")
                      .put("member_ids", new JsonArray().add(bob.id())))
              .expect(201)
              .json()
              .getString("conversation_id");
      api.post(
              "/v1/conversations",
              bob.accessToken(),
              new JsonObject()
                  .put("type", "private")
                  .put("member_ids", new JsonArray().add(alice.id())))
          .expect(200);
      created.await(r -> priv.equals(r.key()));
      // a marker created after the repeat: once it is seen, any duplicate would have been seen
      String marker =
          api.post(
                  "/v1/conversations",
                  bob.accessToken(),
                  new JsonObject().put("type", "group").put("name", "marker"))
              .expect(201)
              .json()
              .getString("conversation_id");
      created.await(r -> marker.equals(r.key()));
      assertThat(created.seen.stream().filter(r -> priv.equals(r.key()))).hasSize(1);
    } finally {
      created.close();
    }
  }

  @Test
  void membershipChangesArePublishedAndTheLookupFollowsAtOnce() {
    Records changed = new Records(Topics.CONVERSATION_MEMBERS_CHANGED);
    try {
      Api.User owner = api.newUser("eowner");
      Api.User member = api.newUser("emember");
      JsonObject conv =
          api.post(
                  "/v1/conversations",
                  owner.accessToken(),
                  new JsonObject().put("type", "group").put("name", "events"))
              .expect(201)
              .json();
      String id = conv.getString("conversation_id");

      JsonObject before = membership(id, member.id());
      assertThat(before.getBoolean("member")).isFalse();

      api.post(
              "/v1/conversations/" + id + "/members",
              owner.accessToken(),
              new JsonObject().put("member_ids", new JsonArray().add(member.id())))
          .expect(200);
      JsonObject added =
          new JsonObject(
              changed
                  .await(
                      r ->
                          id.equals(r.key())
                              && new JsonObject(r.value())
                                  .getString("event")
                                  .equals("members_added"))
                  .value());
      assertThat(added.getString("actor_id")).isEqualTo(owner.id());
      assertThat(added.getJsonArray("user_ids")).containsExactly(member.id());

      // the cached "not a member" answer is gone at once
      JsonObject now = membership(id, member.id());
      assertThat(now.getBoolean("member")).isTrue();
      assertThat(now.getString("role")).isEqualTo("member");
      assertThat(now.getLong("joined_seq")).isZero();
      assertThat(membership(id, owner.id()).getString("role")).isEqualTo("owner");
      // the lookup was served from (and filled) the Redis hash user_id -> role
      String key = iso.redisKeyPrefix() + "conv:members:" + id;
      io.vertx.redis.client.RedisAPI redis = api.node().clients().redisApi();
      assertThat(Await.result(redis.hget(key, member.id())).toString()).isEqualTo("member");
      assertThat(Await.result(redis.hget(key, owner.id())).toString()).isEqualTo("owner");
      assertThat(Await.result(redis.ttl(key)).toLong()).isBetween(1L, 300L);

      api.delete("/v1/conversations/" + id + "/members/" + member.id(), owner.accessToken())
          .expect(204);
      assertThat(Await.result(redis.exists(List.of(key))).toLong()).isZero();
      assertThat(membership(id, member.id()).getBoolean("member")).isFalse();
      assertThat(Await.result(redis.hget(key, owner.id())).toString()).isEqualTo("owner");
      JsonObject removed =
          new JsonObject(
              changed
                  .await(
                      r ->
                          id.equals(r.key())
                              && new JsonObject(r.value())
                                  .getString("event")
                                  .equals("member_removed"))
                  .value());
      assertThat(removed.getJsonArray("user_ids")).containsExactly(member.id());

      assertThat(membership("not-an-id", owner.id()).getBoolean("member")).isFalse();
      assertThat(membership(UUID.randomUUID().toString(), owner.id()).getBoolean("member"))
          .isFalse();
    } finally {
      changed.close();
    }
  }

  static JsonObject membership(String conversationId, String userId) {
    return Await.result(
        ServiceBus.request(
            api.node().vertx(),
            Addresses.CONVERSATIONS,
            ConversationActions.MEMBERSHIP,
            new JsonObject().put("conversation_id", conversationId).put("user_id", userId)));
  }
}
