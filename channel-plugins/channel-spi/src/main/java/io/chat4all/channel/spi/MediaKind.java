package io.chat4all.channel.spi;

/** Kinds of media a message can carry (the platform's payload types other than text). */
public enum MediaKind {
  IMAGE,
  VIDEO,
  AUDIO,
  DOCUMENT;

  /** The kind for a payload type ({@code image}, {@code video}, {@code audio}, {@code file}). */
  public static MediaKind ofPayloadType(String type) {
    return switch (type == null ? "" : type) {
      case "image" -> IMAGE;
      case "video" -> VIDEO;
      case "audio" -> AUDIO;
      default -> DOCUMENT;
    };
  }
}
