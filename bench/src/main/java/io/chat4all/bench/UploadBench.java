package io.chat4all.bench;

import io.chat4all.testkit.GeneratedBytes;
import io.chat4all.testkit.NodeProcess;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReferenceArray;
import java.util.regex.Matcher;
import java.util.stream.Stream;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.ResponseInputStream;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.http.apache5.Apache5HttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.S3Configuration;
import software.amazon.awssdk.services.s3.model.CompletedPart;
import software.amazon.awssdk.services.s3.model.GetObjectResponse;
import software.amazon.awssdk.services.s3.model.S3Object;

/**
 * {@code ./chat4all bench upload}: a large file uploaded through the files API of a node process
 * (embedded backends, its own JVM with a modest heap) against a raw S3 multipart upload of the same
 * bytes, same part size and parallelism, to the same embedded S3 server in the same run. Reports
 * both throughputs (upload phase, and end to end with completion — for the API that includes the
 * whole-file SHA-256 verification), their ratio, and the node process's RSS growth during the API
 * upload. Prints a Markdown report.
 */
public final class UploadBench {
  private static final double MB = 1_000_000.0;
  private static final long MIB = 1024L * 1024;

  /** The embedded S3 credentials and bucket every embedded node uses (see Node.start, config). */
  private static final String S3_ACCESS_KEY = "chat4all";

  private static final String S3_SECRET_KEY = "chat4all-secret";
  private static final String BUCKET = "chat4all-files";

  private final long size;
  private final int parallel;
  private final int rounds;
  private final int warmupRounds;
  private final String nodeXmx;
  private final List<String> nodeOpts;
  private final long chunkOverride;
  private HttpClient http;
  private String base;
  private String token;
  private S3Client s3;
  private long nodePid;
  private ScheduledExecutorService sampler;

  private UploadBench(String[] args) {
    size = longArg(args, "--size-mib", 2048) * MIB;
    parallel = (int) longArg(args, "--parallel", 4);
    rounds = (int) longArg(args, "--rounds", 2);
    warmupRounds = (int) longArg(args, "--warmup-rounds", 1);
    chunkOverride = longArg(args, "--chunk-mib", 0) * MIB;
    nodeXmx = stringArg(args, "--node-xmx", "512m");
    String opts = stringArg(args, "--node-opts", "").trim();
    nodeOpts = opts.isEmpty() ? List.of() : List.of(opts.split("\\s+"));
  }

  private static long longArg(String[] args, String name, long def) {
    String v = stringArg(args, name, null);
    return v == null ? def : Long.parseLong(v);
  }

  private static String stringArg(String[] args, String name, String def) {
    for (int i = 0; i < args.length - 1; i++) {
      if (args[i].equals(name)) {
        return args[i + 1];
      }
    }
    return def;
  }

  public static void main(String[] args) throws Exception {
    new UploadBench(args).run();
    System.exit(0);
  }

  private static void log(String s) {
    System.err.println(
        java.time.LocalTime.now().format(java.time.format.DateTimeFormatter.ofPattern("HH:mm:ss"))
            + " bench: "
            + s);
  }

  /**
   * Wall-clock phases of one upload, in nanoseconds, and the node's CPU time (s) when the last part
   * was acknowledged.
   */
  record Timing(long uploadNanos, long finishNanos, long totalNanos, double nodeCpuAtUploaded) {}

  /** One upload's measurements; round 0 is the warm-up. */
  record Result(
      int round,
      String path,
      long bytes,
      Timing t,
      double nodeCpuUpload,
      double nodeCpu,
      double benchCpu,
      long rssBeforeKb,
      long rssPeakKb,
      long rssAfterKb) {
    double uploadMbps() {
      return bytes / MB / (t.uploadNanos() / 1e9);
    }

    double totalMbps() {
      return bytes / MB / (t.totalNanos() / 1e9);
    }

    long growthKb() {
      return rssPeakKb - rssBeforeKb;
    }
  }

