package io.chat4all.node.fuzz;

import static org.assertj.core.api.Assertions.assertThat;

import io.chat4all.node.api.Api;
import io.chat4all.testkit.Await;
import io.chat4all.testkit.BackendsExtension;
import io.chat4all.testkit.TestBackends;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A seeded, bounded fuzzer over the REST API, generated from the node's own OpenAPI document:
 * schema-shaped bodies with one hostile change, malformed and hostile JSON, bad ids, cursors and
 * limits, bad Content-Type and Authorization headers, oversize and deeply nested bodies. Every
 * answer must be below 500 and, when an error, the error model's JSON body without a stack trace or
 * class name; every send answered 2xx must be stored and numbered afterwards; the node stays ready.
 * All the while a {@link SlowMob} holds 240 slow and half-open connections on the same port
 * (stalled heads and bodies, half-closed requests, silent connections), each stalled one cut off by
 * the node's timeouts and opened again. WebSocket frames and gRPC messages are fuzzed by {@link
 * StreamFuzzTest}.
 *
 * <p>{@code -Dchat4all.fuzz.seed=N} replays a run; {@code -Dchat4all.fuzz.rest_cases=N} sizes it.
 */
@ExtendWith(BackendsExtension.class)
class ApiFuzzTest {
  static final long SEED = Long.getLong("chat4all.fuzz.seed", 20261202L);
  static final int CASES = Integer.getInteger("chat4all.fuzz.rest_cases", 3600);
  static final Pattern LEAK =
      Pattern.compile(
          "Exception|\\bat [a-z]+\\.[a-z]|java\\.|javax\\.|io\\.vertx|io\\.netty|io\\.chat4all|"
              + "org\\.postgresql|com\\.mongodb|SQLSTATE|stack");

  /** Slow and half-open connections of each kind held open while the cases run. */
  static final int MOB_PER_KIND = 60;

  /** The node's header and body timeouts here; a stalled connection is cut off after them. */
  static final int MOB_TIMEOUT_S = 3;

  static final Pattern CODE = Pattern.compile("[a-z][a-z0-9_]{1,60}");

  static Api api;
  static Api.User a;
  static Api.User b;
  static Api.User outsider;

  /** Whose tokens logout and refresh cases present (they revoke what they are given). */
  static Api.User disposable;

  static Map<String, List<String>> ids = new LinkedHashMap<>();
  static JsonObject doc;
  static final HttpClient http =
      HttpClient.newBuilder()
          .version(HttpClient.Version.HTTP_1_1)
          .connectTimeout(Duration.ofSeconds(5))
          .build();

  @BeforeAll
  static void start(TestBackends.Isolation iso) {
    api =
        Api.start(
            iso,
            FuzzNode.overrides("fuzzadmin")
                .put(
                    "http",
                    new JsonObject()
                        .put("request_header_timeout_seconds", MOB_TIMEOUT_S)
                        .put("request_body_timeout_seconds", MOB_TIMEOUT_S)));
    a = api.namedUser("fuzzadmin");
    b = api.newUser("fuzzb");
    outsider = api.newUser("fuzzc");
    disposable = api.newUser("fuzzx");
    String priv = api.privateChat(a, b);
    String group =
        api.post(
                "/v1/conversations",
                a.accessToken(),
                new JsonObject()
                    .put("type", "group")
                    .put("name", "fuzz group")
                    .put("member_ids", new JsonArray().add(b.id())))
            .expect(201)
            .json()
            .getString("conversation_id");
    String msg = UUID.randomUUID().toString();
    api.post("/v1/messages", a.accessToken(), Api.textMessage(priv, msg, "hello")).expect(202);
    String file =
        api.post(
                "/v1/files",
                a.accessToken(),
                new JsonObject()
                    .put("filename", "f.txt")
                    .put("size_bytes", 10)
                    .put("mime_type", "text/plain")
                    .put("conversation_id", priv))
            .expect(201)
            .json()
            .getString("file_id");
    ids.put("conversation_id", List.of(priv, group));
    ids.put("message_id", List.of(msg));
    ids.put("reply_to_message_id", List.of(msg));
    ids.put("user_id", List.of(a.id(), b.id(), outsider.id()));
    ids.put("member_id", List.of(a.id(), b.id(), outsider.id()));
    ids.put("file_id", List.of(file));
    ids.put("channel", List.of("telegram", "whatsapp", "test"));
    ids.put("channel_type", List.of("telegram", "whatsapp"));
    ids.put("chunk_number", List.of("1", "2", "0", "10001"));
    doc = api.get("/v1/openapi.json", null).expect(200).json();
  }

  @AfterAll
  static void stop() {
    if (api != null) {
      api.close();
    }
  }

  record Op(String method, String path, JsonObject op) {}

