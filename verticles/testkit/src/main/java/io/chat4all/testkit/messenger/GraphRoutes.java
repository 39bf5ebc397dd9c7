package io.chat4all.testkit.messenger;

import io.vertx.core.Future;
import io.vertx.core.MultiMap;
import io.vertx.core.Promise;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonObject;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.time.Instant;
import java.util.HexFormat;
import java.util.Set;

/** The Graph API paths of {@link MessengerSimulator}, on its event loop. */
final class GraphRoutes {
  private static final long MB = 1024L * 1024;
  private static final Set<String> TYPES = Set.of("image", "audio", "video", "file");

  private final MessengerSimulator sim;

  GraphRoutes(MessengerSimulator sim) {
    this.sim = sim;
  }

  /** A call refused with a Graph error envelope. */
  static final class GraphError extends RuntimeException {
    final int status;
    final int code;
    final Integer subcode;

    GraphError(int status, int code, Integer subcode, String message) {
      super(message, null, false, false);
      this.status = status;
      this.code = code;
      this.subcode = subcode;
    }

    JsonObject body() {
      JsonObject e =
          new JsonObject()
              .put("message", getMessage())
              .put("type", "OAuthException")
              .put("code", code)
              .put("fbtrace_id", "Sim" + Long.toHexString(System.nanoTime()));
      if (subcode != null) {
        e.put("error_subcode", subcode);
      }
      return new JsonObject().put("error", e);
    }
  }

  /** What a send carries, from JSON or from multipart fields. */
  private record Upload(String filename, String mime, long size, String sha256) {}

  void handle(HttpServerRequest req) {
    if (sim.down) {
      req.connection().close();
      return;
    }
    String path = req.path();
    if (req.method() == HttpMethod.GET && path.startsWith("/media/")) {
      MessengerSimulator.Media m = sim.media.get(path.substring("/media/".length()));
      sim.mediaFetches++;
      if (m == null) {
        req.response().setStatusCode(404).end();
      } else if (sim.stallMedia > 0) {
        sim.stallMedia--;
        req.response().closeHandler(v -> sim.stalledClosed++);
        req.response()
            .putHeader("Content-Type", m.mime())
            .putHeader("Content-Length", Integer.toString(m.bytes().length()))
            .write(m.bytes().getBuffer(0, m.bytes().length() / 2));
      } else {
        req.response()
            .putHeader("Content-Type", m.mime())
            .putHeader("Content-Length", Integer.toString(m.bytes().length()))
            .end(m.bytes());
      }
      return;
    }
    String prefix = "/" + sim.version + "/";
    try {
      if (!path.startsWith(prefix)) {
        throw new GraphError(400, 2500, null, "Unknown path components: " + path);
      }
      String rest = path.substring(prefix.length());
      if (req.method() == HttpMethod.GET && rest.equals("me")) {
        authorize(req, null);
        answer(req, new JsonObject().put("id", sim.accountId).put("name", "Simulated account"));
        return;
      }
      if (req.method() == HttpMethod.POST && rest.equals(sim.accountId + "/messages")) {
        sim.calls.merge("messages", 1, Integer::sum);
        send(req);
        return;
      }
      if (req.method() == HttpMethod.POST && rest.endsWith("/messages")) {
        throw new GraphError(
            400,
            100,
            33,
            "Unsupported post request. Object with ID '" + rest.split("/")[0] + "' does not exist");
      }
      throw new GraphError(400, 2500, null, "Unknown path components: /" + rest);
    } catch (GraphError e) {
      req.resume();
      fail(req, e);
    }
  }

  private void authorize(HttpServerRequest req, MultiMap form) {
    String auth = req.getHeader("Authorization");
    String given = null;
    if (auth != null && auth.startsWith("Bearer ")) {
      given = auth.substring(7);
    } else if (req.getParam("access_token") != null) {
      given = req.getParam("access_token");
    } else if (form != null) {
      given = form.get("access_token");
    }
    if (given == null) {
      throw new GraphError(
          400, 190, null, "An active access token must be used to query information.");
    }
    if (!given.equals(sim.token)) {
      throw new GraphError(400, 190, 463, "Invalid OAuth access token - Cannot parse access token");
    }
  }

