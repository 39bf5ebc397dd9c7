package io.chat4all.files;

import io.chat4all.codecs.Addresses;
import io.chat4all.codecs.ErrorCode;
import io.chat4all.codecs.ServiceBus;
import io.chat4all.codecs.ServiceException;
import io.chat4all.proto.v1.AbortUploadRequest;
import io.chat4all.proto.v1.CompleteUploadRequest;
import io.chat4all.proto.v1.FileDownload;
import io.chat4all.proto.v1.FileServiceGrpcService;
import io.chat4all.proto.v1.FileStatus;
import io.chat4all.proto.v1.GetDownloadUrlRequest;
import io.chat4all.proto.v1.GetFileRequest;
import io.chat4all.proto.v1.InitiateUploadRequest;
import io.chat4all.proto.v1.MessageFileReference;
import io.chat4all.proto.v1.UploadRequest;
import io.chat4all.proto.v1.UploadStart;
import io.chat4all.web.Bodies;
import io.chat4all.web.GrpcModule;
import io.chat4all.web.GrpcUnary;
import io.chat4all.web.ProtoJson;
import io.chat4all.web.TokenVerifier;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.grpc.common.GrpcError;
import io.vertx.grpc.common.MessageSizeOverflowException;
import io.vertx.grpc.server.GrpcServer;
import io.vertx.grpc.server.GrpcServerRequest;
import io.vertx.grpc.server.GrpcServerResponse;
import io.vertx.grpc.server.Service;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.Function;

/**
 * gRPC edge of the files service ({@code chat4all.v1.FileService}): the same event-bus actions,
 * validation, rules and error model as {@link FileRoutes}. {@code Upload} is a client stream of the
 * file's bytes that is cut at chunk boundaries and streamed chunk by chunk into the S3 parts
 * through {@link ChunkIngest}, pausing the stream while S3 is behind: memory per call stays at a
 * few messages whatever the chunk size.
 */
public class FileGrpc implements GrpcModule {
  private final Vertx vertx;
  private final TokenVerifier verifier;
  private final ChunkIngest ingest;

  public FileGrpc(Vertx vertx, TokenVerifier verifier, ChunkIngest ingest) {
    this.vertx = vertx;
    this.verifier = verifier;
    this.ingest = ingest;
  }

  private Future<JsonObject> call(String action, JsonObject body) {
    return ServiceBus.request(vertx, Addresses.FILES, action, body);
  }

  private Future<JsonObject> authed(
      GrpcUnary.Call c, String action, Function<JsonObject, JsonObject> request) {
    return GrpcUnary.authed(vertx, verifier, c, Addresses.FILES, action, request);
  }

  @Override
  public void register(GrpcServer server) {
    server.addService(
        Service.service(
                FileServiceGrpcService.SERVICE_NAME, FileServiceGrpcService.SERVICE_DESCRIPTOR)
            .bind(
                FileServiceGrpcService.InitiateUpload,
                GrpcUnary.handler(
                    (InitiateUploadRequest req, GrpcUnary.Call c) ->
                        authed(c, FileActions.INITIATE, me -> initiateBody(req).mergeIn(me))
                            .map(FileGrpc::status)))
            .bind(
                FileServiceGrpcService.GetFile,
                GrpcUnary.handler(
                    (GetFileRequest req, GrpcUnary.Call c) ->
                        authed(c, FileActions.STATUS, me -> byId(me, req.getFileId()))
                            .map(FileGrpc::status)))
            .bind(FileServiceGrpcService.Upload, request -> new UploadCall(request).start())
            .bind(
                FileServiceGrpcService.CompleteUpload,
                GrpcUnary.handler(
                    (CompleteUploadRequest req, GrpcUnary.Call c) ->
                        authed(
                                c,
                                FileActions.COMPLETE,
                                me -> {
                                  JsonObject r = byId(me, req.getFileId());
                                  if (!req.getChecksumSha256().isEmpty()) {
                                    r.put(
                                        "checksum_sha256",
                                        Bodies.optionalString(
                                            new JsonObject()
                                                .put("checksum_sha256", req.getChecksumSha256()),
                                            "checksum_sha256",
                                            64,
                                            64));
                                  }
                                  return r;
                                })
                            .map(FileGrpc::status)))
            .bind(
                FileServiceGrpcService.AbortUpload,
                GrpcUnary.handler(
                    (AbortUploadRequest req, GrpcUnary.Call c) ->
                        authed(c, FileActions.ABORT, me -> byId(me, req.getFileId()))
                            .map(FileGrpc::status)))
            .bind(
                FileServiceGrpcService.GetDownloadUrl,
                GrpcUnary.handler(
                    (GetDownloadUrlRequest req, GrpcUnary.Call c) ->
                        authed(c, FileActions.DOWNLOAD, me -> byId(me, req.getFileId()))
                            .map(FileGrpc::download)))
            .build());
  }

