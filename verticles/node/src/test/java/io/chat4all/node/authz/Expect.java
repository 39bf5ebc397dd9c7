package io.chat4all.node.authz;

import io.chat4all.node.api.Api;
import io.vertx.core.json.JsonObject;
import java.util.Map;
import org.assertj.core.api.SoftAssertions;

/** A documented REST answer: the status and, for an error, its code in the error model. */
record Expect(int status, String code) {
  private static final Map<Integer, String> DEFAULT_CODES =
      Map.of(403, "forbidden", 404, "not_found", 409, "conflict", 401, "unauthenticated");

  /** "200", "404" (not_found), "409 conflict", "401 token_expired", … */
  static Expect of(String spec) {
    String[] p = spec.split(" ");
    int status = Integer.parseInt(p[0]);
    return new Expect(status, p.length > 1 ? p[1] : DEFAULT_CODES.get(status));
  }

  void check(SoftAssertions soft, String what, Api.Res res) {
    soft.assertThat(res.status()).as("%s: status of %s", what, res.raw()).isEqualTo(status);
    if (status >= 400 && res.status() == status) {
      soft.assertThat(res.errorCode()).as("%s: error code of %s", what, res.raw()).isEqualTo(code);
      JsonObject error = res.json() == null ? null : res.json().getJsonObject("error");
      soft.assertThat(error == null ? null : error.getString("message"))
          .as("%s: error message", what)
          .isNotBlank();
    }
  }

  /** What a client can tell from an error: status and body, ids blanked. */
  static String shape(Api.Res res) {
    return res.status() + " " + scrub(res.raw());
  }

  /** {@code text} with ids and channel names blanked. */
  static String scrub(String text) {
    return String.valueOf(text)
        .replaceAll(
            "[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}", "<id>")
        .replaceAll("(nochannel|mxchan)[0-9a-z]{8}", "<channel>");
  }
}