  private void run() throws Exception {
    Path data = Files.createTempDirectory("chat4all-upload-bench");
    int s3Port = freePort();
    List<String> jvm = new ArrayList<>(List.of("-Xmx" + nodeXmx));
    jvm.addAll(nodeOpts);
    List<String> args = new ArrayList<>();
    args.addAll(
        List.of(
            "run",
            "--data-dir",
            data.toString(),
            "--http-port",
            "0",
            "--grpc-port",
            "0",
            "--set",
            "embedded.s3_port=" + s3Port,
            "--set",
            "auth.password_iterations=1000",
            "--set",
            "rate_limit.per_user_per_minute=0",
            "--set",
            "rate_limit.per_ip_per_minute=0",
            "--set",
            "http.max_connections_per_ip=0"));
    if (chunkOverride > 0) {
      args.addAll(List.of("--set", "files.chunk_size_bytes=" + chunkOverride));
    }
    log("starting a node process (" + String.join(" ", jvm) + ") on " + data + " ...");
    NodeProcess node =
        NodeProcess.start(System.getProperty("java.class.path"), jvm, List.copyOf(args));
    nodePid = node.pid();
    Thread cleanup =
        new Thread(
            () -> {
              node.close();
              deleteTree(data);
            },
            "upload-bench-cleanup");
    Runtime.getRuntime().addShutdownHook(cleanup);
    sampler =
        Executors.newSingleThreadScheduledExecutor(
            r -> {
              Thread t = new Thread(r, "rss-sampler");
              t.setDaemon(true);
              return t;
            });
    try {
      Matcher ready = node.awaitLine("CHAT4ALL NODE READY .*http=(\\d+)", Duration.ofMinutes(5));
      base = "http://127.0.0.1:" + ready.group(1);
      http =
          HttpClient.newBuilder()
              .version(HttpClient.Version.HTTP_1_1)
              .connectTimeout(Duration.ofSeconds(10))
              .build();
      // the embedded S3 server of the node: the port we gave it, the credentials Node.start gives
      // every embedded S3 server
      s3 =
          S3Client.builder()
              .endpointOverride(URI.create("http://127.0.0.1:" + s3Port))
              .region(Region.US_EAST_1)
              .credentialsProvider(
                  StaticCredentialsProvider.create(
                      AwsBasicCredentials.create(S3_ACCESS_KEY, S3_SECRET_KEY)))
              .serviceConfiguration(S3Configuration.builder().pathStyleAccessEnabled(true).build())
              .httpClient(
                  Apache5HttpClient.builder()
                      .maxConnections(parallel + 2)
                      .socketTimeout(Duration.ofMinutes(5))
                      .build())
              .build();

      token = login("upload_a");
      String other = login("upload_b");
      String otherId = call("GET", "/v1/me", other, null, 200).getString("user_id");
      String conv =
          call(
                  "POST",
                  "/v1/conversations",
                  token,
                  new JsonObject()
                      .put("type", "private")
                      .put("member_ids", new JsonArray().add(otherId)),
                  201)
              .getString("conversation_id");
      long part = chunkSize(conv);

      GeneratedBytes file = new GeneratedBytes(42, size);
      log("hashing the " + size / MIB + " MiB file once (its SHA-256 goes into initiate) ...");
      String fileSha = file.sha256(0, size);

      // warm-up rounds (reported, not counted): the first uploads after start also pay for JIT
      // compilation and the heap growing towards -Xmx; then the measured rounds
      List<Result> runs = new ArrayList<>();
      for (int i = 0; i < warmupRounds + rounds; i++) {
        int round = i < warmupRounds ? 0 : i - warmupRounds + 1;
        String name = round == 0 ? "warm-up" : "round " + round;
        // alternate the order, so neither path always runs on the other's leftovers
        boolean apiFirst = i % 2 == 0;
        for (int k = 0; k < 2; k++) {
          Result res;
          if ((k == 0) == apiFirst) {
            log(name + ": API upload of " + size / MIB + " MiB ...");
            res = measure(round, "API", size, () -> apiUpload(file, fileSha, conv));
          } else {
            log(name + ": raw S3 multipart upload of " + size / MIB + " MiB ...");
            res = measure(round, "raw S3", size, () -> rawUpload(file, part));
          }
          log("  " + describe(res));
          runs.add(res);
          deleteAll();
        }
      }
      settle();
      log("reading a raw upload back and hashing it (what the node's verification does) ...");
      double readBack = readBackMbps(file, part);
      deleteAll();
      report(part, runs, readBack);
    } finally {
      sampler.shutdownNow();
      if (s3 != null) {
        s3.close();
      }
      node.close();
      deleteTree(data);
      Runtime.getRuntime().removeShutdownHook(cleanup);
    }
  }

