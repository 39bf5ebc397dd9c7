package io.chat4all.webhooks;

import io.chat4all.web.Bodies;
import java.net.URI;
import java.net.URISyntaxException;
import java.util.Locale;

/** The shape rules of a webhook URL (the address rules are {@link AddressGuard}'s). */
final class WebhookUrls {
  static final int MAX_LENGTH = 2048;

  private WebhookUrls() {}

  /**
   * The URL if its shape is acceptable: absolute {@code https} (or {@code http} when allowed), a
   * host, no credentials, no fragment, no spaces or control characters; otherwise {@code
   * validation_failed} on {@code field}.
   */
  static URI parse(String field, String raw, boolean allowHttp) {
    if (raw.length() > MAX_LENGTH) {
      throw Bodies.invalid(field, "must be at most " + MAX_LENGTH + " characters long");
    }
    for (int i = 0; i < raw.length(); i++) {
      char ch = raw.charAt(i);
      if (ch <= 0x20 || ch == 0x7f) {
        throw Bodies.invalid(field, "must not contain spaces or control characters");
      }
    }
    URI uri;
    try {
      uri = new URI(raw);
    } catch (URISyntaxException e) {
      throw Bodies.invalid(field, "is not a valid URL");
    }
    String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
    if (!scheme.equals("https") && !(allowHttp && scheme.equals("http"))) {
      throw Bodies.invalid(
          field,
          allowHttp
              ? "must be an http or https URL"
              : "must be an https URL (http is not allowed)");
    }
    if (uri.getRawAuthority() == null || uri.getHost() == null || uri.getHost().isEmpty()) {
      throw Bodies.invalid(field, "must name a host");
    }
    if (uri.getRawUserInfo() != null) {
      throw Bodies.invalid(
          field, "must not contain credentials (use the signature to authenticate)");
    }
    if (uri.getRawFragment() != null) {
      throw Bodies.invalid(field, "must not have a fragment");
    }
    if (uri.getPort() == 0 || uri.getPort() > 65535) {
      throw Bodies.invalid(field, "has an invalid port");
    }
    return uri;
  }

  /** The host of a URL as a resolver takes it: lowercase, IPv6 literals without brackets. */
  static String hostOf(URI uri) {
    String host = uri.getHost() == null ? "" : uri.getHost().toLowerCase(Locale.ROOT);
    if (host.startsWith("[") && host.endsWith("]")) {
      host = host.substring(1, host.length() - 1);
    }
    return host;
  }
}
