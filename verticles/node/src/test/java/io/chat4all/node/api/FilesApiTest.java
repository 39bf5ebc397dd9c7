package io.chat4all.node.api;

import static org.assertj.core.api.Assertions.assertThat;

import io.chat4all.codecs.Topics;
import io.chat4all.testkit.Await;
import io.chat4all.testkit.BackendsExtension;
import io.chat4all.testkit.GeneratedBytes;
import io.chat4all.testkit.TestBackends;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Properties;
import java.util.UUID;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.NoSuchUploadException;

/**
 * Files end to end over REST against the real S3 server: chunked resumable uploads, checksums,
 * completion, presigned downloads, limits, foreign ids, expiry, and file messages.
 */
@ExtendWith(BackendsExtension.class)
class FilesApiTest {
  static final long MIB = 1024 * 1024;
  static final long CHUNK = 5 * MIB;
  static Api api;
  static TestBackends.Isolation iso;
  static final HttpClient http =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

  @BeforeAll
  static void start(TestBackends.Isolation isolation) {
    iso = isolation;
    api = Api.start(iso, new JsonObject().put("files", settings(4)));
  }

  /**
   * The files settings of the files API tests: 5 MiB chunks, 64 MiB files, a 100 MiB quota, images,
   * applications and text allowed, synchronous completion up to 6 MiB, a 1 s cleanup interval.
   */
  static JsonObject settings(int downloadUrlTtlSeconds) {
    return new JsonObject()
        .put("chunk_size_bytes", CHUNK)
        .put("max_size_bytes", 64 * MIB)
        .put("user_quota_bytes", 100 * MIB)
        .put(
            "allowed_mime_types", new JsonArray().add("image/*").add("application/*").add("text/*"))
        .put("sync_verify_max_bytes", 6 * MIB)
        .put("download_url_ttl_seconds", downloadUrlTtlSeconds)
        .put("cleanup_interval_seconds", 1);
  }

  @AfterAll
  static void stop() {
    api.close();
  }

  record Upload(String fileId, GeneratedBytes data, int total) {}

  static JsonObject initiateBody(String conv, String name, long size, String mime) {
    return new JsonObject()
        .put("filename", name)
        .put("size_bytes", size)
        .put("mime_type", mime)
        .put("conversation_id", conv);
  }

  static Upload initiate(Api.User u, String conv, long size, boolean withChecksum) {
    GeneratedBytes data = new GeneratedBytes(size * 31 + System.nanoTime(), size);
    JsonObject body = initiateBody(conv, "report final.bin", size, "application/octet-stream");
    if (withChecksum) {
      body.put("checksum_sha256", data.sha256(0, size));
    }
    JsonObject r = api.post("/v1/files", u.accessToken(), body).expect(201).json();
    assertThat(r.getString("upload_status")).isEqualTo("uploading");
    assertThat(r.getLong("chunk_size")).isEqualTo(CHUNK);
    assertThat(r.getJsonArray("received_chunks")).isEmpty();
    int total = (int) ((size + CHUNK - 1) / CHUNK);
    assertThat(r.getInteger("total_chunks")).isEqualTo(total);
    return new Upload(r.getString("file_id"), data, total);
  }

  static long from(int n) {
    return (n - 1) * CHUNK;
  }

  static long length(Upload up, int n) {
    return Math.min(CHUNK, up.data().size() - from(n));
  }

  static HttpResponse<String> put(Api.User u, Upload up, int n) {
    return up.data()
        .putChunk(
            http,
            api.base(),
            u.accessToken(),
            up.fileId(),
            n,
            from(n),
            length(up, n),
            up.data().sha256(from(n), length(up, n)));
  }

  static JsonObject status(Api.User u, String fileId) {
    return api.get("/v1/files/" + fileId, u.accessToken()).expect(200).json();
  }

  static List<Integer> received(Api.User u, String fileId) {
    List<Integer> out = new ArrayList<>();
    status(u, fileId).getJsonArray("received_chunks").forEach(o -> out.add((Integer) o));
    return out;
  }

  /** Sends the first {@code half} bytes of a chunk on a raw socket, then drops the connection. */
  static void putHalfAndDie(Api.User u, Upload up, int n, int half) throws Exception {
    try (Socket s = new Socket("127.0.0.1", api.node().httpPort())) {
      OutputStream out = s.getOutputStream();
      String head =
          "PUT /v1/files/"
              + up.fileId()
              + "/chunks/"
              + n
              + " HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer "
              + u.accessToken()
              + "\r\nContent-Type: application/octet-stream\r\nX-Checksum-SHA256: "
              + up.data().sha256(from(n), length(up, n))
              + "\r\nContent-Length: "
              + length(up, n)
              + "\r\n\r\n";
      out.write(head.getBytes(StandardCharsets.US_ASCII));
      out.write(up.data().bytes(from(n), half));
      out.flush();
      s.setSoLinger(true, 0);
    }
  }