  /**
   * Runs one upload with the node's CPU time and RSS watched (VmRSS every 200 ms: the value just
   * before, the peak during, the value right after).
   */
  private Result measure(int round, String path, long bytes, Callable<Timing> upload)
      throws Exception {
    settle();
    boolean nmt = nodeOpts.stream().anyMatch(o -> o.contains("NativeMemoryTracking"));
    if (nmt) {
      jcmd("VM.native_memory", "baseline");
    }
    ProcessHandle nodeProc = ProcessHandle.of(nodePid).orElseThrow();
    double node0 = cpuSeconds(nodeProc);
    double bench0 = cpuSeconds(ProcessHandle.current());
    long before = readRssKb(nodePid);
    AtomicLong peak = new AtomicLong(before);
    ScheduledFuture<?> sampling =
        sampler.scheduleAtFixedRate(
            () -> peak.accumulateAndGet(readRssKb(nodePid), Math::max),
            200,
            200,
            TimeUnit.MILLISECONDS);
    Timing t;
    try {
      t = upload.call();
    } finally {
      sampling.cancel(false);
    }
    long after = readRssKb(nodePid);
    peak.accumulateAndGet(after, Math::max);
    Result r =
        new Result(
            round,
            path,
            bytes,
            t,
            t.nodeCpuAtUploaded() - node0,
            cpuSeconds(nodeProc) - node0,
            cpuSeconds(ProcessHandle.current()) - bench0,
            before,
            peak.get(),
            after);
    if (nmt) {
      log(
          "native memory of the node, change during this upload:\n"
              + jcmd("VM.native_memory", "summary.diff"));
    }
    return r;
  }

  private static String describe(Result r) {
    return String.format(
        Locale.ROOT,
        "upload %.1f MB/s (node CPU %.1f s), complete %.1f s, end to end %.1f MB/s (%.1f s);"
            + " CPU node %.1f s, bench %.1f s; node RSS %.0f → peak %.0f MB",
        r.uploadMbps(),
        r.nodeCpuUpload(),
        r.t().finishNanos() / 1e9,
        r.totalMbps(),
        r.t().totalNanos() / 1e9,
        r.nodeCpu(),
        r.benchCpu(),
        r.rssBeforeKb() / 1024.0,
        r.rssPeakKb() / 1024.0);
  }

  private void report(long part, List<Result> runs, double readBack) {
    List<Result> api = runs.stream().filter(r -> r.round() > 0 && r.path().equals("API")).toList();
    List<Result> raw = runs.stream().filter(r -> r.round() > 0 && !r.path().equals("API")).toList();
    double apiUp = mean(api, true);
    double apiAll = mean(api, false);
    double rawUp = mean(raw, true);
    double rawAll = mean(raw, false);
    long growthKb = api.stream().mapToLong(Result::growthKb).max().orElse(0);
    System.out.println();
    System.out.println("## Files: upload (`./chat4all bench upload`)");
    System.out.println();
    System.out.printf(
        Locale.ROOT,
        "%d MiB of generated bytes, %d MiB parts, %d in flight, %d warm-up + %d measured round(s);"
            + " node JVM -Xmx%s%s.%n",
        size / MIB,
        part / MIB,
        parallel,
        warmupRounds,
        rounds,
        nodeXmx,
        nodeOpts.isEmpty() ? "" : " " + String.join(" ", nodeOpts));
    System.out.println();
    System.out.println(
        "| run | upload phase | node CPU in upload phase | complete (API: + whole-file SHA-256"
            + " check) | end to end | CPU whole run, node / bench | node RSS before → peak (growth) |");
    System.out.println("|---|---|---|---|---|---|---|");
    for (Result r : runs) {
      System.out.printf(
          Locale.ROOT,
          "| %s, %s | %.1f MB/s (%.1f s) | %.1f s | %.1f s | %.1f MB/s (%.1f s) | %.1f / %.1f s |"
              + " %.0f → %.0f MB (%+.0f MB) |%n",
          r.round() == 0 ? "warm-up" : "round " + r.round(),
          r.path(),
          r.uploadMbps(),
          r.t().uploadNanos() / 1e9,
          r.nodeCpuUpload(),
          r.t().finishNanos() / 1e9,
          r.totalMbps(),
          r.t().totalNanos() / 1e9,
          r.nodeCpu(),
          r.benchCpu(),
          r.rssBeforeKb() / 1024.0,
          r.rssPeakKb() / 1024.0,
          r.growthKb() / 1024.0);
    }
    System.out.println();
    System.out.println("| measure | value |");
    System.out.println("|---|---|");
    System.out.printf(
        Locale.ROOT,
        "| upload phase, API / raw | %.1f / %.1f MB/s = **%.0f %%** (goal ≥ 70 %%: %s) |%n",
        apiUp,
        rawUp,
        100 * apiUp / rawUp,
        apiUp / rawUp >= 0.7 ? "met" : "not met");
    System.out.printf(
        Locale.ROOT,
        "| end to end, API (incl. complete + whole-file SHA-256 check) / raw (incl. complete) |"
            + " %.1f / %.1f MB/s = **%.0f %%** (goal ≥ 70 %%: %s) |%n",
        apiAll,
        rawAll,
        100 * apiAll / rawAll,
        apiAll / rawAll >= 0.7 ? "met" : "not met");
    System.out.printf(
        Locale.ROOT,
        "| node RSS growth during an API upload (largest of the measured rounds) | **%.0f MB**"
            + " (goal ≤ 64 MB: %s) |%n",
        growthKb / 1024.0,
        growthKb <= 64 * 1024 ? "met" : "not met");
    runs.stream()
        .filter(r -> r.round() == 0 && r.path().equals("API"))
        .findFirst()
        .ifPresent(
            r ->
                System.out.printf(
                    Locale.ROOT,
                    "| node RSS growth during the first API upload after start (warm-up, not"
                        + " counted) | %.0f MB |%n",
                    r.growthKb() / 1024.0));
    System.out.printf(
        Locale.ROOT,
        "| for scale: GET + SHA-256 of a whole %d MiB object, one stream | %.1f MB/s |%n",
        size / MIB,
        readBack);
    System.out.println();
  }

