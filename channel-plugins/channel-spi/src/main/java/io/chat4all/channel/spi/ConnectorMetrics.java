package io.chat4all.channel.spi;

import java.time.Duration;

/** Metrics a connector may record; names are prefixed {@code chat4all.channel.} and tagged. */
public interface ConnectorMetrics {
  /** Adds one to a counter, e.g. {@code provider.calls} with tags {@code method=sendMessage}. */
  void increment(String name, String... tags);

  /** Records a duration, e.g. of one provider call. */
  void record(String name, Duration duration, String... tags);
}
