package io.chat4all.messaging;

import io.vertx.core.json.JsonObject;

/**
 * A message's {@code channel_delivery.<channel>} (seed field): {@code status} (the lowest of the
 * channel's recipients that did not fail; {@code failed} when all failed), {@code sent_at} / {@code
 * delivered_at} / {@code read_at} / {@code failed_at} (first time reached), {@code
 * external_message_id} (the provider's id of the first send), {@code reason} (of the last failure),
 * {@code updated_at}, and {@code recipients.<user_id>} with each recipient's own status, provider
 * id(s), reason and provider code.
 */
final class ChannelDelivery {
  private ChannelDelivery() {}

  /** Applies a channel status record; whether anything changed. */
  static boolean apply(JsonObject doc, JsonObject record) {
    String channel = record.getString("channel");
    String user = record.getString("user_id");
    String status = record.getString("status");
    String at = record.getString("at");
    JsonObject all = doc.getJsonObject("channel_delivery");
    if (all == null) {
      all = new JsonObject();
      doc.put("channel_delivery", all);
    }
    JsonObject cd = all.getJsonObject(channel, new JsonObject());
    JsonObject recipients = cd.getJsonObject("recipients", new JsonObject());
    JsonObject r = recipients.getJsonObject(user);
    String current = r == null ? null : r.getString("status");
    if (MessageActions.FAILED.equals(current) || !moves(current, status)) {
      return false; // forward only; failed is final on a channel
    }
    r = r == null ? new JsonObject() : r.copy();
    r.put("status", status).put("at", at).put(status + "_at", at);
    for (String field :
        new String[] {"external_message_id", "external_message_ids", "reason", "provider_code"}) {
      if (record.getValue(field) != null) {
        r.put(field, record.getValue(field));
      }
    }
    recipients.put(user, r);
    cd.put("recipients", recipients);
    cd.put("status", aggregate(recipients));
    if (cd.getString(status + "_at") == null) {
      cd.put(status + "_at", at);
    }
    if (cd.getString("external_message_id") == null && r.getString("external_message_id") != null) {
      cd.put("external_message_id", r.getString("external_message_id"));
    }
    if (MessageActions.FAILED.equals(status)) {
      cd.put("reason", record.getString("reason"));
    }
    cd.put("updated_at", at);
    all.put(channel, cd);
    return true;
  }

  /**
   * Whether a status may move from {@code current} to {@code next}: forward only (sent → delivered
   * → read), and failed only from sent (a channel gave up, or a provider reported the failure of a
   * message it had accepted) or from nothing.
   */
  static boolean moves(String current, String next) {
    if (current == null) {
      return true;
    }
    if (MessageActions.FAILED.equals(next)) {
      return MessageActions.SENT.equals(current);
    }
    return ReadHorizons.rank(next) > ReadHorizons.rank(current);
  }

  private static String aggregate(JsonObject recipients) {
    int min = Integer.MAX_VALUE;
    for (String uid : recipients.fieldNames()) {
      String s = recipients.getJsonObject(uid).getString("status");
      if (!MessageActions.FAILED.equals(s)) {
        min = Math.min(min, ReadHorizons.rank(s));
      }
    }
    return min == Integer.MAX_VALUE
        ? MessageActions.FAILED
        : MessageActions.STATUS_ORDER.get(Math.max(0, min));
  }
}
