package io.chat4all.channels.delivery;

import java.util.TreeSet;

/**
 * The offsets of one assigned partition that were read but are not done yet: the committable
 * position is the lowest of them (or one past the last read when all are done), so a record is
 * never committed before the connector answered for it and for everything before it.
 */
final class PartitionState {
  private final TreeSet<Long> pending = new TreeSet<>();
  private long highest = -1;
  private long committed = -1;
  boolean revoked;

  void track(long offset) {
    pending.add(offset);
    highest = Math.max(highest, offset);
  }

  void done(long offset) {
    pending.remove(offset);
  }

  int pendingCount() {
    return pending.size();
  }

  /** The offset to commit now, or -1 when nothing new is committable. */
  long committable() {
    if (highest < 0) {
      return -1;
    }
    long next = pending.isEmpty() ? highest + 1 : pending.first();
    return next > committed ? next : -1;
  }

  void committed(long offset) {
    committed = Math.max(committed, offset);
  }
}
