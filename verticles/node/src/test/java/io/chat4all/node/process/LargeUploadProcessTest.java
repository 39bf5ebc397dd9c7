package io.chat4all.node.process;

import static io.chat4all.node.process.ProcessRest.login;
import static io.chat4all.node.process.ProcessRest.ok;
import static org.assertj.core.api.Assertions.assertThat;

import io.chat4all.testkit.Await;
import io.chat4all.testkit.BackendsExtension;
import io.chat4all.testkit.GeneratedBytes;
import io.chat4all.testkit.NodeProcess;
import io.chat4all.testkit.TestBackends;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awssdk.services.s3.S3Client;

/**
 * A file above 1 GB through a node process with a 256 MB heap: chunks streamed in parallel, the
 * upload completed and verified, the download byte-identical. Memory per upload stays bounded
 * whatever the file size, or this node dies of it.
 */
@ExtendWith(BackendsExtension.class)
@Tag("process")
class LargeUploadProcessTest {
  static final long SIZE = 1_100L * 1024 * 1024 + 12_345; // 1.07 GiB, a short last chunk
  static final HttpClient http = ProcessRest.http;

  static long rssKb(long pid) {
    try {
      for (String line : Files.readAllLines(Path.of("/proc/" + pid + "/status"))) {
        if (line.startsWith("VmRSS:")) {
          return Long.parseLong(line.replaceAll("[^0-9]", ""));
        }
      }
    } catch (Exception e) {
      // not Linux or gone
    }
    return -1;
  }

  @Test
  void aFileAboveOneGigabyteStreamsThroughASmallHeap(TestBackends.Isolation iso, @TempDir Path dir)
      throws Exception {
    Path overlay = dir.resolve("node.json");
    JsonObject config = iso.nodeConfig();
    config.put("data_dir", dir.resolve("data").toString());
    Files.writeString(overlay, config.encodePrettily());
    try (NodeProcess node =
        NodeJvm.startWithJvm(
            List.of("-Xmx256m", "-XX:TieredStopAtLevel=4"),
            "run",
            "--config",
            overlay.toString())) {
      Matcher ready =
          node.awaitLine("CHAT4ALL NODE READY node=(\\S+) http=(\\d+)", Duration.ofSeconds(120));
      int port = Integer.parseInt(ready.group(2));
      String a = login(port, "big_a");
      String b = login(port, "big_b");
      String bId = ok(port, "GET", "/v1/me", b, null).getString("user_id");
      String conv =
          ok(
                  port,
                  "POST",
                  "/v1/conversations",
                  a,
                  new JsonObject()
                      .put("type", "private")
                      .put("member_ids", new JsonArray().add(bId)))
              .getString("conversation_id");
      GeneratedBytes data = new GeneratedBytes(20261125L, SIZE);
      String whole = data.sha256(0, SIZE);
      JsonObject init =
          ok(
              port,
              "POST",
              "/v1/files",
              a,
              new JsonObject()
                  .put("filename", "big.bin")
                  .put("size_bytes", SIZE)
                  .put("mime_type", "application/octet-stream")
                  .put("checksum_sha256", whole)
                  .put("conversation_id", conv));
      String fileId = init.getString("file_id");
      long chunk = init.getLong("chunk_size");
      int total = init.getInteger("total_chunks");
      String base = "http://127.0.0.1:" + port;

      long rssBefore = rssKb(node.pid());
      AtomicLong rssPeak = new AtomicLong(rssBefore);
      ExecutorService pool = Executors.newFixedThreadPool(3);
      try {
        List<Future<Integer>> sent = new ArrayList<>();
        for (int n = 1; n <= total; n++) {
          int chunkNumber = n;
          sent.add(
              pool.submit(
                  () -> {
                    long from = (chunkNumber - 1) * chunk;
                    long len = Math.min(chunk, SIZE - from);
                    int status =
                        data.putChunk(
                                http,
                                base,
                                a,
                                fileId,
                                chunkNumber,
                                from,
                                len,
                                data.sha256(from, len))
                            .statusCode();
                    rssPeak.accumulateAndGet(rssKb(node.pid()), Math::max);
                    return status;
                  }));
        }
        for (Future<Integer> f : sent) {
          assertThat(f.get()).isEqualTo(200);
        }
      } finally {
        pool.shutdownNow();
      }

      JsonObject done = ok(port, "POST", "/v1/files/" + fileId + "/complete", a, null);
      assertThat(done.getString("upload_status")).isEqualTo("verifying");
      Await.until(
          "the upload is verified",
          Duration.ofMinutes(5),
          () -> {
            try {
              String s = ok(port, "GET", "/v1/files/" + fileId, a, null).getString("upload_status");
              assertThat(s).isIn("verifying", "completed");
              return s.equals("completed");
            } catch (Exception e) {
              throw new AssertionError(e);
            }
          });
      JsonObject status = ok(port, "GET", "/v1/files/" + fileId, a, null);
      assertThat(status.getString("checksum_sha256")).isEqualTo(whole);
      assertThat(status.getLong("size_bytes")).isEqualTo(SIZE);

      // the other member downloads it all through the presigned URL: same bytes
      String url =
          ok(port, "GET", "/v1/files/" + fileId + "/download?redirect=false", b, null)
              .getString("url");
      HttpResponse<InputStream> got =
          http.send(
              HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofMinutes(5)).build(),
              HttpResponse.BodyHandlers.ofInputStream());
      assertThat(got.statusCode()).isEqualTo(200);
      MessageDigest digest = GeneratedBytes.digest();
      long count = 0;
      try (InputStream in = got.body()) {
        byte[] buf = new byte[1 << 16];
        int n;
        while ((n = in.read(buf)) > 0) {
          digest.update(buf, 0, n);
          count += n;
        }
      }
      assertThat(count).isEqualTo(SIZE);
      assertThat(HexFormat.of().formatHex(digest.digest())).isEqualTo(whole);

      assertThat(node.isAlive()).isTrue();
      assertThat(node.output()).doesNotContain("OutOfMemoryError");
      System.out.printf(
          "large upload: %d bytes in %d chunks; node RSS %d MB before, %d MB peak%n",
          SIZE, total, rssBefore / 1024, rssPeak.get() / 1024);

      // free the disk for the rest of the suite
      JsonObject stored = status;
      try (S3Client s3 = io.chat4all.node.api.Api.s3(iso)) {
        s3.listObjectsV2(r -> r.bucket(iso.bucket()).prefix("files/"))
            .contents()
            .forEach(o -> s3.deleteObject(d -> d.bucket(iso.bucket()).key(o.key())));
      }
      assertThat(stored.getString("file_id")).isEqualTo(fileId);
    }
  }
}
