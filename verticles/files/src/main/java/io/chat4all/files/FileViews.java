package io.chat4all.files;

import io.chat4all.codecs.Outbox;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.UUID;

/** What clients and other services see of a file document. */
final class FileViews {
  private FileViews() {}

  static String hex(String v) {
    return v == null ? null : v.startsWith("sha256:") ? v.substring(7) : v;
  }

  /** The status as clients see it. */
  static JsonObject view(JsonObject doc) {
    JsonArray received = new JsonArray();
    JsonArray chunks = doc.getJsonArray("chunks", new JsonArray());
    for (int i = 0; i < chunks.size(); i++) {
      if (chunks.getValue(i) != null) {
        received.add(i + 1);
      }
    }
    JsonObject v =
        new JsonObject()
            .put("file_id", doc.getString("file_id"))
            .put("upload_status", doc.getString("upload_status"))
            .put("filename", doc.getString("original_filename"))
            .put("size_bytes", doc.getLong("size_bytes"))
            .put("mime_type", doc.getString("mime_type"))
            .put("conversation_id", doc.getString("conversation_id"))
            .put("chunk_size", doc.getLong("chunk_size"))
            .put("total_chunks", doc.getInteger("total_chunks"))
            .put("received_chunks", received)
            .put("uploaded_by", doc.getString("upload_initiated_by"))
            .put("created_at", doc.getString("created_at"))
            .put("expires_at", doc.getString("expires_at"));
    String checksum = hex(doc.getString("checksum"));
    if (checksum != null) {
      v.put("checksum_sha256", checksum);
    }
    if (doc.getString("upload_completed_at") != null) {
      v.put("completed_at", doc.getString("upload_completed_at"));
    }
    if (doc.getString("failure_reason") != null) {
      v.put("failure_reason", doc.getString("failure_reason"));
    }
    if (doc.getJsonObject("encryption") != null) {
      v.put("encryption", doc.getJsonObject("encryption"));
    }
    return v;
  }

  /** The seed's {@code file_reference} of a message. */
  static JsonObject reference(JsonObject doc) {
    return new JsonObject()
        .put("file_id", doc.getString("file_id"))
        .put("filename", doc.getString("original_filename"))
        .put("size_bytes", doc.getLong("size_bytes"))
        .put("mime_type", doc.getString("mime_type"))
        .put("checksum", hex(doc.getString("checksum")));
  }

  /** The {@code file.uploaded} event of a file completing now (Kafka key: the file id). */
  static JsonObject uploadedEvent(JsonObject doc, String sha256, String completedAt) {
    return new JsonObject()
        .put(Outbox.EVENT_ID, UUID.randomUUID().toString())
        .put("file_id", doc.getString("file_id"))
        .put("uploaded_by", doc.getString("upload_initiated_by"))
        .put("conversation_id", doc.getString("conversation_id"))
        .put("filename", doc.getString("original_filename"))
        .put("size_bytes", doc.getLong("size_bytes"))
        .put("mime_type", doc.getString("mime_type"))
        .put("checksum_sha256", sha256)
        .put("storage", doc.getJsonObject("storage").copy().put("upload_id", (String) null))
        .put("completed_at", completedAt);
  }
}
