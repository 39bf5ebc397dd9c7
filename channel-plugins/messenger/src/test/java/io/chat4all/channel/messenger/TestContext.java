package io.chat4all.channel.messenger;

import io.chat4all.channel.spi.ConnectorContext;
import io.chat4all.channel.spi.ConnectorMetrics;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClient;
import io.vertx.core.json.JsonObject;
import java.time.Clock;
import java.time.Duration;
import java.util.Map;

/** A connector context for driving the connector directly against the simulator. */
record TestContext(
    Vertx vertx,
    HttpClient httpClient,
    JsonObject config,
    Map<String, String> secrets,
    String webhookUrl)
    implements ConnectorContext {

  @Override
  public String secret(String name) {
    return secrets.get(name);
  }

  @Override
  public Clock clock() {
    return Clock.systemUTC();
  }

  @Override
  public ConnectorMetrics metrics() {
    return new ConnectorMetrics() {
      @Override
      public void increment(String name, String... tags) {}

      @Override
      public void record(String name, Duration duration, String... tags) {}
    };
  }

  @Override
  public System.Logger logger() {
    return System.getLogger("messenger-test");
  }
}
