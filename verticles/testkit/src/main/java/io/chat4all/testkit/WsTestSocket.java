package io.chat4all.testkit;

import io.vertx.core.http.WebSocket;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.function.UnaryOperator;
import java.util.stream.Collectors;

/**
 * A test client socket for the node's {@code /v1/ws} protocol (and the SockJS raw transport): it
 * records every frame it receives, in order, and the close code.
 *
 * <p>A long run may keep less of each frame: {@code keep} maps a received frame to what is recorded
 * of it (a bench keeps a message's ids and numbers, not its text).
 */
public class WsTestSocket implements AutoCloseable {
  public final WebSocket ws;
  public final List<JsonObject> frames = new AppendOnlyList<>();
  public final CompletableFuture<Short> closed = new CompletableFuture<>();
  private final Duration wait;

  public WsTestSocket(WebSocketClient client, int port, String path, Duration wait) {
    this(client, port, path, wait, UnaryOperator.identity());
  }

  public WsTestSocket(
      WebSocketClient client,
      int port,
      String path,
      Duration wait,
      UnaryOperator<JsonObject> keep) {
    this.wait = wait;
    ws = Await.result(client.connect(port, "127.0.0.1", path));
    ws.textMessageHandler(
        t -> {
          try {
            frames.add(keep.apply(new JsonObject(t)));
          } catch (RuntimeException e) {
            frames.add(new JsonObject().put("type", "unparsable").put("raw", t));
          }
        });
    // the SockJS raw transport writes the bridge's frames as binary messages
    ws.binaryMessageHandler(b -> frames.add(keep.apply(new JsonObject(b))));
    ws.closeHandler(v -> closed.complete(ws.closeStatusCode()));
  }

  /** Sends the auth frame (with the cursor when given) and returns the server's ready frame. */
  public JsonObject authenticate(String token, String cursor) {
    JsonObject auth = new JsonObject().put("type", "auth").put("token", token);
    if (cursor != null) {
      auth.put("cursor", cursor);
    }
    send(auth);
    return await("ready", f -> "ready".equals(f.getString("type")));
  }

  public void send(JsonObject frame) {
    Await.result(ws.writeTextMessage(frame.encode()));
  }

  public void sendRaw(String text) {
    Await.result(ws.writeTextMessage(text));
  }

  /** The first frame matching {@code p} (waits for it). */
  public JsonObject await(String what, Predicate<JsonObject> p) {
    Await.until(what, wait, () -> frames.stream().anyMatch(p));
    return frames.stream().filter(p).findFirst().orElseThrow();
  }

  /** The {@code message} envelopes received so far. */
  public List<JsonObject> messages() {
    return frames.stream()
        .filter(f -> "message".equals(f.getString("type")))
        .collect(Collectors.toList());
  }

  /** The cursor of the last frame that carried one (null if none did). */
  public String lastCursor() {
    String c = null;
    for (JsonObject f : frames) {
      if (f.getString("cursor") != null) {
        c = f.getString("cursor");
      }
    }
    return c;
  }

  public boolean isClosed() {
    return closed.isDone();
  }

  public short awaitClose() {
    try {
      return closed.get(wait.toMillis(), TimeUnit.MILLISECONDS);
    } catch (Exception e) {
      throw new AssertionError("socket not closed", e);
    }
  }

  @Override
  public void close() {
    if (!ws.isClosed()) {
      Await.result(ws.close());
    }
  }
}
