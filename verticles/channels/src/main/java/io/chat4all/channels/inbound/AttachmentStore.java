package io.chat4all.channels.inbound;

import io.chat4all.channel.spi.ConnectorException;
import io.chat4all.channel.spi.ErrorClass;
import io.chat4all.channel.spi.InboundEvent;
import io.chat4all.channel.spi.InboundMedia;
import io.chat4all.channel.spi.MediaDownload;
import io.chat4all.channel.spi.support.AbortableStream;
import io.chat4all.channels.ActiveConnector;
import io.chat4all.channels.ConnectorRegistry;
import io.chat4all.codecs.Addresses;
import io.chat4all.codecs.ErrorCode;
import io.chat4all.codecs.ServiceBus;
import io.chat4all.codecs.ServiceException;
import io.chat4all.files.ChunkIngest;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.core.streams.ReadStream;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * An inbound attachment as a platform file of the contact in the conversation: downloaded through
 * the connector ({@code fetchMedia}, at most {@code channels.inbound.max_media_bytes}) and streamed
 * into the files service's resumable upload chunk by chunk (never whole in memory), completed and
 * verified like any upload. What cannot be taken (too large, refused by the provider, of unknown
 * size) becomes a notice in the message text instead.
 */
final class AttachmentStore {
  private static final Pattern MIME =
      Pattern.compile(
          "[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}");

  /** What became of the message's attachment: a file id and payload type, or a notice. */
  record Stored(String fileId, String payloadType, String notice) {}

  private final Vertx vertx;
  private final ConnectorRegistry registry;
  private final ChunkIngest ingest;
  private final long maxBytes;
  private final long stallTimeoutMs;

  AttachmentStore(
      Vertx vertx,
      ConnectorRegistry registry,
      ChunkIngest ingest,
      long maxBytes,
      long stallTimeoutMs) {
    this.vertx = vertx;
    this.registry = registry;
    this.ingest = ingest;
    this.maxBytes = maxBytes;
    this.stallTimeoutMs = stallTimeoutMs;
  }

  Future<Stored> store(String channel, InboundEvent.Message m, String contact, String conv) {
    if (m.media().isEmpty()) {
      return Future.succeededFuture();
    }
    InboundMedia media = m.media().get(0);
    String more =
        m.media().size() > 1 ? (m.media().size() - 1) + " more attachment(s) not shown" : null;
    Optional<ActiveConnector> active = registry.active(channel);
    if (active.isEmpty()) {
      return Future.failedFuture(
          new ServiceException(ErrorCode.UNAVAILABLE, "no connector for " + channel + " now"));
    }
    // the download's events come on the connector's context; everything below runs on this one
    Context caller = vertx.getOrCreateContext();
    Context[] connectorContext = {null};
    // the connector stays in flight (a replacement's drain waits) until its download is read
    Promise<Void> read = Promise.promise();
    return active
        .get()
        .<MediaDownload>call(
            c -> {
              connectorContext[0] = Vertx.currentContext();
              return c.fetchMedia(media, maxBytes);
            },
            read.future())
        .map(
            d ->
                new MediaDownload(
                    new CallerContextStream<>(d.stream(), caller, connectorContext[0]),
                    d.mimeType(),
                    d.sizeBytes(),
                    d.filename()))
        .compose(d -> upload(d, media, contact, conv))
        .map(fileId -> new Stored(fileId, payloadType(media), more))
        .recover(
            err -> {
              if (err instanceof ConnectorException ce
                  && ce.errorClass() == ErrorClass.MEDIA_REJECTED) {
                return Future.succeededFuture(
                    new Stored(
                        null,
                        null,
                        "the attachment "
                            + name(media)
                            + " could not be taken: "
                            + ce.getMessage()
                            + (more == null ? "" : "; " + more)));
              }
              return Future.failedFuture(err);
            })
        .onComplete(done -> read.tryComplete());
  }

  private static String payloadType(InboundMedia m) {
    return switch (m.kind()) {
      case IMAGE -> "image";
      case VIDEO -> "video";
      case AUDIO -> "audio";
      case DOCUMENT -> "file";
    };
  }

  private static String name(InboundMedia m) {
    String n = m.filename() == null ? "attachment" : m.filename();
    StringBuilder b = new StringBuilder();
    for (char c : n.toCharArray()) {
      b.append(c < 0x20 || c == 0x7f ? '_' : c);
    }
    String s = b.toString().strip();
    s = s.isEmpty() ? "attachment" : s;
    return s.length() > 255 ? s.substring(s.length() - 255) : s;
  }

  private Future<String> upload(MediaDownload d, InboundMedia media, String contact, String conv) {
    long size = d.sizeBytes();
    if (size <= 0) {
      giveUp(d);
      return Future.failedFuture(
          ConnectorException.of(
              ErrorClass.MEDIA_REJECTED, null, "the provider did not say how large it is"));
    }
    String mime =
        d.mimeType() != null && MIME.matcher(d.mimeType()).matches()
            ? d.mimeType()
            : "application/octet-stream";
    JsonObject init =
        new JsonObject()
            .put("user_id", contact)
            .put("filename", name(media))
            .put("size_bytes", size)
            .put("mime_type", mime)
            .put("conversation_id", conv);
    return ServiceBus.request(vertx, Addresses.FILES, "initiate", init)
        .compose(
            file -> {
              String fileId = file.getString("file_id");
              long chunk = file.getLong("chunk_size");
              int total = file.getInteger("total_chunks");
              return chunks(d.stream(), contact, fileId, size, chunk, 1, total)
                  .compose(
                      v ->
                          ServiceBus.request(
                              vertx,
                              Addresses.FILES,
                              "complete",
                              new JsonObject().put("user_id", contact).put("file_id", fileId)))
                  .map(done -> fileId)
                  .recover(
                      err -> {
                        giveUp(d);
                        return ServiceBus.request(
                                vertx,
                                Addresses.FILES,
                                "abort",
                                new JsonObject().put("user_id", contact).put("file_id", fileId))
                            .transform(x -> Future.failedFuture(err));
                      });
            },
            err -> {
              giveUp(d);
              // a type or size the files service refuses is a notice, not a retry
              ErrorCode code = ServiceException.from(err).code();
              return code.httpStatus() < 500
                  ? Future.failedFuture(
                      ConnectorException.of(
                          ErrorClass.MEDIA_REJECTED, null, ServiceException.from(err).getMessage()))
                  : Future.failedFuture(err);
            });
  }

