package io.chat4all.node.obs;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.encoder.PatternLayoutEncoder;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.ConsoleAppender;
import ch.qos.logback.core.encoder.Encoder;
import io.chat4all.node.config.ConfigException;
import io.vertx.core.json.JsonObject;
import java.util.Locale;
import org.slf4j.LoggerFactory;

/**
 * The log format chosen by {@code logging.format} ({@code auto}: JSON lines in cluster mode, text
 * in embedded mode) unless {@code CHAT4ALL_LOG_FORMAT} fixed it, and the {@code node_id} every JSON
 * line carries. Only acts when logback is the logging backend.
 */
public final class LogSetup {
  static final String NODE_ID = "node_id";
  static final String ENV = "CHAT4ALL_LOG_FORMAT";

  private LogSetup() {}

  /** The format for these settings: "text" or "json". */
  public static String format(JsonObject raw, boolean cluster, String fromEnvironment) {
    if (fromEnvironment != null && !fromEnvironment.isBlank()) {
      return fromEnvironment.trim().toLowerCase(Locale.ROOT);
    }
    String f =
        String.valueOf(raw.getJsonObject("logging", new JsonObject()).getValue("format", "auto"))
            .trim()
            .toLowerCase(Locale.ROOT);
    return switch (f) {
      case "auto" -> cluster ? "json" : "text";
      case "json", "text" -> f;
      default -> throw new ConfigException("logging.format", "must be auto, text or json");
    };
  }

  /** Switches the root logger's console output to {@code format} ("text" or "json"). */
  public static void apply(String format) {
    if (!(LoggerFactory.getILoggerFactory() instanceof LoggerContext ctx)) {
      return;
    }
    Logger root = ctx.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
    if (root.getAppender(format) != null) {
      return;
    }
    Encoder<ILoggingEvent> encoder;
    if ("json".equals(format)) {
      JsonLineEncoder json = new JsonLineEncoder();
      json.setContext(ctx);
      encoder = json;
    } else {
      PatternLayoutEncoder text = new PatternLayoutEncoder();
      text.setContext(ctx);
      text.setPattern("%d{HH:mm:ss.SSS} %-5level [%thread] %logger{30} - %msg%n");
      encoder = text;
    }
    encoder.start();
    ConsoleAppender<ILoggingEvent> appender = new ConsoleAppender<>();
    appender.setContext(ctx);
    appender.setName(format);
    appender.setEncoder(encoder);
    appender.start();
    root.detachAndStopAllAppenders();
    root.addAppender(appender);
  }

  /** The node id the JSON lines carry. */
  public static void nodeId(String id) {
    if (LoggerFactory.getILoggerFactory() instanceof LoggerContext ctx) {
      ctx.putProperty(NODE_ID, id);
    }
  }
}
