package io.chat4all.files;

import io.chat4all.codecs.Addresses;
import io.chat4all.codecs.ErrorCode;
import io.chat4all.codecs.ServiceBus;
import io.chat4all.codecs.ServiceException;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;

/**
 * Who may see a file: its uploader, and once it is completed the members of its conversation and of
 * those it was shared into. Everyone else gets not_found (existence is not leaked).
 */
final class FileAccess {
  private final Vertx vertx;
  private final FileStore store;

  FileAccess(Vertx vertx, FileStore store) {
    this.vertx = vertx;
    this.store = store;
  }

  static ServiceException notFound() {
    return new ServiceException(ErrorCode.NOT_FOUND, "file not found");
  }

  Future<Boolean> isMember(String conversationId, String userId) {
    return ServiceBus.request(
            vertx,
            Addresses.CONVERSATIONS,
            "membership",
            new JsonObject().put("conversation_id", conversationId).put("user_id", userId))
        .map(m -> m.getBoolean("member", false))
        .recover(
            e ->
                ServiceException.from(e).code() == ErrorCode.NOT_FOUND
                    ? Future.succeededFuture(false)
                    : Future.failedFuture(e));
  }

  /** The file if {@code userId} uploaded it; not_found otherwise (existence is not leaked). */
  Future<JsonObject> own(String fileId, String userId) {
    return store
        .find(fileId)
        .compose(
            doc ->
                doc != null && userId.equals(doc.getString("upload_initiated_by"))
                    ? Future.succeededFuture(doc)
                    : Future.failedFuture(notFound()));
  }

  /**
   * The file if {@code userId} may see it: the uploader, or a member of its conversation or of a
   * conversation it was shared into (members see it once it is completed).
   */
  Future<JsonObject> visible(String fileId, String userId) {
    return store
        .find(fileId)
        .compose(
            doc -> {
              if (doc == null) {
                return Future.failedFuture(notFound());
              }
              if (userId.equals(doc.getString("upload_initiated_by"))) {
                return Future.succeededFuture(doc);
              }
              if (!FileStore.COMPLETED.equals(doc.getString("upload_status"))) {
                return Future.failedFuture(notFound());
              }
              List<String> conversations = new ArrayList<>();
              conversations.add(doc.getString("conversation_id"));
              for (Object c : doc.getJsonArray("shared_in", new JsonArray())) {
                if (!conversations.contains(c)) {
                  conversations.add((String) c);
                }
              }
              return anyMember(conversations, 0, userId)
                  .compose(
                      ok -> ok ? Future.succeededFuture(doc) : Future.failedFuture(notFound()));
            });
  }

  private Future<Boolean> anyMember(List<String> conversations, int i, String userId) {
    if (i >= conversations.size()) {
      return Future.succeededFuture(false);
    }
    return isMember(conversations.get(i), userId)
        .compose(ok -> ok ? Future.succeededFuture(true) : anyMember(conversations, i + 1, userId));
  }
}