  static String readHead(java.io.InputStream in) throws Exception {
    StringBuilder head = new StringBuilder();
    while (!head.toString().endsWith("\r\n\r\n")) {
      int c = in.read();
      if (c < 0) {
        break;
      }
      head.append((char) c);
    }
    return head.toString();
  }

  @Test
  void expectContinueRefusesABadChunkBeforeItsBodyIsSent() throws Exception {
    Api.User a = api.newUser("fe");
    String conv = api.privateChat(a, api.newUser("fe2"));
    Upload up = initiate(a, conv, 1000, false);
    byte[] body = up.data().bytes(0, 1000);
    for (int n : List.of(2, 1)) {
      try (Socket s = new Socket("127.0.0.1", api.node().httpPort())) {
        s.setSoTimeout(30_000);
        OutputStream out = s.getOutputStream();
        out.write(
            ("PUT /v1/files/"
                    + up.fileId()
                    + "/chunks/"
                    + n
                    + " HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer "
                    + a.accessToken()
                    + "\r\nX-Checksum-SHA256: "
                    + sha(body)
                    + "\r\nContent-Length: 1000\r\nExpect: 100-continue\r\n\r\n")
                .getBytes(StandardCharsets.US_ASCII));
        out.flush();
        String head = readHead(s.getInputStream());
        if (n == 2) {
          // beyond the file: refused without the body
          assertThat(head).startsWith("HTTP/1.1 400");
        } else {
          assertThat(head).startsWith("HTTP/1.1 100");
          out.write(body);
          out.flush();
          assertThat(readHead(s.getInputStream())).startsWith("HTTP/1.1 200");
        }
      }
    }
    assertThat(received(a, up.fileId())).containsExactly(1);
  }

