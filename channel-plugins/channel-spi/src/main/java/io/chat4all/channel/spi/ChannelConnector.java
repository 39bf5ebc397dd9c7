package io.chat4all.channel.spi;

import io.vertx.core.Future;
import java.util.List;

/**
 * A channel connector: the one class of a plugin jar the host instantiates (public, no-argument
 * constructor, named by {@code main_class} in {@link Spi#DESCRIPTOR_RESOURCE}).
 *
 * <p>Lifecycle: the host constructs it, reads {@link #descriptor()}, calls {@link #start} once
 * (with a timeout), then {@link #send} and the inbound methods from the event loop of the
 * connector's own deployment, any number of times, concurrently for different recipients; at
 * removal or replacement it stops handing out new work, waits for the calls in flight, then calls
 * {@link #stop} (with a timeout). A connector keeps no durable state: the host persists provider
 * ids, offsets and dedup keys.
 */
public interface ChannelConnector {

  /** Channel, version, config schema and capabilities; callable before {@link #start}. */
  ConnectorDescriptor descriptor();

  /** Reads config and secrets, builds clients; fails when the configuration cannot work. */
  Future<Void> start(ConnectorContext context);

  /** Releases what {@link #start} made. */
  Future<Void> stop();

  /** Whether the provider can be used now (e.g. a cheap authenticated call, cached). */
  Future<Health> health();

  // --- outbound ---

  /**
   * Sends one message to one recipient. Fails with a {@link ConnectorException} that classifies the
   * failure (any other failure counts as {@link ErrorClass#RETRYABLE}).
   */
  Future<SendResult> send(OutboundMessage message);

  // --- inbound ---

  /** Answers a webhook verification GET; default: this channel has none. */
  default HandshakeResult handshake(WebhookRequest request) {
    return HandshakeResult.unsupported();
  }

  /**
   * Whether a webhook POST really comes from the provider (signature over the raw body or a secret
   * header, compared in constant time). Nothing is parsed or stored for a request this refuses.
   */
  boolean authenticate(WebhookRequest request);

  /**
   * The events of an authenticated webhook POST.
   *
   * @throws IllegalArgumentException when the body is not a request of this provider (the host
   *     answers 400 and stores nothing)
   */
  List<InboundEvent> parse(WebhookRequest request);

  /**
   * Long-polls the provider once from {@code offset} (null: from the start), when {@link
   * Capabilities#inboundModes()} holds {@code POLLING} and the configuration selects it; default:
   * unsupported.
   */
  default Future<PollResult> poll(String offset) {
    return Future.failedFuture(new UnsupportedOperationException("polling not supported"));
  }

  /**
   * Opens the download of an inbound attachment. Fails with {@link ErrorClass#MEDIA_REJECTED} when
   * it is larger than {@code maxBytes} (when known before the download), and the stream ends with
   * an error when more than {@code maxBytes} arrive.
   */
  default Future<MediaDownload> fetchMedia(InboundMedia media, long maxBytes) {
    return Future.failedFuture(
        ConnectorException.of(ErrorClass.MEDIA_REJECTED, null, "media download not supported"));
  }
}
