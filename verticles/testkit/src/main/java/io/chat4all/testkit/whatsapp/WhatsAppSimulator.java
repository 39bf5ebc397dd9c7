package io.chat4all.testkit.whatsapp;

import io.chat4all.testkit.Await;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * A stateful stand-in for the WhatsApp Cloud API (Graph API), written from Meta's public
 * documentation, on a free loopback port. One business number {@code phoneNumberId} answers {@code
 * POST /{version}/{phone_number_id}/messages} (recorded, answered with a new wamid), {@code POST
 * /{version}/{phone_number_id}/media} (multipart; stored, answered with a media id), {@code GET
 * /{version}/{media_id}} (the media's {@code url}, {@code mime_type}, {@code sha256}, {@code
 * file_size}), the download of that URL and {@code GET /{version}/{phone_number_id}}; every call
 * needs {@code Authorization: Bearer <token>} (else 401, code 190). A media link in a send is
 * fetched, as WhatsApp does. Errors are injected per path and code (Graph error envelopes, as 400
 * or 429); the 24-hour window is enforced like the real API: a free-form message to a user who did
 * not write in the last 24 hours is accepted (200) and then reported {@code failed} with 131047 in
 * a status webhook. Webhooks (messages, statuses in any order) are POSTed to the configured URL
 * signed with {@code X-Hub-Signature-256} over the exact body bytes.
 */
public final class WhatsAppSimulator implements AutoCloseable {
  /** One message the business sent, as the simulator stored it. */
  public record Sent(
      String wamid,
      String to,
      String type,
      String text,
      String mediaId,
      String link,
      String filename,
      String caption,
      String replyTo,
      JsonObject template,
      long linkedBytes,
      Instant at) {}

  /** One uploaded medium. */
  public record Media(String id, String mimeType, String filename, Buffer bytes, String sha256) {}

  /** An injected failure. */
  record Failure(String path, int httpStatus, int code, String message) {}

  /** One webhook POST and the receiver's answer (-1: no answer). */
  public record Delivery(String body, int status) {}

  private final Vertx vertx = Vertx.vertx();
  private final HttpClient client = vertx.createHttpClient();
  private final HttpServer server;
  private final String version;
  private final String phoneNumberId;
  private final String displayNumber;
  private final String token;
  private final AtomicLong ids = new AtomicLong(100_000);
  // state: touched on the simulator's event loop only
  private final List<Sent> sent = new ArrayList<>();
  private final Map<String, Media> media = new HashMap<>();
  private final Deque<Failure> failures = new ArrayDeque<>();
  private final Map<String, Instant> lastInbound = new HashMap<>();
  private final Map<String, Integer> calls = new HashMap<>();
  private final List<Delivery> deliveries = new ArrayList<>();
  private volatile String webhookUrl;
  private volatile String appSecret;
  private boolean enforceWindow = true;

  private WhatsAppSimulator(String version, String phoneNumberId, String token) {
    this.version = version;
    this.phoneNumberId = phoneNumberId;
    this.displayNumber = "15550001000";
    this.token = token;
    this.server =
        Await.result(
            vertx
                .createHttpServer(new HttpServerOptions().setHost("127.0.0.1").setPort(0))
                .requestHandler(this::handle)
                .listen());
  }

  /** Starts a simulator of the API {@code version} (e.g. v21.0) for one business number. */
  public static WhatsAppSimulator start(String version, String phoneNumberId, String token) {
    return new WhatsAppSimulator(version, phoneNumberId, token);
  }

  /** What a connector's {@code base_url} is set to. */
  public String baseUrl() {
    return "http://127.0.0.1:" + server.actualPort();
  }

  public String displayNumber() {
    return displayNumber;
  }

