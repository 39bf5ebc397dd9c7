package io.chat4all.node.api;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import io.chat4all.proto.v1.AbortUploadRequest;
import io.chat4all.proto.v1.CompleteUploadRequest;
import io.chat4all.proto.v1.FileDownload;
import io.chat4all.proto.v1.FileServiceGrpcClient;
import io.chat4all.proto.v1.FileStatus;
import io.chat4all.proto.v1.GetDownloadUrlRequest;
import io.chat4all.proto.v1.GetFileRequest;
import io.chat4all.proto.v1.InitiateUploadRequest;
import io.chat4all.proto.v1.ListMessagesReply;
import io.chat4all.proto.v1.ListMessagesRequest;
import io.chat4all.proto.v1.MessageFileReference;
import io.chat4all.proto.v1.MessageServiceGrpcClient;
import io.chat4all.proto.v1.UploadRequest;
import io.chat4all.proto.v1.UploadStart;
import io.chat4all.testkit.Await;
import io.chat4all.testkit.BackendsExtension;
import io.chat4all.testkit.GeneratedBytes;
import io.chat4all.testkit.TestBackends;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.MultiMap;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.SocketAddress;
import io.vertx.grpc.client.GrpcClient;
import io.vertx.grpc.client.GrpcClientRequest;
import io.vertx.grpc.common.GrpcStatus;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * FileService over gRPC against the real S3 server: the client-streamed upload cut into chunks,
 * broken off and resumed, completed and downloaded byte-identical; the REST file rules and error
 * model (status, trailers) on the unary calls and the stream.
 */
@ExtendWith(BackendsExtension.class)
class FilesGrpcTest {
  static final long MIB = 1024 * 1024;
  static final long CHUNK = 5 * MIB;

  /** Message sizes the test client cycles through: none of them divides a chunk. */
  static final int[] SIZES = {65_536, 200_003, 1_000, 131_071, 249_999};

  static Api api;
  static Vertx clientVertx;
  static GrpcClient client;
  static final HttpClient http =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

  @BeforeAll
  static void start(TestBackends.Isolation iso) {
    api = Api.start(iso, new JsonObject().put("files", FilesApiTest.settings(60)));
    clientVertx = Vertx.vertx();
    client = GrpcClient.client(clientVertx);
  }

  @AfterAll
  static void stop() {
    if (clientVertx != null) {
      Await.result(clientVertx.close());
    }
    api.close();
  }

  // --- unary helpers ---

  static FileStatus initiate(Api.User u, String conv, GeneratedBytes data, String checksum) {
    InitiateUploadRequest.Builder b =
        InitiateUploadRequest.newBuilder()
            .setFilename("notes final.bin")
            .setSizeBytes(data.size())
            .setMimeType("application/octet-stream")
            .setConversationId(conv);
    if (checksum != null) {
      b.setChecksumSha256(checksum);
    }
    Api.GrpcRes<FileStatus> r =
        api.grpc(FileServiceGrpcClient.InitiateUpload, b.build(), u.accessToken());
    assertThat(r.status()).as(r.message()).isEqualTo(GrpcStatus.OK);
    FileStatus st = r.value();
    assertThat(st.getUploadStatus()).isEqualTo("uploading");
    assertThat(st.getChunkSize()).isEqualTo(CHUNK);
    assertThat(st.getTotalChunks()).isEqualTo((int) ((data.size() + CHUNK - 1) / CHUNK));
    assertThat(st.getReceivedChunksList()).isEmpty();
    assertThat(st.getUploadedBy()).isEqualTo(u.id());
    return st;
  }

  static Api.GrpcRes<FileStatus> getFile(Api.User u, String fileId) {
    return api.grpc(
        FileServiceGrpcClient.GetFile,
        GetFileRequest.newBuilder().setFileId(fileId).build(),
        u == null ? null : u.accessToken());
  }

  static FileStatus status(Api.User u, String fileId) {
    Api.GrpcRes<FileStatus> r = getFile(u, fileId);
    assertThat(r.status()).as(r.message()).isEqualTo(GrpcStatus.OK);
    return r.value();
  }

  static List<Integer> received(Api.User u, String fileId) {
    return status(u, fileId).getReceivedChunksList();
  }

