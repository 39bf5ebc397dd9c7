package io.chat4all.realtime;

import java.util.Set;

/**
 * The event-bus addresses SockJS clients may send to (with {@code headers.Authorization: "Bearer
 * <token>"}); each replies with the result or fails with the project's error model.
 *
 * <ul>
 *   <li>{@link #SEND} body as {@code POST /v1/messages} → the accepted message
 *   <li>{@link #DELIVERED}, {@link #READ} {@code {message_id}} → the receipt
 *   <li>{@link #TYPING} {@code {conversation_id}} → the typing event published
 * </ul>
 */
public final class ClientAddresses {
  private ClientAddresses() {}

  public static final String SEND = "chat4all.client.send";
  public static final String DELIVERED = "chat4all.client.delivered";
  public static final String READ = "chat4all.client.read";
  public static final String TYPING = "chat4all.client.typing";

  public static final Set<String> ALL = Set.of(SEND, DELIVERED, READ, TYPING);
}