  /** Bytes over summed time, so rounds weigh by their duration. */
  private static double mean(List<Result> rs, boolean upload) {
    long bytes = 0;
    long nanos = 0;
    for (Result r : rs) {
      bytes += r.bytes();
      nanos += upload ? r.t().uploadNanos() : r.t().totalNanos();
    }
    return bytes / MB / (nanos / 1e9);
  }

  // --- the API run ---

  private long chunkSize(String conv) throws Exception {
    // initiate and abort a file of the benchmark's size: the chunk size the node hands out for it
    JsonObject r =
        call(
            "POST",
            "/v1/files",
            token,
            new JsonObject()
                .put("filename", "probe.bin")
                .put("size_bytes", size)
                .put("mime_type", "application/octet-stream")
                .put("conversation_id", conv),
            201);
    call("DELETE", "/v1/files/" + r.getString("file_id"), token, null, 200);
    return r.getLong("chunk_size");
  }

  /**
   * Initiate (with the whole file's SHA-256), chunks with {@code parallel} in flight (each hashed
   * just before it is sent, as its checksum header comes first), complete, poll the status every
   * 250 ms until completed.
   */
  private Timing apiUpload(GeneratedBytes file, String fileSha, String conv) throws Exception {
    long t0 = System.nanoTime();
    JsonObject init =
        call(
            "POST",
            "/v1/files",
            token,
            new JsonObject()
                .put("filename", "bench-" + file.size() + ".bin")
                .put("size_bytes", file.size())
                .put("mime_type", "application/octet-stream")
                .put("checksum_sha256", fileSha)
                .put("conversation_id", conv),
            201);
    String fileId = init.getString("file_id");
    long chunk = init.getLong("chunk_size");
    int total = init.getInteger("total_chunks");
    long tFirst = System.nanoTime();
    runParts(
        total,
        n -> {
          long from = (n - 1) * chunk;
          long len = Math.min(chunk, file.size() - from);
          String sha = file.sha256(from, len);
          HttpResponse<String> resp = file.putChunk(http, base, token, fileId, n, from, len, sha);
          if (resp.statusCode() != 200) {
            throw new IllegalStateException(
                "chunk " + n + ": HTTP " + resp.statusCode() + " " + resp.body());
          }
        });
    long tUploaded = System.nanoTime();
    double cpuUploaded = nodeCpu();
    HttpResponse<String> done = send("POST", "/v1/files/" + fileId + "/complete", token, null);
    if (done.statusCode() != 200 && done.statusCode() != 202) {
      throw new IllegalStateException("complete: HTTP " + done.statusCode() + " " + done.body());
    }
    String status = new JsonObject(done.body()).getString("upload_status");
    while (!"completed".equals(status)) {
      if (!"verifying".equals(status)) {
        throw new IllegalStateException("upload ended " + status);
      }
      Thread.sleep(250);
      status = call("GET", "/v1/files/" + fileId, token, null, 200).getString("upload_status");
    }
    long tEnd = System.nanoTime();
    return new Timing(tUploaded - tFirst, tEnd - tUploaded, tEnd - t0, cpuUploaded);
  }

