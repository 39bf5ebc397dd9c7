package io.chat4all.node.obs;

import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.IThrowableProxy;
import ch.qos.logback.classic.spi.StackTraceElementProxy;
import ch.qos.logback.core.encoder.EncoderBase;
import io.chat4all.codecs.LogContext;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanContext;
import io.vertx.core.json.JsonObject;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Map;

/**
 * One JSON object per log line: {@code ts}, {@code level}, {@code logger}, {@code thread}, {@code
 * message}, {@code node_id}, and where known {@code request_id}, {@code user_id}, {@code trace_id},
 * {@code span_id} (from the current request and span), the MDC, and {@code error} (the exception,
 * class, message and top frames).
 */
public class JsonLineEncoder extends EncoderBase<ILoggingEvent> {
  private static final byte[] NONE = new byte[0];
  private static final int MAX_FRAMES = 30;

  @Override
  public byte[] headerBytes() {
    return NONE;
  }

  @Override
  public byte[] footerBytes() {
    return NONE;
  }

  @Override
  public byte[] encode(ILoggingEvent event) {
    JsonObject line =
        new JsonObject()
            .put("ts", Instant.ofEpochMilli(event.getTimeStamp()).toString())
            .put("level", event.getLevel().toString())
            .put("logger", event.getLoggerName())
            .put("thread", event.getThreadName())
            .put("message", event.getFormattedMessage());
    String node = getContext() == null ? null : getContext().getProperty(LogSetup.NODE_ID);
    putIf(line, "node_id", node);
    putIf(line, "request_id", LogContext.requestId());
    putIf(line, "user_id", LogContext.userId());
    SpanContext span = Span.current().getSpanContext();
    if (span.isValid()) {
      line.put("trace_id", span.getTraceId()).put("span_id", span.getSpanId());
    }
    Map<String, String> mdc = event.getMDCPropertyMap();
    if (mdc != null) {
      mdc.forEach((k, v) -> putIf(line, k, v));
    }
    IThrowableProxy t = event.getThrowableProxy();
    if (t != null) {
      line.put("error", error(t));
    }
    return (line.encode() + "\n").getBytes(StandardCharsets.UTF_8);
  }

  private static JsonObject error(IThrowableProxy t) {
    StringBuilder frames = new StringBuilder();
    StackTraceElementProxy[] stack = t.getStackTraceElementProxyArray();
    for (int i = 0; stack != null && i < Math.min(stack.length, MAX_FRAMES); i++) {
      frames.append(stack[i].getSTEAsString()).append('\n');
    }
    JsonObject e =
        new JsonObject()
            .put("class", t.getClassName())
            .put("message", t.getMessage())
            .put("stack", frames.toString());
    if (t.getCause() != null && t.getCause() != t) {
      e.put("cause", t.getCause().getClassName() + ": " + t.getCause().getMessage());
    }
    return e;
  }

  private static void putIf(JsonObject o, String key, String value) {
    if (value != null && !value.isEmpty() && !o.containsKey(key)) {
      o.put(key, value);
    }
  }
}
