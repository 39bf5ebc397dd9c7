package io.chat4all.node.obs;

import static org.assertj.core.api.Assertions.assertThat;

import io.chat4all.node.api.Api;
import io.chat4all.testkit.Await;
import io.chat4all.testkit.BackendsExtension;
import io.chat4all.testkit.TestBackends;
import io.chat4all.testkit.WsTestSocket;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.sdk.testing.exporter.InMemorySpanExporter;
import io.opentelemetry.sdk.trace.data.SpanData;
import io.vertx.core.Vertx;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.json.JsonObject;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * One trace per send, on a real node with tracing on (spans into the SDK's in-memory exporter): the
 * REST request's server span, the Kafka produce, the pipeline's processing, its MongoDB writes and
 * the WebSocket push to the recipient, linked parent to child; and a client's traceparent becomes
 * the server span's parent.
 */
@ExtendWith(BackendsExtension.class)
class TracingTest {
  static final Duration WAIT = Duration.ofSeconds(30);
  static final InMemorySpanExporter spans = InMemorySpanExporter.create();
  static Api api;
  static Vertx client;
  static WebSocketClient wsClient;
  static final HttpClient http = HttpClient.newHttpClient();

  @BeforeAll
  static void start(TestBackends.Isolation iso) {
    api =
        Api.start(
            iso, new JsonObject().put("tracing", new JsonObject().put("enabled", true)), spans);
    client = Vertx.vertx();
    wsClient = client.createWebSocketClient();
  }

  @AfterAll
  static void stop() {
    client.close();
    api.close();
  }

  @Test
  void aRestSendDeliveredToAWebSocketIsOneTrace() throws Exception {
    Api.User bob = api.newUser("bob");
    Api.User alice = api.newUser("alice");
    String conv = api.privateChat(bob, alice);
    try (WsTestSocket socket = new WsTestSocket(wsClient, api.node().httpPort(), "/v1/ws", WAIT)) {
      socket.authenticate(alice.accessToken(), null);
      String id = UUID.randomUUID().toString();
      send(bob, conv, id, null).statusCode();
      socket.await("the message", f -> id.equals(messageId(f)));

      SpanData pipeline = awaitSpan("pipeline process", s -> conv.equals(convOf(s)));
      String trace = pipeline.getTraceId();
      Map<String, SpanData> byId = awaitTraceWith(trace, "live push");

      SpanData server = root(byId, pipeline);
      assertThat(server.getKind()).isEqualTo(SpanKind.SERVER);
      assertThat(server.getParentSpanContext().isValid()).isFalse();

      SpanData produce = byId.get(pipeline.getParentSpanId());
      assertThat(produce).as("the pipeline span's parent").isNotNull();
      assertThat(produce.getName()).isEqualTo("kafka_send");
      assertThat(produce.getKind()).isEqualTo(SpanKind.PRODUCER);
      assertThat(ancestors(byId, produce)).contains(server.getSpanId());

      List<SpanData> writes =
          byId.values().stream().filter(s -> s.getName().startsWith("mongodb insert")).toList();
      assertThat(writes).isNotEmpty();
      assertThat(writes)
          .allSatisfy(w -> assertThat(w.getParentSpanId()).isEqualTo(pipeline.getSpanId()));

      SpanData push =
          byId.values().stream()
              .filter(s -> s.getName().equals("live push"))
              .findFirst()
              .orElseThrow();
      assertThat(ancestors(byId, push)).contains(pipeline.getSpanId(), server.getSpanId());
    }
  }

  @Test
  void aClientsTraceparentIsTheServerSpansParent() throws Exception {
    Api.User bob = api.newUser("bob");
    Api.User carol = api.newUser("carol");
    String conv = api.privateChat(bob, carol);
    String traceId = UUID.randomUUID().toString().replace("-", "");
    String parentSpan = traceId.substring(0, 16);
    String id = UUID.randomUUID().toString();
    HttpResponse<String> r = send(bob, conv, id, "00-" + traceId + "-" + parentSpan + "-01");
    assertThat(r.statusCode()).isEqualTo(202);

    SpanData pipeline = awaitSpan("pipeline process", s -> conv.equals(convOf(s)));
    assertThat(pipeline.getTraceId()).isEqualTo(traceId);
    Map<String, SpanData> byId = trace(traceId);
    SpanData server = root(byId, pipeline);
    assertThat(server.getKind()).isEqualTo(SpanKind.SERVER);
    assertThat(server.getParentSpanId()).isEqualTo(parentSpan);
    assertThat(server.getParentSpanContext().isRemote()).isTrue();
  }

  // --- helpers ---

  static HttpResponse<String> send(Api.User from, String conv, String id, String traceparent)
      throws Exception {
    HttpRequest.Builder b =
        HttpRequest.newBuilder(URI.create(api.base() + "/v1/messages"))
            .header("Authorization", "Bearer " + from.accessToken())
            .header("Content-Type", "application/json")
            .POST(HttpRequest.BodyPublishers.ofString(Api.textMessage(conv, id, "hi").encode()));
    if (traceparent != null) {
      b.header("traceparent", traceparent);
    }
    return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  static String messageId(JsonObject frame) {
    JsonObject m = frame.getJsonObject("message");
    return m == null ? null : m.getString("message_id");
  }

  static String convOf(SpanData s) {
    return s.getAttributes().asMap().entrySet().stream()
        .filter(e -> e.getKey().getKey().equals("chat4all.conversation_id"))
        .map(e -> String.valueOf(e.getValue()))
        .findFirst()
        .orElse(null);
  }

  static SpanData awaitSpan(String name, java.util.function.Predicate<SpanData> p) {
    java.util.function.Supplier<Optional<SpanData>> find =
        () ->
            spans.getFinishedSpanItems().stream()
                .filter(x -> x.getName().equals(name) && p.test(x))
                .findFirst();
    Await.until("span " + name, WAIT, () -> find.get().isPresent());
    return find.get().orElseThrow();
  }

  static Map<String, SpanData> trace(String traceId) {
    Map<String, SpanData> byId = new HashMap<>();
    for (SpanData s : spans.getFinishedSpanItems()) {
      if (s.getTraceId().equals(traceId)) {
        byId.put(s.getSpanId(), s);
      }
    }
    return byId;
  }

  static Map<String, SpanData> awaitTraceWith(String traceId, String name) {
    Await.until(
        "a " + name + " span in the trace",
        WAIT,
        () -> trace(traceId).values().stream().anyMatch(s -> s.getName().equals(name)));
    return trace(traceId);
  }

  /** The topmost span of the trace above {@code s} (its parent is not in this process). */
  static SpanData root(Map<String, SpanData> byId, SpanData s) {
    SpanData at = s;
    while (byId.containsKey(at.getParentSpanId())) {
      at = byId.get(at.getParentSpanId());
    }
    return at;
  }

  static List<String> ancestors(Map<String, SpanData> byId, SpanData s) {
    List<String> out = new java.util.ArrayList<>();
    SpanData at = s;
    while (byId.containsKey(at.getParentSpanId())) {
      at = byId.get(at.getParentSpanId());
      out.add(at.getSpanId());
    }
    return out;
  }
}
