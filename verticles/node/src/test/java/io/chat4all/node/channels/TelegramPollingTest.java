package io.chat4all.node.channels;

import static org.assertj.core.api.Assertions.assertThat;

import io.chat4all.testkit.Await;
import io.chat4all.testkit.BackendsExtension;
import io.chat4all.testkit.TestBackends;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** Inbound by getUpdates long polling instead of a webhook (channels.telegram.inbound_mode). */
@ExtendWith(BackendsExtension.class)
class TelegramPollingTest {
  static ChannelsFixture fx;

  @BeforeAll
  static void start(TestBackends.Isolation iso) {
    fx = new ChannelsFixture(iso, null, new JsonObject().put("inbound_mode", "polling"));
  }

  @AfterAll
  static void stop() {
    fx.close();
  }

  @Test
  void updatesArePolledIntoMessagesOnceAndConfirmedAfterTheyAreDurable() {
    fx.sim.addChat(9301, "Pat", "pat");
    for (int i = 0; i < 5; i++) {
      fx.sim.userWrites(9301, "polled " + i);
    }
    String[] conv = {null};
    Await.until(
        "the contact's conversation with 5 messages",
        ChannelsFixture.WAIT,
        () -> {
          for (JsonObject c : fx.conversations(fx.inbox)) {
            if (c.getJsonArray("members", new JsonArray()).encode().contains("telegram:9301")) {
              conv[0] = c.getString("conversation_id");
              return fx.history(fx.inbox, conv[0]).size() >= 5;
            }
          }
          return false;
        });
    List<JsonObject> h = fx.history(fx.inbox, conv[0]);
    assertThat(h)
        .extracting(m -> m.getJsonObject("payload").getString("text"))
        .containsExactly("polled 0", "polled 1", "polled 2", "polled 3", "polled 4");
    // the next getUpdates carries offset = last update_id + 1, which confirms them
    Await.until("updates confirmed", ChannelsFixture.WAIT, () -> fx.sim.pendingUpdates() == 0);
    // polling mode: the connector removed any webhook; nothing is pushed
    assertThat(fx.sim.webhookUrl()).isNull();
    assertThat(fx.sim.webhookDeliveries()).isEmpty();
    fx.sim.userWrites(9301, "one more");
    Await.until(
        "the sixth message", ChannelsFixture.WAIT, () -> fx.history(fx.inbox, conv[0]).size() == 6);
  }
}
