package io.chat4all.testkit.telegram;

import io.vertx.core.Future;
import io.vertx.core.MultiMap;
import io.vertx.core.Promise;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** The Bot API methods of {@link TelegramSimulator}, on its event loop. */
final class BotMethods {
  private static final Pattern METHOD = Pattern.compile("/bot([^/]+)/([A-Za-z]+)");
  private static final Pattern FILE = Pattern.compile("/file/bot([^/]+)/(.+)");
  private static final Pattern SECRET = Pattern.compile("[A-Za-z0-9_-]{1,256}");
  private static final long MB = 1024L * 1024;
  private static final Map<String, String> MEDIA_FIELDS =
      Map.of(
          "sendPhoto", "photo",
          "sendDocument", "document",
          "sendVideo", "video",
          "sendAudio", "audio");

  private final TelegramSimulator sim;

  BotMethods(TelegramSimulator sim) {
    this.sim = sim;
  }

  /** A getUpdates call waiting for updates. */
  record ParkedPoll(long offset, int limit, Promise<JsonArray> answer, long timer) {}

  /** Parameters of a call: text fields plus uploaded files (field → upload). */
  private record Params(JsonObject fields, Map<String, Upload> uploads) {}

  private record Upload(String filename, long size, String sha256) {}

  /** A reply to send: HTTP status and body. */
  private record Answer(int status, String contentType, Buffer body) {
    static Answer ok(Object result) {
      return new Answer(
          200,
          "application/json",
          new JsonObject().put("ok", true).put("result", result).toBuffer());
    }

    static Answer error(int code, String description, Integer retryAfter) {
      JsonObject body =
          new JsonObject().put("ok", false).put("error_code", code).put("description", description);
      if (retryAfter != null) {
        body.put("parameters", new JsonObject().put("retry_after", retryAfter));
      }
      return new Answer(code, "application/json", body.toBuffer());
    }
  }

  /** A call refused with a Bot API error. */
  private static final class Refused extends RuntimeException {
    final Answer answer;

    Refused(int code, String description) {
      super(description, null, false, false);
      this.answer = Answer.error(code, description, null);
    }
  }

  void handle(HttpServerRequest req) {
    if (sim.down) {
      Matcher hit = METHOD.matcher(req.path());
      sim.callLog.add(
          new TelegramSimulator.Call(
              "down:" + (hit.matches() ? hit.group(2) : req.path()), Instant.now()));
      req.connection().close();
      return;
    }
    Matcher file = FILE.matcher(req.path());
    if (file.matches()) {
      download(req, file.group(1), file.group(2));
      return;
    }
    Matcher m = METHOD.matcher(req.path());
    if (!m.matches()) {
      reply(req, Answer.error(404, "Not Found", null));
      return;
    }
    if (!sim.token.equals(m.group(1))) {
      req.resume();
      reply(req, Answer.error(401, "Unauthorized", null));
      return;
    }
    String method = m.group(2);
    params(req)
        .compose(p -> sim.delay().map(p))
        .compose(p -> call(method, p))
        .onComplete(
            ar -> {
              if (ar.succeeded()) {
                reply(req, ar.result());
              } else if (ar.cause() instanceof Refused r) {
                reply(req, r.answer);
              } else {
                reply(req, Answer.error(400, "Bad Request: " + ar.cause().getMessage(), null));
              }
            });
  }

  private static void reply(HttpServerRequest req, Answer a) {
    if (req.response().ended() || req.response().closed()) {
      return;
    }
    req.response()
        .setStatusCode(a.status())
        .putHeader("Content-Type", a.contentType())
        .end(a.body());
  }

