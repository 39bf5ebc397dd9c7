package io.chat4all.messaging;

import java.util.List;
import java.util.Set;

/** Actions of the messaging service address {@code chat4all.messages}, and message vocabulary. */
public final class MessageActions {
  private MessageActions() {}

  public static final String SEND = "send";
  public static final String GET = "get";
  public static final String HISTORY = "history";
  public static final String MARK = "mark";
  public static final String EDIT = "edit";
  public static final String DELETE = "delete";
  public static final String SYNC = "sync";

  public static final Set<String> PAYLOAD_TYPES = Set.of("text", "file", "image", "video", "audio");
  public static final Set<String> MEDIA_TYPES = Set.of("file", "image", "video", "audio");

  /** Statuses in the order a recipient's status may move (failed is reachable from sent only). */
  public static final List<String> STATUS_ORDER = List.of("sent", "delivered", "read");

  public static final String SENT = "sent";
  public static final String DELIVERED = "delivered";
  public static final String READ = "read";
  public static final String FAILED = "failed";
}
