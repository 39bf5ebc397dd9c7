package io.chat4all.web;

import io.chat4all.codecs.Addresses;
import io.vertx.core.MultiMap;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.json.JsonObject;

/**
 * The push half of access-token revocation. The authoritative record is the revocation in Redis
 * that every {@link TokenVerifier} check reads; this notice tells the sockets that are already open
 * with a revoked token to close now rather than at their next frame. It is published on the user's
 * own address ({@code chat4all.user.<id>}), which reaches every socket of that user on every node
 * of the cluster, marked by the {@value #HEADER} header so that the gateways never forward it to a
 * client: {@code {jti?, family_id?}} — one token, or every token of one login.
 */
public final class TokenRevocation {
  private TokenRevocation() {}

  /** Header that marks a revocation notice on a user's address; its value is {@value #VALUE}. */
  public static final String HEADER = "chat4all-control";

  public static final String VALUE = "token_revoked";

  /** Tells every socket of {@code userId} that the token {@code jti} or the login is revoked. */
  public static void publish(Vertx vertx, String userId, String jti, String familyId) {
    JsonObject notice = new JsonObject();
    if (jti != null) {
      notice.put("jti", jti);
    }
    if (familyId != null) {
      notice.put("family_id", familyId);
    }
    vertx
        .eventBus()
        .publish(Addresses.user(userId), notice, new DeliveryOptions().addHeader(HEADER, VALUE));
  }

  /** Whether a message on a user's address is a revocation notice (never for the client). */
  public static boolean isNotice(MultiMap headers) {
    return headers != null && VALUE.equals(headers.get(HEADER));
  }

  /** The same, for the header object of a SockJS bridge frame. */
  public static boolean isNotice(JsonObject headers) {
    return headers != null && VALUE.equals(headers.getValue(HEADER));
  }

  /** Whether the notice revokes the token of {@code p}. */
  public static boolean revokes(Object notice, Principal p) {
    if (!(notice instanceof JsonObject n) || p == null) {
      return false;
    }
    String jti = n.getString("jti");
    String family = n.getString("family_id");
    return (jti != null && jti.equals(p.tokenId()))
        || (family != null && family.equals(p.familyId()));
  }
}
