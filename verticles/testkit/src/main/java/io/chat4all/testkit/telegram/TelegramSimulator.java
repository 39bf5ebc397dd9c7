package io.chat4all.testkit.telegram;

import io.chat4all.testkit.Await;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A stateful stand-in for the Telegram Bot API, written from its public documentation, on a free
 * loopback port: {@code {baseUrl}/bot<token>/<method>} answering {@code {ok, result}} or {@code
 * {ok:false, error_code, description, parameters}}. It keeps chats and their message ids, a queue
 * of updates served by {@code getUpdates} (long polling, offsets confirm) or pushed to the webhook
 * set by {@code setWebhook} with the {@code X-Telegram-Bot-Api-Secret-Token} header, files for
 * {@code getFile} and downloads, and records every send. Errors are injected per method (429 with
 * retry_after, 403 blocked, 400 chat not found, 5xx) or for the whole server (down: connections are
 * closed).
 *
 * <p>It runs on its own Vert.x instance; the control methods are safe to call from test threads.
 */
public final class TelegramSimulator implements AutoCloseable {
  /** One message the bot sent, as the simulator stored it. */
  public record Sent(
      String method,
      long chatId,
      long messageId,
      String text,
      String fileName,
      long fileSize,
      String fileSha256,
      boolean byUrl,
      Long replyToMessageId,
      Instant at) {}

  /** An injected failure for the next calls of a method ({@code *} = any method). */
  record Failure(
      String method, int errorCode, String description, Integer retryAfter, boolean html) {}

  /** One call that arrived (also while down), with when. */
  public record Call(String method, Instant at) {}

  /** One POST of an update to the webhook and how the receiver answered (-1: no answer). */
  public record WebhookDelivery(long updateId, int status, Instant at) {}

  final Vertx vertx;
  final String token;
  private final HttpServer server;
  private final HttpClient client;
  final BotMethods methods;

  // state, touched only on the simulator's event loop or under the monitor
  final Map<Long, JsonObject> chats = new HashMap<>();
  final Map<Long, Map<Long, JsonObject>> messages = new HashMap<>();
  final Map<Long, AtomicLong> messageIds = new HashMap<>();
  final Set<Long> blocked = new HashSet<>();
  final Map<String, StoredFile> files = new HashMap<>();
  final List<Sent> sent = new ArrayList<>();
  final Deque<Failure> failures = new ArrayDeque<>();
  final Deque<JsonObject> updates = new ArrayDeque<>();
  final List<WebhookDelivery> deliveries = new ArrayList<>();
  final Map<String, Integer> calls = new HashMap<>();
  final List<Call> callLog = new ArrayList<>();
  long nextUpdateId = 1000;
  long nextFileId = 1;
  boolean acceptAnyChat;
  volatile boolean down;
  volatile long latencyMs;
  String webhookUrl;
  String webhookSecret;
  private boolean pushing;
  final List<BotMethods.ParkedPoll> parked = new ArrayList<>();

  record StoredFile(String fileId, String path, Buffer bytes, long announcedSize) {}

  private TelegramSimulator(String token) {
    this.token = token;
    this.vertx = Vertx.vertx();
    this.methods = new BotMethods(this);
    this.client = vertx.createHttpClient(new HttpClientOptions().setKeepAlive(true));
    this.server =
        Await.result(
            vertx
                .createHttpServer(new HttpServerOptions().setHost("127.0.0.1").setPort(0))
                .requestHandler(methods::handle)
                .listen());
  }

  /** Starts a simulator for the bot {@code token}. */
  public static TelegramSimulator start(String token) {
    return new TelegramSimulator(token);
  }

  /** What a connector's {@code base_url} is set to. */
  public String baseUrl() {
    return "http://127.0.0.1:" + server.actualPort();
  }

  public String token() {
    return token;
  }

  /** Runs {@code fn} on the simulator's event loop and waits for it. */
  <T> T onLoop(java.util.function.Supplier<T> fn) {
    Promise<T> p = Promise.promise();
    vertx.runOnContext(
        v -> {
          try {
            p.complete(fn.get());
          } catch (RuntimeException e) {
            p.fail(e);
          }
        });
    return Await.result(p.future());
  }

  // --- chats and users ---

  /** A private chat with a user (the chat id is the user id, as in Telegram). */
  public void addChat(long chatId, String firstName, String username) {
    onLoop(
        () -> {
          chats.put(
              chatId,
              new JsonObject()
                  .put("id", chatId)
                  .put("type", "private")
                  .put("first_name", firstName)
                  .put("username", username));
          return null;
        });
  }