  // --- the raw run ---

  /**
   * CreateMultipartUpload, UploadPart with {@code parallel} in flight (AWS SDK v2 defaults: SigV4
   * streaming-signed aws-chunked bodies with a CRC32 trailer), CompleteMultipartUpload.
   */
  private Timing rawUpload(GeneratedBytes file, long part) throws Exception {
    String key = "bench/raw-" + System.nanoTime();
    int total = (int) ((file.size() + part - 1) / part);
    AtomicReferenceArray<CompletedPart> parts = new AtomicReferenceArray<>(total);
    long t0 = System.nanoTime();
    String uploadId =
        s3.createMultipartUpload(
                b -> b.bucket(BUCKET).key(key).contentType("application/octet-stream"))
            .uploadId();
    long tFirst = System.nanoTime();
    try {
      runParts(
          total,
          n -> {
            long from = (n - 1) * part;
            long len = Math.min(part, file.size() - from);
            String etag =
                s3.uploadPart(
                        b -> b.bucket(BUCKET).key(key).uploadId(uploadId).partNumber(n),
                        RequestBody.fromContentProvider(
                            () -> file.stream(from, len), len, "application/octet-stream"))
                    .eTag();
            parts.set(n - 1, CompletedPart.builder().partNumber(n).eTag(etag).build());
          });
    } catch (Exception e) {
      s3.abortMultipartUpload(b -> b.bucket(BUCKET).key(key).uploadId(uploadId));
      throw e;
    }
    long tUploaded = System.nanoTime();
    double cpuUploaded = nodeCpu();
    List<CompletedPart> list = new ArrayList<>();
    for (int i = 0; i < total; i++) {
      list.add(parts.get(i));
    }
    s3.completeMultipartUpload(
        b -> b.bucket(BUCKET).key(key).uploadId(uploadId).multipartUpload(m -> m.parts(list)));
    long tEnd = System.nanoTime();
    return new Timing(tUploaded - tFirst, tEnd - tUploaded, tEnd - t0, cpuUploaded);
  }

  /** Uploads the file raw (untimed), then times GetObject + SHA-256 of it; MB/s. */
  private double readBackMbps(GeneratedBytes file, long part) throws Exception {
    rawUpload(file, part);
    String key = s3.listObjectsV2(b -> b.bucket(BUCKET).prefix("bench/")).contents().get(0).key();
    MessageDigest digest = GeneratedBytes.digest();
    long t0 = System.nanoTime();
    long n = 0;
    try (ResponseInputStream<GetObjectResponse> in = s3.getObject(b -> b.bucket(BUCKET).key(key))) {
      byte[] buf = new byte[1 << 16];
      int r;
      while ((r = in.read(buf)) > 0) {
        digest.update(buf, 0, r);
        n += r;
      }
    }
    digest.digest();
    return n / MB / ((System.nanoTime() - t0) / 1e9);
  }

  private interface PartUpload {
    void put(int n) throws Exception;
  }

  /** Parts 1..total with {@code parallel} in flight, taken in order; fails on the first error. */
  private void runParts(int total, PartUpload part) throws Exception {
    AtomicInteger next = new AtomicInteger(1);
    ExecutorService pool = Executors.newFixedThreadPool(parallel);
    try {
      List<Future<Void>> lanes = new ArrayList<>();
      for (int i = 0; i < parallel; i++) {
        lanes.add(
            pool.submit(
                () -> {
                  int n;
                  while ((n = next.getAndIncrement()) <= total) {
                    part.put(n);
                  }
                  return null;
                }));
      }
      for (Future<Void> lane : lanes) {
        try {
          lane.get();
        } catch (ExecutionException e) {
          next.set(Integer.MAX_VALUE / 2);
          throw e.getCause() instanceof Exception ex ? ex : e;
        }
      }
    } finally {
      pool.shutdownNow();
    }
  }

