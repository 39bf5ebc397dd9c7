package io.chat4all.codecs;

import io.vertx.core.internal.ContextInternal;

/**
 * What log lines written while handling a request say about it ({@code request_id}, {@code
 * user_id}): kept in the request's own (duplicated) Vert.x context, so it follows the request's
 * callbacks and never leaks onto an event loop's other work. The JSON log encoder reads it.
 */
public final class LogContext {
  static final String REQUEST_ID = "chat4all.log.request_id";
  static final String USER_ID = "chat4all.log.user_id";

  private LogContext() {}

  /** Records the request id for the current request's log lines. */
  public static void requestId(String id) {
    put(REQUEST_ID, id);
  }

  /** Records the authenticated user for the current request's log lines. */
  public static void userId(String id) {
    put(USER_ID, id);
  }

  public static String requestId() {
    return get(REQUEST_ID);
  }

  public static String userId() {
    return get(USER_ID);
  }

  private static void put(String key, String value) {
    ContextInternal ctx = ContextInternal.current();
    if (ctx != null && ctx.isDuplicate() && value != null) {
      ctx.localContextData().put(key, value);
    }
  }

  private static String get(String key) {
    ContextInternal ctx = ContextInternal.current();
    if (ctx == null || !ctx.isDuplicate()) {
      return null;
    }
    Object v = ctx.localContextData().get(key);
    return v == null ? null : v.toString();
  }
}