  /** Lets the download go: a download no longer wanted must not hold its provider connection. */
  private static void giveUp(MediaDownload d) {
    if (d.stream() instanceof AbortableStream<?> a) {
      a.abort();
    } else {
      d.stream().handler(null);
      d.stream().resume();
    }
  }

  /** The download, cut into parts: bytes past the end of one part wait for the next. */
  private static final class Source {
    final ReadStream<Buffer> stream;
    Buffer carry;
    boolean ended;

    Source(ReadStream<Buffer> stream) {
      this.stream = stream;
    }
  }

  private Future<Void> chunks(
      ReadStream<Buffer> stream,
      String contact,
      String fileId,
      long size,
      long chunkSize,
      int n,
      int total) {
    return chunks(new Source(stream), contact, fileId, size, chunkSize, n, total);
  }

  /** Chunk {@code n} of {@code total} from the download, then the next. */
  private Future<Void> chunks(
      Source source, String contact, String fileId, long size, long chunkSize, int n, int total) {
    if (n > total) {
      return Future.succeededFuture();
    }
    long length = n < total ? chunkSize : size - chunkSize * (total - 1);
    return ingest
        .open(contact, fileId, n, length)
        .compose(slot -> part(source, slot, length).compose(v -> ingest.finish(slot, null)))
        .compose(v -> chunks(source, contact, fileId, size, chunkSize, n + 1, total));
  }

  /**
   * Exactly {@code length} bytes of the download into the slot; the download paused after. Fails as
   * retryable when the download breaks or ends early, when storage fails, and when no byte has
   * moved for {@code stallTimeoutMs} (the slot is reset, so nothing of the part is stored).
   */
  private Future<Void> part(Source src, ChunkIngest.Slot slot, long length) {
    Promise<Void> done = Promise.promise();
    long[] left = {length};
    long[] moved = {System.nanoTime()};
    ReadStream<Buffer> stream = src.stream;
    java.util.function.Consumer<Buffer> take =
        buf -> {
          if (done.future().isComplete()) {
            src.carry = src.carry == null ? buf : src.carry.appendBuffer(buf);
            return;
          }
          moved[0] = System.nanoTime();
          Buffer now = buf;
          if (buf.length() > left[0]) {
            now = buf.getBuffer(0, (int) left[0]);
            Buffer rest = buf.getBuffer((int) left[0], buf.length());
            src.carry = src.carry == null ? rest : src.carry.appendBuffer(rest);
          }
          slot.writer().write(now);
          left[0] -= now.length();
          if (left[0] == 0) {
            stream.pause();
            done.tryComplete();
          } else if (slot.writer().writeQueueFull()) {
            stream.pause();
            slot.writer()
                .drainHandler(
                    x -> {
                      moved[0] = System.nanoTime();
                      if (!done.future().isComplete()) {
                        stream.resume();
                      }
                    });
          }
        };
    stream.exceptionHandler(
        e -> {
          slot.writer().reset(e);
          done.tryFail(e);
        });
    slot.writer()
        .failureHandler(
            f -> {
              stream.pause();
              slot.writer().reset(f);
              done.tryFail(f);
            });
    stream.endHandler(
        v -> {
          src.ended = true;
          if (left[0] > 0) {
            slot.writer().reset(new IllegalStateException("download ended early"));
            done.tryFail(
                ConnectorException.of(
                    ErrorClass.RETRYABLE, null, "the download ended " + left[0] + " bytes early"));
          }
        });
    long watch =
        vertx.setPeriodic(
            Math.max(50, stallTimeoutMs / 4),
            id -> {
              long idleMs = (System.nanoTime() - moved[0]) / 1_000_000;
              if (!done.future().isComplete() && idleMs >= stallTimeoutMs) {
                stream.pause();
                ConnectorException stalled =
                    ConnectorException.of(
                        ErrorClass.RETRYABLE,
                        null,
                        "the attachment moved no byte for "
                            + idleMs
                            + " ms with "
                            + left[0]
                            + " of its part's "
                            + length
                            + " bytes to go");
                slot.writer().reset(stalled);
                done.tryFail(stalled);
              }
            });
    done.future().onComplete(x -> vertx.cancelTimer(watch));
    stream.handler(take::accept);
    if (src.carry != null) {
      Buffer pending = src.carry;
      src.carry = null;
      take.accept(pending);
    }
    if (!done.future().isComplete()) {
      if (src.ended) {
        done.tryFail(ConnectorException.of(ErrorClass.RETRYABLE, null, "the download ended early"));
      } else {
        stream.resume();
      }
    }
    return done.future();
  }
}
