package io.chat4all.auth;

/** Actions of the auth service address {@code chat4all.auth}. */
public final class AuthActions {
  private AuthActions() {}

  public static final String REGISTER = "register";
  public static final String TOKEN = "token";
  public static final String REFRESH = "refresh";
  public static final String LOGOUT = "logout";
  public static final String ME = "me";
  public static final String USER_GET = "user_get";
  public static final String USER_FIND = "user_find";
  public static final String CHANNELS_LIST = "channels_list";
  public static final String CHANNELS_LINK = "channels_link";
  public static final String CHANNELS_UNLINK = "channels_unlink";

  /** Channel types a user can link (seed: user_channels.channel_type). */
  public static final java.util.Set<String> CHANNEL_TYPES =
      java.util.Set.of("whatsapp", "instagram", "telegram", "messenger", "internal");
}
