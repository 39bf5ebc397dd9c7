package io.chat4all.conversations;

import io.chat4all.web.Bodies;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.temporal.ChronoUnit;
import java.util.Base64;
import java.util.UUID;

/**
 * The opaque position in a conversation list: the last item's activity time (epoch microseconds,
 * PostgreSQL's precision) and id, as base64url of {@code "<micros>|<uuid>"}.
 */
record Cursor(OffsetDateTime activityAt, UUID conversationId) {
  private static final Instant LATEST = Instant.parse("9999-12-31T23:59:59Z");

  String encode() {
    Instant t = activityAt.toInstant();
    long micros = ChronoUnit.MICROS.between(Instant.EPOCH, t);
    return Base64.getUrlEncoder()
        .withoutPadding()
        .encodeToString((micros + "|" + conversationId).getBytes(StandardCharsets.UTF_8));
  }

  /** Parses a cursor; anything that is not one fails {@code validation_failed} on {@code field}. */
  static Cursor parse(String raw, String field) {
    try {
      if (raw.length() > 128) {
        throw new IllegalArgumentException();
      }
      String text = new String(Base64.getUrlDecoder().decode(raw), StandardCharsets.UTF_8);
      int bar = text.indexOf('|');
      if (bar < 1) {
        throw new IllegalArgumentException();
      }
      long micros = Long.parseLong(text.substring(0, bar));
      UUID id = UUID.fromString(text.substring(bar + 1));
      Instant t = Instant.EPOCH.plus(micros, ChronoUnit.MICROS);
      if (t.isBefore(Instant.EPOCH) || t.isAfter(LATEST)) {
        throw new IllegalArgumentException();
      }
      return new Cursor(OffsetDateTime.ofInstant(t, ZoneOffset.UTC), id);
    } catch (RuntimeException e) {
      throw Bodies.invalid(field, "is not a cursor returned by this list");
    }
  }
}