  // --- requests ---

  /** The REST JSON body of an initiation; empty strings and 0 are absent. */
  static JsonObject initiateBody(InitiateUploadRequest req) {
    JsonObject body = new JsonObject();
    ProtoJson.putIfSet(body, "filename", req.getFilename());
    if (req.getSizeBytes() != 0) {
      body.put("size_bytes", req.getSizeBytes());
    }
    ProtoJson.putIfSet(body, "mime_type", req.getMimeType());
    ProtoJson.putIfSet(body, "checksum_sha256", req.getChecksumSha256());
    ProtoJson.putIfSet(body, "conversation_id", req.getConversationId());
    return body;
  }

  private static JsonObject byId(JsonObject me, String fileId) {
    return me.put("file_id", Bodies.idOrNotFound("file_id", fileId));
  }

  // --- replies ---

  static FileStatus status(JsonObject j) {
    FileStatus.Builder b =
        FileStatus.newBuilder()
            .setFileId(ProtoJson.str(j, "file_id"))
            .setUploadStatus(ProtoJson.str(j, "upload_status"))
            .setFilename(ProtoJson.str(j, "filename"))
            .setSizeBytes(ProtoJson.num(j, "size_bytes"))
            .setMimeType(ProtoJson.str(j, "mime_type"))
            .setConversationId(ProtoJson.str(j, "conversation_id"))
            .setChunkSize(ProtoJson.num(j, "chunk_size"))
            .setTotalChunks((int) ProtoJson.num(j, "total_chunks"))
            .setUploadedBy(ProtoJson.str(j, "uploaded_by"))
            .setChecksumSha256(ProtoJson.str(j, "checksum_sha256"))
            .setCreatedAt(ProtoJson.str(j, "created_at"))
            .setExpiresAt(ProtoJson.str(j, "expires_at"))
            .setCompletedAt(ProtoJson.str(j, "completed_at"))
            .setFailureReason(ProtoJson.str(j, "failure_reason"));
    JsonArray received = j.getJsonArray("received_chunks", new JsonArray());
    for (int i = 0; i < received.size(); i++) {
      b.addReceivedChunks(received.getInteger(i));
    }
    return b.build();
  }

  static FileDownload download(JsonObject j) {
    FileDownload.Builder b =
        FileDownload.newBuilder()
            .setUrl(ProtoJson.str(j, "url"))
            .setExpiresAt(ProtoJson.str(j, "expires_at"));
    JsonObject f = j.getJsonObject("file");
    if (f != null) {
      b.setFile(
          MessageFileReference.newBuilder()
              .setFileId(ProtoJson.str(f, "file_id"))
              .setFilename(ProtoJson.str(f, "filename"))
              .setSizeBytes(ProtoJson.num(f, "size_bytes"))
              .setMimeType(ProtoJson.str(f, "mime_type"))
              .setChecksum(ProtoJson.str(f, "checksum")));
    }
    return b.build();
  }

  /** Ends the call with the error model's status, message and trailers (as {@link GrpcUnary}). */
  static void answerError(GrpcServerResponse<?, ?> response, Throwable failure) {
    GrpcUnary.fail(response, failure);
  }

  // --- the Upload stream ---

  private static ServiceException invalidStream(String message) {
    return new ServiceException(
        ErrorCode.VALIDATION_FAILED, message, new JsonObject().put("field", "start"));
  }