  private <T> T onLoop(Supplier<T> fn) {
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

  // --- control ---

  /** Where webhooks go, and the app secret they are signed with. */
  public void webhook(String url, String appSecret) {
    onLoop(
        () -> {
          this.webhookUrl = url;
          this.appSecret = appSecret;
          return null;
        });
  }

  /** Whether the 24-hour window is enforced (default true). */
  public void enforceWindow(boolean on) {
    onLoop(() -> enforceWindow = on);
  }

  /** The user {@code waId} wrote at {@code at} (opens the window without a webhook). */
  public void userWroteAt(String waId, Instant at) {
    onLoop(() -> lastInbound.put(waId, at));
  }

  /**
   * The next {@code n} calls of {@code path} ({@code messages}, {@code media}, {@code object} for
   * GETs, {@code *} any) fail with the Graph error {@code code} answered with {@code httpStatus}.
   */
  public void failNext(String path, int n, int httpStatus, int code, String message) {
    onLoop(
        () -> {
          for (int i = 0; i < n; i++) {
            failures.add(new Failure(path, httpStatus, code, message));
          }
          return null;
        });
  }

  /** The next {@code n} sends are throttled (130429, "Rate limit hit", as HTTP 400). */
  public void throttle(int n) {
    failNext("messages", n, 400, 130429, "(#130429) Rate limit hit");
  }

  public List<Sent> sent() {
    return onLoop(() -> List.copyOf(sent));
  }

  public List<Sent> sentTo(String waId) {
    return onLoop(() -> sent.stream().filter(s -> s.to().equals(waId)).toList());
  }

  public List<Media> uploads() {
    return onLoop(() -> List.copyOf(media.values()));
  }

  /** How many calls {@code path} got (messages, media, object, download). */
  public int calls(String path) {
    return onLoop(() -> calls.getOrDefault(path, 0));
  }

  public List<Delivery> deliveries() {
    return onLoop(() -> List.copyOf(deliveries));
  }

  public void clearRecords() {
    onLoop(
        () -> {
          sent.clear();
          calls.clear();
          failures.clear();
          deliveries.clear();
          return null;
        });
  }

  /** Stores a medium as if a user had sent it; its media id. */
  public String storeMedia(byte[] bytes, String mimeType, String filename) {
    return onLoop(() -> store(Buffer.buffer(bytes), mimeType, filename).id());
  }

  // --- webhooks ---

  /** The value of a {@code messages} change from {@code waId} named {@code name}. */
  public JsonObject value(String waId, String name) {
    return new JsonObject()
        .put("messaging_product", "whatsapp")
        .put(
            "metadata",
            new JsonObject()
                .put("display_phone_number", displayNumber)
                .put("phone_number_id", phoneNumberId))
        .put(
            "contacts",
            new JsonArray()
                .add(
                    new JsonObject()
                        .put("profile", new JsonObject().put("name", name))
                        .put("wa_id", waId)));
  }

  /** A full webhook body around one change value. */
  public JsonObject envelope(JsonObject value) {
    return new JsonObject()
        .put("object", "whatsapp_business_account")
        .put(
            "entry",
            new JsonArray()
                .add(
                    new JsonObject()
                        .put("id", "waba-1")
                        .put(
                            "changes",
                            new JsonArray()
                                .add(
                                    new JsonObject()
                                        .put("value", value)
                                        .put("field", "messages")))));
  }

  /** A user message object ({@code type} text / image / document …, {@code content} its part). */
  public JsonObject userMessage(String waId, String type, JsonObject content, String contextId) {
    JsonObject m =
        new JsonObject()
            .put("from", waId)
            .put("id", "wamid.IN" + ids.incrementAndGet())
            .put("timestamp", Long.toString(Instant.now().getEpochSecond()))
            .put("type", type)
            .put(type, content);
    if (contextId != null) {
      m.put("context", new JsonObject().put("from", displayNumber).put("id", contextId));
    }
    return m;
  }

  /** The webhook body of {@code message} from {@code waId}: opens the user's window. */
  public JsonObject messageWebhook(String waId, String name, JsonObject message) {
    onLoop(() -> lastInbound.put(waId, Instant.now()));
    return envelope(value(waId, name).put("messages", new JsonArray().add(message)));
  }

  /** The user writes {@code text} (quoting {@code contextId} when not null); the wamid. */
  public String userWrites(String waId, String name, String text, String contextId) {
    JsonObject m = userMessage(waId, "text", new JsonObject().put("body", text), contextId);
    post(messageWebhook(waId, name, m));
    return m.getString("id");
  }

  /** The user sends a medium ({@code type} image, document, audio, video) with a caption. */
  public String userSendsMedia(
      String waId, String type, byte[] bytes, String mime, String filename, String caption) {
    String id = storeMedia(bytes, mime, filename);
    JsonObject content = new JsonObject().put("id", id).put("mime_type", mime);
    Media stored = onLoop(() -> media.get(id));
    content.put("sha256", stored.sha256());
    if (filename != null && type.equals("document")) {
      content.put("filename", filename);
    }
    if (caption != null) {
      content.put("caption", caption);
    }
    JsonObject m = userMessage(waId, type, content, null);
    post(messageWebhook(waId, "User " + waId, m));
    return m.getString("id");
  }

  /** A status webhook body ({@code sent}, {@code delivered}, {@code read}, {@code failed}). */
  public JsonObject statusWebhook(String wamid, String to, String status, Integer errorCode) {
    JsonObject s =
        new JsonObject()
            .put("id", wamid)
            .put("status", status)
            .put("timestamp", Long.toString(Instant.now().getEpochSecond()))
            .put("recipient_id", to);
    if (errorCode != null) {
      s.put(
          "errors",
          new JsonArray()
              .add(
                  new JsonObject()
                      .put("code", errorCode)
                      .put("title", errorCode == 131047 ? "Re-engagement message" : "Failure")
                      .put("message", errorCode == 131047 ? "Re-engagement message" : "Failure")
                      .put(
                          "error_data",
                          new JsonObject()
                              .put(
                                  "details",
                                  errorCode == 131047
                                      ? "Message failed to send because more than 24 hours have"
                                          + " passed since the customer last replied to this"
                                          + " number."
                                      : "failed"))));
    }
    JsonObject value =
        new JsonObject()
            .put("messaging_product", "whatsapp")
            .put(
                "metadata",
                new JsonObject()
                    .put("display_phone_number", displayNumber)
                    .put("phone_number_id", phoneNumberId))
            .put("statuses", new JsonArray().add(s));
    return envelope(value);
  }

  /** Posts a status for a sent message; the receiver's HTTP status. */
  public int status(String wamid, String status) {
    String to =
        onLoop(() -> sent.stream().filter(x -> x.wamid().equals(wamid)).findFirst())
            .map(Sent::to)
            .orElse("0");
    return post(statusWebhook(wamid, to, status, null));
  }

  /** POSTs {@code body} to the webhook, signed; the receiver's HTTP status (-1: no answer). */
  public int post(JsonObject body) {
    Buffer raw = body.toBuffer();
    return postRaw(raw, "sha256=" + sign(appSecret, raw));
  }

  /** POSTs raw bytes with the given signature header (null: none); the receiver's status. */
  public int postRaw(Buffer raw, String signature) {
    String url = onLoop(() -> webhookUrl);
    if (url == null) {
      throw new IllegalStateException("no webhook URL set");
    }
    return Await.result(send(url, raw, signature));
  }

  private Future<Integer> send(String url, Buffer raw, String signature) {
    RequestOptions o =
        new RequestOptions().setMethod(HttpMethod.POST).setAbsoluteURI(url).setIdleTimeout(30_000);
    return client
        .request(o)
        .compose(
            req -> {
              req.putHeader("Content-Type", "application/json");
              if (signature != null) {
                req.putHeader("X-Hub-Signature-256", signature);
              }
              return req.send(raw).compose(r -> r.body().map(b -> r.statusCode()));
            })
        .recover(err -> Future.succeededFuture(-1))
        .onComplete(
            ar ->
                vertx.runOnContext(v -> deliveries.add(new Delivery(raw.toString(), ar.result()))));
  }

  /** HMAC-SHA256 hex of {@code raw} with {@code secret}, as Meta signs webhooks. */
  public static String sign(String secret, Buffer raw) {
    try {
      Mac mac = Mac.getInstance("HmacSHA256");
      mac.init(new SecretKeySpec(secret.getBytes(StandardCharsets.UTF_8), "HmacSHA256"));
      return HexFormat.of().formatHex(mac.doFinal(raw.getBytes()));
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  // --- the API ---

  private void handle(HttpServerRequest req) {
    String path = req.path();
    String prefix = "/" + version + "/";
    if (path.startsWith("/download/")) {
      count("download");
      if (!authorized(req)) {
        return;
      }
      Media m = media.get(path.substring("/download/".length()));
      if (m == null) {
        req.response().setStatusCode(404).end();
        return;
      }
      req.response().putHeader("Content-Type", m.mimeType()).end(m.bytes());
      return;
    }
    if (!path.startsWith(prefix)) {
      error(req, 400, 100, "Unknown path components: " + path);
      return;
    }
    String rest = path.substring(prefix.length());
    String name =
        rest.equals(phoneNumberId + "/messages")
            ? "messages"
            : rest.equals(phoneNumberId + "/media") ? "media" : "object";
    count(name);
    if (!authorized(req)) {
      return;
    }
    Failure f = failures.peek();
    if (f != null && (f.path().equals(name) || f.path().equals("*"))) {
      failures.poll();
      req.body().onComplete(ar -> error(req, f.httpStatus(), f.code(), f.message()));
      return;
    }
    switch (name) {
      case "messages" -> req.body().onSuccess(b -> messages(req, b));
      case "media" -> upload(req);
      default -> object(req, rest);
    }
  }

  private void count(String name) {
    calls.merge(name, 1, Integer::sum);
  }

  private boolean authorized(HttpServerRequest req) {
    if (("Bearer " + token).equals(req.getHeader("Authorization"))) {
      return true;
    }
    error(req, 401, 190, "Invalid OAuth access token - Cannot parse access token");
    return false;
  }

  private static void error(HttpServerRequest req, int status, int code, String message) {
    JsonObject e =
        new JsonObject()
            .put("message", message)
            .put("type", "OAuthException")
            .put("code", code)
            .put("error_data", new JsonObject().put("details", message))
            .put("fbtrace_id", "AsimTrace" + code);
    req.response()
        .setStatusCode(status)
        .putHeader("Content-Type", "application/json")
        .end(new JsonObject().put("error", e).encode());
  }

  private void messages(HttpServerRequest req, Buffer body) {
    JsonObject b;
    try {
      b = new JsonObject(body);
    } catch (RuntimeException e) {
      error(req, 400, 100, "Invalid JSON");
      return;
    }
    String to = b.getString("to");
    String type = b.getString("type");
    if (!"whatsapp".equals(b.getString("messaging_product")) || to == null || type == null) {
      error(req, 400, 100, "(#100) The parameter messaging_product, to or type is required.");
      return;
    }
    JsonObject part = b.getJsonObject(type);
    if (part == null) {
      error(req, 400, 100, "(#100) Param " + type + " is required");
      return;
    }
    if (type.equals("text") && part.getString("body", "").length() > 4096) {
      error(req, 400, 100, "(#100) Param text['body'] must be at most 4096 characters long.");
      return;
    }
    String mediaId = part.getString("id");
    if (mediaId != null && !type.equals("template") && !media.containsKey(mediaId)) {
      error(req, 400, 131053, "Media upload error: unknown media id " + mediaId);
      return;
    }
    String replyTo =
        b.getJsonObject("context") == null
            ? null
            : b.getJsonObject("context").getString("message_id");
    String wamid = "wamid.OUT" + ids.incrementAndGet();
    String link = part.getString("link");
    Future<Long> linked = link == null ? Future.succeededFuture(-1L) : fetch(link);
    linked.onComplete(
        ar -> {
          if (ar.failed()) {
            error(req, 400, 131053, "Media upload error: could not download " + link);
            return;
          }
          sent.add(
              new Sent(
                  wamid,
                  to,
                  type,
                  type.equals("text") ? part.getString("body") : null,
                  mediaId,
                  link,
                  part.getString("filename"),
                  part.getString("caption"),
                  replyTo,
                  type.equals("template") ? part : null,
                  ar.result(),
                  Instant.now()));
          req.response()
              .putHeader("Content-Type", "application/json")
              .end(
                  new JsonObject()
                      .put("messaging_product", "whatsapp")
                      .put(
                          "contacts",
                          new JsonArray().add(new JsonObject().put("input", to).put("wa_id", to)))
                      .put(
                          "messages",
                          new JsonArray()
                              .add(
                                  new JsonObject()
                                      .put("id", wamid)
                                      .put("message_status", "accepted")))
                      .encode());
          Instant last = lastInbound.get(to);
          boolean closed = last == null || last.isBefore(Instant.now().minusSeconds(24 * 3600));
          if (enforceWindow && closed && !type.equals("template") && webhookUrl != null) {
            // the real API accepts it and reports the failure later
            Buffer failed = statusWebhook(wamid, to, "failed", 131047).toBuffer();
            String url = webhookUrl;
            String signature = "sha256=" + sign(appSecret, failed);
            vertx.setTimer(500, t -> send(url, failed, signature));
          }
        });
  }

  private Future<Long> fetch(String link) {
    return client
        .request(
            new RequestOptions()
                .setMethod(HttpMethod.GET)
                .setAbsoluteURI(link)
                .setIdleTimeout(30_000))
        .compose(r -> r.send())
        .compose(
            r ->
                r.statusCode() == 200
                    ? r.body().map(b -> (long) b.length())
                    : Future.failedFuture("HTTP " + r.statusCode()));
  }

  private void upload(HttpServerRequest req) {
    req.setExpectMultipart(true);
    Buffer bytes = Buffer.buffer();
    String[] file = {null, null};
    req.uploadHandler(
        u -> {
          file[0] = u.filename();
          file[1] = u.contentType();
          u.handler(bytes::appendBuffer);
        });
    req.endHandler(
        v -> {
          if (!"whatsapp".equals(req.getFormAttribute("messaging_product")) || file[0] == null) {
            error(req, 400, 100, "(#100) messaging_product and file are required");
            return;
          }
          String type = req.getFormAttribute("type");
          Media m = store(bytes, type != null ? type : file[1], file[0]);
          req.response()
              .putHeader("Content-Type", "application/json")
              .end(new JsonObject().put("id", m.id()).encode());
        });
  }

  private Media store(Buffer bytes, String mime, String filename) {
    String id = Long.toString(ids.incrementAndGet() + 9_000_000_000L);
    String sha;
    try {
      sha = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes.getBytes()));
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
    Media m = new Media(id, mime, filename, bytes, sha);
    media.put(id, m);
    return m;
  }

  private void object(HttpServerRequest req, String rest) {
    if (req.method() != HttpMethod.GET) {
      error(req, 400, 100, "Unsupported request");
      return;
    }
    JsonObject answer;
    if (rest.equals(phoneNumberId)) {
      answer =
          new JsonObject()
              .put("display_phone_number", "+1 555-000-1000")
              .put("verified_name", "Chat4All Test")
              .put("id", phoneNumberId);
    } else if (media.containsKey(rest)) {
      Media m = media.get(rest);
      answer =
          new JsonObject()
              .put("messaging_product", "whatsapp")
              .put("url", baseUrl() + "/download/" + m.id())
              .put("mime_type", m.mimeType())
              .put("sha256", m.sha256())
              .put("file_size", Integer.toString(m.bytes().length()))
              .put("id", m.id());
    } else {
      error(req, 400, 100, "Unsupported get request. Object with ID '" + rest + "' does not exist");
      return;
    }
    req.response().putHeader("Content-Type", "application/json").end(answer.encode());
  }

  @Override
  public void close() {
    Await.result(vertx.close());
  }
}