  private Future<Params> params(HttpServerRequest req) {
    String type = String.valueOf(req.getHeader("Content-Type")).toLowerCase();
    if (req.method() == HttpMethod.GET) {
      return Future.succeededFuture(new Params(fields(req.params()), Map.of()));
    }
    if (type.startsWith("application/json")) {
      return req.body()
          .map(b -> new Params(b.length() == 0 ? new JsonObject() : new JsonObject(b), Map.of()));
    }
    if (type.startsWith("multipart/form-data")
        || type.startsWith("application/x-www-form-urlencoded")) {
      String length = req.getHeader("Content-Length");
      if (length != null && Long.parseLong(length) > 50 * MB + 64 * 1024) {
        req.connection().close();
        return Future.failedFuture(new Refused(413, "Request Entity Too Large"));
      }
      req.setExpectMultipart(true);
      Map<String, Upload> uploads = new HashMap<>();
      req.uploadHandler(
          up -> {
            MessageDigest digest = sha256();
            long[] size = {0};
            up.handler(
                b -> {
                  digest.update(b.getBytes());
                  size[0] += b.length();
                });
            up.endHandler(
                v ->
                    uploads.put(
                        up.name(),
                        new Upload(
                            up.filename(),
                            size[0],
                            java.util.HexFormat.of().formatHex(digest.digest()))));
          });
      return req.end().map(v -> new Params(fields(req.formAttributes()), uploads));
    }
    return req.body().map(b -> new Params(fields(req.params()), Map.of()));
  }

  private static JsonObject fields(MultiMap map) {
    JsonObject o = new JsonObject();
    map.forEach(e -> o.put(e.getKey(), e.getValue()));
    return o;
  }

  private static MessageDigest sha256() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  private Future<Answer> call(String method, Params p) {
    sim.calls.merge(method, 1, Integer::sum);
    sim.callLog.add(new TelegramSimulator.Call(method, Instant.now()));
    for (Iterator<TelegramSimulator.Failure> it = sim.failures.iterator(); it.hasNext(); ) {
      TelegramSimulator.Failure f = it.next();
      if (f.method().equals("*") || f.method().equals(method)) {
        it.remove();
        return Future.succeededFuture(
            f.html()
                ? new Answer(
                    f.errorCode(), "text/html", Buffer.buffer("<html><h1>Bad Gateway</h1></html>"))
                : Answer.error(f.errorCode(), f.description(), f.retryAfter()));
      }
    }
    try {
      return switch (method) {
        case "getMe" ->
            Future.succeededFuture(
                Answer.ok(
                    new JsonObject()
                        .put("id", 1)
                        .put("is_bot", true)
                        .put("first_name", "Simulated bot")
                        .put("username", "chat4all_sim_bot")));
        case "sendMessage" -> Future.succeededFuture(sendMessage(p.fields()));
        case "sendPhoto", "sendDocument", "sendVideo", "sendAudio" -> sendMedia(method, p);
        case "getUpdates" -> getUpdates(p.fields());
        case "setWebhook" -> Future.succeededFuture(setWebhook(p.fields()));
        case "deleteWebhook" -> {
          sim.webhookUrl = null;
          sim.webhookSecret = null;
          if (bool(p.fields().getValue("drop_pending_updates"))) {
            sim.updates.clear();
          }
          yield Future.succeededFuture(Answer.ok(true));
        }
        case "getWebhookInfo" ->
            Future.succeededFuture(
                Answer.ok(
                    new JsonObject()
                        .put("url", sim.webhookUrl == null ? "" : sim.webhookUrl)
                        .put("has_custom_certificate", false)
                        .put("pending_update_count", sim.updates.size())));
        case "getFile" -> Future.succeededFuture(getFile(p.fields()));
        default -> Future.succeededFuture(Answer.error(404, "Not Found: method not found", null));
      };
    } catch (Refused r) {
      return Future.succeededFuture(r.answer);
    }
  }

  private static boolean bool(Object v) {
    return Boolean.TRUE.equals(v) || "true".equals(v);
  }

  // --- sending ---