  /**
   * One {@code Upload} call. The request stream is read one message at a time ({@code fetch(1)}
   * once a message is fully handed to S3), so a slow part pauses the client through gRPC flow
   * control. Chunks are finished (length checked, SHA-256 recorded) while the next one streams.
   */
  private final class UploadCall {
    private final GrpcServerRequest<UploadRequest, FileStatus> request;
    private String userId;
    private boolean started;
    private String fileId;
    private long size;
    private long chunkSize;
    private int total;

    /** The chunk the next byte belongs to. */
    private int next;

    /** The file offset of the next byte. */
    private long position;

    /** The chunk being streamed into its part, or null between chunks. */
    private ChunkIngest.Slot slot;

    /** Chunks whose parts are ending and being recorded. */
    private final List<Future<JsonObject>> stored = new ArrayList<>();

    /** Answered, failed or broken: nothing more is read or stored. */
    private boolean over;

    UploadCall(GrpcServerRequest<UploadRequest, FileStatus> request) {
      this.request = request;
    }

    void start() {
      request.pause();
      request.handler(this::onMessage);
      request.endHandler(v -> onEnd());
      request.errorHandler(this::broken);
      request.exceptionHandler(e -> broken(GrpcError.CANCELLED));
      request.invalidMessageHandler(
          e ->
              fail(
                  e instanceof MessageSizeOverflowException o
                      ? new ServiceException(
                          ErrorCode.PAYLOAD_TOO_LARGE,
                          "a message of "
                              + o.messageSize()
                              + " bytes is larger than the server accepts; send smaller ones")
                      : new ServiceException(
                          ErrorCode.BAD_REQUEST, "a message could not be read")));
      String remote =
          request.connection() == null || request.connection().remoteAddress() == null
              ? "unknown"
              : request.connection().remoteAddress().hostAddress();
      GrpcUnary.principal(verifier, new GrpcUnary.Call(request.headers(), remote))
          .onSuccess(
              p -> {
                userId = p.userId();
                if (!over) {
                  request.fetch(1);
                }
              })
          .onFailure(this::fail);
    }

    private void onMessage(UploadRequest m) {
      if (over) {
        return;
      }
      if (!started) {
        started = true;
        if (!m.hasStart()) {
          fail(invalidStream("the first message must be start (file_id and first_chunk)"));
          return;
        }
        begin(m.getStart());
        return;
      }
      if (m.getContentCase() != UploadRequest.ContentCase.DATA) {
        fail(invalidStream("only the first message may be start; the others carry data"));
        return;
      }
      int n = m.getData().size();
      if (n == 0) {
        request.fetch(1);
        return;
      }
      if (position + n > size) {
        fail(
            new ServiceException(
                ErrorCode.PAYLOAD_TOO_LARGE,
                "the stream has more bytes than the file's "
                    + size
                    + "; chunk "
                    + next
                    + " was not stored",
                new JsonObject().put("size_bytes", size).put("chunk_number", next)));
        return;
      }
      consume(Buffer.buffer(m.getData().toByteArray()), 0);
    }

    private void begin(UploadStart start) {
      String id;
      try {
        id = Bodies.idOrNotFound("file_id", start.getFileId());
      } catch (ServiceException e) {
        fail(e);
        return;
      }
      call(FileActions.STATUS, new JsonObject().put("user_id", userId).put("file_id", id))
          .onSuccess(
              st -> {
                if (over) {
                  return;
                }
                if (!userId.equals(st.getString("uploaded_by"))) {
                  // a member sees a completed file, but only its uploader uploads
                  fail(new ServiceException(ErrorCode.NOT_FOUND, "file not found"));
                  return;
                }
                size = st.getLong("size_bytes");
                chunkSize = st.getLong("chunk_size");
                total = st.getInteger("total_chunks");
                int first = start.getFirstChunk() == 0 ? 1 : start.getFirstChunk();
                if (first < 1 || first > total) {
                  fail(
                      new ServiceException(
                          ErrorCode.VALIDATION_FAILED,
                          "first_chunk must be between 1 and " + total,
                          new JsonObject().put("field", "first_chunk").put("total_chunks", total)));
                  return;
                }
                fileId = id;
                next = first;
                position = (first - 1) * chunkSize;
                request.fetch(1);
              })
          .onFailure(this::fail);
    }

