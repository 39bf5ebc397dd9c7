package io.chat4all.realtime;

import io.chat4all.codecs.Settings;
import io.vertx.core.json.JsonObject;

/**
 * The {@code realtime} section of the node configuration (every key optional).
 *
 * @param authTimeoutMs a socket that has not authenticated within this closes (1008)
 * @param idleTimeoutMs a socket from which no frame at all arrives for this long closes (1001); the
 *     pongs answering the server's pings count, so a client that answers them stays open
 * @param maxFramesPerSecond client frames per second before {@code rate_limited} error frames; at
 *     twice this the socket closes (1008)
 * @param maxPendingWrites outbound frames not yet flushed before a slow socket closes (1013)
 * @param typingIntervalMs at most one typing event per conversation and connection in this time
 * @param dedupEntries how many pushed envelope keys each connection remembers
 * @param presenceTtlSeconds a connection counts as online this long after its last renewal
 * @param presenceSweepSeconds how often expired connections are turned into offline events
 * @param feedCheckMs how often a subscriber's change feed is read for entries no live envelope
 *     announced (their publisher died between append and publish, or published before it heard of
 *     the subscription); 0 turns the check off
 * @param gapGraceMs how long a subscriber waits for the live envelope of a feed entry it has seen
 *     before it reads that entry's message itself (a publish follows its append by moments; the
 *     read is what a publish that never comes needs); 0 reads at once
 * @param pingIntervalMs how often the server sends a WebSocket ping frame on each {@code /v1/ws}
 *     socket (keeps the connection within the HTTP server's idle timeout)
 */
public record RealtimeConfig(
    long authTimeoutMs,
    long idleTimeoutMs,
    int maxFramesPerSecond,
    int maxPendingWrites,
    long typingIntervalMs,
    int dedupEntries,
    int presenceTtlSeconds,
    int presenceSweepSeconds,
    long pingIntervalMs,
    long feedCheckMs,
    long gapGraceMs) {

  public static RealtimeConfig from(JsonObject section) {
    JsonObject s = section == null ? new JsonObject() : section;
    return new RealtimeConfig(
        Settings.longOf(s, "realtime", "auth_timeout_ms", 10_000L),
        Settings.longOf(s, "realtime", "idle_timeout_ms", 120_000L),
        Settings.intOf(s, "realtime", "max_frames_per_second", 30),
        Settings.intOf(s, "realtime", "max_pending_writes", 1000),
        Settings.longOf(s, "realtime", "typing_interval_ms", 2_000L),
        Settings.intOf(s, "realtime", "dedup_entries", 4096),
        Settings.intOf(s, "realtime", "presence_ttl_seconds", 300),
        Settings.intOf(s, "realtime", "presence_sweep_seconds", 30),
        Settings.longOf(s, "realtime", "ping_interval_ms", 25_000L),
        Settings.longOf(s, "realtime", "feed_check_ms", 5_000L),
        Settings.longOf(s, "realtime", "gap_grace_ms", 100L));
  }
}
