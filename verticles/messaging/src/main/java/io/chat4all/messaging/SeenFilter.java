package io.chat4all.messaging;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.List;

/**
 * A Bloom filter of the message ids claimed for sending, in Redis bitmaps {@code
 * <prefix>idem:seen:<bucket>}, one per stretch of {@code bucketDays} days, kept as long as the
 * messages they cover can be stored. The claim of a send (its idempotency key, {@code
 * idempotency_ttl_seconds}) answers for recent ids; this filter answers for older ones without a
 * store read: an id none of whose buckets has all its bits set was never claimed, so it cannot be
 * stored. Only a hit (an id used before, or a false positive) sends the send to the stored ids.
 * With {@code bits = 0} or {@code retention_days = 0} (messages kept forever) there is no filter
 * and every first attempt looks at the stored ids.
 */
final class SeenFilter {
  static final SeenFilter NONE = new SeenFilter(0, 0, 0, 0);

  /** Bits set per id. */
  static final int HASHES = 4;

  private final long bits;
  private final int bucketDays;
  private final int buckets;
  private final long bucketTtlSeconds;

  private SeenFilter(long bits, int bucketDays, int buckets, long bucketTtlSeconds) {
    this.bits = bits;
    this.bucketDays = bucketDays;
    this.buckets = buckets;
    this.bucketTtlSeconds = bucketTtlSeconds;
  }

  /**
   * The filter for {@code bits} per bucket and messages kept {@code retentionDays}: about twelve
   * buckets cover the retention, plus the current one.
   */
  static SeenFilter of(long bits, int retentionDays) {
    if (bits <= 0 || retentionDays <= 0) {
      return NONE;
    }
    if (bits > (1L << 32)) {
      throw new IllegalArgumentException("messaging.idempotency_filter_bits must be at most 2^32");
    }
    int bucketDays = Math.max(1, (retentionDays + 11) / 12);
    int count = (retentionDays + bucketDays - 1) / bucketDays + 1;
    return new SeenFilter(bits, bucketDays, count, (long) (retentionDays + bucketDays) * 86_400);
  }

  boolean enabled() {
    return bits > 0;
  }

  long bucketTtlSeconds() {
    return bucketTtlSeconds;
  }

  /** The bucket keys to look in, the current one (where the id is recorded) first. */
  List<String> buckets(String prefix) {
    if (!enabled()) {
      return List.of();
    }
    long current = System.currentTimeMillis() / 86_400_000L / bucketDays;
    List<String> keys = new ArrayList<>(buckets);
    for (int i = 0; i < buckets; i++) {
      keys.add(prefix + "idem:seen:" + (current - i));
    }
    return keys;
  }

  /** The bit positions of an id (from its SHA-256). */
  List<String> positions(String messageId) {
    byte[] digest;
    try {
      digest =
          MessageDigest.getInstance("SHA-256").digest(messageId.getBytes(StandardCharsets.UTF_8));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
    ByteBuffer b = ByteBuffer.wrap(digest);
    List<String> out = new ArrayList<>(HASHES);
    for (int i = 0; i < HASHES; i++) {
      out.add(Long.toString(Long.remainderUnsigned(b.getLong(), bits)));
    }
    return out;
  }
}