  private JsonObject chat(JsonObject params) {
    Object raw = params.getValue("chat_id");
    long id;
    try {
      id = raw instanceof Number n ? n.longValue() : Long.parseLong(String.valueOf(raw));
    } catch (NumberFormatException e) {
      throw new Refused(
          400, raw == null ? "Bad Request: chat_id is empty" : "Bad Request: chat not found");
    }
    if (sim.blocked.contains(id)) {
      throw new Refused(403, "Forbidden: bot was blocked by the user");
    }
    JsonObject chat = sim.chats.get(id);
    if (chat == null) {
      if (!sim.acceptAnyChat) {
        throw new Refused(400, "Bad Request: chat not found");
      }
      chat = new JsonObject().put("id", id).put("type", "private").put("first_name", "User " + id);
      sim.chats.put(id, chat);
    }
    return chat;
  }

  /** The message id a reply quotes (reply_parameters, or the older reply_to_message_id). */
  private Long replyTo(long chatId, JsonObject params) {
    Object rp = params.getValue("reply_parameters");
    JsonObject reply = null;
    if (rp instanceof JsonObject o) {
      reply = o;
    } else if (rp instanceof String s && !s.isBlank()) {
      try {
        reply = new JsonObject(s);
      } catch (RuntimeException e) {
        throw new Refused(400, "Bad Request: can't parse reply parameters JSON object");
      }
    } else if (params.getValue("reply_to_message_id") != null) {
      reply =
          new JsonObject()
              .put(
                  "message_id",
                  Long.parseLong(String.valueOf(params.getValue("reply_to_message_id"))))
              .put("allow_sending_without_reply", params.getValue("allow_sending_without_reply"));
    }
    if (reply == null) {
      return null;
    }
    long id = ((Number) reply.getValue("message_id", 0)).longValue();
    if (!sim.messages.getOrDefault(chatId, Map.of()).containsKey(id)
        && !bool(reply.getValue("allow_sending_without_reply"))) {
      throw new Refused(400, "Bad Request: message to be replied not found");
    }
    return id;
  }

  private JsonObject newMessage(JsonObject chat, Long replyTo) {
    long chatId = chat.getLong("id");
    long id = sim.nextMessageId(chatId);
    JsonObject m =
        new JsonObject()
            .put("message_id", id)
            .put(
                "from",
                new JsonObject()
                    .put("id", 1)
                    .put("is_bot", true)
                    .put("first_name", "Simulated bot")
                    .put("username", "chat4all_sim_bot"))
            .put("chat", chat.copy())
            .put("date", Instant.now().getEpochSecond());
    if (replyTo != null) {
      JsonObject quoted = sim.messages.getOrDefault(chatId, Map.of()).get(replyTo);
      if (quoted != null) {
        m.put("reply_to_message", quoted.copy());
      }
    }
    return m;
  }

  private Answer sendMessage(JsonObject params) {
    JsonObject chat = chat(params);
    long chatId = chat.getLong("id");
    String text = params.getValue("text") == null ? null : String.valueOf(params.getValue("text"));
    if (text == null || text.isEmpty()) {
      throw new Refused(400, "Bad Request: message text is empty");
    }
    if (text.length() > 4096) {
      throw new Refused(400, "Bad Request: message is too long");
    }
    Long replyTo = replyTo(chatId, params);
    JsonObject m = newMessage(chat, replyTo).put("text", text);
    sim.messages.computeIfAbsent(chatId, k -> new HashMap<>()).put(m.getLong("message_id"), m);
    sim.sent.add(
        new TelegramSimulator.Sent(
            "sendMessage",
            chatId,
            m.getLong("message_id"),
            text,
            null,
            0,
            null,
            false,
            replyTo,
            Instant.now()));
    return Answer.ok(m);
  }

