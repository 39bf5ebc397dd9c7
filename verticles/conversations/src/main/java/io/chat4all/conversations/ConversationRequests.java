package io.chat4all.conversations;

import io.chat4all.codecs.ErrorCode;
import io.chat4all.codecs.ServiceException;
import io.chat4all.web.Bodies;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.UUID;

/**
 * Edge validation of conversation requests, shared by REST and gRPC: shapes, types and hard caps.
 * Limits from configuration (name length, group size) are checked by the service itself. Also the
 * service's reading of the ids in a request on the bus ({@link #userId}, {@link #conversationId}).
 */
final class ConversationRequests {
  private ConversationRequests() {}

  /** Longest name the database holds; the configured maximum is checked by the service. */
  static final int NAME_HARD_MAX = 255;

  /** Most ids one request may carry; the configured group size is checked by the service. */
  static final int IDS_HARD_MAX = 10_000;

  /** A create request body → the service request (without {@code user_id}). */
  static JsonObject create(JsonObject body) {
    Bodies.onlyFields(body, Set.of("type", "name", "member_ids"));
    String type = Bodies.string(body, "type", 1, 16);
    if (!ConversationActions.TYPES.contains(type)) {
      throw Bodies.invalid("type", "must be one of " + new TreeSet<>(ConversationActions.TYPES));
    }
    JsonObject req = new JsonObject().put("type", type);
    if (ConversationActions.TYPE_PRIVATE.equals(type)) {
      if (body.getValue("name") != null) {
        throw Bodies.invalid("name", "is only for group conversations");
      }
      List<String> ids = Bodies.uuidList(body, "member_ids", 1, 1);
      return req.put("member_ids", new JsonArray(ids));
    }
    String name = Bodies.string(body, "name", 1, NAME_HARD_MAX).strip();
    if (name.isEmpty()) {
      throw Bodies.invalid("name", "must not be blank");
    }
    List<String> ids = Bodies.uuidList(body, "member_ids", 0, IDS_HARD_MAX);
    return req.put("name", name).put("member_ids", new JsonArray(ids));
  }

  /** An add-members body → {@code {member_ids}}. */
  static JsonObject addMembers(JsonObject body) {
    Bodies.onlyFields(body, Set.of("member_ids"));
    return new JsonObject()
        .put("member_ids", new JsonArray(Bodies.uuidList(body, "member_ids", 1, IDS_HARD_MAX)));
  }

  /** A role-change body → {@code {role}}. */
  static JsonObject setRole(JsonObject body) {
    Bodies.onlyFields(body, Set.of("role"));
    String role = Bodies.string(body, "role", 1, 16);
    if (!ConversationActions.ROLES.contains(role)) {
      throw Bodies.invalid("role", "must be one of " + new TreeSet<>(ConversationActions.ROLES));
    }
    return new JsonObject().put("role", role);
  }

  /** A list cursor from a client: checked here so that the error names the client's field. */
  static String cursor(String raw, String field) {
    if (raw == null || raw.isEmpty()) {
      return null;
    }
    Cursor.parse(raw, field);
    return raw;
  }

  /**
   * An id given in a path or an id field of a gRPC call: malformed means there is no such thing.
   */
  static String idOrNotFound(String raw, String what) {
    String id = Bodies.canonicalUuid(raw);
    if (id == null) {
      throw new ServiceException(ErrorCode.NOT_FOUND, what + " not found");
    }
    return id;
  }

  // --- the service side: ids in a request on the bus ---

  static UUID userId(JsonObject req) {
    return uuid(req, "user_id", false);
  }

  static UUID conversationId(JsonObject req) {
    try {
      return UUID.fromString(String.valueOf(req.getValue("conversation_id")));
    } catch (IllegalArgumentException e) {
      throw ConversationRows.notFound();
    }
  }

  static UUID uuid(JsonObject req, String field, boolean notFoundIfMalformed) {
    Object v = req.getValue(field);
    try {
      return UUID.fromString((String) v);
    } catch (IllegalArgumentException | ClassCastException | NullPointerException e) {
      if (notFoundIfMalformed) {
        throw new ServiceException(ErrorCode.NOT_FOUND, "member not found");
      }
      throw Bodies.invalid(field, "must be a UUID");
    }
  }

  static List<UUID> uuids(JsonObject req, String field) {
    Object v = req.getValue(field);
    if (v == null) {
      return List.of();
    }
    if (!(v instanceof JsonArray array)) {
      throw Bodies.invalid(field, "must be an array of UUIDs");
    }
    Set<UUID> ids = new LinkedHashSet<>();
    for (Object item : array) {
      ids.add(UUID.fromString(Bodies.uuid(field, item)));
    }
    return new ArrayList<>(ids);
  }
}