  static <T> void expectError(Api.GrpcRes<T> r, GrpcStatus status, String code) {
    assertThat(r.status()).as(r.message()).isEqualTo(status);
    assertThat(r.errorCode()).as(r.message()).isEqualTo(code);
    assertThat(r.message()).startsWith(code + ": ");
  }

  static String sha(byte[] b) {
    return HexFormat.of().formatHex(GeneratedBytes.digest().digest(b));
  }

  static UploadStart start(String fileId, int firstChunk) {
    return UploadStart.newBuilder().setFileId(fileId).setFirstChunk(firstChunk).build();
  }

  // --- the client stream ---

  /** An Upload call: its start message, then bytes [from, to) of data in messages of SIZES. */
  static final class Stream {
    final Context ctx = clientVertx.getOrCreateContext();
    final Promise<Void> sent = Promise.promise();
    final Promise<Api.GrpcRes<FileStatus>> reply = Promise.promise();
    GrpcClientRequest<UploadRequest, FileStatus> request;
    long position;
    int message;

    /** Cancels the call (an HTTP/2 reset of the stream). */
    void cancel() {
      Promise<Void> done = Promise.promise();
      ctx.runOnContext(
          v -> {
            request.cancel();
            done.complete();
          });
      Await.result(done.future());
    }

    Api.GrpcRes<FileStatus> reply() {
      return Await.result(reply.future(), Duration.ofMinutes(2));
    }
  }

  static Stream stream(
      String token,
      List<UploadRequest> head,
      GeneratedBytes data,
      long from,
      long to,
      int[] sizes,
      boolean end) {
    Stream s = new Stream();
    s.position = from;
    s.ctx.runOnContext(
        v ->
            client
                .request(
                    SocketAddress.inetSocketAddress(api.node().grpcPort(), "127.0.0.1"),
                    FileServiceGrpcClient.Upload)
                .onFailure(s.reply::tryFail)
                .onSuccess(
                    req -> {
                      s.request = req;
                      if (token != null) {
                        req.headers().set("authorization", "Bearer " + token);
                      }
                      req.response()
                          .compose(
                              resp -> {
                                List<FileStatus> got = new ArrayList<>();
                                resp.handler(got::add);
                                return resp.end()
                                    .transform(
                                        ar ->
                                            Future.succeededFuture(
                                                new Api.GrpcRes<>(
                                                    resp.status(),
                                                    resp.statusMessage(),
                                                    got.isEmpty() ? null : got.get(0),
                                                    MultiMap.caseInsensitiveMultiMap()
                                                        .addAll(resp.headers())
                                                        .addAll(resp.trailers()))));
                              })
                          .onComplete(s.reply);
                      head.forEach(req::write);
                      write(s, data, to, sizes, end);
                    }));
    return s;
  }

  /** Writes the next messages while the HTTP/2 stream takes them; stops once answered. */
  static void write(Stream s, GeneratedBytes data, long to, int[] sizes, boolean end) {
    GrpcClientRequest<UploadRequest, FileStatus> req = s.request;
    while (s.position < to) {
      if (s.reply.future().isComplete()) {
        s.sent.tryComplete();
        return;
      }
      if (req.writeQueueFull()) {
        req.drainHandler(v -> write(s, data, to, sizes, end));
        return;
      }
      int n = (int) Math.min(sizes[s.message++ % sizes.length], to - s.position);
      req.write(
          UploadRequest.newBuilder()
              .setData(ByteString.copyFrom(data.bytes(s.position, n)))
              .build());
      s.position += n;
    }
    if (end) {
      req.end();
    }
    s.sent.tryComplete();
  }

  static Stream upload(Api.User u, String fileId, int firstChunk, GeneratedBytes data, long to) {
    return stream(
        u == null ? null : u.accessToken(),
        List.of(UploadRequest.newBuilder().setStart(start(fileId, firstChunk)).build()),
        data,
        (firstChunk - 1) * CHUNK,
        to,
        SIZES,
        true);
  }

  // --- tests ---

