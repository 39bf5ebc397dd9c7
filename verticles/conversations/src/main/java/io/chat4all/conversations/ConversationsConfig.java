package io.chat4all.conversations;

import io.vertx.core.json.JsonObject;

/** The {@code conversations} section of the node configuration. */
public record ConversationsConfig(int maxGroupMembers, int maxNameLength) {
  public static ConversationsConfig from(JsonObject section) {
    return new ConversationsConfig(
        section.getInteger("max_group_members", 1000), section.getInteger("max_name_length", 100));
  }
}