  private Future<Answer> sendMedia(String method, Params p) {
    JsonObject params = p.fields();
    JsonObject chat = chat(params);
    long chatId = chat.getLong("id");
    String field = MEDIA_FIELDS.get(method);
    String caption = params.getString("caption");
    if (caption != null && caption.length() > 1024) {
      throw new Refused(400, "Bad Request: message caption is too long");
    }
    Long replyTo = replyTo(chatId, params);
    boolean photo = field.equals("photo");
    Upload upload = p.uploads().get(field);
    Future<Upload> file;
    boolean byUrl = false;
    if (upload != null) {
      if (upload.size() > (photo ? 10 : 50) * MB) {
        throw new Refused(
            photo ? 400 : 413, photo ? "Bad Request: file is too big" : "Request Entity Too Large");
      }
      file = Future.succeededFuture(upload);
    } else {
      Object ref = params.getValue(field);
      if (!(ref instanceof String s) || s.isBlank()) {
        throw new Refused(400, "Bad Request: there is no " + field + " in the request");
      }
      if (s.startsWith("http://") || s.startsWith("https://")) {
        byUrl = true;
        file = fetch(s, (photo ? 5 : 20) * MB);
      } else {
        TelegramSimulator.StoredFile known = sim.files.get(s);
        if (known == null) {
          throw new Refused(400, "Bad Request: wrong file identifier/HTTP URL specified");
        }
        file = Future.succeededFuture(new Upload(known.path(), known.announcedSize(), null));
      }
    }
    boolean viaUrl = byUrl;
    return file.map(
        f -> {
          JsonObject m = newMessage(chat, replyTo);
          String fileId = "sent-" + (sim.nextFileId++);
          JsonObject info =
              new JsonObject()
                  .put("file_id", fileId)
                  .put("file_unique_id", "u" + fileId)
                  .put("file_size", f.size());
          if (photo) {
            m.put("photo", new JsonArray().add(info));
          } else {
            m.put(field, info.put("file_name", f.filename()));
          }
          if (caption != null) {
            m.put("caption", caption);
          }
          sim.messages
              .computeIfAbsent(chatId, k -> new HashMap<>())
              .put(m.getLong("message_id"), m);
          sim.sent.add(
              new TelegramSimulator.Sent(
                  method,
                  chatId,
                  m.getLong("message_id"),
                  caption,
                  f.filename(),
                  f.size(),
                  f.sha256(),
                  viaUrl,
                  replyTo,
                  Instant.now()));
          return Answer.ok(m);
        });
  }

  /** Telegram downloads a file given by URL itself. */
  private Future<Upload> fetch(String url, long max) {
    return sim.client()
        .request(
            new RequestOptions()
                .setMethod(HttpMethod.GET)
                .setAbsoluteURI(url)
                .setIdleTimeout(30_000))
        .compose(req -> req.send())
        .compose(
            resp -> {
              if (resp.statusCode() != 200) {
                resp.resume();
                return Future.failedFuture(
                    new Refused(400, "Bad Request: failed to get HTTP URL content"));
              }
              MessageDigest digest = sha256();
              long[] size = {0};
              Promise<Upload> done = Promise.promise();
              resp.handler(
                  b -> {
                    size[0] += b.length();
                    if (size[0] > max) {
                      resp.request().reset();
                      done.tryFail(new Refused(400, "Bad Request: failed to get HTTP URL content"));
                      return;
                    }
                    digest.update(b.getBytes());
                  });
              resp.exceptionHandler(
                  e ->
                      done.tryFail(
                          new Refused(400, "Bad Request: failed to get HTTP URL content")));
              resp.endHandler(
                  v -> {
                    String path = url.replaceAll("\\?.*$", "");
                    done.tryComplete(
                        new Upload(
                            path.substring(path.lastIndexOf('/') + 1),
                            size[0],
                            java.util.HexFormat.of().formatHex(digest.digest())));
                  });
              return done.future();
            })
        .recover(
            e ->
                Future.failedFuture(
                    e instanceof Refused
                        ? e
                        : new Refused(400, "Bad Request: failed to get HTTP URL content")));
  }

  // --- inbound ---

