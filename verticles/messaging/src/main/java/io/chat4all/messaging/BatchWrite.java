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
 * The store side of one poll's sends, shared by its conversations: the conversations look up their
 * message ids together (one query), insert their new messages together (one unordered bulk write)
 * and then move their PostgreSQL counters and horizons together (one transaction, {@link
 * ReadHorizons#afterSends(Map)}). Each conversation holds a {@link Slot}; a phase runs once every
 * slot has reached it or left (a conversation with no sends, or one that failed, leaves). A
 * conversation whose documents were refused as duplicates (another consumer numbered them first)
 * fails alone and is retried on its own; a failing write fails every conversation in it, which is
 * then retried on its own too (see {@link PipelineFailures}). All of it runs on the pipeline's
 * event loop; each slot's results come back on the context that asked (its conversation's span).
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

  /**
   * Moves the PostgreSQL side of stored runs, by conversation ({@link ReadHorizons#afterSends}).
   */
  interface Move {
    Future<Map<String, List<ReadHorizons.Moved>>> move(Map<String, List<JsonObject>> runs);
  }

  private final Lookup lookup;
  private final Insert insert;
  private final Move move;
  private final List<Slot> lookups = new ArrayList<>();
  private final List<Slot> writes = new ArrayList<>();
  private final List<Slot> moves = new ArrayList<>();
  private int lookupsDue;
  private int writesDue;
  private int movesDue;

  BatchWrite(Lookup lookup, Insert insert, Move move) {
    this.lookup = lookup;
    this.insert = insert;
    this.move = move;
  }

  /** A new participant; every slot must end in {@link Slot#leave}. */
  Slot slot() {
    Slot s = new Slot();
    lookupsDue++;
    writesDue++;
    movesDue++;
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
    private String movedConv;
    private List<JsonObject> run;
    private Promise<List<ReadHorizons.Moved>> movedDone;
    private boolean moving;

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
      found = io.chat4all.codecs.Tracing.promiseHere();
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
      written = io.chat4all.codecs.Tracing.promiseHere();
      writes.add(this);
      writesDue--;
      runWrites();
      return written.future();
    }

    /**
     * Moves the PostgreSQL side of its stored run ({@code docs} of {@code conversation}) in one
     * transaction with every other slot's; all of them fail together.
     */
    Future<List<ReadHorizons.Moved>> move(String conversation, List<JsonObject> docs) {
      if (left || moving) {
        return Future.failedFuture(new IllegalStateException("slot used twice"));
      }
      skipLookupAndWrite();
      moving = true;
      movedConv = conversation;
      run = docs;
      movedDone = io.chat4all.codecs.Tracing.promiseHere();
      moves.add(this);
      movesDue--;
      runMoves();
      return movedDone.future();
    }

    /** Done with the batch (whether or not it wrote): the others no longer wait for it. */
    void leave() {
      if (left) {
        return;
      }
      left = true;
      skipLookupAndWrite();
      if (!moving) {
        moving = true;
        movesDue--;
        runMoves();
      }
    }

    private void skipLookupAndWrite() {
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

  private void runMoves() {
    if (movesDue > 0 || moves.isEmpty()) {
      return;
    }
    List<Slot> moving = new ArrayList<>(moves);
    moves.clear();
    Map<String, List<JsonObject>> runs = new HashMap<>();
    for (Slot s : moving) {
      runs.put(s.movedConv, s.run);
    }
    move.move(runs)
        .onComplete(
            ar -> {
              for (Slot s : moving) {
                if (ar.failed()) {
                  s.movedDone.fail(ar.cause());
                } else {
                  s.movedDone.complete(ar.result().getOrDefault(s.movedConv, List.of()));
                }
              }
            });
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
