package io.chat4all.web;

import com.mongodb.MongoBulkWriteException;
import com.mongodb.MongoCommandException;
import com.mongodb.MongoWriteException;
import com.mongodb.bulk.BulkWriteError;
import io.chat4all.codecs.ErrorCode;
import io.chat4all.codecs.FailureTranslator;
import io.chat4all.codecs.ServiceException;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.DatabaseException;
import java.util.Set;
import org.bson.BSONException;
import org.bson.codecs.configuration.CodecConfigurationException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The net under {@link StoreSafe}: a store refusing a value is a data error, not a failure of the
 * store. On request/reply paths it becomes 400 {@code validation_failed} (never 500), through
 * {@link ServiceException#from} (this class is its installed {@link FailureTranslator}); the
 * message pipeline uses {@link #isDataError} to tell a record it can never apply from a store that
 * is down.
 *
 * <p>Data errors are: PostgreSQL SQLSTATE 23503 (a foreign key naming a row that does not exist:
 * 404 {@code not_found}) and class 22 (data exception: 22021 invalid byte sequence, 22P02 invalid
 * text representation, 22P05 unsupported Unicode escape, 22001 string too long, 22003 numeric out
 * of range, …); BSON serialisation errors (a NUL in a key, a value without a BSON type, a document
 * over the size limit); MongoDB write errors that reject the document itself (bad value, {@code
 * $}-prefixed, dotted or empty field names, document too large, validation).
 */
public final class StoreErrors implements FailureTranslator {
  private static final Logger LOG = LoggerFactory.getLogger(StoreErrors.class);

  /** MongoDB error codes that mean "this document / value is not acceptable". */
  private static final Set<Integer> MONGO_DATA_CODES =
      Set.of(2, 14, 15, 52, 55, 56, 57, 121, 10334, 17280, 17419, 17420);

  /** SQLSTATE foreign_key_violation: the referenced row does not exist. */
  private static final String FOREIGN_KEY = "23503";

  public StoreErrors() {}

  @Override
  public ServiceException translate(Throwable failure) {
    Throwable data = dataError(failure);
    if (data == null) {
      return null;
    }
    if (data instanceof DatabaseException db && FOREIGN_KEY.equals(db.getSqlState())) {
      // what the request refers to is gone (e.g. the account of a still-valid token was deleted)
      LOG.warn(
          "a request referred to a row that does not exist (answered 404): {}", data.toString());
      return new ServiceException(
          ErrorCode.NOT_FOUND,
          "something the request refers to does not exist",
          new JsonObject().put("reason", "reference_missing"));
    }
    // the edge should have refused the value: worth a look, but it is the client's error
    LOG.warn("a store refused a value of a request (answered 400): {}", data.toString());
    return new ServiceException(
        ErrorCode.VALIDATION_FAILED,
        "a value of the request cannot be stored (invalid text, number or key)",
        new JsonObject().put("reason", "store_rejected"));
  }

  /** True when {@code failure} (or a cause of it) is a store refusing a value. */
  public static boolean isDataError(Throwable failure) {
    return dataError(failure) != null;
  }

  private static Throwable dataError(Throwable failure) {
    for (Throwable t = failure; t != null; t = t.getCause() == t ? null : t.getCause()) {
      if (isData(t)) {
        return t;
      }
    }
    return null;
  }

  private static boolean isData(Throwable t) {
    if (t instanceof DatabaseException db) {
      String state = db.getSqlState();
      return state != null && (state.startsWith("22") || state.equals(FOREIGN_KEY));
    }
    if (t instanceof BSONException || t instanceof CodecConfigurationException) {
      return true;
    }
    if (t instanceof IllegalStateException
        && t.getMessage() != null
        && t.getMessage().startsWith("Unknown BsonType")) {
      // vertx-mongo-client's JSON codec meeting a value BSON has no type for (e.g. 2^64)
      return true;
    }
    if (t instanceof MongoWriteException w) {
      return MONGO_DATA_CODES.contains(w.getError().getCode());
    }
    if (t instanceof MongoBulkWriteException b) {
      for (BulkWriteError e : b.getWriteErrors()) {
        if (MONGO_DATA_CODES.contains(e.getCode())) {
          return true;
        }
      }
      return false;
    }
    if (t instanceof MongoCommandException c) {
      return MONGO_DATA_CODES.contains(c.getErrorCode());
    }
    return false;
  }
}