    private long chunkLength(int n) {
      return n < total ? chunkSize : size - chunkSize * (total - 1);
    }

    /** Streams {@code buf} from {@code offset} into the parts, then asks for the next message. */
    private void consume(Buffer buf, int offset) {
      int at = offset;
      while (at < buf.length()) {
        if (over) {
          return;
        }
        if (slot == null) {
          int from = at;
          ingest
              .open(userId, fileId, next, chunkLength(next))
              .onSuccess(
                  s -> {
                    if (over) {
                      s.writer().reset(new ServiceException(ErrorCode.BAD_REQUEST, "call over"));
                      return;
                    }
                    slot = s;
                    s.writer().failureHandler(f -> fail(s.writer().failure()));
                    consume(buf, from);
                  })
              .onFailure(this::fail);
          return;
        }
        PartWriter w = slot.writer();
        int take = (int) Math.min(w.length() - w.received(), buf.length() - at);
        w.write(buf.slice(at, at + take));
        at += take;
        position += take;
        if (w.failure() != null) {
          fail(w.failure());
          return;
        }
        if (w.received() == w.length()) {
          ChunkIngest.Slot full = slot;
          slot = null;
          next++;
          Future<JsonObject> f = ingest.finish(full, null);
          stored.add(f);
          f.onFailure(this::fail);
        } else if (w.writeQueueFull()) {
          int from = at;
          w.drainHandler(
              v -> {
                w.drainHandler(null);
                consume(buf, from);
              });
          return;
        }
      }
      if (!over) {
        request.fetch(1);
      }
    }

    private void onEnd() {
      if (over) {
        return;
      }
      if (fileId == null) {
        fail(invalidStream("the stream ended before its start message"));
        return;
      }
      if (slot != null) {
        int n = slot.chunkNumber();
        PartWriter w = slot.writer();
        fail(
            new ServiceException(
                ErrorCode.VALIDATION_FAILED,
                "the stream ended inside chunk "
                    + n
                    + " ("
                    + w.received()
                    + " of its "
                    + w.length()
                    + " bytes); it was not stored: resume with first_chunk "
                    + n,
                new JsonObject()
                    .put("chunk_number", n)
                    .put("received_bytes", w.received())
                    .put("expected_bytes", w.length())));
        return;
      }
      Future.all(stored)
          .compose(
              x ->
                  call(
                      FileActions.STATUS,
                      new JsonObject().put("user_id", userId).put("file_id", fileId)))
          .compose(
              st ->
                  st.getJsonArray("received_chunks", new JsonArray()).size() == total
                      ? call(
                          FileActions.COMPLETE,
                          new JsonObject().put("user_id", userId).put("file_id", fileId))
                      : Future.succeededFuture(st))
          .onComplete(
              r -> {
                if (over) {
                  return;
                }
                if (r.failed()) {
                  fail(r.cause());
                  return;
                }
                over = true;
                request.response().end(status(r.result()));
              });
    }

    /**
     * Ends the call with {@code err}: the open part is reset (its chunk is not stored), the rest of
     * the stream is read and dropped, and the answer waits for the chunks already ending so a
     * status asked for after it shows them.
     */
    private void fail(Throwable err) {
      if (over) {
        return;
      }
      over = true;
      resetSlot(err);
      request.handler(m -> {});
      request.resume();
      Future.join(stored).onComplete(x -> answerError(request.response(), err));
    }

    /** The client cancelled or the connection broke: the open part is reset, nothing answered. */
    private void broken(GrpcError error) {
      if (over) {
        return;
      }
      over = true;
      resetSlot(
          new ServiceException(
              ErrorCode.BAD_REQUEST,
              "the upload stream broke off (" + error.name().toLowerCase(Locale.ROOT) + ")"));
    }

    private void resetSlot(Throwable cause) {
      if (slot != null) {
        slot.writer().reset(cause);
        slot = null;
      }
    }
  }
}