  private Future<Answer> getUpdates(JsonObject params) {
    if (sim.webhookUrl != null) {
      return Future.succeededFuture(
          Answer.error(
              409,
              "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook"
                  + " to delete the webhook first",
              null));
    }
    long offset = number(params.getValue("offset"), 0);
    int limit = (int) Math.max(1, Math.min(100, number(params.getValue("limit"), 100)));
    long timeout = Math.max(0, number(params.getValue("timeout"), 0));
    if (offset > 0) {
      sim.updates.removeIf(u -> u.getLong("update_id") < offset);
    }
    JsonArray now = available(offset, limit);
    if (!now.isEmpty() || timeout == 0) {
      return Future.succeededFuture(Answer.ok(now));
    }
    for (ParkedPoll older : List.copyOf(sim.parked)) {
      sim.parked.remove(older);
      sim.vertx.cancelTimer(older.timer());
      older
          .answer()
          .tryFail(
              new Refused(
                  409,
                  "Conflict: terminated by other getUpdates request; make sure that only one bot"
                      + " instance is running"));
    }
    Promise<JsonArray> answer = Promise.promise();
    long[] timer = new long[1];
    ParkedPoll parked = new ParkedPoll(offset, limit, answer, 0);
    timer[0] =
        sim.vertx.setTimer(
            timeout * 1000,
            t -> {
              sim.parked.removeIf(x -> x.answer() == answer);
              answer.tryComplete(new JsonArray());
            });
    sim.parked.add(new ParkedPoll(parked.offset(), limit, answer, timer[0]));
    return answer.future().map(Answer::ok);
  }

  private JsonArray available(long offset, int limit) {
    JsonArray out = new JsonArray();
    for (JsonObject u : sim.updates) {
      if (u.getLong("update_id") >= offset && out.size() < limit) {
        out.add(u.copy());
      }
    }
    return out;
  }

  /** New updates answer the waiting getUpdates call. */
  void wakePolls() {
    for (ParkedPoll p : List.copyOf(sim.parked)) {
      JsonArray now = available(p.offset(), p.limit());
      if (!now.isEmpty()) {
        sim.parked.remove(p);
        sim.vertx.cancelTimer(p.timer());
        p.answer().tryComplete(now);
      }
    }
  }

  private static long number(Object v, long def) {
    if (v instanceof Number n) {
      return n.longValue();
    }
    try {
      return v == null ? def : Long.parseLong(String.valueOf(v));
    } catch (NumberFormatException e) {
      return def;
    }
  }

  private Answer setWebhook(JsonObject params) {
    String url = params.getString("url", "");
    String secret = params.getString("secret_token");
    if (secret != null && !SECRET.matcher(secret).matches()) {
      throw new Refused(400, "Bad Request: secret token contains unallowed characters");
    }
    if (url.isEmpty()) {
      sim.webhookUrl = null;
      sim.webhookSecret = null;
    } else {
      sim.webhookUrl = url;
      sim.webhookSecret = secret;
      sim.vertx.runOnContext(v -> sim.pushWebhook());
    }
    return Answer.ok(true);
  }

  private Answer getFile(JsonObject params) {
    TelegramSimulator.StoredFile f = sim.files.get(params.getString("file_id"));
    if (f == null) {
      throw new Refused(400, "Bad Request: invalid file_id");
    }
    if (f.announcedSize() > 20 * MB) {
      throw new Refused(400, "Bad Request: file is too big");
    }
    return Answer.ok(
        new JsonObject()
            .put("file_id", f.fileId())
            .put("file_unique_id", "u" + f.fileId())
            .put("file_size", f.announcedSize())
            .put("file_path", f.path()));
  }

  private void download(HttpServerRequest req, String token, String path) {
    if (!sim.token.equals(token)) {
      reply(req, Answer.error(401, "Unauthorized", null));
      return;
    }
    for (TelegramSimulator.StoredFile f : sim.files.values()) {
      if (f.path().equals(path)) {
        req.response().putHeader("Content-Type", "application/octet-stream").end(f.bytes());
        return;
      }
    }
    reply(req, Answer.error(404, "Not Found", null));
  }
}