  @Test
  void aBrokenStreamResumesFromTheMissingChunkAndTheDownloadIsByteIdentical() throws Exception {
    Api.User a = api.newUser("gfa");
    Api.User b = api.newUser("gfb");
    String conv = api.privateChat(a, b);
    GeneratedBytes data = new GeneratedBytes(System.nanoTime(), 2 * CHUNK + 1_600_000);
    String whole = data.sha256(0, data.size());
    String id = initiate(a, conv, data, whole).getFileId();

    // chunk 1 and part of chunk 2 on one open stream; chunk 1 is stored while it is still open
    Stream first =
        stream(
            a.accessToken(),
            List.of(UploadRequest.newBuilder().setStart(start(id, 1)).build()),
            data,
            0,
            CHUNK + 2 * MIB + 123,
            SIZES,
            false);
    Await.result(first.sent.future(), Duration.ofMinutes(1));
    Await.until(
        "chunk 1 stored while the stream is open",
        Duration.ofSeconds(60),
        () -> received(a, id).equals(List.of(1)));
    // the client dies in the middle of chunk 2: its part is reset, nothing of it is recorded
    first.cancel();
    assertThat(received(a, id)).containsExactly(1);
    expectError(
        api.grpc(
            FileServiceGrpcClient.CompleteUpload,
            CompleteUploadRequest.newBuilder().setFileId(id).build(),
            a.accessToken()),
        GrpcStatus.ALREADY_EXISTS,
        "conflict");

    // resume from the first missing chunk to the end: stored and completed by the stream's end
    Api.GrpcRes<FileStatus> done = upload(a, id, 2, data, data.size()).reply();
    assertThat(done.status()).as(done.message()).isEqualTo(GrpcStatus.OK);
    // 11.5 MiB is above the synchronous limit: verifying (or already completed)
    assertThat(done.value().getUploadStatus()).isIn("verifying", "completed");
    assertThat(done.value().getReceivedChunksList()).containsExactly(1, 2, 3);
    Await.until(
        "completed",
        Duration.ofSeconds(60),
        () -> "completed".equals(status(a, id).getUploadStatus()));
    FileStatus st = status(a, id);
    assertThat(st.getChecksumSha256()).isEqualTo(whole);
    assertThat(st.getSizeBytes()).isEqualTo(data.size());
    assertThat(st.getCompletedAt()).isNotEmpty();
    assertThat(st.getExpiresAt()).isEmpty();
    assertThat(st.getFilename()).isEqualTo("notes final.bin");
    assertThat(st.getConversationId()).isEqualTo(conv);

    // the other member downloads through the presigned URL: byte-identical
    Api.GrpcRes<FileDownload> link =
        api.grpc(
            FileServiceGrpcClient.GetDownloadUrl,
            GetDownloadUrlRequest.newBuilder().setFileId(id).build(),
            b.accessToken());
    assertThat(link.status()).as(link.message()).isEqualTo(GrpcStatus.OK);
    assertThat(link.value().getExpiresAt()).isNotEmpty();
    assertThat(link.value().getFile().getChecksum()).isEqualTo(whole);
    assertThat(link.value().getFile().getSizeBytes()).isEqualTo(data.size());
    HttpResponse<byte[]> body =
        http.send(
            HttpRequest.newBuilder(URI.create(link.value().getUrl()))
                .timeout(Duration.ofSeconds(60))
                .GET()
                .build(),
            HttpResponse.BodyHandlers.ofByteArray());
    assertThat(body.statusCode()).isEqualTo(200);
    assertThat(body.body().length).isEqualTo(data.size());
    assertThat(sha(body.body())).isEqualTo(whole);

    // a file message's reference in gRPC history carries the checksum
    api.post(
            "/v1/messages",
            a.accessToken(),
            new JsonObject()
                .put("conversation_id", conv)
                .put("message_id", UUID.randomUUID().toString())
                .put("payload", new JsonObject().put("type", "file").put("file_id", id)))
        .expect(202);
    ListMessagesRequest history =
        ListMessagesRequest.newBuilder().setConversationId(conv).setAfterSeq(0).build();
    Await.until(
        "the file message in history",
        Duration.ofSeconds(60),
        () ->
            api.grpc(MessageServiceGrpcClient.ListMessages, history, b.accessToken())
                    .value()
                    .getItemsCount()
                == 1);
    ListMessagesReply page =
        api.grpc(MessageServiceGrpcClient.ListMessages, history, b.accessToken()).value();
    MessageFileReference ref = page.getItems(0).getPayload().getFileReference();
    assertThat(ref.getFileId()).isEqualTo(id);
    assertThat(ref.getChecksum()).isEqualTo(whole);
    assertThat(ref.getSizeBytes()).isEqualTo(data.size());

    // streaming into a completed file: refused, the file unchanged
    expectError(upload(a, id, 1, data, 1000).reply(), GrpcStatus.ALREADY_EXISTS, "conflict");
    assertThat(status(a, id).getUploadStatus()).isEqualTo("completed");
  }

