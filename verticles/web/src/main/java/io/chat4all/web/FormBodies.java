package io.chat4all.web;

import io.chat4all.codecs.ErrorCode;
import io.chat4all.codecs.ServiceException;
import io.vertx.core.Handler;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import java.util.Locale;

/**
 * Keeps form bodies ({@code application/x-www-form-urlencoded}, {@code multipart/form-data}) away
 * from Vert.x's body handler, whose form decoder fails with an internal error on input it cannot
 * decode (deep or long "fields", broken boundaries). The JSON API refuses them at once with 415;
 * routes that take raw provider bodies (webhooks, whose signature covers the raw bytes) hide the
 * declared type from the body handler and get it back right after, with the raw body intact.
 */
public final class FormBodies {
  private static final String HIDDEN = "chat4all.hidden_content_type";

  private FormBodies() {}

  /** Whether {@code contentType} names a form encoding. */
  public static boolean isForm(String contentType) {
    if (contentType == null) {
      return false;
    }
    String t = contentType.trim().toLowerCase(Locale.ROOT);
    return t.startsWith("application/x-www-form-urlencoded") || t.startsWith("multipart/");
  }

  /** 415 for a form body (before anything reads it). */
  public static Handler<RoutingContext> refuse() {
    return ctx -> {
      String type = ctx.request().getHeader(HttpHeaders.CONTENT_TYPE);
      if (isForm(type)) {
        ctx.fail(
            new ServiceException(
                ErrorCode.UNSUPPORTED_MEDIA_TYPE,
                "form bodies are not accepted here: send application/json",
                new JsonObject().put("supported", "application/json")));
        return;
      }
      ctx.next();
    };
  }

  /** Hides a form Content-Type from the body handler that follows (see {@link #restore()}). */
  public static Handler<RoutingContext> hide() {
    return ctx -> {
      String type = ctx.request().getHeader(HttpHeaders.CONTENT_TYPE);
      if (isForm(type)) {
        ctx.put(HIDDEN, type);
        ctx.request().headers().remove(HttpHeaders.CONTENT_TYPE);
      }
      ctx.next();
    };
  }

  /** Puts back the Content-Type {@link #hide()} took away. */
  public static Handler<RoutingContext> restore() {
    return ctx -> {
      String type = ctx.get(HIDDEN);
      if (type != null) {
        ctx.request().headers().set(HttpHeaders.CONTENT_TYPE, type);
      }
      ctx.next();
    };
  }
}