  /** Deletes every object and pending multipart upload in the bucket (disk stays bounded). */
  private void deleteAll() {
    for (var u : s3.listMultipartUploads(b -> b.bucket(BUCKET)).uploads()) {
      s3.abortMultipartUpload(b -> b.bucket(BUCKET).key(u.key()).uploadId(u.uploadId()));
    }
    String next = null;
    do {
      String t = next;
      var page = s3.listObjectsV2(b -> b.bucket(BUCKET).continuationToken(t));
      for (S3Object o : page.contents()) {
        s3.deleteObject(b -> b.bucket(BUCKET).key(o.key()));
      }
      next = page.isTruncated() ? page.nextContinuationToken() : null;
    } while (next != null);
  }

  /**
   * Between runs: {@code sync} (the last run's dirty pages written back, so each run starts with a
   * clean page cache) and a short pause.
   */
  private static void settle() throws Exception {
    new ProcessBuilder("sync").inheritIO().start().waitFor(120, TimeUnit.SECONDS);
    Thread.sleep(2000);
  }

  private String jcmd(String... command) {
    List<String> cmd = new ArrayList<>();
    cmd.add(Path.of(System.getProperty("java.home"), "bin", "jcmd").toString());
    cmd.add(Long.toString(nodePid));
    cmd.addAll(List.of(command));
    try {
      Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      p.waitFor(60, TimeUnit.SECONDS);
      return out;
    } catch (IOException e) {
      return "jcmd failed: " + e.getMessage();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return "interrupted";
    }
  }

  // --- REST helpers ---

  private String login(String name) throws Exception {
    send(
        "POST",
        "/v1/auth/register",
        null,
        new JsonObject()
            .put("username", name)
            .put("email", name + "@bench.test")
            .put("password", "kept-secret-1"));
    return call(
            "POST",
            "/v1/auth/token",
            null,
            new JsonObject().put("username", name).put("password", "kept-secret-1"),
            200)
        .getString("access_token");
  }

  private HttpResponse<String> send(String method, String path, String bearer, JsonObject body)
      throws Exception {
    HttpRequest.Builder b =
        HttpRequest.newBuilder(URI.create(base + path))
            .timeout(Duration.ofMinutes(2))
            .method(
                method,
                body == null
                    ? HttpRequest.BodyPublishers.noBody()
                    : HttpRequest.BodyPublishers.ofString(body.encode()));
    if (body != null) {
      b.header("Content-Type", "application/json");
    }
    if (bearer != null) {
      b.header("Authorization", "Bearer " + bearer);
    }
    return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  private JsonObject call(String method, String path, String bearer, JsonObject body, int expect)
      throws Exception {
    HttpResponse<String> r = send(method, path, bearer, body);
    if (r.statusCode() != expect) {
      throw new IllegalStateException(
          method + " " + path + ": HTTP " + r.statusCode() + " " + r.body());
    }
    return r.body().isEmpty() ? new JsonObject() : new JsonObject(r.body());
  }

  // --- process measurements ---

  static long readRssKb(long pid) {
    try {
      for (String line : Files.readAllLines(Path.of("/proc", Long.toString(pid), "status"))) {
        if (line.startsWith("VmRSS:")) {
          return Long.parseLong(line.replaceAll("[^0-9]", ""));
        }
      }
    } catch (IOException | NumberFormatException e) {
      // process gone or no procfs
    }
    return 0;
  }

  private double nodeCpu() {
    return ProcessHandle.of(nodePid).map(UploadBench::cpuSeconds).orElse(Double.NaN);
  }

  private static double cpuSeconds(ProcessHandle p) {
    return p.info().totalCpuDuration().map(d -> d.toNanos() / 1e9).orElse(Double.NaN);
  }

  private static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }

  private static void deleteTree(Path root) {
    if (!Files.exists(root)) {
      return;
    }
    try (Stream<Path> paths = Files.walk(root)) {
      paths
          .sorted(Comparator.reverseOrder())
          .forEach(
              p -> {
                try {
                  Files.deleteIfExists(p);
                } catch (IOException e) {
                  // best effort
                }
              });
    } catch (IOException e) {
      // best effort
    }
  }
}
