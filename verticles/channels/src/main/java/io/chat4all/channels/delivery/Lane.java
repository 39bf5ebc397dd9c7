package io.chat4all.channels.delivery;

import io.vertx.kafka.client.common.TopicPartition;
import java.util.ArrayDeque;

/**
 * The records of one recipient (one record key) in one partition, in log order. Only the head is
 * ever attempted, so a retry never lets a later message to the same recipient overtake.
 */
final class Lane {
  final String id;
  final String channel;
  final TopicPartition partition;
  final ArrayDeque<Item> items = new ArrayDeque<>();

  /** The head is being attempted. */
  boolean busy;

  /** The head waits for a retry timer. */
  long timer = -1;

  /** In its channel's ready queue. */
  boolean queued;

  /** Its partition was revoked: nothing more is attempted. */
  boolean dropped;

  Lane(String id, String channel, TopicPartition partition) {
    this.id = id;
    this.channel = channel;
    this.partition = partition;
  }

  boolean ready() {
    return !dropped && !busy && timer < 0 && !items.isEmpty();
  }
}
