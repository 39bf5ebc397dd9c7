package io.chat4all.messaging;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The MongoDB side of one poll's sends, shared by its conversations: the conversations look up
 * their message ids together (one query) and insert their new messages together (one unordered bulk
 * write). Each conversation holds a {@link Slot}; a phase runs once every slot has reached it or
 * left (a conversation with no sends, or one that failed, leaves). A conversation whose documents
 * were refused as duplicates (another consumer numbered them first) fails alone and is retried on
 * its own; a failing write fails every conversation in it, which is then retried on its own too
 * (see {@link PipelineFailures}). All of it runs on the pipeline's event loop.
 */
final class BatchWrite {
  /** Inserts documents, answering the positions refused as duplicates. */
  interface Insert {
    Future<Set<Integer>> insert(List<JsonObject> docs);
  }

  /** Looks up stored messages by message id. */
  interface Lookup {
    Future<List<JsonObject>> find(List<String> messageIds);
  }

  private final Lookup lookup;
  private final Insert insert;
  private final List<Slot> lookups = new ArrayList<>();
  private final List<Slot> writes = new ArrayList<>();
  private int lookupsDue;
  private int writesDue;

  BatchWrite(Lookup lookup, Insert insert) {
    this.lookup = lookup;
    this.insert = insert;
  }

  /** A new participant; every slot must end in {@link Slot#leave}. */
  Slot slot() {
    Slot s = new Slot();
    lookupsDue++;
    writesDue++;
    return s;
  }

  /** One conversation's part of the batch. */
  final class Slot {
    private List<String> ids;
    private Promise<List<JsonObject>> found;
    private List<JsonObject> docs;
    private Promise<Void> written;
    private boolean lookedUp;
    private boolean wrote;
    private boolean left;
    private boolean taken;

    /** This slot for the first caller, null for every later one (retries write on their own). */
    Slot take() {
      if (taken) {
        return null;
      }
      taken = true;
      return this;
    }

    /** Its stored messages among {@code messageIds} (any conversation), once every slot asked. */
    Future<List<JsonObject>> find(List<String> messageIds) {
      if (left || lookedUp) {
        return Future.failedFuture(new IllegalStateException("slot used twice"));
      }
      lookedUp = true;
      ids = messageIds;
      found = Promise.promise();
      lookups.add(this);
      lookupsDue--;
      runLookups();
      return found.future();
    }

    /** Inserts its new documents with every other slot's; fails on a duplicate among them. */
    Future<Void> insert(List<JsonObject> newDocs) {
      if (left || wrote) {
        return Future.failedFuture(new IllegalStateException("slot used twice"));
      }
      if (!lookedUp) {
        lookedUp = true;
        lookupsDue--;
        runLookups();
      }
      wrote = true;
      docs = newDocs;
      written = Promise.promise();
      writes.add(this);
      writesDue--;
      runWrites();
      return written.future();
    }

    /** Done with the batch (whether or not it wrote): the others no longer wait for it. */
    void leave() {
      if (left) {
        return;
      }
      left = true;
      if (!lookedUp) {
        lookedUp = true;
        lookupsDue--;
        runLookups();
      }
      if (!wrote) {
        wrote = true;
        writesDue--;
        runWrites();
      }
    }
  }

  private void runLookups() {
    if (lookupsDue > 0 || lookups.isEmpty()) {
      return;
    }
    List<Slot> asked = new ArrayList<>(lookups);
    lookups.clear();
    List<String> all = new ArrayList<>();
    for (Slot s : asked) {
      all.addAll(s.ids);
    }
    lookup
        .find(all)
        .onComplete(
            ar -> {
              for (Slot s : asked) {
                if (ar.failed()) {
                  s.found.fail(ar.cause());
                } else {
                  Set<String> mine = new java.util.HashSet<>(s.ids);
                  List<JsonObject> docs = new ArrayList<>();
                  for (JsonObject d : ar.result()) {
                    if (mine.contains(d.getString("message_id"))) {
                      docs.add(d);
                    }
                  }
                  s.found.complete(docs);
                }
              }
            });
  }

  private void runWrites() {
    if (writesDue > 0 || writes.isEmpty()) {
      return;
    }
    List<Slot> writing = new ArrayList<>(writes);
    writes.clear();
    List<JsonObject> all = new ArrayList<>();
    Map<Integer, Slot> owner = new HashMap<>();
    for (Slot s : writing) {
      for (JsonObject d : s.docs) {
        owner.put(all.size(), s);
        all.add(d);
      }
    }
    insert
        .insert(all)
        .onComplete(
            ar -> {
              Set<Slot> refused = new java.util.HashSet<>();
              if (ar.succeeded()) {
                for (int i : ar.result()) {
                  refused.add(owner.get(i));
                }
              }
              for (Slot s : writing) {
                if (ar.failed()) {
                  s.written.fail(ar.cause());
                } else if (refused.contains(s)) {
                  s.written.fail(
                      new IllegalStateException(
                          "messages were numbered concurrently by another consumer; retrying"));
                } else {
                  s.written.complete();
                }
              }
            });
  }
}
