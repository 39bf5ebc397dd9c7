package io.chat4all.node.process;

import io.chat4all.testkit.AppendOnlyList;
import io.chat4all.testkit.DeliveryAudit;
import io.vertx.core.http.WebSocket;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * A /v1/ws connection of the chaos tests: replies (ack, error) are matched to their request_id, the
 * message envelopes are kept in the order they arrived (what the audit reads of each: its ids and
 * number, so a run of 100,000 sends fits the test's heap), and the connection's last cursor.
 */
final class LiveSocket {
  final int port;
  final List<JsonObject> messages = new AppendOnlyList<>();
  private final WebSocket ws;
  private final Map<String, CompletableFuture<JsonObject>> pending = new ConcurrentHashMap<>();
  private final CompletableFuture<JsonObject> ready = new CompletableFuture<>();
  private final CompletableFuture<Void> closed = new CompletableFuture<>();
  private volatile String lastCursor;
  private volatile String ended;
  private volatile boolean closedHere;

  private LiveSocket(WebSocket ws, int port) {
    this.ws = ws;
    this.port = port;
    ws.textMessageHandler(this::frame);
    ws.closeHandler(
        v -> {
          if (ended == null) {
            ended = ws.closeStatusCode() + " " + ws.closeReason();
          }
          closed.complete(null);
          ready.completeExceptionally(new IllegalStateException("closed"));
          pending
              .values()
              .forEach(f -> f.completeExceptionally(new IllegalStateException("closed")));
        });
  }

  /** The result of {@code f}; any failure or timeout as an IOException (a transport problem). */
  static <T> T get(io.vertx.core.Future<T> f, Duration timeout) throws java.io.IOException {
    try {
      return f.toCompletionStage()
          .toCompletableFuture()
          .get(timeout.toMillis(), TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new java.io.IOException(e);
    } catch (Exception e) {
      throw new java.io.IOException(e.getCause() != null ? e.getCause() : e);
    }
  }

  /** Connects and authenticates (from {@code cursor} when given); fails when the node is gone. */
  static LiveSocket open(WebSocketClient client, int port, String token, String cursor)
      throws Exception {
    WebSocket ws = get(client.connect(port, "127.0.0.1", "/v1/ws"), Duration.ofSeconds(15));
    LiveSocket s = new LiveSocket(ws, port);
    JsonObject auth = new JsonObject().put("type", "auth").put("token", token);
    if (cursor != null) {
      auth.put("cursor", cursor);
    }
    get(ws.writeTextMessage(auth.encode()), Duration.ofSeconds(15));
    JsonObject r = s.ready.get(30, TimeUnit.SECONDS);
    if (!"ready".equals(r.getString("type"))) {
      s.close();
      throw new IllegalStateException("not ready: " + r);
    }
    return s;
  }

  private void frame(String text) {
    JsonObject f = new JsonObject(text);
    String type = f.getString("type");
    if (f.getString("cursor") != null) {
      lastCursor = f.getString("cursor");
    }
    if ("message".equals(type)) {
      messages.add(DeliveryAudit.auditFields(f.getJsonObject("message")));
    } else if ("ready".equals(type) || ("error".equals(type) && !ready.isDone())) {
      ready.complete(f);
    } else if ("error".equals(type) && f.getString("request_id") == null) {
      // the server ending the connection says why first
      JsonObject e = f.getJsonObject("error", new JsonObject());
      ended = e.getString("code") + ": " + e.getString("message");
    }
    String rid = f.getString("request_id");
    if (rid != null && ("ack".equals(type) || "error".equals(type))) {
      CompletableFuture<JsonObject> p = pending.remove(rid);
      if (p != null) {
        p.complete(f);
      }
    }
  }

  /** Sends {@code frame} (with a fresh request_id) and waits for its ack or error frame. */
  JsonObject request(JsonObject frame, Duration timeout) throws Exception {
    String rid = java.util.UUID.randomUUID().toString();
    CompletableFuture<JsonObject> reply = new CompletableFuture<>();
    pending.put(rid, reply);
    if (closed.isDone()) {
      throw new IllegalStateException("closed");
    }
    get(ws.writeTextMessage(frame.copy().put("request_id", rid).encode()), Duration.ofSeconds(15));
    try {
      return reply.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
    } finally {
      pending.remove(rid);
    }
  }

  String lastCursor() {
    return lastCursor;
  }

  /**
   * Why the connection ended (the server's error frame, else the close code and reason); null while
   * open or when this side closed it.
   */
  String ended() {
    return closedHere ? null : ended;
  }

  boolean isClosed() {
    return closed.isDone();
  }

  void close() {
    closedHere = true;
    if (!closed.isDone()) {
      ws.close();
    }
  }
}
