package io.chat4all.files;

import io.chat4all.codecs.ErrorCode;
import io.chat4all.codecs.ServiceException;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.Promise;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClientRequest;
import io.vertx.core.http.HttpClientResponse;
import io.vertx.core.json.JsonObject;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * One part's bytes on their way to S3: written through as they arrive (the caller pauses its source
 * while {@link #writeQueueFull()}), hashed on the way, and counted. The last write (up to {@link
 * #WRITE_BYTES} plus the piece that came after it) is held back until {@link #end} has checked the
 * length and the SHA-256: a wrong part is reset before S3 has all of it, so S3 never stores it and
 * a part stored earlier under the same number stays intact.
 *
 * <p>Small pieces are gathered into writes of about {@link #WRITE_BYTES}: each write to the storage
 * connection is a socket write of its own, so forwarding a part piece by piece as the client's
 * bytes arrive would cost a system call per piece.
 */
public final class PartWriter {
  /** Bytes gathered before they are written to S3 (held back: this plus one more piece). */
  static final int WRITE_BYTES = 128 * 1024;

  private final HttpClientRequest request;
  private final long length;
  private final MessageDigest digest;
  private final Promise<HttpClientResponse> early = Promise.promise();

  /** Bytes received and not yet written: the last piece, with those gathered before it. */
  private Buffer held;

  /**
   * Whether {@link #held} is this writer's own buffer (else the caller's piece, not to append to).
   */
  private boolean gathering;

  private long received;
  private boolean finished;
  private Throwable failure;
  private Handler<Throwable> failureHandler;

  PartWriter(HttpClientRequest request, long length) {
    this.request = request;
    this.length = length;
    try {
      this.digest = MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
    request.exceptionHandler(this::failed);
    request
        .response()
        .onComplete(
            r -> {
              if (r.succeeded()) {
                early.tryComplete(r.result());
                if (!finished && r.result().statusCode() != 200) {
                  failed(storageRefused(r.result().statusCode()));
                }
              } else {
                early.tryFail(r.cause());
                failed(r.cause());
              }
            });
  }

  private void failed(Throwable e) {
    if (failure == null && !finished) {
      failure = storageUnavailable(e);
      if (failureHandler != null) {
        failureHandler.handle(failure);
      }
    }
  }

  /**
   * Called once if S3 refuses the part or the connection to it breaks before the part ended, with
   * the failure as a service error (conflict when S3 no longer knows the upload, else unavailable).
   */
  public void failureHandler(Handler<Throwable> handler) {
    this.failureHandler = handler;
  }

  /** Bytes of the part written so far (including the one held back). */
  public long received() {
    return received;
  }

  /** The part's expected length. */
  public long length() {
    return length;
  }

  /** Set when S3 refused or the connection to it broke; stop sending, answer with it. */
  public Throwable failure() {
    return failure;
  }

  /** False once more bytes arrived than the part may have. */
  public boolean write(Buffer data) {
    if (finished) {
      return false;
    }
    received += data.length();
    if (received > length) {
      return false;
    }
    digest.update(data.getBytes());
    if (held == null) {
      held = data;
    } else if (held.length() >= WRITE_BYTES) {
      request.write(held);
      held = data;
      gathering = false;
    } else {
      if (!gathering) {
        held = Buffer.buffer(WRITE_BYTES + data.length()).appendBuffer(held);
        gathering = true;
      }
      held.appendBuffer(data);
    }
    return true;
  }

  public boolean writeQueueFull() {
    return request.writeQueueFull();
  }

  public void drainHandler(Handler<Void> handler) {
    request.drainHandler(handler);
  }

  /**
   * Finishes the part: checks its length and (when given) its SHA-256, then lets S3 have the last
   * bytes and waits for its ETag.
   */
  public Future<Part> end(String expectedSha256) {
    if (finished) {
      return Future.failedFuture(new IllegalStateException("part already ended"));
    }
    if (failure != null) {
      reset(failure);
      return Future.failedFuture(ServiceException.from(failure));
    }
    if (received != length) {
      ServiceException e =
          new ServiceException(
              received > length ? ErrorCode.PAYLOAD_TOO_LARGE : ErrorCode.VALIDATION_FAILED,
              "the chunk has "
                  + (received > length ? "more than " + length : received)
                  + " bytes; it must have exactly "
                  + length,
              new JsonObject().put("expected_bytes", length).put("received_bytes", received));
      reset(e);
      return Future.failedFuture(e);
    }
    String actual = HexFormat.of().formatHex(digest.digest());
    if (expectedSha256 != null && !expectedSha256.equals(actual)) {
      ServiceException e =
          new ServiceException(
              ErrorCode.CHECKSUM_MISMATCH,
              "the chunk's SHA-256 is "
                  + actual
                  + ", not the "
                  + expectedSha256
                  + " it was sent with",
              new JsonObject().put("expected", expectedSha256).put("actual", actual));
      reset(e);
      return Future.failedFuture(e);
    }
    finished = true;
    Future<Void> ended = held == null ? request.end() : request.end(held);
    held = null;
    return ended
        .compose(x -> early.future())
        .recover(err -> Future.failedFuture(storageUnavailable(err)))
        .compose(
            resp -> {
              if (resp.statusCode() != 200) {
                return resp.body()
                    .transform(b -> Future.failedFuture(storageRefused(resp.statusCode())));
              }
              String etag = resp.getHeader("ETag");
              return resp.body().map(b -> new Part(etag, actual, length));
            });
  }

  /** Abandons the part: S3 gets an incomplete request and stores nothing. */
  public void reset(Throwable cause) {
    if (!finished) {
      finished = true;
      held = null;
      request.reset(0, cause);
    }
  }

  private static ServiceException storageRefused(int status) {
    if (status == 404) {
      // NoSuchUpload: the upload was aborted, expired or completed while the chunk was on its way
      return new ServiceException(
          ErrorCode.CONFLICT, "the upload is no longer in progress; chunks are not accepted");
    }
    return new ServiceException(
        ErrorCode.UNAVAILABLE, "file storage refused the chunk (S3 status " + status + ")");
  }

  private static ServiceException storageUnavailable(Throwable err) {
    return err instanceof ServiceException se
        ? se
        : new ServiceException(
            ErrorCode.UNAVAILABLE, "file storage is unreachable: " + err.getMessage());
  }

  /** A stored part: S3's ETag, the bytes' SHA-256 (hex) and their count. */
  public record Part(String etag, String sha256, long size) {}
}
