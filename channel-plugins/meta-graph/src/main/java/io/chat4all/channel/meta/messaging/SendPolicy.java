package io.chat4all.channel.meta.messaging;

import io.chat4all.channel.spi.ConnectorException;
import io.chat4all.channel.spi.ErrorClass;
import io.chat4all.channel.spi.OutboundMessage;
import java.time.Duration;
import java.time.Instant;
import java.util.Locale;

/**
 * The Messenger Platform's messaging window: a free-form message ({@code messaging_type: RESPONSE})
 * may go within 24 hours of the contact's last message; a human agent's reply tagged {@code
 * HUMAN_AGENT} ({@code metadata.tag}) within 7 days ({@code messaging_type: MESSAGE_TAG}). Outside
 * them a send fails at once with {@link ErrorClass#WINDOW_CLOSED}, without a provider call, and so
 * does one to a contact who never wrote ({@code lastInboundAt} null: the host keeps every contact's
 * last inbound time). When the provider still finds the window closed it answers code 10 / subcode
 * 2018278, classified the same way.
 */
public final class SendPolicy {
  public static final Duration FREE_FORM = Duration.ofHours(24);
  public static final Duration HUMAN_AGENT = Duration.ofDays(7);
  public static final String HUMAN_AGENT_TAG = "HUMAN_AGENT";

  private SendPolicy() {}

  /** How a send is typed: {@code messaging_type} and, for tagged sends, the tag. */
  public record Typing(String messagingType, String tag) {}

  /** The typing of {@code m} at {@code now}, or a {@link ErrorClass#WINDOW_CLOSED} failure. */
  public static Typing typing(OutboundMessage m, Instant now) {
    String tag =
        m.metadata().getValue("tag") instanceof String s ? s.trim().toUpperCase(Locale.ROOT) : null;
    if (tag != null && tag.isEmpty()) {
      tag = null;
    }
    if (tag != null && !tag.equals(HUMAN_AGENT_TAG)) {
      throw ConnectorException.of(
          ErrorClass.PERMANENT,
          null,
          "message tag " + tag + " is not supported (only HUMAN_AGENT)");
    }
    Instant last = m.lastInboundAt();
    if (last == null) {
      throw ConnectorException.of(
          ErrorClass.WINDOW_CLOSED,
          null,
          "the contact never wrote on this channel: the messaging window was never open");
    }
    Duration since = last == null ? null : Duration.between(last, now);
    if (tag == null) {
      if (since != null && since.compareTo(FREE_FORM) > 0) {
        throw ConnectorException.of(
            ErrorClass.WINDOW_CLOSED,
            null,
            "the contact last wrote "
                + since.toHours()
                + " h ago; free-form messages are allowed for 24 h (a human agent may reply"
                + " tagged HUMAN_AGENT for 7 days)");
      }
      return new Typing("RESPONSE", null);
    }
    if (since != null && since.compareTo(HUMAN_AGENT) > 0) {
      throw ConnectorException.of(
          ErrorClass.WINDOW_CLOSED,
          null,
          "the contact last wrote "
              + since.toDays()
              + " days ago; HUMAN_AGENT replies are allowed for 7 days");
    }
    return new Typing("MESSAGE_TAG", HUMAN_AGENT_TAG);
  }
}