  static HttpResponse<byte[]> fetch(String url, String range) throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(60));
    if (range != null) {
      b.header("Range", range);
    }
    return http.send(b.GET().build(), HttpResponse.BodyHandlers.ofByteArray());
  }

  static String sha(byte[] b) {
    return HexFormat.of().formatHex(GeneratedBytes.digest().digest(b));
  }

  @Test
  void killedClientResumesWithTheMissingChunksAndTheDownloadIsByteIdentical() throws Exception {
    Api.User a = api.newUser("fa");
    Api.User b = api.newUser("fb");
    String conv = api.privateChat(a, b);
    Upload up = initiate(a, conv, 2 * CHUNK + 1234567, true);

    assertThat(put(a, up, 1).statusCode()).isEqualTo(200);
    // the client dies in the middle of chunk 2: nothing of it is recorded
    putHalfAndDie(a, up, 2, (int) (2 * MIB));
    assertThat(received(a, up.fileId())).containsExactly(1);
    api.post("/v1/files/" + up.fileId() + "/complete", a.accessToken(), null)
        .expectError(409, "conflict");

    // resume: only what is missing, last chunk first
    for (int n : List.of(3, 2)) {
      if (!received(a, up.fileId()).contains(n)) {
        HttpResponse<String> r = put(a, up, n);
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
      }
    }
    assertThat(received(a, up.fileId())).containsExactly(1, 2, 3);

    // 11.2 MiB is above the synchronous limit: 202 verifying, then completed
    Api.Res done = api.post("/v1/files/" + up.fileId() + "/complete", a.accessToken(), null);
    assertThat(done.status()).as(done.raw()).isIn(200, 202);
    Await.until(
        "completed",
        Duration.ofSeconds(60),
        () -> "completed".equals(status(a, up.fileId()).getString("upload_status")));
    JsonObject st = status(a, up.fileId());
    String whole = up.data().sha256(0, up.data().size());
    assertThat(st.getString("checksum_sha256")).isEqualTo(whole);
    assertThat(st.getLong("size_bytes")).isEqualTo(up.data().size());

    // the other member downloads through the presigned URL: byte-identical, as an attachment
    Api.Res redirect = api.get("/v1/files/" + up.fileId() + "/download", b.accessToken());
    assertThat(redirect.status()).isEqualTo(302);
    String url = redirect.headers().firstValue("Location").orElseThrow();
    HttpResponse<byte[]> body = fetch(url, null);
    assertThat(body.statusCode()).isEqualTo(200);
    assertThat(body.body().length).isEqualTo(up.data().size());
    assertThat(sha(body.body())).isEqualTo(whole);
    assertThat(body.body()).isEqualTo(up.data().bytes(0, (int) up.data().size()));
    assertThat(body.headers().firstValue("Content-Disposition").orElse(""))
        .startsWith("attachment;")
        .contains("report final.bin");

    // a range request through the same URL
    HttpResponse<byte[]> part = fetch(url, "bytes=5242000-5243999");
    assertThat(part.statusCode()).isEqualTo(206);
    assertThat(part.body()).isEqualTo(up.data().bytes(5242000, 2000));

    // the completion is a durable event
    JsonObject event = awaitUploadedEvent(up.fileId());
    assertThat(event.getString("checksum_sha256")).isEqualTo(whole);
    assertThat(event.getString("uploaded_by")).isEqualTo(a.id());
    assertThat(event.getLong("size_bytes")).isEqualTo(up.data().size());

    // completing again is harmless
    api.post("/v1/files/" + up.fileId() + "/complete", a.accessToken(), null).expect(200);
  }

  static JsonObject awaitUploadedEvent(String fileId) {
    Properties p = new Properties();
    p.put("bootstrap.servers", iso.endpoints().kafkaBootstrapServers());
    p.put("group.id", "files-test-" + UUID.randomUUID());
    p.put("auto.offset.reset", "earliest");
    try (KafkaConsumer<String, String> c =
        new KafkaConsumer<>(p, new StringDeserializer(), new StringDeserializer())) {
      c.subscribe(List.of(Topics.name(iso.topicPrefix(), Topics.FILE_UPLOADED)));
      long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
      while (System.nanoTime() < deadline) {
        for (ConsumerRecord<String, String> r : c.poll(Duration.ofMillis(500))) {
          if (fileId.equals(r.key())) {
            return new JsonObject(r.value());
          }
        }
      }
    }
    throw new AssertionError("no file.uploaded record for " + fileId);
  }

  @Test
  void smallFilesCompleteSynchronouslyAndHtmlIsServedAsAnAttachment() throws Exception {
    Api.User a = api.newUser("fs");
    String conv = api.privateChat(a, api.newUser("fs2"));
    byte[] page = "<html><script>alert(1)</script></html>".getBytes(StandardCharsets.UTF_8);
    JsonObject r =
        api.post(
                "/v1/files",
                a.accessToken(),
                initiateBody(conv, "page.html", page.length, "text/html"))
            .expect(201)
            .json();
    String id = r.getString("file_id");
    HttpResponse<String> put =
        http.send(
            HttpRequest.newBuilder(URI.create(api.base() + "/v1/files/" + id + "/chunks/1"))
                .header("Authorization", "Bearer " + a.accessToken())
                .header("X-Checksum-SHA256", sha(page))
                .PUT(HttpRequest.BodyPublishers.ofByteArray(page))
                .build(),
            HttpResponse.BodyHandlers.ofString());
    assertThat(put.statusCode()).as(put.body()).isEqualTo(200);
    JsonObject done =
        api.post("/v1/files/" + id + "/complete", a.accessToken(), null).expect(200).json();
    assertThat(done.getString("upload_status")).isEqualTo("completed");
    assertThat(done.getString("checksum_sha256")).isEqualTo(sha(page));

    JsonObject link =
        api.get("/v1/files/" + id + "/download?redirect=false", a.accessToken()).expect(200).json();
    assertThat(link.getString("expires_at")).isNotBlank();
    HttpResponse<byte[]> got = fetch(link.getString("url"), null);
    assertThat(got.statusCode()).isEqualTo(200);
    assertThat(got.body()).isEqualTo(page);
    assertThat(got.headers().firstValue("Content-Disposition").orElse(""))
        .startsWith("attachment;");
    assertThat(got.headers().firstValue("Content-Type").orElse("")).startsWith("text/html");

    // the URL is short-lived and S3 enforces it
    Await.until(
        "the presigned URL expires",
        Duration.ofSeconds(30),
        () -> {
          try {
            return fetch(link.getString("url"), null).statusCode() == 403;
          } catch (Exception e) {
            return false;
          }
        });
  }

  @Test
  void storedBytesAreEncryptedAtRestWhileDownloadsAndRangesGetThePlaintext() throws Exception {
    Api.User a = api.newUser("enc");
    String conv = api.privateChat(a, api.newUser("enc2"));
    String marker = "CHAT4ALL-PLAINTEXT-" + UUID.randomUUID();
    StringBuilder text = new StringBuilder();
    while (text.length() < 200_000) {
      text.append(marker).append(' ').append(text.length()).append('\n');
    }
    byte[] plain = text.toString().getBytes(StandardCharsets.UTF_8);
    String id =
        api.post(
                "/v1/files",
                a.accessToken(),
                initiateBody(conv, "notes.txt", plain.length, "text/plain"))
            .expect(201)
            .json()
            .getString("file_id");
    HttpResponse<String> put =
        http.send(
            HttpRequest.newBuilder(URI.create(api.base() + "/v1/files/" + id + "/chunks/1"))
                .header("Authorization", "Bearer " + a.accessToken())
                .header("X-Checksum-SHA256", sha(plain))
                .PUT(HttpRequest.BodyPublishers.ofByteArray(plain))
                .build(),
            HttpResponse.BodyHandlers.ofString());
    assertThat(put.statusCode()).as(put.body()).isEqualTo(200);
    JsonObject done =
        api.post("/v1/files/" + id + "/complete", a.accessToken(), null).expect(200).json();
    assertThat(done.getString("upload_status")).isEqualTo("completed");
    // file_metadata.encryption says how the bytes are kept
    assertThat(done.getJsonObject("encryption"))
        .isEqualTo(
            new JsonObject()
                .put("algorithm", "AES-128-CFB")
                .put("mode", "store")
                .put("key_id", "store"));

    String url =
        api.get("/v1/files/" + id + "/download?redirect=false", a.accessToken())
            .expect(200)
            .json()
            .getString("url");
    assertThat(fetch(url, null).body()).isEqualTo(plain);
    HttpResponse<byte[]> range = fetch(url, "bytes=100000-100099");
    assertThat(range.statusCode()).isEqualTo(206);
    assertThat(range.body()).isEqualTo(java.util.Arrays.copyOfRange(plain, 100_000, 100_100));

    // no file of the embedded S3 server's store holds the plaintext
    java.nio.file.Path store = TestBackends.dataDir().resolve("s3").resolve(iso.bucket());
    byte[] needle = marker.getBytes(StandardCharsets.UTF_8);
    List<java.nio.file.Path> files;
    try (var walk = java.nio.file.Files.walk(store)) {
      files = walk.filter(java.nio.file.Files::isRegularFile).toList();
    }
    assertThat(files).as("the bucket's files on disk").isNotEmpty();
    long bytesOnDisk = 0;
    for (java.nio.file.Path f : files) {
      byte[] content = java.nio.file.Files.readAllBytes(f);
      bytesOnDisk += content.length;
      assertThat(indexOf(content, needle)).as("plaintext in " + f).isEqualTo(-1);
    }
    assertThat(bytesOnDisk).isGreaterThanOrEqualTo(plain.length);
  }

  static int indexOf(byte[] hay, byte[] needle) {
    outer:
    for (int i = 0; i + needle.length <= hay.length; i++) {
      for (int j = 0; j < needle.length; j++) {
        if (hay[i + j] != needle[j]) {
          continue outer;
        }
      }
      return i;
    }
    return -1;
  }

  @Test
  void aWrongChunkChecksumIsRefusedAndKeepsTheChunkStoredBefore() throws Exception {
    Api.User a = api.newUser("fc");
    String conv = api.privateChat(a, api.newUser("fc2"));
    Upload up = initiate(a, conv, CHUNK + 1000, false);
    assertThat(put(a, up, 1).statusCode()).isEqualTo(200);

    // chunk 1 again, other bytes under the right checksum header: refused before S3 keeps it
    GeneratedBytes other = new GeneratedBytes(42, CHUNK);
    HttpResponse<String> bad =
        other.putChunk(
            http,
            api.base(),
            a.accessToken(),
            up.fileId(),
            1,
            0,
            CHUNK,
            up.data().sha256(0, CHUNK));
    assertThat(bad.statusCode()).as(bad.body()).isEqualTo(400);
    assertThat(new JsonObject(bad.body()).getJsonObject("error").getString("code"))
        .isEqualTo("checksum_mismatch");
    // a wrong chunk never recorded: chunk 2 refused, then re-sent right
    HttpResponse<String> bad2 =
        up.data()
            .putChunk(
                http, api.base(), a.accessToken(), up.fileId(), 2, from(2), 1000, "0".repeat(64));
    assertThat(bad2.statusCode()).isEqualTo(400);
    assertThat(received(a, up.fileId())).containsExactly(1);
    // a re-sent chunk replaces the stored one: chunk 2 first with other bytes (under their own
    // checksum), then the right ones; the completed file has the right ones
    GeneratedBytes wrong = new GeneratedBytes(99, 1000);
    assertThat(
            wrong
                .putChunk(
                    http,
                    api.base(),
                    a.accessToken(),
                    up.fileId(),
                    2,
                    0,
                    1000,
                    wrong.sha256(0, 1000))
                .statusCode())
        .isEqualTo(200);
    String wrongEtag = chunkEntry(up.fileId(), 2).getString("etag");
    HttpResponse<String> again = put(a, up, 2);
    assertThat(again.statusCode()).isEqualTo(200);
    assertThat(new JsonObject(again.body()).getJsonArray("received_chunks")).containsExactly(1, 2);
    assertThat(chunkEntry(up.fileId(), 2).getString("etag")).isNotEqualTo(wrongEtag);

    api.post("/v1/files/" + up.fileId() + "/complete", a.accessToken(), null);
    Await.until(
        "completed",
        Duration.ofSeconds(60),
        () -> "completed".equals(status(a, up.fileId()).getString("upload_status")));
    // the stored bytes are the first, good chunk 1
    assertThat(status(a, up.fileId()).getString("checksum_sha256"))
        .isEqualTo(up.data().sha256(0, up.data().size()));
  }

  @Test
  void aWrongWholeFileChecksumFailsTheUploadAndNothingIsServed() {
    Api.User a = api.newUser("fw");
    String conv = api.privateChat(a, api.newUser("fw2"));
    GeneratedBytes data = new GeneratedBytes(7, 3 * MIB);
    JsonObject body =
        initiateBody(conv, "x.bin", data.size(), "application/octet-stream")
            .put("checksum_sha256", "ab".repeat(32));
    String id =
        api.post("/v1/files", a.accessToken(), body).expect(201).json().getString("file_id");
    HttpResponse<String> r =
        data.putChunk(
            http, api.base(), a.accessToken(), id, 1, 0, data.size(), data.sha256(0, data.size()));
    assertThat(r.statusCode()).isEqualTo(200);
    api.post("/v1/files/" + id + "/complete", a.accessToken(), null)
        .expectError(400, "checksum_mismatch");
    JsonObject st = status(a, id);
    assertThat(st.getString("upload_status")).isEqualTo("failed");
    assertThat(st.getString("failure_reason")).contains("SHA-256");
    api.get("/v1/files/" + id + "/download", a.accessToken()).expectError(409, "conflict");
    api.post("/v1/files/" + id + "/complete", a.accessToken(), null)
        .expectError(400, "checksum_mismatch");
    // a media message cannot use it either
    api.post("/v1/messages", a.accessToken(), fileMessage(conv, id, "file"))
        .expectError(409, "conflict");
  }

  @Test
  void badChunksAndLimitsGetClearErrorsBeforeBytesAreStored() throws Exception {
    Api.User a = api.newUser("fl");
    String conv = api.privateChat(a, api.newUser("fl2"));
    Upload up = initiate(a, conv, CHUNK + 10, false);
    String base = "/v1/files/" + up.fileId();

    // chunk beyond the file, chunk number not a number
    HttpResponse<String> beyond =
        up.data()
            .putChunk(http, api.base(), a.accessToken(), up.fileId(), 3, 0, 10, sha(new byte[0]));
    assertThat(beyond.statusCode()).isEqualTo(400);
    assertThat(beyond.body()).contains("validation_failed").contains("chunk_number");
    assertThat(raw("PUT", base + "/chunks/x", a, "0".repeat(64), new byte[10]).statusCode())
        .isEqualTo(400);
    // more bytes than the chunk may have; fewer; no checksum; a malformed checksum
    HttpResponse<String> tooBig =
        up.data().putChunk(http, api.base(), a.accessToken(), up.fileId(), 2, 0, 11, null);
    assertThat(tooBig.statusCode()).isEqualTo(400); // checksum missing is checked first
    byte[] eleven = up.data().bytes(0, 11);
    HttpResponse<String> over = raw("PUT", base + "/chunks/2", a, sha(eleven), eleven);
    assertThat(over.statusCode()).as(over.body()).isEqualTo(413);
    assertThat(over.body()).contains("payload_too_large");
    byte[] nine = up.data().bytes(0, 9);
    HttpResponse<String> under = raw("PUT", base + "/chunks/2", a, sha(nine), nine);
    assertThat(under.statusCode()).isEqualTo(400);
    assertThat(raw("PUT", base + "/chunks/2", a, "xyz", nine).body()).contains("X-Checksum-SHA256");
    assertThat(received(a, up.fileId())).isEmpty();
    // no token
    assertThat(raw("PUT", base + "/chunks/2", null, sha(nine), nine).statusCode()).isEqualTo(401);

    // initiate: oversize, bad types, unknown fields, disallowed type, not a member, bad JSON
    api.post("/v1/files", a.accessToken(), initiateBody(conv, "big", 65 * MIB, "image/png"))
        .expectError(413, "payload_too_large");
    api.post("/v1/files", a.accessToken(), initiateBody(conv, "v", 10, "video/mp4"))
        .expectError(415, "unsupported_media_type");
    api.post("/v1/files", a.accessToken(), initiateBody(conv, "v", 10, "not a type"))
        .expectError(400, "validation_failed");
    api.post("/v1/files", a.accessToken(), initiateBody(conv, "v", 0, "image/png"))
        .expectError(400, "validation_failed");
    api.post(
            "/v1/files",
            a.accessToken(),
            initiateBody(conv, "v", 10, "image/png").put("size_bytes", "10"))
        .expectError(400, "validation_failed");
    api.post("/v1/files", a.accessToken(), initiateBody(conv, "a\u0000b", 10, "image/png"))
        .expectError(400, "validation_failed");
    api.post(
            "/v1/files",
            a.accessToken(),
            initiateBody(conv, "v", 10, "image/png").put("path", "/etc/passwd"))
        .expectError(400, "validation_failed");
    api.post(
            "/v1/files",
            a.accessToken(),
            initiateBody(conv, "v", 10, "image/png").put("checksum_sha256", "ABC"))
        .expectError(400, "validation_failed");
    api.post(
            "/v1/files",
            a.accessToken(),
            initiateBody(UUID.randomUUID().toString(), "v", 10, "image/png"))
        .expectError(404, "not_found");
    api.call("POST", "/v1/files", a.accessToken(), "{not json").expectError(400, "malformed_json");

    // a filename is data: slashes and dots are kept as given, never a path
    JsonObject odd =
        api.post(
                "/v1/files",
                a.accessToken(),
                initiateBody(conv, "../../etc/passwd", 10, "text/plain"))
            .expect(201)
            .json();
    assertThat(odd.getString("filename")).isEqualTo("../../etc/passwd");

    // the quota: 100 MiB per user counts uploads in progress
    Api.User q = api.newUser("fq");
    String qc = api.privateChat(q, a);
    api.post("/v1/files", q.accessToken(), initiateBody(qc, "1", 60 * MIB, "image/png"))
        .expect(201);
    api.post("/v1/files", q.accessToken(), initiateBody(qc, "2", 41 * MIB, "image/png"))
        .expectError(413, "quota_exceeded");
    String small =
        api.post("/v1/files", q.accessToken(), initiateBody(qc, "3", 40 * MIB, "image/png"))
            .expect(201)
            .json()
            .getString("file_id");
    // an aborted upload no longer counts
    api.delete("/v1/files/" + small, q.accessToken()).expect(200);
    api.post("/v1/files", q.accessToken(), initiateBody(qc, "4", 40 * MIB, "image/png"))
        .expect(201);

    // concurrent initiations cannot overshoot the quota: 4 × 40 MiB at once, 100 MiB allowed
    Api.User r = api.newUser("fr");
    String rc = api.privateChat(r, a);
    java.util.concurrent.ExecutorService pool =
        java.util.concurrent.Executors.newFixedThreadPool(4);
    try {
      List<java.util.concurrent.Future<Api.Res>> all = new ArrayList<>();
      for (int i = 0; i < 4; i++) {
        String name = "c" + i;
        all.add(
            pool.submit(
                () ->
                    api.post(
                        "/v1/files",
                        r.accessToken(),
                        initiateBody(rc, name, 40 * MIB, "image/png"))));
      }
      List<Integer> statuses = new ArrayList<>();
      for (var f : all) {
        statuses.add(f.get().status());
      }
      assertThat(statuses).containsExactlyInAnyOrder(201, 201, 413, 413);
    } finally {
      pool.shutdownNow();
    }

    // the node still serves
    api.get("/v1/files/" + up.fileId(), a.accessToken()).expect(200);
  }

  static HttpResponse<String> raw(String method, String path, Api.User u, String checksum, byte[] b)
      throws Exception {
    HttpRequest.Builder r =
        HttpRequest.newBuilder(URI.create(api.base() + path))
            .method(method, HttpRequest.BodyPublishers.ofByteArray(b));
    if (u != null) {
      r.header("Authorization", "Bearer " + u.accessToken());
    }
    if (checksum != null) {
      r.header("X-Checksum-SHA256", checksum);
    }
    return http.send(r.build(), HttpResponse.BodyHandlers.ofString());
  }

  @Test
  void foreignAndUnknownFileIdsAreNotFound() throws Exception {
    Api.User a = api.newUser("fo");
    Api.User b = api.newUser("fo2");
    Api.User stranger = api.newUser("fo3");
    String conv = api.privateChat(a, b);
    Upload up = initiate(a, conv, 10, false);
    String base = "/v1/files/" + up.fileId();
    byte[] ten = up.data().bytes(0, 10);

    // someone else's upload: no status, no chunks, no completion, no abort, no download
    for (Api.User u : List.of(b, stranger)) {
      api.get(base, u.accessToken()).expectError(404, "not_found");
      assertThat(raw("PUT", base + "/chunks/1", u, sha(ten), ten).statusCode()).isEqualTo(404);
      api.post(base + "/complete", u.accessToken(), null).expectError(404, "not_found");
      api.delete(base, u.accessToken()).expectError(404, "not_found");
      api.get(base + "/download", u.accessToken()).expectError(404, "not_found");
    }
    String unknown = "/v1/files/" + UUID.randomUUID();
    api.get(unknown, a.accessToken()).expectError(404, "not_found");
    api.get("/v1/files/not-a-uuid", a.accessToken()).expectError(404, "not_found");
    assertThat(raw("PUT", unknown + "/chunks/1", a, sha(ten), ten).statusCode()).isEqualTo(404);

    // completed: the other member may see and download it, a stranger still may not
    assertThat(raw("PUT", base + "/chunks/1", a, sha(ten), ten).statusCode()).isEqualTo(200);
    api.post(base + "/complete", a.accessToken(), null).expect(200);
    api.get(base, b.accessToken()).expect(200);
    assertThat(api.get(base + "/download", b.accessToken()).status()).isEqualTo(302);
    api.get(base + "/download", stranger.accessToken()).expectError(404, "not_found");
    api.get(base + "/download?redirect=maybe", a.accessToken())
        .expectError(400, "validation_failed");
    // a completed upload cannot be aborted
    api.delete(base, a.accessToken()).expectError(409, "conflict");
  }

  @Test
  void abortedAndExpiredUploadsTakeNoMoreChunksAndLeaveNothingInS3() throws Exception {
    Api.User a = api.newUser("fx");
    String conv = api.privateChat(a, api.newUser("fx2"));
    Upload up = initiate(a, conv, CHUNK + 5, false);
    assertThat(put(a, up, 1).statusCode()).isEqualTo(200);
    assertThat(partsInS3(up.fileId())).isEqualTo(1);
    JsonObject aborted = api.delete("/v1/files/" + up.fileId(), a.accessToken()).expect(200).json();
    assertThat(aborted.getString("upload_status")).isEqualTo("aborted");
    api.delete("/v1/files/" + up.fileId(), a.accessToken()).expect(200);
    HttpResponse<String> late = put(a, up, 2);
    assertThat(late.statusCode()).isEqualTo(409);
    assertThat(late.body()).contains("conflict");
    api.post("/v1/files/" + up.fileId() + "/complete", a.accessToken(), null)
        .expectError(409, "conflict");
    assertUploadGone(up.fileId());

    // a chunk on its way while its upload is aborted is refused as a conflict, not stored
    Upload racing = initiate(a, conv, CHUNK + 5, false);
    try (Socket sock = new Socket("127.0.0.1", api.node().httpPort())) {
      sock.setSoTimeout(30_000);
      OutputStream out = sock.getOutputStream();
      out.write(
          ("PUT /v1/files/"
                  + racing.fileId()
                  + "/chunks/1 HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer "
                  + a.accessToken()
                  + "\r\nX-Checksum-SHA256: "
                  + racing.data().sha256(0, CHUNK)
                  + "\r\nContent-Length: "
                  + CHUNK
                  + "\r\n\r\n")
              .getBytes(StandardCharsets.US_ASCII));
      out.write(racing.data().bytes(0, (int) MIB));
      out.flush();
      api.delete("/v1/files/" + racing.fileId(), a.accessToken()).expect(200);
      try {
        out.write(racing.data().bytes(MIB, (int) (CHUNK - MIB)));
        out.flush();
      } catch (java.io.IOException refusedEarly) {
        // the node may answer and close before the rest is sent
      }
      String head = readHead(sock.getInputStream());
      assertThat(head).startsWith("HTTP/1.1 409");
    }
    assertThat(status(a, racing.fileId()).getJsonArray("received_chunks")).isEmpty();

    // an abandoned upload: its deadline passes, the cleanup job (cluster lock) expires it
    Upload left = initiate(a, conv, CHUNK + 5, false);
    assertThat(put(a, left, 1).statusCode()).isEqualTo(200);
    Await.result(
        api.node()
            .clients()
            .mongo()
            .updateCollection(
                "file_metadata",
                new JsonObject().put("_id", left.fileId()),
                new JsonObject()
                    .put("$set", new JsonObject().put("expires_at", "2000-01-01T00:00:00.000Z"))));
    Await.until(
        "expired",
        Duration.ofSeconds(30),
        () -> "expired".equals(status(a, left.fileId()).getString("upload_status")));
    assertThat(put(a, left, 2).statusCode()).isEqualTo(409);
    assertUploadGone(left.fileId());
  }

  @Test
  void aVerificationANodeDroppedIsResumedByTheCleanupJob() {
    Api.User a = api.newUser("fv");
    String conv = api.privateChat(a, api.newUser("fv2"));
    Upload up = initiate(a, conv, CHUNK + 77, true);
    assertThat(put(a, up, 1).statusCode()).isEqualTo(200);
    assertThat(put(a, up, 2).statusCode()).isEqualTo(200);
    // as if a node took the upload to verifying and died before S3 completed it
    Await.result(
        api.node()
            .clients()
            .mongo()
            .updateCollection(
                "file_metadata",
                new JsonObject().put("_id", up.fileId()),
                new JsonObject()
                    .put(
                        "$set",
                        new JsonObject()
                            .put("upload_status", "verifying")
                            .put("verify_until", "2000-01-01T00:00:00.000Z"))));
    Await.until(
        "the cleanup job finishes the upload",
        Duration.ofSeconds(30),
        () -> "completed".equals(status(a, up.fileId()).getString("upload_status")));
    assertThat(status(a, up.fileId()).getString("checksum_sha256"))
        .isEqualTo(up.data().sha256(0, up.data().size()));
  }

  static JsonObject chunkEntry(String fileId, int n) {
    return Await.result(
            api.node()
                .clients()
                .mongo()
                .findOne("file_metadata", new JsonObject().put("_id", fileId), null))
        .getJsonArray("chunks")
        .getJsonObject(n - 1);
  }

  static int partsInS3(String fileId) {
    JsonObject storage =
        Await.result(
                api.node()
                    .clients()
                    .mongo()
                    .findOne("file_metadata", new JsonObject().put("_id", fileId), null))
            .getJsonObject("storage");
    try (S3Client s3 = Api.s3(iso)) {
      return s3.listParts(
              b ->
                  b.bucket(iso.bucket())
                      .key(storage.getString("key"))
                      .uploadId(storage.getString("upload_id")))
          .parts()
          .size();
    }
  }

  static void assertUploadGone(String fileId) {
    JsonObject doc =
        Await.result(
            api.node()
                .clients()
                .mongo()
                .findOne("file_metadata", new JsonObject().put("_id", fileId), null));
    JsonObject storage = doc.getJsonObject("storage");
    try (S3Client s3 = Api.s3(iso)) {
      // S3 forgets an aborted upload; s3proxy's file store answers it with no parts
      try {
        var parts =
            s3.listParts(
                b ->
                    b.bucket(iso.bucket())
                        .key(storage.getString("key"))
                        .uploadId(storage.getString("upload_id")));
        assertThat(parts.parts()).as("parts of an aborted upload").isEmpty();
      } catch (NoSuchUploadException expected) {
        // aborted
      }
      assertThat(
              s3.listObjectsV2(b -> b.bucket(iso.bucket()).prefix(storage.getString("key")))
                  .contents())
          .isEmpty();
    }
  }

  static List<JsonObject> awaitHistory(Api.User u, String conv, int count) {
    String path = "/v1/conversations/" + conv + "/messages?after_seq=0&limit=200";
    Await.until(
        "history of " + count,
        Duration.ofSeconds(60),
        () -> api.get(path, u.accessToken()).json().getJsonArray("items").size() >= count);
    List<JsonObject> out = new ArrayList<>();
    api.get(path, u.accessToken())
        .json()
        .getJsonArray("items")
        .forEach(o -> out.add((JsonObject) o));
    return out;
  }

  static JsonObject fileMessage(String conv, String fileId, String type) {
    return new JsonObject()
        .put("conversation_id", conv)
        .put("message_id", UUID.randomUUID().toString())
        .put("payload", new JsonObject().put("type", type).put("file_id", fileId));
  }

  @Test
  void fileMessagesCarryTheReferenceAndForwardingSharesTheFile() throws Exception {
    Api.User a = api.newUser("fm");
    Api.User b = api.newUser("fm2");
    Api.User c = api.newUser("fm3");
    String ab = api.privateChat(a, b);
    String bc = api.privateChat(b, c);
    byte[] img = new GeneratedBytes(3, 4000).bytes(0, 4000);
    String id =
        api.post("/v1/files", a.accessToken(), initiateBody(ab, "cat.png", 4000, "image/png"))
            .expect(201)
            .json()
            .getString("file_id");
    // not completed yet: no message can carry it
    api.post("/v1/messages", a.accessToken(), fileMessage(ab, id, "image"))
        .expectError(409, "conflict");
    assertThat(raw("PUT", "/v1/files/" + id + "/chunks/1", a, sha(img), img).statusCode())
        .isEqualTo(200);
    api.post("/v1/files/" + id + "/complete", a.accessToken(), null).expect(200);

    // c cannot send a file it cannot see; nor can anyone send an unknown one
    api.post("/v1/messages", c.accessToken(), fileMessage(bc, id, "image"))
        .expectError(404, "not_found");
    api.post("/v1/messages", a.accessToken(), fileMessage(ab, UUID.randomUUID().toString(), "file"))
        .expectError(404, "not_found");
    api.get("/v1/files/" + id + "/download", c.accessToken()).expectError(404, "not_found");

    api.post("/v1/messages", a.accessToken(), fileMessage(ab, id, "image")).expect(202);
    // b sees it in ab and forwards it into bc: c may download it from then on
    api.post("/v1/messages", b.accessToken(), fileMessage(bc, id, "image")).expect(202);
    List<JsonObject> history = awaitHistory(c, bc, 1);
    JsonObject ref = history.get(0).getJsonObject("payload").getJsonObject("file_reference");
    assertThat(ref.getString("file_id")).isEqualTo(id);
    assertThat(ref.getString("filename")).isEqualTo("cat.png");
    assertThat(ref.getLong("size_bytes")).isEqualTo(4000);
    assertThat(ref.getString("mime_type")).isEqualTo("image/png");
    assertThat(ref.getString("checksum")).isEqualTo(sha(img));
    JsonObject link =
        api.get("/v1/files/" + id + "/download?redirect=false", c.accessToken()).expect(200).json();
    assertThat(fetch(link.getString("url"), null).body()).isEqualTo(img);
  }
}