  private void send(HttpServerRequest req) {
    String type = req.getHeader("Content-Type");
    if (type != null && type.startsWith("multipart/form-data")) {
      req.setExpectMultipart(true);
      Promise<Upload> file = Promise.promise();
      boolean[] hadFile = {false};
      req.uploadHandler(
          up -> {
            MessageDigest sha = sha256();
            long[] size = {0};
            hadFile[0] = true;
            up.handler(
                b -> {
                  size[0] += b.length();
                  sha.update(b.getBytes());
                });
            up.endHandler(
                v ->
                    file.tryComplete(
                        up.name().equals("filedata")
                            ? new Upload(up.filename(), up.contentType(), size[0], hex(sha))
                            : null));
            up.exceptionHandler(file::tryFail);
          });
      req.endHandler(
          v -> {
            if (!hadFile[0]) {
              file.tryComplete(null);
            }
            file.future()
                .onComplete(
                    ar -> {
                      try {
                        MultiMap f = req.formAttributes();
                        authorize(req, f);
                        JsonObject params =
                            new JsonObject()
                                .put("recipient", json(f.get("recipient"), "recipient"))
                                .put("message", json(f.get("message"), "message"))
                                .put("messaging_type", f.get("messaging_type"))
                                .put("tag", f.get("tag"));
                        if (f.get("reply_to") != null) {
                          params.put("reply_to", json(f.get("reply_to"), "reply_to"));
                        }
                        Upload u = ar.succeeded() ? ar.result() : null;
                        if (u == null) {
                          throw new GraphError(
                              400, 100, null, "(#100) Upload attachment failure: no filedata");
                        }
                        accept(req, params, u);
                      } catch (GraphError e) {
                        fail(req, e);
                      }
                    });
          });
      return;
    }
    req.body()
        .onSuccess(
            body -> {
              try {
                authorize(req, null);
                JsonObject params;
                try {
                  params = new JsonObject(body);
                } catch (DecodeException | ClassCastException e) {
                  throw new GraphError(
                      400, 100, null, "(#100) The parameter recipient is required");
                }
                accept(req, params, null);
              } catch (GraphError e) {
                fail(req, e);
              }
            });
  }

  private static JsonObject json(String s, String name) {
    if (s == null) {
      throw new GraphError(400, 100, null, "(#100) The parameter " + name + " is required");
    }
    try {
      return new JsonObject(s);
    } catch (DecodeException e) {
      throw new GraphError(400, 100, null, "(#100) param " + name + " must be a JSON object");
    }
  }

