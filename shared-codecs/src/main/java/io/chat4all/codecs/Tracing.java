package io.chat4all.codecs;

import io.opentelemetry.api.OpenTelemetry;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanBuilder;
import io.opentelemetry.api.trace.SpanContext;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.context.Context;
import io.opentelemetry.context.propagation.TextMapGetter;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.internal.ContextInternal;
import io.vertx.tracing.opentelemetry.VertxContextStorageProvider.VertxContextStorage;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * The project's own spans (beside the ones Vert.x makes for HTTP, gRPC, the event bus, Kafka
 * produce, PostgreSQL and Redis): the pipeline's processing of a conversation, MongoDB writes, the
 * connector call and the WebSocket push. A node with tracing on installs its OpenTelemetry here,
 * per Vert.x instance; without it every method here only runs its body (no spans, no cost).
 */
public final class Tracing {
  private static final Map<Vertx, OpenTelemetry> INSTALLED = new ConcurrentHashMap<>();
  private static final String SCOPE = "io.chat4all";

  private static final TextMapGetter<Function<String, String>> GETTER =
      new TextMapGetter<>() {
        @Override
        public Iterable<String> keys(Function<String, String> carrier) {
          return List.of("traceparent", "tracestate");
        }

        @Override
        public String get(Function<String, String> carrier, String key) {
          return carrier == null ? null : carrier.apply(key);
        }
      };

  private Tracing() {}

  /** Makes {@code otel} the tracing of the node that runs on {@code vertx}. */
  public static void install(Vertx vertx, OpenTelemetry otel) {
    INSTALLED.put(vertx, otel);
  }

  public static void uninstall(Vertx vertx) {
    INSTALLED.remove(vertx);
  }

  public static boolean enabled(Vertx vertx) {
    return vertx != null && INSTALLED.containsKey(vertx);
  }

  private static Tracer tracer(Vertx vertx) {
    return INSTALLED.get(vertx).getTracer(SCOPE);
  }

  /**
   * The remote parent carried by W3C trace-context headers ({@code traceparent}, {@code
   * tracestate}), read through {@code header}; null when there is none or tracing is off.
   */
  public static SpanContext remoteParent(Vertx vertx, Function<String, String> header) {
    if (!enabled(vertx)) {
      return null;
    }
    Context extracted =
        INSTALLED
            .get(vertx)
            .getPropagators()
            .getTextMapPropagator()
            .extract(Context.root(), header, GETTER);
    SpanContext sc = Span.fromContext(extracted).getSpanContext();
    return sc.isValid() ? sc : null;
  }

  /**
   * Runs {@code body} on a fresh duplicate of the current Vert.x context inside a new span whose
   * parent is {@code parent} (the others become links), so everything the body starts (queries,
   * Kafka records, event-bus messages) belongs to that span. The span ends when the body's future
   * does.
   */
  public static <T> Future<T> inNewSpan(
      Vertx vertx,
      String name,
      SpanKind kind,
      SpanContext parent,
      List<SpanContext> links,
      Map<String, String> attributes,
      Supplier<Future<T>> body) {
    ContextInternal current = ContextInternal.current();
    if (!enabled(vertx) || current == null) {
      return body.get();
    }
    SpanBuilder builder = tracer(vertx).spanBuilder(name).setSpanKind(kind);
    builder.setParent(parent == null ? Context.root() : Context.root().with(Span.wrap(parent)));
    if (links != null) {
      for (SpanContext link : links) {
        if (link != null && !link.equals(parent)) {
          builder.addLink(link);
        }
      }
    }
    attributes.forEach(builder::setAttribute);
    Span span = builder.startSpan();
    ContextInternal dup = current.unwrap().duplicate();
    Promise<T> promise = current.promise();
    dup.dispatch(
        v -> {
          VertxContextStorage.INSTANCE.attach(dup, Context.root().with(span));
          Future<T> f;
          try {
            f = body.get();
          } catch (RuntimeException e) {
            f = Future.failedFuture(e);
          }
          f.onComplete(
              ar -> {
                end(span, ar.cause());
                promise.handle(ar);
              });
        });
    return promise.future();
  }

  /**
   * A child span of the current one around {@code body} (a store write, a push); without a current
   * span (background work, tracing off) just the body.
   */
  public static <T> Future<T> child(
      Vertx vertx,
      String name,
      SpanKind kind,
      Map<String, String> attributes,
      Supplier<Future<T>> body) {
    return childOf(vertx, Span.current().getSpanContext(), name, kind, attributes, body);
  }

  /** A span with the given parent around {@code body}; without a valid parent just the body. */
  public static <T> Future<T> childOf(
      Vertx vertx,
      SpanContext parent,
      String name,
      SpanKind kind,
      Map<String, String> attributes,
      Supplier<Future<T>> body) {
    if (!enabled(vertx) || parent == null || !parent.isValid()) {
      return body.get();
    }
    SpanBuilder builder =
        tracer(vertx)
            .spanBuilder(name)
            .setSpanKind(kind)
            .setParent(Context.root().with(Span.wrap(parent)));
    attributes.forEach(builder::setAttribute);
    Span span = builder.startSpan();
    Future<T> f;
    try {
      f = body.get();
    } catch (RuntimeException e) {
      end(span, e);
      throw e;
    }
    return f.andThen(ar -> end(span, ar.cause()));
  }

  /**
   * A promise whose callbacks run on the current Vert.x context (so work a shared operation
   * completes, started from another context, goes on in the span of the one waiting for it).
   */
  public static <T> Promise<T> promiseHere() {
    ContextInternal current = ContextInternal.current();
    return current == null ? Promise.promise() : current.promise();
  }

  /** {@code f}'s outcome, its callbacks on the current Vert.x context ({@link #promiseHere}). */
  public static <T> Future<T> here(Future<T> f) {
    Promise<T> p = promiseHere();
    f.onComplete(p);
    return p.future();
  }

  /** The current span's context (invalid when there is none). */
  public static SpanContext current() {
    return Span.current().getSpanContext();
  }

  private static void end(Span span, Throwable failure) {
    if (failure != null) {
      span.recordException(failure);
      span.setStatus(StatusCode.ERROR);
    }
    span.end();
  }
}
