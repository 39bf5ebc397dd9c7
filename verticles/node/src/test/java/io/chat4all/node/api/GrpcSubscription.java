package io.chat4all.node.api;

import static org.assertj.core.api.Assertions.assertThat;

import io.chat4all.proto.v1.Event;
import io.chat4all.proto.v1.RealtimeServiceGrpcClient;
import io.chat4all.proto.v1.SubscribeRequest;
import io.chat4all.testkit.Await;
import io.netty.handler.codec.http.QueryStringDecoder;
import io.vertx.core.MultiMap;
import io.vertx.core.net.SocketAddress;
import io.vertx.grpc.client.GrpcClient;
import io.vertx.grpc.client.GrpcClientRequest;
import io.vertx.grpc.common.GrpcStatus;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Predicate;

/** One {@code RealtimeService/Subscribe} call of a test: every event in order, and how it ended. */
final class GrpcSubscription {
  static final Duration WAIT = Duration.ofSeconds(30);

  final List<Event> events = new CopyOnWriteArrayList<>();
  private volatile GrpcClientRequest<SubscribeRequest, Event> request;
  private volatile boolean ended;
  private volatile GrpcStatus status;
  private volatile String statusMessage;
  private volatile MultiMap trailers;

  private GrpcSubscription() {}

  static GrpcSubscription open(GrpcClient client, int port, String token, String cursor) {
    GrpcSubscription s = new GrpcSubscription();
    GrpcClientRequest<SubscribeRequest, Event> req =
        Await.result(
            client.request(
                SocketAddress.inetSocketAddress(port, "127.0.0.1"),
                RealtimeServiceGrpcClient.Subscribe));
    s.request = req;
    if (token != null) {
      req.headers().set("authorization", "Bearer " + token);
    }
    SubscribeRequest.Builder body = SubscribeRequest.newBuilder();
    if (cursor != null) {
      body.setCursor(cursor);
    }
    req.end(body.build());
    req.response()
        .onSuccess(
            resp -> {
              resp.handler(s.events::add);
              resp.end()
                  .onComplete(
                      ar -> {
                        s.status = resp.status();
                        // an error before any event is "trailers-only": they arrive as headers
                        s.trailers =
                            MultiMap.caseInsensitiveMultiMap()
                                .addAll(resp.headers())
                                .addAll(resp.trailers());
                        // the client reads grpc-message from the headers only
                        String message = s.trailers.get("grpc-message");
                        s.statusMessage =
                            message == null
                                ? resp.statusMessage()
                                : QueryStringDecoder.decodeComponent(
                                    message, StandardCharsets.UTF_8);
                        s.ended = true;
                      });
            })
        .onFailure(
            err -> {
              s.statusMessage = err.toString();
              s.ended = true;
            });
    return s;
  }

  /** Opens a stream and waits for its {@code ready} event. */
  static GrpcSubscription ready(GrpcClient client, int port, String token, String cursor) {
    GrpcSubscription s = open(client, port, token, cursor);
    Event ready = s.await("ready", e -> "ready".equals(e.getType()));
    assertThat(s.events.get(0)).as("the first event").isEqualTo(ready);
    assertThat(ready.getCursor()).isNotEmpty();
    return s;
  }

  Event await(String what, Predicate<Event> match) {
    Event[] found = new Event[1];
    Await.until(
        what + " (got " + types() + ", ended " + ended + " " + statusMessage + ")",
        WAIT,
        () -> {
          for (Event e : events) {
            if (match.test(e)) {
              found[0] = e;
              return true;
            }
          }
          return false;
        });
    return found[0];
  }

  Event message(String messageId) {
    return await(
        "message " + messageId,
        e -> "message".equals(e.getType()) && messageId.equals(e.getMessage().getMessageId()));
  }

  /** The {@code message} events' message ids, in order. */
  List<String> messageIds() {
    return events.stream()
        .filter(e -> "message".equals(e.getType()))
        .map(e -> e.getMessage().getMessageId())
        .toList();
  }

  List<String> types() {
    return events.stream().map(Event::getType).toList();
  }

  /** Waits for the next heartbeat after every event so far (the stream is flushed up to now). */
  void awaitHeartbeat() {
    int seen = events.size();
    Await.until(
        "a heartbeat",
        WAIT,
        () -> {
          for (int i = seen; i < events.size(); i++) {
            if ("heartbeat".equals(events.get(i).getType())) {
              return true;
            }
          }
          return false;
        });
  }

  /** Waits for the server to end the call; its status. */
  GrpcStatus awaitEnd() {
    Await.until("the stream ends (got " + types() + ")", WAIT, () -> ended);
    return status;
  }

  String statusMessage() {
    return statusMessage;
  }

  String errorCode() {
    return trailers == null ? null : trailers.get("chat4all-error-code");
  }

  String errorDetails() {
    return trailers == null ? null : trailers.get("chat4all-error-details");
  }

  boolean ended() {
    return ended;
  }

  /** The client goes away (RST_STREAM CANCEL). */
  void cancel() {
    if (!ended) {
      request.cancel();
    }
  }
}