  record Case(
      String method, String path, Map<String, String> headers, byte[] body, boolean isSend) {
    String describe() {
      String text = body == null ? "" : new String(body, StandardCharsets.UTF_8);
      return method
          + " "
          + (path.length() > 200 ? path.substring(0, 200) + "…" : path)
          + " "
          + headers
          + " body="
          + (text.length() > 300 ? text.substring(0, 300) + "…" : text);
    }
  }

  static List<Op> operations() {
    List<Op> ops = new ArrayList<>();
    Set<String> methods = Set.of("get", "post", "put", "patch", "delete");
    JsonObject paths = doc.getJsonObject("paths");
    for (String p : paths.fieldNames()) {
      for (String m : paths.getJsonObject(p).fieldNames()) {
        // the WebSocket upgrade is fuzzed frame by frame elsewhere
        // leaving and removing members would take the fixture users out of the conversations the
        // fuzzer sends into, so no one could read the sends back (the authorization matrix covers
        // those routes)
        boolean membership = p.endsWith("/leave") || p.contains("/members/");
        if (methods.contains(m) && !p.equals("/v1/ws") && !membership) {
          ops.add(new Op(m.toUpperCase(), p, paths.getJsonObject(p).getJsonObject(m)));
        }
      }
    }
    return ops;
  }

  /** One generated request for {@code op}. */
  static Case generate(Random r, Schemas schemas, Op op) {
    String path = op.path();
    Map<String, String> headers = new LinkedHashMap<>();
    StringBuilder query = new StringBuilder();
    for (Object o : op.op().getJsonArray("parameters", new JsonArray())) {
      JsonObject p = schemas.resolve((JsonObject) o);
      String name = p.getString("name");
      String in = p.getString("in");
      boolean hostile = r.nextInt(3) == 0;
      if ("path".equals(in)) {
        String v =
            hostile
                ? Nasty.pick(r, Nasty.SEGMENTS)
                : String.valueOf(
                    schemas.valid(r, p.getJsonObject("schema", new JsonObject()), name, 0));
        List<String> known = ids.get(name);
        if (!hostile && known != null) {
          v = known.get(r.nextInt(known.size()));
        }
        path = path.replace("{" + name + "}", v.isEmpty() && !hostile ? "x" : v);
      } else if ("query".equals(in) && (hostile || r.nextBoolean())) {
        String v =
            hostile
                ? Nasty.pick(r, Nasty.QUERY)
                : java.net.URLEncoder.encode(
                    String.valueOf(
                        schemas.valid(r, p.getJsonObject("schema", new JsonObject()), name, 0)),
                    StandardCharsets.UTF_8);
        query.append(query.length() == 0 ? "?" : "&").append(name).append('=').append(v);
      } else if ("header".equals(in)) {
        headers.put(name, hostile ? "zz" : "0".repeat(64));
      }
    }
    if (r.nextInt(10) == 0) {
      query.append(query.length() == 0 ? "?" : "&").append("unknown%00=1&limit=-5&limit=7");
    }
    byte[] body = null;
    JsonObject content =
        op.op().getJsonObject("requestBody", new JsonObject()).getJsonObject("content");
    if (content != null && content.containsKey("application/json")) {
      headers.put("Content-Type", "application/json");
      JsonObject schema =
          content.getJsonObject("application/json").getJsonObject("schema", new JsonObject());
      int kind = r.nextInt(10);
      if (kind < 5) {
        Object v = schemas.valid(r, schema, null, 0);
        body = Json.encode(kind < 2 ? v : schemas.mutate(r, v)).getBytes(StandardCharsets.UTF_8);
      } else if (kind < 7) {
        body = Nasty.pick(r, Nasty.RAW_BODIES).getBytes(StandardCharsets.UTF_8);
      } else if (kind == 7) {
        body = Nasty.deep(200 + r.nextInt(5000), r.nextBoolean()).getBytes(StandardCharsets.UTF_8);
      } else if (kind == 8) {
        // invalid UTF-8 inside a string
        byte[] head = "{\"text\":\"".getBytes(StandardCharsets.UTF_8);
        byte[] bad = {(byte) 0xC3, (byte) 0x28, (byte) 0xFF, (byte) 0xED, (byte) 0xA0, (byte) 0x80};
        byte[] tail = "\"}".getBytes(StandardCharsets.UTF_8);
        body = new byte[head.length + bad.length + tail.length];
        System.arraycopy(head, 0, body, 0, head.length);
        System.arraycopy(bad, 0, body, head.length, bad.length);
        System.arraycopy(tail, 0, body, head.length + bad.length, tail.length);
      } else {
        // oversize: larger than http.max_body_bytes
        body = ("{\"text\":\"" + "x".repeat(1_100_000) + "\"}").getBytes(StandardCharsets.UTF_8);
      }
    } else if (content != null) {
      headers.put(
          "Content-Type",
          content.fieldNames().iterator().next().replace("*/*", "application/octet-stream"));
      byte[] raw = new byte[r.nextInt(4096)];
      r.nextBytes(raw);
      body = raw;
    } else if (r.nextInt(6) == 0) {
      body = Nasty.pick(r, Nasty.RAW_BODIES).getBytes(StandardCharsets.UTF_8);
    }
    if (body != null && r.nextInt(8) == 0) {
      headers.put(
          "Content-Type",
          Nasty.pick(
              r,
              List.of(
                  "text/plain",
                  "application/x-www-form-urlencoded",
                  "application/json; charset=latin1",
                  "application/json;;;",
                  "multipart/form-data; boundary=x",
                  "\u00e9/\u00e9",
                  "")));
    }
    boolean revokes = op.path().startsWith("/v1/auth/");
    headers.put(
        "Authorization",
        revokes
            ? FuzzNode.authorization(r, disposable, disposable, disposable)
            : FuzzNode.authorization(r, a, b, outsider));
    if (headers.get("Authorization") == null) {
      headers.remove("Authorization");
    }
    boolean isSend = op.method().equals("POST") && op.path().equals("/v1/messages");
    if (isSend && r.nextInt(3) == 0) {
      // a well-formed send with text that is hostile but storable: must be accepted and stored
      List<String> convs = ids.get("conversation_id");
      String text =
          Nasty.pick(
              r,
              List.of("💥 ok", "<script>x</script>", "' OR 1=1 --", "\u202e rtl", "a\\b", "${x}"));
      body =
          Api.textMessage(
                  convs.get(r.nextInt(convs.size())),
                  UUID.randomUUID().toString(),
                  text + " " + r.nextInt())
              .encode()
              .getBytes(StandardCharsets.UTF_8);
      headers.put("Content-Type", "application/json");
      headers.put("Authorization", "Bearer " + (r.nextBoolean() ? a : b).accessToken());
    }
    return new Case(op.method(), path + query, headers, body, isSend);
  }

