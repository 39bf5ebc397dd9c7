package io.chat4all.conversations;

import io.chat4all.codecs.Settings;
import io.vertx.core.json.JsonObject;

/** The {@code conversations} section of the node configuration. */
public record ConversationsConfig(int maxGroupMembers, int maxNameLength) {
  public static ConversationsConfig from(JsonObject section) {
    return new ConversationsConfig(
        Settings.intOf(section, "conversations", "max_group_members", 1000),
        Settings.intOf(section, "conversations", "max_name_length", 100));
  }
}
