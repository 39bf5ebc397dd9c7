package io.chat4all.codecs;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.eventbus.impl.codecs.JsonObjectMessageCodec;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * {@link SharedJsonCodec}: this node's consumers get the published instance itself, another node
 * reads exactly what Vert.x's own JSON codec would have sent, and registering twice is harmless.
 */
class SharedJsonCodecTest {
  static JsonObject envelope() {
    return new JsonObject()
        .put("type", "message")
        .put("message", new JsonObject().put("text", "hi").put("to", new JsonArray().add("u")))
        .put("cursor", "MTAtMQ");
  }

  @Test
  void localConsumersShareThePublishedInstance() throws Exception {
    Vertx vertx = Vertx.vertx();
    try {
      SharedJsonCodec.registerOn(vertx.eventBus());
      SharedJsonCodec.registerOn(vertx.eventBus());
      List<Object> got = new CopyOnWriteArrayList<>();
      CountDownLatch both = new CountDownLatch(2);
      for (int i = 0; i < 2; i++) {
        vertx
            .eventBus()
            .<JsonObject>consumer(
                "a",
                m -> {
                  got.add(m.body());
                  both.countDown();
                })
            .completion()
            .await();
      }
      JsonObject sent = envelope();
      vertx.eventBus().publish("a", sent, SharedJsonCodec.options());
      assertThat(both.await(10, TimeUnit.SECONDS)).isTrue();
      assertThat(got).hasSize(2).allSatisfy(b -> assertThat(b).isSameAs(sent));
      // the default codec copies: what the codec saves
      JsonObject copied = envelope();
      CountDownLatch one = new CountDownLatch(1);
      List<Object> plain = new CopyOnWriteArrayList<>();
      vertx
          .eventBus()
          .<JsonObject>consumer(
              "b",
              m -> {
                plain.add(m.body());
                one.countDown();
              })
          .completion()
          .await();
      vertx.eventBus().publish("b", copied);
      assertThat(one.await(10, TimeUnit.SECONDS)).isTrue();
      assertThat(plain.get(0)).isNotSameAs(copied).isEqualTo(copied);
    } finally {
      vertx.close().await();
    }
  }

  @Test
  void theWireFormIsVertxsJsonForm() {
    JsonObject sent = envelope();
    Buffer ours = Buffer.buffer();
    SharedJsonCodec codec = SharedJsonCodec.INSTANCE;
    codec.encodeToWire(ours, sent);
    Buffer theirs = Buffer.buffer();
    new JsonObjectMessageCodec().encodeToWire(theirs, sent);
    assertThat(ours).isEqualTo(theirs);
    Buffer framed = Buffer.buffer().appendString("xyz").appendBuffer(ours);
    assertThat(codec.decodeFromWire(3, framed)).isEqualTo(sent);
    assertThat(codec.name()).isEqualTo(SharedJsonCodec.NAME);
  }
}
