package io.chat4all.channel.spi;

import java.util.List;

/**
 * A send the provider accepted.
 *
 * @param providerMessageIds the provider's id(s) of what was sent (more than one when a message
 *     went as several provider messages, e.g. a long text split or a caption sent apart); never
 *     empty
 */
public record SendResult(List<String> providerMessageIds) {
  public SendResult {
    if (providerMessageIds == null || providerMessageIds.isEmpty()) {
      throw new IllegalArgumentException("a send result needs at least one provider message id");
    }
    providerMessageIds = List.copyOf(providerMessageIds);
  }

  public static SendResult of(String id) {
    return new SendResult(List.of(id));
  }
}