  /** Whether a send to a chat never added succeeds (it is then created); default false. */
  public void acceptAnyChat(boolean any) {
    onLoop(
        () -> {
          acceptAnyChat = any;
          return null;
        });
  }

  /** The user blocked the bot: sends answer 403 "Forbidden: bot was blocked by the user". */
  public void block(long chatId) {
    onLoop(() -> blocked.add(chatId));
  }

  public void unblock(long chatId) {
    onLoop(() -> blocked.remove(chatId));
  }

  /** The user writes {@code text}; the update id of the new update. */
  public long userWrites(long chatId, String text) {
    return userMessage(chatId, new JsonObject().put("text", text));
  }

  /** The user replies to message {@code replyTo} (a message id of the chat). */
  public long userReplies(long chatId, String text, long replyTo) {
    return onLoop(
        () -> {
          JsonObject quoted = messages.getOrDefault(chatId, Map.of()).get(replyTo);
          JsonObject m =
              new JsonObject()
                  .put("text", text)
                  .put(
                      "reply_to_message",
                      quoted != null ? quoted : new JsonObject().put("message_id", replyTo));
          return userMessageOnLoop(chatId, m);
        });
  }

  /** The user sends a file ({@code kind}: document, photo, video, audio, voice) with a caption. */
  public long userSendsFile(
      long chatId, String kind, byte[] bytes, String fileName, String mime, String caption) {
    return onLoop(
        () -> {
          JsonObject file = storeFile(Buffer.buffer(bytes), bytes.length, fileName);
          if (mime != null) {
            file.put("mime_type", mime);
          }
          return userMessageOnLoop(chatId, withFile(kind, file, caption));
        });
  }

  /** The user sends a file of {@code size} bytes that exists only as a size (for limits). */
  public long userSendsLargeFile(long chatId, String fileName, long size) {
    return onLoop(
        () -> {
          JsonObject file = storeFile(Buffer.buffer(), size, fileName);
          return userMessageOnLoop(chatId, withFile("document", file, null));
        });
  }

  private static JsonObject withFile(String kind, JsonObject file, String caption) {
    JsonObject m = new JsonObject();
    if (kind.equals("photo")) {
      file.remove("file_name");
      m.put("photo", new JsonArray().add(file));
    } else {
      m.put(kind, file);
    }
    if (caption != null) {
      m.put("caption", caption);
    }
    return m;
  }

  private JsonObject storeFile(Buffer bytes, long size, String fileName) {
    String id = "file-" + (nextFileId++);
    String path = "documents/" + id + "_" + (fileName == null ? "file" : fileName);
    files.put(id, new StoredFile(id, path, bytes, size));
    JsonObject f =
        new JsonObject().put("file_id", id).put("file_unique_id", "u" + id).put("file_size", size);
    if (fileName != null) {
      f.put("file_name", fileName);
    }
    return f;
  }

  private long userMessage(long chatId, JsonObject content) {
    return onLoop(() -> userMessageOnLoop(chatId, content));
  }

  private long userMessageOnLoop(long chatId, JsonObject content) {
    JsonObject chat = chats.get(chatId);
    if (chat == null) {
      throw new IllegalStateException("no chat " + chatId + "; addChat first");
    }
    long id = nextMessageId(chatId);
    JsonObject message =
        content
            .copy()
            .put("message_id", id)
            .put("date", Instant.now().getEpochSecond())
            .put("chat", chat.copy())
            .put(
                "from",
                new JsonObject()
                    .put("id", chatId)
                    .put("is_bot", false)
                    .put("first_name", chat.getString("first_name"))
                    .put("username", chat.getString("username")));
    messages.computeIfAbsent(chatId, k -> new HashMap<>()).put(id, message);
    return enqueueOnLoop(new JsonObject().put("message", message));
  }

  long nextMessageId(long chatId) {
    return messageIds.computeIfAbsent(chatId, k -> new AtomicLong()).incrementAndGet();
  }

  /** Queues any update body (an update_id is assigned); its update id. */
  public long pushUpdate(JsonObject update) {
    return onLoop(() -> enqueueOnLoop(update.copy()));
  }

  /** The update with {@code updateId} as the simulator queued it (for re-posting it). */
  public JsonObject update(long updateId) {
    return onLoop(
        () ->
            updates.stream()
                .filter(u -> u.getLong("update_id") == updateId)
                .findFirst()
                .map(JsonObject::copy)
                .orElse(null));
  }

  private long enqueueOnLoop(JsonObject update) {
    long id = nextUpdateId++;
    update.put("update_id", id);
    updates.add(update);
    methods.wakePolls();
    pushWebhook();
    return id;
  }

  // --- webhook sender ---

