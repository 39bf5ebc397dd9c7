package io.chat4all.node.channels;

import static org.assertj.core.api.Assertions.assertThat;

import io.chat4all.node.api.Api;
import io.chat4all.testkit.Await;
import io.chat4all.testkit.BackendsExtension;
import io.chat4all.testkit.TestBackends;
import io.chat4all.testkit.WsTestSocket;
import java.lang.management.ManagementFactory;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.management.ObjectName;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The Grafana dashboard and the alert rules query only meters a node really exports: a node with
 * the Telegram connector sends (one delivered, one refused by the provider), takes an upload and
 * holds a WebSocket; then every {@code chat4all_*} name of docs/grafana is a series on {@code
 * /metrics}, and the same meters are MBeans under the JMX domain {@code chat4all}.
 */
@ExtendWith(BackendsExtension.class)
class MetricsCatalogueTest {
  static final Pattern NAME = Pattern.compile("\\bchat4all_[a-z0-9_]+");
  static ChannelsFixture fx;
  static final HttpClient http = HttpClient.newHttpClient();

  @BeforeAll
  static void start(TestBackends.Isolation iso) {
    fx =
        new ChannelsFixture(
            iso,
            new io.vertx.core.json.JsonObject()
                .put("max_attempts", 3)
                .put("breaker_max_failures", 50),
            null);
  }

  @AfterAll
  static void stop() {
    fx.close();
  }

  static Set<String> queried() throws Exception {
    Path grafana = Path.of("../../docs/grafana");
    Set<String> names = new TreeSet<>();
    for (String file : new String[] {"chat4all.json", "alerts.yaml"}) {
      Matcher m = NAME.matcher(Files.readString(grafana.resolve(file)));
      while (m.find()) {
        names.add(m.group());
      }
    }
    return names;
  }

  static Set<String> exported() {
    HttpResponse<String> r;
    try {
      r =
          http.send(
              HttpRequest.newBuilder(URI.create(fx.api.base() + "/metrics")).GET().build(),
              HttpResponse.BodyHandlers.ofString());
    } catch (java.io.IOException | InterruptedException e) {
      throw new IllegalStateException(e);
    }
    assertThat(r.statusCode()).isEqualTo(200);
    Set<String> series = new TreeSet<>();
    for (String line : r.body().split("\n")) {
      if (line.startsWith("chat4all_")) {
        int end = line.indexOf('{');
        series.add(line.substring(0, end > 0 ? end : line.indexOf(' ')));
      }
    }
    return series;
  }

  @Test
  void everyNameTheDashboardAndTheAlertsQueryIsExported() throws Exception {
    Set<String> wanted = queried();
    assertThat(wanted)
        .contains(
            "chat4all_messages_accepted_total",
            "chat4all_consumer_lag_records",
            "chat4all_connector_breaker_state",
            "chat4all_ready");

    Api.User bob = fx.api.newUser("bob");
    Api.User alice = fx.telegramUser("alice", 7301);
    Api.User carol = fx.telegramUser("carol", 7302);
    fx.sim.block(7302);
    try (WsTestSocket socket = fx.socket(bob)) {
      String toAlice = fx.api.privateChat(bob, alice);
      String toCarol = fx.api.privateChat(bob, carol);
      String delivered = fx.sendText(bob, toAlice, "metrics hello");
      String refused = fx.sendText(bob, toCarol, "metrics hello again");
      fx.awaitMessage(bob, delivered, "telegram sent", ChannelsFixture.telegramStatus("sent"));
      fx.awaitMessage(bob, refused, "telegram failed", ChannelsFixture.telegramStatus("failed"));
      fx.upload(bob, toAlice, "some bytes".getBytes(), "a.txt", "text/plain");

      Set<String>[] missing = new Set[1];
      try {
        Await.until(
            "every queried meter on /metrics",
            ChannelsFixture.WAIT,
            () -> {
              Set<String> have = exported();
              Set<String> m = new TreeSet<>(wanted);
              m.removeAll(have);
              missing[0] = m;
              return m.isEmpty();
            });
      } catch (AssertionError timedOut) {
        throw new AssertionError("not on /metrics: " + missing[0], timedOut);
      }
    } finally {
      fx.sim.unblock(7302);
    }

    // JMX carries the same meters
    Set<String> mbeans = new TreeSet<>();
    for (ObjectName n :
        ManagementFactory.getPlatformMBeanServer().queryNames(new ObjectName("chat4all:*"), null)) {
      mbeans.add(n.getKeyProperty("name"));
    }
    assertThat(mbeans)
        .anyMatch(n -> n.startsWith("chat4allMessagesAccepted"))
        .anyMatch(n -> n.startsWith("chat4allConsumerLag"))
        .anyMatch(n -> n.startsWith("chat4allConnectorBreakerState"));
  }
}