  @Test
  void smallFilesCompleteWithTheStreamAndBadStreamsStoreNothing() {
    Api.User a = api.newUser("gfs");
    String conv = api.privateChat(a, api.newUser("gfs2"));
    GeneratedBytes data = new GeneratedBytes(11, 1000);
    String id = initiate(a, conv, data, data.sha256(0, 1000)).getFileId();

    // more bytes than the file has: refused, the chunk they fall in is not stored
    Api.GrpcRes<FileStatus> over =
        stream(
                a.accessToken(),
                List.of(UploadRequest.newBuilder().setStart(start(id, 1)).build()),
                new GeneratedBytes(11, 1500),
                0,
                1500,
                new int[] {700},
                true)
            .reply();
    expectError(over, GrpcStatus.RESOURCE_EXHAUSTED, "payload_too_large");
    assertThat(received(a, id)).isEmpty();

    // the stream ends inside the chunk: not stored, resumable
    Api.GrpcRes<FileStatus> short_ = upload(a, id, 1, data, 600).reply();
    expectError(short_, GrpcStatus.INVALID_ARGUMENT, "validation_failed");
    assertThat(short_.message()).contains("stream ended inside chunk 1");
    assertThat(
            new JsonObject(short_.trailers().get("chat4all-error-details"))
                .getInteger("chunk_number"))
        .isEqualTo(1);
    assertThat(received(a, id)).isEmpty();

    // a message over the server's limit
    expectError(
        stream(
                a.accessToken(),
                List.of(UploadRequest.newBuilder().setStart(start(id, 1)).build()),
                new GeneratedBytes(3, 300_000),
                0,
                300_000,
                new int[] {300_000},
                true)
            .reply(),
        GrpcStatus.RESOURCE_EXHAUSTED,
        "payload_too_large");

    // malformed streams: no start, a second start, a chunk beyond the file
    expectError(
        stream(
                a.accessToken(),
                List.of(
                    UploadRequest.newBuilder().setData(ByteString.copyFrom(new byte[10])).build()),
                data,
                0,
                0,
                SIZES,
                true)
            .reply(),
        GrpcStatus.INVALID_ARGUMENT,
        "validation_failed");
    expectError(
        stream(
                a.accessToken(),
                List.of(
                    UploadRequest.newBuilder().setStart(start(id, 1)).build(),
                    UploadRequest.newBuilder().setStart(start(id, 1)).build()),
                data,
                0,
                0,
                SIZES,
                true)
            .reply(),
        GrpcStatus.INVALID_ARGUMENT,
        "validation_failed");
    expectError(
        upload(a, id, 2, data, 0).reply(), GrpcStatus.INVALID_ARGUMENT, "validation_failed");
    assertThat(received(a, id)).isEmpty();

    // the whole file in one go: stored and, being small, completed before the answer
    Api.GrpcRes<FileStatus> done = upload(a, id, 1, data, 1000).reply();
    assertThat(done.status()).as(done.message()).isEqualTo(GrpcStatus.OK);
    assertThat(done.value().getUploadStatus()).isEqualTo("completed");
    assertThat(done.value().getChecksumSha256()).isEqualTo(data.sha256(0, 1000));
    assertThat(done.value().getReceivedChunksList()).containsExactly(1);
  }

