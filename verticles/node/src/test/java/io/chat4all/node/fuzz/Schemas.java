package io.chat4all.node.fuzz;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.UUID;

/**
 * Values generated from the OpenAPI document's JSON schemas: mostly valid (so the fuzzer reaches
 * past the first check), with the ids of real objects where a field names one, then mutated.
 */
final class Schemas {
  private final JsonObject components;
  private final Map<String, List<String>> ids;

  /**
   * @param doc the OpenAPI document
   * @param ids real ids by field/parameter name ({@code conversation_id}, {@code user_id}, …)
   */
  Schemas(JsonObject doc, Map<String, List<String>> ids) {
    this.components = doc.getJsonObject("components", new JsonObject());
    this.ids = ids;
  }

  JsonObject resolve(JsonObject schema) {
    int hops = 0;
    while (schema != null && schema.getString("$ref") != null && hops++ < 20) {
      String[] parts = schema.getString("$ref").replace("#/components/", "").split("/");
      JsonObject at = components;
      for (String p : parts) {
        at = at == null ? null : at.getJsonObject(p);
      }
      schema = at;
    }
    return schema == null ? new JsonObject() : schema;
  }

  /** A real id for a field or parameter name, or a random UUID. */
  String id(Random r, String name) {
    List<String> known = ids.get(name);
    if (known == null && name != null && name.endsWith("_ids")) {
      known = ids.get(name.substring(0, name.length() - 1));
    }
    if (known == null || known.isEmpty() || r.nextInt(5) == 0) {
      return UUID.randomUUID().toString();
    }
    return known.get(r.nextInt(known.size()));
  }

  /** A value that fits {@code schema} (named {@code name}). */
  Object valid(Random r, JsonObject schema, String name, int depth) {
    schema = resolve(schema);
    for (String alt : List.of("oneOf", "anyOf")) {
      JsonArray options = schema.getJsonArray(alt);
      if (options != null && !options.isEmpty()) {
        return valid(r, options.getJsonObject(r.nextInt(options.size())), name, depth);
      }
    }
    JsonArray allOf = schema.getJsonArray("allOf");
    if (allOf != null && !allOf.isEmpty()) {
      JsonObject merged = new JsonObject();
      for (Object o : allOf) {
        JsonObject part = resolve((JsonObject) o);
        merged.mergeIn(part, true);
      }
      schema = merged;
    }
    JsonArray en = schema.getJsonArray("enum");
    if (en != null && !en.isEmpty()) {
      return en.getValue(r.nextInt(en.size()));
    }
    Object type = schema.getValue("type");
    if (type instanceof JsonArray types) {
      type = types.getValue(r.nextInt(types.size()));
    }
    if (type == null) {
      type = schema.containsKey("properties") ? "object" : "string";
    }
    switch (String.valueOf(type)) {
      case "object":
        return object(r, schema, depth);
      case "array":
        JsonArray a = new JsonArray();
        int n = r.nextInt(3) + (schema.getInteger("minItems", 0) > 0 ? 1 : 0);
        JsonObject items = schema.getJsonObject("items", new JsonObject());
        for (int i = 0; i < n && depth < 6; i++) {
          a.add(valid(r, items, name, depth + 1));
        }
        return a;
      case "integer":
        int min = schema.getInteger("minimum", 0);
        return min + r.nextInt(50);
      case "number":
        return r.nextDouble() * 100;
      case "boolean":
        return r.nextBoolean();
      case "null":
        return null;
      default:
        String format = schema.getString("format", "");
        if ("message_id".equals(name) && r.nextInt(5) > 0) {
          return UUID.randomUUID().toString(); // a new idempotency key: a send that can succeed
        }
        if (format.equals("uuid")
            || (name != null && (name.endsWith("_id") || name.endsWith("_ids")))) {
          return id(r, name);
        }
        if (format.equals("uri") || (name != null && name.contains("url"))) {
          return "https://example.test/hook/" + r.nextInt(1000);
        }
        if (format.equals("date-time")) {
          return "2026-12-01T10:00:00Z";
        }
        int max = Math.max(1, Math.min(schema.getInteger("maxLength", 20), 20));
        return "v"
            + Integer.toString(r.nextInt(1_000_000), 36).substring(0, 1)
            + "x".repeat(r.nextInt(max));
    }
  }

  private JsonObject object(Random r, JsonObject schema, int depth) {
    JsonObject o = new JsonObject();
    JsonObject props = schema.getJsonObject("properties", new JsonObject());
    List<String> required = new ArrayList<>();
    schema.getJsonArray("required", new JsonArray()).forEach(x -> required.add(String.valueOf(x)));
    for (String p : props.fieldNames()) {
      if (required.contains(p) || r.nextInt(3) > 0) {
        if (depth < 6) {
          o.put(p, valid(r, props.getJsonObject(p), p, depth + 1));
        }
      }
    }
    return o;
  }

  /** {@code value} with one hostile change somewhere (or at the top). */
  Object mutate(Random r, Object value) {
    if (value instanceof JsonObject o && !o.isEmpty() && r.nextInt(3) > 0) {
      List<String> keys = new ArrayList<>(o.fieldNames());
      String k = keys.get(r.nextInt(keys.size()));
      switch (r.nextInt(5)) {
        case 0:
          o.remove(k);
          break;
        case 1:
          o.put(k, Nasty.anyValue(r, 0));
          break;
        case 2:
          o.put(k, mutate(r, o.getValue(k)));
          break;
        case 3:
          o.put(Nasty.pick(r, List.of("unknown_field", "$set", "a.b", "", "__proto__")), 1);
          break;
        default:
          o.put(k, Nasty.pick(r, Nasty.STRINGS));
      }
      return o;
    }
    if (value instanceof JsonArray a && !a.isEmpty() && r.nextBoolean()) {
      int i = r.nextInt(a.size());
      a.set(i, mutate(r, a.getValue(i)));
      return a;
    }
    return Nasty.anyValue(r, 0);
  }
}