  @Test
  void everyAnswerIsA4xxOfTheErrorModelOrASuccessAndAcceptedSendsAreStored() throws Exception {
    Random r = new Random(SEED);
    Schemas schemas = new Schemas(doc, ids);
    List<Op> ops = operations();
    assertThat(ops.size()).as("operations in the OpenAPI document").isGreaterThan(40);
    List<Case> cases = new ArrayList<>();
    for (int i = 0; i < CASES; i++) {
      // sends are the most important door: a quarter of all cases
      Op op =
          r.nextInt(4) == 0
              ? ops.stream()
                  .filter(o -> o.method().equals("POST") && o.path().equals("/v1/messages"))
                  .findFirst()
                  .orElseThrow()
              : ops.get(r.nextInt(ops.size()));
      cases.add(generate(r, schemas, op));
    }
    List<String> violations = new CopyOnWriteArrayList<>();
    Map<String, String> accepted = new ConcurrentHashMap<>();
    Map<Integer, AtomicInteger> statuses = new ConcurrentHashMap<>();
    ExecutorService pool = Executors.newFixedThreadPool(4);
    // generous slack: the machine is shared and loaded; what matters is "cut off", not when
    SlowMob mob =
        new SlowMob(
                api.node().httpPort(),
                a.accessToken(),
                MOB_PER_KIND,
                Duration.ofSeconds(MOB_TIMEOUT_S + 20))
            .start();
    List<String> mobViolations;
    try {
      List<Future<?>> running = new ArrayList<>();
      for (Case c : cases) {
        running.add(pool.submit(() -> run(c, violations, accepted, statuses)));
      }
      for (Future<?> f : running) {
        f.get();
      }
    } finally {
      pool.shutdownNow();
      mobViolations = mob.stop();
    }
    assertThat(mobViolations).as("slow and half-open connections held during the run").isEmpty();
    for (SlowMob.Kind k : List.of(SlowMob.Kind.STALLED_HEAD, SlowMob.Kind.STALLED_BODY)) {
      assertThat(mob.cut(k))
          .as("%s connections the server cut off (of %d opened)", k, mob.opened(k))
          .isGreaterThanOrEqualTo(MOB_PER_KIND);
    }
    assertThat(mob.cut(SlowMob.Kind.HALF_CLOSED)).isGreaterThanOrEqualTo(MOB_PER_KIND);
    assertThat(violations)
        .as("seed %d: %d cases, statuses %s", SEED, cases.size(), statuses)
        .isEmpty();
    assertThat(statuses.keySet()).as("the fuzzer reached past validation").contains(200, 202, 400);
    assertThat(accepted).as("sends accepted").isNotEmpty();

    // every send answered 2xx is stored and numbered (one minute for all of them); a message is
    // read with any fixture user's token that still sees it (the fuzzed calls may have removed
    // its sender from a group)
    List<String> lost = new ArrayList<>();
    long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
    List<String> tokens = List.of(a.accessToken(), b.accessToken(), outsider.accessToken());
    for (Map.Entry<String, String> e : accepted.entrySet()) {
      Api.Res got =
          Await.value(
              Duration.ofNanos(Math.max(0, deadline - System.nanoTime())),
              () -> stored(e.getKey(), tokens));
      if (got == null) {
        String token = e.getValue().substring(0, e.getValue().indexOf(' '));
        lost.add(
            e.getKey()
                + " sent as "
                + e.getValue().substring(token.length() + 1)
                + " → "
                + api.get("/v1/messages/" + e.getKey(), token).raw());
      }
    }
    assertThat(lost)
        .as("accepted sends not stored (seed %d) of %d", SEED, accepted.size())
        .isEmpty();
    FuzzNode.assertReady(api);
  }