  @Test
  void tokensForeignFilesWrongChecksumsAndAborts() {
    Api.User a = api.newUser("gfe");
    Api.User b = api.newUser("gfe2");
    Api.User stranger = api.newUser("gfe3");
    String conv = api.privateChat(a, b);
    GeneratedBytes data = new GeneratedBytes(5, 3 * MIB);
    String id = initiate(a, conv, data, "ab".repeat(32)).getFileId();

    // no token, on a unary call and on the stream
    expectError(getFile(null, id), GrpcStatus.UNAUTHENTICATED, "unauthenticated");
    expectError(
        upload(null, id, 1, data, 1000).reply(), GrpcStatus.UNAUTHENTICATED, "unauthenticated");
    assertThat(received(a, id)).isEmpty();

    // someone else's upload does not exist for them, neither do unknown or malformed ids
    expectError(getFile(b, id), GrpcStatus.NOT_FOUND, "not_found");
    expectError(getFile(stranger, id), GrpcStatus.NOT_FOUND, "not_found");
    expectError(getFile(a, UUID.randomUUID().toString()), GrpcStatus.NOT_FOUND, "not_found");
    expectError(getFile(a, "not-a-uuid"), GrpcStatus.NOT_FOUND, "not_found");
    expectError(upload(b, id, 1, data, 1000).reply(), GrpcStatus.NOT_FOUND, "not_found");
    expectError(
        upload(stranger, UUID.randomUUID().toString(), 1, data, 1000).reply(),
        GrpcStatus.NOT_FOUND,
        "not_found");
    expectError(
        api.grpc(
            FileServiceGrpcClient.AbortUpload,
            AbortUploadRequest.newBuilder().setFileId(id).build(),
            b.accessToken()),
        GrpcStatus.NOT_FOUND,
        "not_found");
    assertThat(received(a, id)).isEmpty();

    // initiation is validated as over REST
    expectError(
        api.grpc(
            FileServiceGrpcClient.InitiateUpload,
            InitiateUploadRequest.newBuilder()
                .setFilename("x.mp4")
                .setSizeBytes(10)
                .setMimeType("video/mp4")
                .setConversationId(conv)
                .build(),
            a.accessToken()),
        GrpcStatus.INVALID_ARGUMENT,
        "unsupported_media_type");
    expectError(
        api.grpc(
            FileServiceGrpcClient.InitiateUpload,
            InitiateUploadRequest.newBuilder()
                .setFilename("x.bin")
                .setMimeType("application/octet-stream")
                .setConversationId(conv)
                .build(),
            a.accessToken()),
        GrpcStatus.INVALID_ARGUMENT,
        "validation_failed");
    expectError(
        api.grpc(
            FileServiceGrpcClient.InitiateUpload,
            InitiateUploadRequest.newBuilder()
                .setFilename("x.bin")
                .setSizeBytes(10)
                .setMimeType("application/octet-stream")
                .setConversationId(api.privateChat(b, stranger))
                .build(),
            a.accessToken()),
        GrpcStatus.NOT_FOUND,
        "not_found");

    // the whole file under a wrong whole-file checksum: stored, then the upload fails
    Api.GrpcRes<FileStatus> bad = upload(a, id, 1, data, data.size()).reply();
    expectError(bad, GrpcStatus.INVALID_ARGUMENT, "checksum_mismatch");
    FileStatus failed = status(a, id);
    assertThat(failed.getUploadStatus()).isEqualTo("failed");
    assertThat(failed.getFailureReason()).contains("SHA-256");
    expectError(
        api.grpc(
            FileServiceGrpcClient.GetDownloadUrl,
            GetDownloadUrlRequest.newBuilder().setFileId(id).build(),
            a.accessToken()),
        GrpcStatus.ALREADY_EXISTS,
        "conflict");
    expectError(
        api.grpc(
            FileServiceGrpcClient.CompleteUpload,
            CompleteUploadRequest.newBuilder().setFileId(id).build(),
            a.accessToken()),
        GrpcStatus.INVALID_ARGUMENT,
        "checksum_mismatch");

    // an abort by the uploader; nothing is streamed into an aborted upload
    String other = initiate(a, conv, data, null).getFileId();
    expectError(
        api.grpc(
            FileServiceGrpcClient.CompleteUpload,
            CompleteUploadRequest.newBuilder().setFileId(other).setChecksumSha256("xyz").build(),
            a.accessToken()),
        GrpcStatus.INVALID_ARGUMENT,
        "validation_failed");
    Api.GrpcRes<FileStatus> aborted =
        api.grpc(
            FileServiceGrpcClient.AbortUpload,
            AbortUploadRequest.newBuilder().setFileId(other).build(),
            a.accessToken());
    assertThat(aborted.status()).as(aborted.message()).isEqualTo(GrpcStatus.OK);
    assertThat(aborted.value().getUploadStatus()).isEqualTo("aborted");
    expectError(upload(a, other, 1, data, 1000).reply(), GrpcStatus.ALREADY_EXISTS, "conflict");
    assertThat(received(a, other)).isEmpty();
  }
}
