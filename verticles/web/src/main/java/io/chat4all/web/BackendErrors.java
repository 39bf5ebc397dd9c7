package io.chat4all.web;

import com.mongodb.MongoSocketException;
import com.mongodb.MongoTimeoutException;
import io.chat4all.codecs.ErrorCode;
import io.chat4all.codecs.FailureTranslator;
import io.chat4all.codecs.ServiceException;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.ClosedConnectionException;
import io.vertx.sqlclient.DatabaseException;
import java.net.ConnectException;
import java.net.SocketException;
import java.nio.channels.ClosedChannelException;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A backend that cannot be reached is an outage, not an internal error: a request that fails
 * because PostgreSQL, Redis or MongoDB refuses or drops its connection (the server stopped,
 * restarting or not yet accepting) is answered 503 {@code unavailable}, to be retried, through
 * {@link ServiceException#from} (this class is an installed {@link FailureTranslator}).
 *
 * <p>Outages are: a refused, reset or closed connection (any client); PostgreSQL SQLSTATE class 08
 * (connection exception), 57P01–57P03 (the server shutting down or starting) and 53300 (too many
 * connections); MongoDB socket errors, server-selection timeouts and shutdown or step-down answers;
 * Redis {@code LOADING} / {@code MASTERDOWN} / {@code TRYAGAIN} / {@code CLUSTERDOWN} answers; a
 * connection reset or broken pipe.
 */
public final class BackendErrors implements FailureTranslator {
  private static final Logger LOG = LoggerFactory.getLogger(BackendErrors.class);
  private static final long LOG_EVERY_MS = 5000;
  private static final AtomicLong lastLogged = new AtomicLong();

  public BackendErrors() {}

  @Override
  public ServiceException translate(Throwable failure) {
    Throwable outage = outage(failure);
    if (outage == null) {
      return null;
    }
    long now = System.currentTimeMillis();
    long last = lastLogged.get();
    if (now - last >= LOG_EVERY_MS && lastLogged.compareAndSet(last, now)) {
      // one line per few seconds, not one per request, while a backend is down
      LOG.warn("a backend is unreachable (answered 503): {}", outage.toString());
    }
    return new ServiceException(
        ErrorCode.UNAVAILABLE,
        "a backend is unreachable; retry later",
        new JsonObject().put("reason", "backend_unreachable"));
  }

  /** True when {@code failure} (or a cause of it) is a backend that cannot be reached. */
  public static boolean isOutage(Throwable failure) {
    return outage(failure) != null;
  }

  private static Throwable outage(Throwable failure) {
    for (Throwable t = failure; t != null; t = t.getCause() == t ? null : t.getCause()) {
      if (isOutageItself(t)) {
        return t;
      }
    }
    return null;
  }

  private static boolean isOutageItself(Throwable t) {
    if (t instanceof ConnectException
        || t instanceof SocketException
        || t instanceof ClosedChannelException
        || t instanceof ClosedConnectionException
        || t instanceof MongoSocketException
        || t instanceof MongoTimeoutException) {
      return true;
    }
    if (t instanceof DatabaseException db) {
      String state = db.getSqlState();
      return state != null
          && (state.startsWith("08")
              || state.equals("57P01")
              || state.equals("57P02")
              || state.equals("57P03")
              || state.equals("53300"));
    }
    if (t instanceof com.mongodb.MongoCommandException mc) {
      // shutdown in progress, interrupted at shutdown, primary stepped down, not primary
      int code = mc.getErrorCode();
      return code == 91 || code == 11600 || code == 11602 || code == 189 || code == 10107;
    }
    String message = t.getMessage();
    if (message == null) {
      return false;
    }
    String lower = message.toLowerCase(Locale.ROOT);
    if (t instanceof java.io.IOException
        && (lower.contains("broken pipe") || lower.contains("connection reset"))) {
      return true; // a write or read on a connection the server dropped
    }
    if (!(t instanceof io.vertx.core.VertxException)
        && !t.getClass().getName().startsWith("io.vertx.")) {
      return false;
    }
    // Vert.x clients fail requests on a connection that went away with this message; Redis
    // answers these while it loads its data after a restart or has no reachable primary
    return lower.matches("connection (is|was) closed.*")
        // the Redis client fails the commands pending on a connection that went away with this
        || message.startsWith("CONNECTION_CLOSED")
        || message.startsWith("LOADING")
        || message.startsWith("MASTERDOWN")
        || message.startsWith("TRYAGAIN")
        || message.startsWith("CLUSTERDOWN");
  }
}
