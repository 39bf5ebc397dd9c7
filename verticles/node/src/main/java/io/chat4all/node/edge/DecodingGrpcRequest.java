package io.chat4all.node.edge;

import io.chat4all.codecs.ErrorCode;
import io.chat4all.codecs.ServiceException;
import io.chat4all.web.GrpcUnary;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.MultiMap;
import io.vertx.core.Timer;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpConnection;
import io.vertx.grpc.common.GrpcError;
import io.vertx.grpc.common.GrpcMessage;
import io.vertx.grpc.common.GrpcMessageDecoder;
import io.vertx.grpc.common.InvalidMessageException;
import io.vertx.grpc.common.InvalidMessagePayloadException;
import io.vertx.grpc.common.ServiceName;
import io.vertx.grpc.common.WireFormat;
import io.vertx.grpc.server.GrpcServerOptions;
import io.vertx.grpc.server.GrpcServerRequest;
import io.vertx.grpc.server.GrpcServerResponse;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.util.zip.GZIPInputStream;

/**
 * A gRPC request whose {@link #handler} decodes each message itself: a message that is not the
 * method's (random bytes, a truncated or trailing-garbage protobuf, gzip that does not inflate)
 * goes to the handler's own {@link #invalidMessageHandler} when it set one, else ends the call with
 * {@code INVALID_ARGUMENT} {@code bad_request} (the error model's status and trailers); later
 * messages of the call are dropped. Everything else is the wrapped request's.
 */
final class DecodingGrpcRequest<Req, Resp> implements GrpcServerRequest<Req, Resp> {
  /** Compressed messages inflate to at most the server's own limit for a message. */
  static final int MAX_INFLATED_BYTES = (int) GrpcServerOptions.DEFAULT_MAX_MESSAGE_SIZE;

  private final GrpcServerRequest<Req, Resp> request;
  private final GrpcMessageDecoder<Req> decoder;
  private boolean failed;
  private Handler<InvalidMessageException> invalidMessageHandler;

  DecodingGrpcRequest(GrpcServerRequest<Req, Resp> request, GrpcMessageDecoder<Req> decoder) {
    this.request = request;
    this.decoder = decoder;
  }

  @Override
  public DecodingGrpcRequest<Req, Resp> handler(Handler<Req> handler) {
    if (handler == null) {
      request.handler(null);
      return this;
    }
    request.messageHandler(
        msg -> {
          if (failed) {
            return;
          }
          Req decoded;
          try {
            decoded = decoder.decode(inflated(msg));
          } catch (TooLarge e) {
            failed = true;
            GrpcUnary.fail(
                request.response(),
                new ServiceException(
                    ErrorCode.PAYLOAD_TOO_LARGE,
                    "the message inflates to more than " + MAX_INFLATED_BYTES + " bytes"));
            return;
          } catch (IOException | RuntimeException e) { // CodecException is one
            failed = true;
            Handler<InvalidMessageException> own = invalidMessageHandler;
            if (own != null) {
              own.handle(new InvalidMessagePayloadException(msg, e)); // the handler's own answer
              return;
            }
            GrpcUnary.fail(
                request.response(),
                new ServiceException(
                    ErrorCode.BAD_REQUEST,
                    "the message is not a valid "
                        + (msg.format() == WireFormat.JSON ? "JSON" : "protobuf")
                        + " request of "
                        + request.fullMethodName()));
            return;
          }
          try {
            handler.handle(decoded);
          } catch (RuntimeException e) {
            request.response().fail(e);
          }
        });
    return this;
  }

  private static GrpcMessage inflated(GrpcMessage msg) throws IOException {
    String encoding = msg.encoding();
    if (encoding == null || encoding.equals("identity")) {
      return msg;
    }
    if (!encoding.equals("gzip")) {
      throw new IOException("unsupported grpc-encoding " + encoding);
    }
    try (GZIPInputStream in =
        new GZIPInputStream(new ByteArrayInputStream(msg.payload().getBytes()))) {
      byte[] bytes = in.readNBytes(MAX_INFLATED_BYTES + 1);
      if (bytes.length > MAX_INFLATED_BYTES) {
        throw new TooLarge();
      }
      return GrpcMessage.message("identity", msg.format(), Buffer.buffer(bytes));
    }
  }

  /** A compressed message that inflates past the server's message size limit. */
  private static final class TooLarge extends IOException {
    TooLarge() {
      super("the message inflates past the limit");
    }
  }

  @Override
  public ServiceName serviceName() {
    return request.serviceName();
  }

  @Override
  public String methodName() {
    return request.methodName();
  }

  @Override
  public String fullMethodName() {
    return request.fullMethodName();
  }

  @Override
  public GrpcServerResponse<Req, Resp> response() {
    return request.response();
  }

  @Override
  public MultiMap headers() {
    return request.headers();
  }

  @Override
  public String encoding() {
    return request.encoding();
  }

  @Override
  public WireFormat format() {
    return request.format();
  }

  @Override
  public DecodingGrpcRequest<Req, Resp> messageHandler(Handler<GrpcMessage> handler) {
    request.messageHandler(handler);
    return this;
  }

  @Override
  public DecodingGrpcRequest<Req, Resp> invalidMessageHandler(
      Handler<InvalidMessageException> handler) {
    invalidMessageHandler = handler;
    request.invalidMessageHandler(handler);
    return this;
  }

  @Override
  public DecodingGrpcRequest<Req, Resp> errorHandler(Handler<GrpcError> handler) {
    request.errorHandler(handler);
    return this;
  }

  @Override
  public DecodingGrpcRequest<Req, Resp> exceptionHandler(Handler<Throwable> handler) {
    request.exceptionHandler(handler);
    return this;
  }

  @Override
  public DecodingGrpcRequest<Req, Resp> pause() {
    request.pause();
    return this;
  }

  @Override
  public DecodingGrpcRequest<Req, Resp> resume() {
    request.resume();
    return this;
  }

  @Override
  public DecodingGrpcRequest<Req, Resp> fetch(long amount) {
    request.fetch(amount);
    return this;
  }

  @Override
  public DecodingGrpcRequest<Req, Resp> endHandler(Handler<Void> endHandler) {
    request.endHandler(endHandler);
    return this;
  }

  @Override
  public Future<Req> last() {
    return request.last();
  }

  @Override
  public Future<Void> end() {
    return request.end();
  }

  @Override
  public HttpConnection connection() {
    return request.connection();
  }

  @Override
  public long timeout() {
    return request.timeout();
  }

  @Override
  public Timer deadline() {
    return request.deadline();
  }
}