  /** The message as the first of {@code tokens} that may see it reads it, once it is numbered. */
  static Api.Res stored(String messageId, List<String> tokens) {
    for (String t : tokens) {
      Api.Res got = api.get("/v1/messages/" + messageId, t);
      if (got.status() == 200 && got.json().getLong("sequence_number", 0L) > 0) {
        return got;
      }
    }
    return null;
  }

  static void run(
      Case c,
      List<String> violations,
      Map<String, String> accepted,
      Map<Integer, AtomicInteger> statuses) {
    HttpRequest.Builder b;
    try {
      b = HttpRequest.newBuilder(URI.create(api.base() + c.path())).timeout(Duration.ofSeconds(60));
    } catch (IllegalArgumentException unrepresentable) {
      return; // the client library itself refuses the URI: nothing reaches the node
    }
    for (Map.Entry<String, String> h : c.headers().entrySet()) {
      try {
        b.header(h.getKey(), h.getValue());
      } catch (IllegalArgumentException refusedByClient) {
        // a header value the client library will not send
      }
    }
    b.method(
        c.method(),
        c.body() == null
            ? HttpRequest.BodyPublishers.noBody()
            : HttpRequest.BodyPublishers.ofByteArray(c.body()));
    HttpResponse<String> res;
    try {
      res = http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    } catch (java.io.IOException e) {
      // the node may close a connection on a request it refuses outright (413 before the body):
      // accepted only when the node still answers right after
      Api.Res probe = api.get("/health/live", null);
      if (probe.status() != 200) {
        violations.add("connection failed and node not live: " + c.describe() + " " + e);
      }
      return;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return;
    }
    int status = res.statusCode();
    statuses.computeIfAbsent(status, k -> new AtomicInteger()).incrementAndGet();
    String text = res.body() == null ? "" : res.body();
    // a provider webhook (or a link verification code) for a known channel whose connector is not
    // deployed: 503 on purpose, so that the provider or the user retries until one is
    // (docs/channels.md)
    boolean noConnector =
        status == 503
            && (c.path().startsWith("/webhooks/") || c.path().contains("/verification"))
            && text.contains("\"unavailable\"");
    if (status >= 500 && !noConnector) {
      violations.add(status + " " + c.describe() + " → " + text);
      return;
    }
    if (LEAK.matcher(text).find() && !(status < 300 && c.method().equals("GET"))) {
      violations.add("leak " + status + " " + c.describe() + " → " + text);
      return;
    }
    if (status >= 400) {
      try {
        JsonObject err = new JsonObject(text).getJsonObject("error");
        if (err == null
            || !CODE.matcher(String.valueOf(err.getString("code"))).matches()
            || err.getString("message") == null
            || err.getString("message").isBlank()) {
          violations.add("not the error model " + status + " " + c.describe() + " → " + text);
        }
      } catch (RuntimeException notJson) {
        violations.add("non-JSON error " + status + " " + c.describe() + " → " + text);
      }
    }
    if (c.isSend() && status >= 200 && status < 300) {
      String token = c.headers().get("Authorization").substring("Bearer ".length());
      String id =
          new JsonObject(text).getJsonObject("message", new JsonObject()).getString("message_id");
      if (id == null) {
        id = new JsonObject(text).getString("message_id");
      }
      if (id == null) {
        violations.add("accepted send without message_id: " + text);
      } else {
        accepted.put(id, token + " " + c.describe());
      }
    }
  }

  /** JSON text of any value (null included). */
  static final class Json {
    static String encode(Object v) {
      if (v instanceof JsonObject o) {
        return o.encode();
      }
      if (v instanceof JsonArray a) {
        return a.encode();
      }
      return new JsonArray().add(v).encode().replaceAll("^\\[|\\]$", "");
    }
  }

  static String b64(String s) {
    return Base64.getUrlEncoder()
        .withoutPadding()
        .encodeToString(s.getBytes(StandardCharsets.UTF_8));
  }
}