  /** Checks a send against the account's state; the answer is sent once an URL is fetched. */
  private void accept(HttpServerRequest req, JsonObject p, Upload upload) {
    MessengerSimulator.Failure injected = sim.failures.pollFirst();
    if (injected != null) {
      throw new GraphError(
          injected.httpStatus(), injected.code(), injected.subcode(), injected.message());
    }
    JsonObject recipient = p.getValue("recipient") instanceof JsonObject r ? r : null;
    String to = recipient == null ? null : recipient.getString("id");
    if (to == null) {
      throw new GraphError(400, 100, null, "(#100) The parameter recipient is required");
    }
    if (!sim.users.containsKey(to)) {
      throw new GraphError(400, 100, 2018001, "(#100) No matching user found");
    }
    if (sim.blocked.contains(to)) {
      throw new GraphError(400, 551, 1545041, "(#551) This person isn't available right now.");
    }
    String messagingType = p.getString("messaging_type", "RESPONSE");
    String tag = p.getString("tag");
    if (messagingType.equals("MESSAGE_TAG") && !"HUMAN_AGENT".equals(tag)) {
      throw new GraphError(400, 100, 2018316, "(#100) Invalid or missing message tag");
    }
    Instant last = sim.lastInbound.get(to);
    Duration window = sim.windowFor(messagingType.equals("MESSAGE_TAG") ? tag : null);
    if (last == null || Duration.between(last, Instant.now()).compareTo(window) > 0) {
      throw new GraphError(
          400, 10, 2018278, "(#10) This message is sent outside of allowed window.");
    }
    JsonObject message = p.getValue("message") instanceof JsonObject m ? m : null;
    if (message == null) {
      throw new GraphError(400, 100, null, "(#100) The parameter message is required");
    }
    String text = message.getString("text");
    int maxText = sim.mode == MessengerSimulator.Mode.MESSENGER ? 2000 : 1000;
    if (text != null && text.length() > maxText) {
      throw new GraphError(
          400,
          100,
          null,
          "(#100) Length of param message[text] must be less than or equal to " + maxText);
    }
    JsonObject att = message.getValue("attachment") instanceof JsonObject a ? a : null;
    String replyTo = p.getValue("reply_to") instanceof JsonObject r ? r.getString("mid") : null;
    if (att == null) {
      if (text == null || text.isEmpty()) {
        throw new GraphError(400, 100, null, "(#100) Must send either message or attachment");
      }
      answerSent(
          req,
          new MessengerSimulator.Sent(
              to,
              sim.nextMid(),
              messagingType,
              tag,
              text,
              null,
              false,
              null,
              null,
              null,
              0,
              null,
              replyTo,
              Instant.now()));
      return;
    }
    String type = att.getString("type");
    if (!TYPES.contains(type)) {
      throw new GraphError(400, 100, null, "(#100) Invalid attachment type " + type);
    }
    JsonObject payload = att.getValue("payload") instanceof JsonObject pl ? pl : new JsonObject();
    if (upload != null) {
      checkSize(type, upload.size());
      answerSent(
          req,
          new MessengerSimulator.Sent(
              to,
              sim.nextMid(),
              messagingType,
              tag,
              null,
              type,
              true,
              null,
              upload.filename(),
              upload.mime(),
              upload.size(),
              upload.sha256(),
              replyTo,
              Instant.now()));
      return;
    }
    String url = payload.getString("url");
    if (url == null) {
      throw new GraphError(
          400, 100, null, "(#100) param message[attachment][payload][url] is required");
    }
    fetch(url)
        .onComplete(
            ar -> {
              try {
                if (ar.failed()) {
                  throw new GraphError(
                      400, 100, 2018008, "(#100) Failed to fetch the file from the url");
                }
                Upload u = ar.result();
                checkSize(type, u.size());
                answerSent(
                    req,
                    new MessengerSimulator.Sent(
                        to,
                        sim.nextMid(),
                        messagingType,
                        tag,
                        null,
                        type,
                        false,
                        url,
                        u.filename(),
                        u.mime(),
                        u.size(),
                        u.sha256(),
                        replyTo,
                        Instant.now()));
              } catch (GraphError e) {
                fail(req, e);
              }
            });
  }

  private void checkSize(String type, long size) {
    long max = type.equals("image") ? 8 * MB : 25 * MB;
    if (size > max) {
      throw new GraphError(400, 100, 2018047, "(#100) Attachment size exceeds allowable limit");
    }
  }

  private Future<Upload> fetch(String url) {
    return sim.client
        .request(
            new RequestOptions()
                .setMethod(HttpMethod.GET)
                .setAbsoluteURI(url)
                .setIdleTimeout(30_000))
        .compose(r -> r.send())
        .compose(
            resp -> {
              if (resp.statusCode() != 200) {
                return Future.failedFuture("HTTP " + resp.statusCode());
              }
              return resp.body()
                  .map(
                      b -> {
                        MessageDigest sha = sha256();
                        sha.update(b.getBytes());
                        String path = url.replaceAll("[?#].*", "");
                        return new Upload(
                            path.substring(path.lastIndexOf('/') + 1),
                            resp.getHeader("Content-Type"),
                            b.length(),
                            hex(sha));
                      });
            });
  }

  private void answerSent(HttpServerRequest req, MessengerSimulator.Sent s) {
    sim.sent.add(s);
    if (sim.echoes) {
      JsonObject m = new JsonObject().put("mid", s.mid()).put("is_echo", true).put("app_id", 1234);
      if (s.text() != null) {
        m.put("text", s.text());
      }
      sim.enqueue(sim.item(sim.accountId, s.recipientId(), s.at()).put("message", m));
    }
    answer(req, new JsonObject().put("recipient_id", s.recipientId()).put("message_id", s.mid()));
  }

  private static void answer(HttpServerRequest req, JsonObject body) {
    req.response().putHeader("Content-Type", "application/json").end(body.toBuffer());
  }

  private static void fail(HttpServerRequest req, GraphError e) {
    if (req.response().ended()) {
      return;
    }
    req.response()
        .setStatusCode(e.status)
        .putHeader("Content-Type", "application/json")
        .end(e.body().toBuffer());
  }

  private static MessageDigest sha256() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  private static String hex(MessageDigest d) {
    return HexFormat.of().formatHex(d.digest());
  }
}
