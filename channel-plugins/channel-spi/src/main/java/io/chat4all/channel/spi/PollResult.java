package io.chat4all.channel.spi;

import java.util.List;

/**
 * One poll of a provider.
 *
 * @param events what arrived (may be empty after a long-poll timeout)
 * @param nextOffset the offset to poll from next time; the host persists it only after {@code
 *     events} are durable, so a crash re-polls them (and dedup drops the repeats)
 */
public record PollResult(List<InboundEvent> events, String nextOffset) {
  public PollResult {
    events = List.copyOf(events);
  }
}
