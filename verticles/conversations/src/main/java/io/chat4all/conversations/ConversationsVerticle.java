package io.chat4all.conversations;

import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.kafka.client.producer.KafkaProducer;
import io.vertx.redis.client.RedisAPI;
import io.vertx.sqlclient.Pool;

/** The conversation service on the event bus (address {@code chat4all.conversations}). STUB. */
public class ConversationsVerticle extends VerticleBase {
  public ConversationsVerticle(
      Pool pg,
      RedisAPI redis,
      String redisKeyPrefix,
      KafkaProducer<String, String> producer,
      String topicPrefix,
      ConversationsConfig config) {}

  @Override
  public Future<?> start() {
    return Future.succeededFuture();
  }
}
