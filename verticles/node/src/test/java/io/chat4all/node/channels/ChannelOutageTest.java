package io.chat4all.node.channels;

import static io.chat4all.node.channels.ChannelsFixture.telegramStatus;
import static org.assertj.core.api.Assertions.assertThat;

import io.chat4all.node.api.Api;
import io.chat4all.testkit.Await;
import io.chat4all.testkit.BackendsExtension;
import io.chat4all.testkit.TestBackends;
import io.chat4all.testkit.WsTestSocket;
import io.chat4all.testkit.telegram.TelegramSimulator;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The provider or the connector going away while messages wait: the circuit breaker, records
 * waiting in Kafka for a connector, and a connector replaced under the flow. Nothing may be lost,
 * doubled, reordered per recipient, or marked failed for these reasons, and a dead provider holds
 * up neither sends nor delivery to members inside Chat4All.
 */
@ExtendWith(BackendsExtension.class)
class ChannelOutageTest {
  static ChannelsFixture fx;

  @BeforeAll
  static void start(TestBackends.Isolation iso) {
    // 8 attempts, the breaker opens after 3 failures: an outage must not use the attempts up
    fx =
        new ChannelsFixture(
            iso, new JsonObject().put("max_attempts", 8).put("breaker_max_failures", 3), null);
  }

  @AfterAll
  static void stop() {
    fx.close();
  }

  @BeforeEach
  void clean() {
    fx.sim.down(false);
    fx.sim.clearRecords();
  }

  /** Sends {@code n} texts "<prefix> <i>" from bob to each recipient; the ids in order. */
  static List<String> sendEach(Api.User bob, List<String> convs, String prefix, int n) {
    List<String> ids = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      for (String conv : convs) {
        ids.add(fx.sendText(bob, conv, prefix + " " + i));
      }
    }
    return ids;
  }

  static List<String> texts(long chat) {
    return fx.sim.sentTo(chat).stream().map(TelegramSimulator.Sent::text).toList();
  }

  static List<String> expected(String prefix, int n) {
    List<String> out = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      out.add(prefix + " " + i);
    }
    return out;
  }

  @Test
  void aProviderOutageOpensTheBreakerAndEverythingIsDeliveredInOrderAfterIt() {
    Api.User bob = fx.api.newUser("bob");
    Api.User a = fx.telegramUser("oa", 8101);
    Api.User b = fx.telegramUser("ob", 8102);
    List<String> convs = List.of(fx.api.privateChat(bob, a), fx.api.privateChat(bob, b));
    fx.sim.down(true);
    List<String> ids = sendEach(bob, convs, "during the outage", 6);
    // the heads keep being retried far longer than 8 attempts of backoff (at most 400 ms) would
    // last: were the attempts counted, they would have failed by now
    Await.until(
        "probes through the open breaker",
        ChannelsFixture.WAIT,
        () -> fx.sim.callLog().stream().filter(c -> c.method().startsWith("down:")).count() >= 12);
    long down = fx.sim.callLog().size();
    for (String id : ids) {
      JsonObject m = fx.message(bob, id);
      assertThat(ChannelsFixture.telegramDelivery(m).getString("status")).as(id).isNull();
    }
    // meanwhile sends and delivery inside Chat4All go on: another send to the waiting Telegram
    // recipients is accepted, and a member without a channel identity gets a message stored,
    // numbered and pushed live while the provider is still down
    ids.add(fx.sendText(bob, convs.get(0), "during the outage 6"));
    Api.User inside = fx.api.newUser("oi");
    try (WsTestSocket live = fx.socket(inside)) {
      String id = fx.sendText(bob, fx.api.privateChat(bob, inside), "inside during the outage");
      fx.awaitMessage(
          inside, id, "stored for the member", m -> m.getLong("sequence_number") != null);
      live.await(
          "pushed live to the member",
          f ->
              "message".equals(f.getString("type"))
                  && id.equals(f.getJsonObject("message").getString("message_id")));
      assertThat(fx.sim.sentTo(8101)).as("the provider is still down").isEmpty();
    }
    fx.sim.down(false);
    for (String id : ids) {
      fx.awaitMessage(bob, id, "sent after the outage", telegramStatus("sent"));
    }
    assertThat(texts(8101)).containsExactlyElementsOf(expected("during the outage", 7));
    assertThat(texts(8102)).containsExactlyElementsOf(expected("during the outage", 6));
    assertThat(down).as("calls while down (the breaker let only probes through)").isLessThan(40);
    assertThat(fx.deadLetters()).isEmpty();
  }

  @Test
  void withoutAConnectorRecordsWaitInKafkaAndDrainWhenOneIsBack() {
    Api.User bob = fx.api.newUser("bob");
    Api.User c = fx.telegramUser("oc", 8103);
    String conv = fx.api.privateChat(bob, c);
    fx.removeConnector();
    try {
      List<String> ids = sendEach(bob, List.of(conv), "while away", 5);
      for (String id : ids) {
        fx.awaitMessage(bob, id, "stored", m -> m.getLong("sequence_number") != null);
      }
      Await.until(
          "delivery holds the records waiting for a connector",
          ChannelsFixture.WAIT,
          () -> waiting() >= 1);
      assertThat(fx.sim.sentTo(8103)).isEmpty();
      for (String id : ids) {
        assertThat(ChannelsFixture.telegramDelivery(fx.message(bob, id)).getString("status"))
            .isNull();
      }
    } finally {
      fx.addConnector();
    }
    Await.until("the backlog drains", ChannelsFixture.WAIT, () -> fx.sim.sentTo(8103).size() == 5);
    assertThat(texts(8103)).containsExactlyElementsOf(expected("while away", 5));
  }

  /** The delivery.waiting gauge of the Telegram channel (Prometheus). */
  static double waiting() {
    String metrics = fx.api.get("/metrics", null).raw();
    for (String line : metrics.split("\n")) {
      if (line.startsWith("chat4all_delivery_waiting") && line.contains("channel=\"telegram\"")) {
        return Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
      }
    }
    return 0;
  }

  @Test
  void replacingTheConnectorWhileMessagesFlowDeliversEachExactlyOnce() {
    Api.User bob = fx.api.newUser("bob");
    List<String> convs = new ArrayList<>();
    for (long chat = 8110; chat < 8114; chat++) {
      convs.add(fx.api.privateChat(bob, fx.telegramUser("or" + chat, chat)));
    }
    // ten new versions of the jar while the messages flow (-Dchat4all.test.flow_per_recipient=1250
    // makes it the 5,000-message run)
    int perRecipient = Integer.getInteger("chat4all.test.flow_per_recipient", 50);
    int every = Math.max(1, perRecipient / 10);
    List<String> ids = new ArrayList<>();
    for (int i = 0; i < perRecipient; i++) {
      for (String conv : convs) {
        ids.add(fx.sendText(bob, conv, "flow " + i));
      }
      if (i % every == 0) {
        fx.addConnector();
      }
    }
    Await.until(
        "all " + ids.size() + " delivered",
        java.time.Duration.ofSeconds(60 + perRecipient),
        () -> fx.sim.sentCount() >= ids.size());
    for (long chat = 8110; chat < 8114; chat++) {
      assertThat(texts(chat))
          .as("chat " + chat)
          .containsExactlyElementsOf(expected("flow", perRecipient));
    }
    for (String id : ids) {
      fx.awaitMessage(bob, id, "sent", telegramStatus("sent"));
    }
    assertThat(fx.sim.sentCount()).isEqualTo(ids.size());
    assertThat(fx.deadLetters()).isEmpty();
  }
}
