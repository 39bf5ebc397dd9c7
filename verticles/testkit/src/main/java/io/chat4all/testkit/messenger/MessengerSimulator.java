package io.chat4all.testkit.messenger;

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
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.function.Supplier;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * A stateful stand-in for the Messenger Platform on a free loopback port, written from Meta's
 * public documentation, serving either Facebook Messenger (webhook object {@code page}, ids are
 * PSIDs) or Instagram Messaging (object {@code instagram}, IGSIDs) by {@link Mode}:
 *
 * <ul>
 *   <li>the Send API {@code POST /{version}/{account id}/messages} (JSON, or multipart with a
 *       {@code filedata} part) answering {@code {recipient_id, message_id}} or the Graph error
 *       envelope {@code {"error":{message, type, code, error_subcode, fbtrace_id}}}; the access
 *       token as {@code Authorization: Bearer} or {@code access_token};
 *   <li>the 24-hour window (code 10 / subcode 2018278; a {@code HUMAN_AGENT} tag extends it to 7
 *       days), blocked contacts (551), unknown ones (100 / 2018001), throttling (613), injected
 *       failures and outages;
 *   <li>attachments by URL (fetched by the simulator, as Meta does) and by upload, recorded with
 *       size and SHA-256;
 *   <li>{@code GET /{version}/me} (the token's account), media URLs of inbound attachments;
 *   <li>a webhook sender that POSTs signed ({@code X-Hub-Signature-256}) bodies one at a time,
 *       retrying refused ones: contact messages, replies, attachments, echoes of sends, Messenger
 *       delivery/read watermarks, Instagram reads and deletions; and the {@code hub.*} verification
 *       GET.
 * </ul>
 *
 * <p>It runs on its own Vert.x instance; the control methods are safe to call from test threads.
 */
public final class MessengerSimulator implements AutoCloseable {

  /** Which product the simulator plays. */
  public enum Mode {
    MESSENGER("page", "m_"),
    INSTAGRAM("instagram", "aWdfZAG1");

    final String object;
    final String midPrefix;

    Mode(String object, String midPrefix) {
      this.object = object;
      this.midPrefix = midPrefix;
    }
  }

  /** One message the account sent, as the simulator stored it. */
  public record Sent(
      String recipientId,
      String mid,
      String messagingType,
      String tag,
      String text,
      String attachmentType,
      boolean byUpload,
      String url,
      String fileName,
      String mimeType,
      long fileSize,
      String fileSha256,
      String replyTo,
      Instant at) {}

  /** One webhook POST and how the receiver answered (-1: no answer). */
  public record WebhookDelivery(String body, int status, Instant at) {}

  /** An injected failure of the next Send API calls. */
  record Failure(int httpStatus, int code, Integer subcode, String message) {}

  record Media(Buffer bytes, String mime) {}

  final Vertx vertx;
  final Mode mode;
  final String accountId;
  final String token;
  final String version;
  private final HttpServer server;
  final HttpClient client;
  private final GraphRoutes routes;

  // state, touched only on the simulator's event loop
  final Map<String, String> users = new HashMap<>();
  final Map<String, Instant> lastInbound = new HashMap<>();
  final Set<String> blocked = new HashSet<>();
  final Map<String, Media> media = new HashMap<>();
  final List<Sent> sent = new ArrayList<>();
  final Deque<Failure> failures = new ArrayDeque<>();
  final Map<String, Integer> calls = new HashMap<>();
  final Deque<String> outbox = new ArrayDeque<>();
  final List<WebhookDelivery> deliveries = new ArrayList<>();
  volatile boolean down;

  /** Media fetches still to stall (headers and half the bytes, then silence), and fetches seen. */
  int stallMedia;

  int mediaFetches;

  int stalledClosed;
  boolean echoes;
  String webhookUrl;
  String appSecret;
  private boolean pushing;
  private long seq;

  private MessengerSimulator(Mode mode, String accountId, String token, String version) {
    this.mode = mode;
    this.accountId = accountId;
    this.token = token;
    this.version = version;
    this.vertx = Vertx.vertx();
    this.client = vertx.createHttpClient(new HttpClientOptions().setKeepAlive(true));
    this.routes = new GraphRoutes(this);
    this.server =
        Await.result(
            vertx
                .createHttpServer(new HttpServerOptions().setHost("127.0.0.1").setPort(0))
                .requestHandler(routes::handle)
                .listen());
  }

  /**
   * Starts a simulator of {@code mode} for the account {@code accountId} (page id or Instagram
   * account id) whose access token is {@code token}, on Graph API {@code version} (e.g. {@code
   * v21.0}).
   */
  public static MessengerSimulator start(
      Mode mode, String accountId, String token, String version) {
    return new MessengerSimulator(mode, accountId, token, version);
  }

  /** What a connector's {@code base_url} is set to. */
  public String baseUrl() {
    return "http://127.0.0.1:" + server.actualPort();
  }

  public Mode mode() {
    return mode;
  }

  <T> T onLoop(Supplier<T> fn) {
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

  String nextMid() {
    return mode.midPrefix + (++seq) + "_" + UUID.randomUUID().toString().replace("-", "");
  }

  // --- contacts ---

  /** A contact (PSID / IGSID) who can be written to once they wrote (or {@link #lastWrote}). */
  public void addUser(String userId, String name) {
    onLoop(() -> users.put(userId, name));
  }

  /** Moves the contact's last message to {@code at} (for the messaging window). */
  public void lastWrote(String userId, Instant at) {
    onLoop(() -> lastInbound.put(userId, at));
  }

  /** The contact blocked the account: sends answer 551. */
  public void block(String userId) {
    onLoop(() -> blocked.add(userId));
  }

  public void unblock(String userId) {
    onLoop(() -> blocked.remove(userId));
  }

  // --- the contact's side: webhooks ---

  /** The contact writes {@code text}; its mid. */
  public String userWrites(String userId, String text) {
    return userMessage(userId, new JsonObject().put("text", text));
  }

  /** The contact replies to {@code replyToMid}; its mid. */
  public String userReplies(String userId, String text, String replyToMid) {
    return userMessage(
        userId,
        new JsonObject()
            .put("text", text)
            .put("reply_to", new JsonObject().put("mid", replyToMid)));
  }

  /**
   * The contact sends a file ({@code type}: image, video, audio, file) served at a media URL of the
   * simulator; its mid.
   */
  public String userSendsFile(
      String userId, String type, byte[] bytes, String fileName, String mime) {
    String url = storeMedia(bytes, fileName, mime);
    JsonObject att =
        new JsonObject().put("type", type).put("payload", new JsonObject().put("url", url));
    return userMessage(userId, new JsonObject().put("attachments", new JsonArray().add(att)));
  }

  /** Serves {@code bytes} at a media URL of the simulator (as Meta's CDN does); the URL. */
  public String storeMedia(byte[] bytes, String fileName, String mime) {
    String key =
        onLoop(
            () -> {
              String k = "att" + (++seq) + "/" + fileName;
              media.put(k, new Media(Buffer.buffer(bytes), mime));
              return k;
            });
    return baseUrl() + "/media/" + key;
  }

  /**
   * The next {@code fetches} media fetches answer their headers (with the full {@code
   * Content-Length}) and the first half of the bytes, then send nothing more and keep the
   * connection open, as a CDN that stalls mid-transfer does.
   */
  public void stallMediaFetches(int fetches) {
    onLoop(() -> stallMedia = fetches);
  }

  /** How many stalled media fetches the client has let go of (closed their connection). */
  public int stalledFetchesClosed() {
    return onLoop(() -> stalledClosed);
  }

  /** How many media fetches arrived (stalled ones included). */
  public int mediaFetches() {
    return onLoop(() -> mediaFetches);
  }

  /** The contact sends {@code content} (a {@code message} object without mid); its mid. */
  public String userMessage(String userId, JsonObject content) {
    return onLoop(
        () -> {
          String mid = nextMid();
          Instant now = Instant.now();
          lastInbound.put(userId, now);
          users.putIfAbsent(userId, userId);
          JsonObject m = content.copy().put("mid", mid);
          enqueue(item(userId, accountId, now).put("message", m));
          return mid;
        });
  }

  /** Messenger: everything sent to the contact up to now is delivered (optionally naming mids). */
  public long delivered(String userId, List<String> mids) {
    return onLoop(
        () -> {
          long w = Instant.now().toEpochMilli();
          JsonObject d = new JsonObject().put("watermark", w);
          if (mids != null) {
            d.put("mids", new JsonArray(new ArrayList<>(mids)));
          }
          enqueue(item(userId, accountId, Instant.now()).put("delivery", d));
          return w;
        });
  }

  /** Messenger: the contact read everything up to now. */
  public long readAll(String userId) {
    return onLoop(
        () -> {
          long w = Instant.now().toEpochMilli();
          enqueue(
              item(userId, accountId, Instant.now())
                  .put("read", new JsonObject().put("watermark", w)));
          return w;
        });
  }

  /** Instagram: the contact read message {@code mid}. */
  public void read(String userId, String mid) {
    onLoop(
        () -> {
          enqueue(
              item(userId, accountId, Instant.now()).put("read", new JsonObject().put("mid", mid)));
          return null;
        });
  }

  /** Instagram: the contact unsent their message {@code mid}. */
  public void userDeletes(String userId, String mid) {
    onLoop(
        () -> {
          enqueue(
              item(userId, accountId, Instant.now())
                  .put("message", new JsonObject().put("mid", mid).put("is_deleted", true)));
          return null;
        });
  }

  /** Whether each accepted send comes back as an {@code is_echo} webhook (default false). */
  public void echoes(boolean on) {
    onLoop(() -> echoes = on);
  }

  /** A {@code messaging} item from {@code sender} to {@code recipient} (for hand-made bodies). */
  public JsonObject item(String sender, String recipient, Instant at) {
    return new JsonObject()
        .put("sender", new JsonObject().put("id", sender))
        .put("recipient", new JsonObject().put("id", recipient))
        .put("timestamp", at.toEpochMilli());
  }

  /** A whole webhook body with one messaging item. */
  public String body(JsonObject item) {
    return new JsonObject()
        .put("object", mode.object)
        .put(
            "entry",
            new JsonArray()
                .add(
                    new JsonObject()
                        .put("id", accountId)
                        .put("time", Instant.now().toEpochMilli())
                        .put("messaging", new JsonArray().add(item))))
        .encode();
  }

  void enqueue(JsonObject item) {
    outbox.add(body(item));
    push();
  }

  /** {@code sha256=<hex>} of {@code body} with the app secret, as Meta signs webhooks. */
  public String signature(String body) {
    String secret = onLoop(() -> appSecret);
    return sign(secret, body);
  }

  static String sign(String secret, String body) {
    try {
      Mac mac = Mac.getInstance("HmacSHA256");
      mac.init(new SecretKeySpec(secret.getBytes(StandardCharsets.UTF_8), "HmacSHA256"));
      return "sha256="
          + HexFormat.of().formatHex(mac.doFinal(body.getBytes(StandardCharsets.UTF_8)));
    } catch (java.security.GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }

  private void push() {
    if (webhookUrl == null || pushing || outbox.isEmpty()) {
      return;
    }
    pushing = true;
    String body = outbox.peekFirst();
    RequestOptions o =
        new RequestOptions()
            .setMethod(HttpMethod.POST)
            .setAbsoluteURI(webhookUrl)
            .putHeader("Content-Type", "application/json")
            .putHeader("X-Hub-Signature-256", sign(appSecret, body))
            .setIdleTimeout(30_000);
    client
        .request(o)
        .compose(req -> req.send(body))
        .compose(resp -> resp.body().map(b -> resp.statusCode()))
        .onComplete(
            ar -> {
              int status = ar.succeeded() ? ar.result() : -1;
              deliveries.add(new WebhookDelivery(body, status, Instant.now()));
              pushing = false;
              if (status >= 200 && status < 300) {
                outbox.remove(body);
                push();
              } else {
                vertx.setTimer(200, t -> push());
              }
            });
  }

  /** Subscribes the webhook (the app's callback URL) with the app secret that signs bodies. */
  public void setWebhook(String url, String secret) {
    onLoop(
        () -> {
          webhookUrl = url;
          appSecret = secret;
          push();
          return null;
        });
  }

  /**
   * What Meta does when the callback URL is configured: {@code GET url?hub.mode=subscribe
   * &hub.verify_token=..&hub.challenge=..}; the status and body of the answer.
   */
  public Map.Entry<Integer, String> verify(String url, String verifyToken, String challenge) {
    String q =
        "?hub.mode=subscribe&hub.verify_token="
            + URLEncoder.encode(verifyToken, StandardCharsets.UTF_8)
            + "&hub.challenge="
            + URLEncoder.encode(challenge, StandardCharsets.UTF_8);
    // as the app dashboard does when its "verify" gets no answer in time, ask once more (seen:
    // the last request of a loaded suite run's test class going unanswered). Each attempt has a
    // client of its own, so nothing the pushes or media fetches left in the pool can hold it up.
    // each attempt also has a deadline of its own: a request seen neither answered nor failed by
    // its connect and idle timeouts for a whole minute would otherwise never reach the retry
    Future<Map.Entry<Integer, String>> answer =
        handshake(url + q)
            .timeout(20, java.util.concurrent.TimeUnit.SECONDS)
            .recover(err -> handshake(url + q).timeout(20, java.util.concurrent.TimeUnit.SECONDS));
    try {
      return Await.result(answer, java.time.Duration.ofSeconds(60));
    } catch (AssertionError | RuntimeException e) {
      throw new AssertionError("the webhook handshake: " + e + "\n" + eventLoops(), e);
    }
  }

  private Future<Map.Entry<Integer, String>> handshake(String uri) {
    HttpClient once = vertx.createHttpClient(new HttpClientOptions().setKeepAlive(false));
    return io.chat4all.testkit.HttpExchange.exchange(
            vertx,
            once,
            new RequestOptions()
                .setMethod(HttpMethod.GET)
                .setAbsoluteURI(uri)
                .setConnectTimeout(10_000)
                .setIdleTimeout(12_000),
            req -> req.send(),
            resp -> resp.body().map(b -> Map.entry(resp.statusCode(), b.toString())))
        .eventually(once::close);
  }

  /** What every event loop of this JVM is doing: for a request that was never answered. */
  static String eventLoops() {
    StringBuilder out = new StringBuilder("event loops:");
    Thread.getAllStackTraces()
        .forEach(
            (t, stack) -> {
              if (!t.getName().contains("eventloop")) {
                return;
              }
              out.append("\n  ").append(t.getName()).append(' ').append(t.getState());
              for (int i = 0; i < Math.min(8, stack.length); i++) {
                out.append("\n    at ").append(stack[i]);
              }
            });
    return out.toString();
  }

  public List<WebhookDelivery> webhookDeliveries() {
    return onLoop(() -> List.copyOf(deliveries));
  }

  /** Webhook bodies not yet accepted by the receiver. */
  public int pendingWebhooks() {
    return onLoop(outbox::size);
  }

  // --- error injection ---

  /** The next {@code count} Send API calls fail with this Graph error. */
  public void failNext(int count, int httpStatus, int code, Integer subcode, String message) {
    onLoop(
        () -> {
          for (int i = 0; i < count; i++) {
            failures.add(new Failure(httpStatus, code, subcode, message));
          }
          return null;
        });
  }

  /** The next {@code count} Send API calls are throttled (code 613, HTTP 400 as Graph does). */
  public void throttle(int count) {
    failNext(count, 400, 613, null, "Calls to this api have exceeded the rate limit.");
  }

  /** While down, every connection is closed without an answer. */
  public void down(boolean isDown) {
    down = isDown;
  }

  // --- records ---

  public List<Sent> sent() {
    return onLoop(() -> List.copyOf(sent));
  }

  public List<Sent> sentTo(String userId) {
    return onLoop(() -> sent.stream().filter(s -> s.recipientId().equals(userId)).toList());
  }

  /** How many Send API calls arrived (answered or failed). */
  public int calls(String what) {
    return onLoop(() -> calls.getOrDefault(what, 0));
  }

  /** Forgets sends, injected failures and webhook deliveries (contacts and media stay). */
  public void clearRecords() {
    onLoop(
        () -> {
          sent.clear();
          failures.clear();
          calls.clear();
          deliveries.clear();
          return null;
        });
  }

  Duration windowFor(String tag) {
    return "HUMAN_AGENT".equals(tag) ? Duration.ofDays(7) : Duration.ofHours(24);
  }

  @Override
  public void close() {
    Await.result(vertx.close());
  }
}