  /** Sends queued updates to the webhook one at a time, in order, retrying refused ones. */
  void pushWebhook() {
    if (webhookUrl == null || pushing || updates.isEmpty()) {
      return;
    }
    pushing = true;
    JsonObject next = updates.peekFirst();
    long id = next.getLong("update_id");
    RequestOptions o =
        new RequestOptions()
            .setMethod(HttpMethod.POST)
            .setAbsoluteURI(webhookUrl)
            .putHeader("Content-Type", "application/json")
            .setIdleTimeout(30_000);
    if (webhookSecret != null) {
      o.putHeader("X-Telegram-Bot-Api-Secret-Token", webhookSecret);
    }
    client
        .request(o)
        .compose(req -> req.send(next.toBuffer()))
        .compose(resp -> resp.body().map(b -> resp.statusCode()))
        .onComplete(
            ar -> {
              int status = ar.succeeded() ? ar.result() : -1;
              deliveries.add(new WebhookDelivery(id, status, Instant.now()));
              pushing = false;
              if (status >= 200 && status < 300) {
                if (!updates.isEmpty() && updates.peekFirst().getLong("update_id") == id) {
                  updates.pollFirst();
                }
                pushWebhook();
              } else {
                vertx.setTimer(200, t -> pushWebhook());
              }
            });
  }

  /** Sets the webhook as the bot's setWebhook would (queued updates are pushed to it). */
  public void setWebhook(String url, String secret) {
    onLoop(
        () -> {
          webhookUrl = url;
          webhookSecret = secret;
          pushWebhook();
          return null;
        });
  }

  /** The webhook URL set by setWebhook, or null. */
  public String webhookUrl() {
    return onLoop(() -> webhookUrl);
  }

  public String webhookSecret() {
    return onLoop(() -> webhookSecret);
  }

  public List<WebhookDelivery> webhookDeliveries() {
    return onLoop(() -> List.copyOf(deliveries));
  }

  /** Updates not yet confirmed (getUpdates) or accepted (webhook). */
  public int pendingUpdates() {
    return onLoop(updates::size);
  }

  // --- error injection ---

  /**
   * The next {@code count} calls of {@code method} ({@code *} = any) fail with {@code errorCode}
   * and {@code description}; {@code retryAfter} (seconds) goes into {@code parameters}.
   */
  public void failNext(
      String method, int count, int errorCode, String description, Integer retryAfter) {
    onLoop(
        () -> {
          for (int i = 0; i < count; i++) {
            failures.add(new Failure(method, errorCode, description, retryAfter, false));
          }
          return null;
        });
  }

  /** The next {@code count} calls of {@code method} answer a 502 HTML page (a broken proxy). */
  public void badGateway(String method, int count) {
    onLoop(
        () -> {
          for (int i = 0; i < count; i++) {
            failures.add(new Failure(method, 502, "Bad Gateway", null, true));
          }
          return null;
        });
  }

  /** While down, every connection is closed without an answer. */
  public void down(boolean isDown) {
    down = isDown;
  }

  /** Delay added before every answer. */
  public void latency(Duration delay) {
    latencyMs = delay.toMillis();
  }

  // --- records ---

  /** Every message the bot sent, in order. */
  public List<Sent> sent() {
    return onLoop(() -> List.copyOf(sent));
  }

  public List<Sent> sentTo(long chatId) {
    return onLoop(() -> sent.stream().filter(s -> s.chatId() == chatId).toList());
  }

  public int sentCount() {
    return onLoop(sent::size);
  }

  /** How many calls of {@code method} arrived (answered or failed). */
  public int calls(String method) {
    return onLoop(() -> calls.getOrDefault(method, 0));
  }

  /** Drops every queued update (as deleteWebhook with drop_pending_updates does). */
  public void dropUpdates() {
    onLoop(
        () -> {
          updates.clear();
          return null;
        });
  }

  /**
   * Every call that arrived, in order (calls refused while down are named {@code down:<method>}).
   */
  public List<Call> callLog() {
    return onLoop(() -> List.copyOf(callLog));
  }

  /** Forgets sends and injected failures (chats, files and updates stay). */
  public void clearRecords() {
    onLoop(
        () -> {
          sent.clear();
          failures.clear();
          calls.clear();
          callLog.clear();
          deliveries.clear();
          return null;
        });
  }

  Future<Void> delay() {
    long ms = latencyMs;
    if (ms <= 0) {
      return Future.succeededFuture();
    }
    Promise<Void> p = Promise.promise();
    vertx.setTimer(ms, t -> p.complete());
    return p.future();
  }

  HttpClient client() {
    return client;
  }

  @Override
  public void close() {
    Await.result(vertx.close());
  }
}
