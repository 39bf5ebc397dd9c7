package io.chat4all.auth;

import io.chat4all.codecs.ErrorCode;
import io.chat4all.codecs.ServiceException;
import io.vertx.core.json.JsonObject;
import java.util.Locale;
import java.util.Set;

/**
 * What a new password must be: at least {@value #MIN_LENGTH} characters (code points), not the
 * username nor containing it (case-insensitively), and not one of the most common passwords of
 * public breach corpora. A refusal is 400 {@code weak_password} with {@code details.field =
 * password} and {@code details.reason} one of {@code too_short}, {@code contains_username}, {@code
 * common}.
 */
public final class PasswordPolicy {
  public static final int MIN_LENGTH = 8;

  /**
   * The most frequent passwords of at least {@value #MIN_LENGTH} characters in public breach lists
   * (shorter ones are refused by length anyway); compared lowercase.
   */
  static final Set<String> COMMON =
      Set.of(
          "12345678",
          "123456789",
          "1234567890",
          "12345678910",
          "123123123",
          "987654321",
          "11111111",
          "111111111",
          "00000000",
          "88888888",
          "11223344",
          "12341234",
          "1q2w3e4r",
          "1q2w3e4r5t",
          "1qaz2wsx",
          "zaq12wsx",
          "qwertyuiop",
          "qwerty123",
          "qwerty12",
          "qwerty1234",
          "asdfghjkl",
          "asdfasdf",
          "zxcvbnm1",
          "password",
          "password1",
          "password12",
          "password123",
          "password!",
          "passw0rd",
          "p@ssw0rd",
          "p@ssword",
          "pa$$word",
          "abcd1234",
          "abc12345",
          "abcdefgh",
          "iloveyou",
          "iloveyou1",
          "sunshine",
          "sunshine1",
          "princess",
          "princess1",
          "football",
          "football1",
          "baseball",
          "superman",
          "starwars",
          "whatever",
          "trustno1",
          "letmein1",
          "welcome1",
          "welcome123",
          "computer",
          "internet",
          "michelle",
          "jennifer",
          "charlie1",
          "master123",
          "monkey123",
          "dragon123",
          "shadow123",
          "changeme",
          "changeme1",
          "secret123",
          "admin123",
          "administrator",
          "qazwsxedc",
          "q1w2e3r4",
          "q1w2e3r4t5",
          "aa123456",
          "a1b2c3d4",
          "chocolate",
          "butterfly",
          "liverpool",
          "chelsea1",
          "jordan23",
          "1234qwer",
          "senha123",
          "mudar123",
          "brasil123",
          "default1",
          "test1234",
          "testtest",
          "login123",
          "google123",
          "chat4all",
          "chat4all1");

  private PasswordPolicy() {}

  /**
   * Throws 400 {@code weak_password} when {@code password} is not acceptable for {@code username}.
   */
  public static void check(String username, String password) {
    if (password.codePointCount(0, password.length()) < MIN_LENGTH) {
      throw weak("too_short", "must be at least " + MIN_LENGTH + " characters");
    }
    String lower = password.toLowerCase(Locale.ROOT);
    if (username != null && lower.contains(username.toLowerCase(Locale.ROOT))) {
      throw weak("contains_username", "must not be or contain the username");
    }
    if (COMMON.contains(lower)) {
      throw weak("common", "is one of the most common passwords; choose another");
    }
  }

  private static ServiceException weak(String reason, String message) {
    return new ServiceException(
        ErrorCode.WEAK_PASSWORD,
        "password " + message,
        new JsonObject().put("field", "password").put("reason", reason));
  }
}
