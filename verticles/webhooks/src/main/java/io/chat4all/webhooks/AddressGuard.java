package io.chat4all.webhooks;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.List;

/**
 * The SSRF guard of webhook targets: a host is resolved (off the event loop) and refused when any
 * of its addresses is not a public unicast address — loopback, private (RFC 1918, unique-local),
 * link-local, shared (CGNAT), unspecified, multicast, broadcast, documentation or reserved ranges,
 * also when wrapped in IPv4-mapped, NAT64 or 6to4 IPv6 forms. With {@code allowPrivate} (tests,
 * embedded mode on a laptop) those are accepted, except cloud metadata endpoints, which are always
 * refused. The delivery connects to the address checked here, so a DNS answer that changes between
 * the check and the connection cannot redirect it.
 */
public final class AddressGuard {
  private final Vertx vertx;
  private final boolean allowPrivate;

  public AddressGuard(Vertx vertx, boolean allowPrivate) {
    this.vertx = vertx;
    this.allowPrivate = allowPrivate;
  }

  /** Why {@code host} may not be called. */
  public static final class Refused extends Exception {
    public Refused(String message) {
      super(message, null, false, false);
    }
  }

  /**
   * The address to connect to for {@code host} (a name or an IP literal, IPv6 without brackets);
   * fails with {@link Refused} when the host does not resolve or an address is not allowed.
   */
  public Future<InetAddress> resolve(String host) {
    return vertx.executeBlocking(
        () -> {
          InetAddress[] all;
          try {
            all = InetAddress.getAllByName(host);
          } catch (UnknownHostException e) {
            throw new Refused("the host " + host + " does not resolve");
          }
          for (InetAddress a : all) {
            String why = refusal(a, allowPrivate);
            if (why != null) {
              throw new Refused(
                  "the host "
                      + host
                      + (host.equals(a.getHostAddress())
                          ? ""
                          : " resolves to " + a.getHostAddress())
                      + ", "
                      + why);
            }
          }
          return all[0];
        },
        false);
  }

  /** Metadata services of cloud providers (instance credentials): never a webhook target. */
  private static final List<String> METADATA =
      List.of("169.254.169.254", "169.254.170.2", "100.100.100.200", "fd00:ec2:0:0:0:0:0:254");

  /** Why {@code a} is refused, or null when it may be called. */
  static String refusal(InetAddress a, boolean allowPrivate) {
    if (METADATA.contains(a.getHostAddress())) {
      return "a cloud metadata address";
    }
    if (a instanceof Inet6Address v6) {
      byte[] b = v6.getAddress();
      InetAddress embedded = embeddedV4(b);
      if (embedded != null) {
        return refusal(embedded, allowPrivate);
      }
      if (a.isAnyLocalAddress() || a.isMulticastAddress()) {
        return "not a unicast address";
      }
      if (allowPrivate) {
        return null;
      }
      if (a.isLoopbackAddress()) {
        return "a loopback address";
      }
      if (a.isLinkLocalAddress() || (b[0] == (byte) 0xfe && (b[1] & 0xc0) == 0xc0)) {
        return "a link-local address";
      }
      if ((b[0] & 0xfe) == 0xfc) {
        return "a private (unique-local) address";
      }
      if (b[0] == 0x20 && b[1] == 0x01 && b[2] == 0x0d && b[3] == (byte) 0xb8) {
        return "a documentation address";
      }
      return null;
    }
    byte[] b = a.getAddress();
    int o0 = b[0] & 0xff;
    int o1 = b[1] & 0xff;
    if (a.isAnyLocalAddress() || o0 == 0) {
      return "an unspecified address";
    }
    if (a.isMulticastAddress() || o0 >= 240) {
      return "a multicast, broadcast or reserved address";
    }
    if (allowPrivate) {
      return null;
    }
    if (a.isLoopbackAddress()) {
      return "a loopback address";
    }
    if (a.isLinkLocalAddress()) {
      return "a link-local address";
    }
    if (a.isSiteLocalAddress()) {
      return "a private address";
    }
    if (o0 == 100 && (o1 & 0xc0) == 64) {
      return "a shared (carrier-grade NAT) address";
    }
    if ((o0 == 192 && o1 == 0 && (b[2] & 0xff) == 0) || (o0 == 198 && (o1 & 0xfe) == 18)) {
      return "a reserved address";
    }
    if ((o0 == 192 && o1 == 0 && (b[2] & 0xff) == 2)
        || (o0 == 198 && o1 == 51 && (b[2] & 0xff) == 100)
        || (o0 == 203 && o1 == 0 && (b[2] & 0xff) == 113)) {
      return "a documentation address";
    }
    return null;
  }

  /** The IPv4 address inside an IPv4-mapped, IPv4-compatible, NAT64 or 6to4 address, or null. */
  private static InetAddress embeddedV4(byte[] b) {
    boolean zeros10 = true;
    for (int i = 0; i < 10; i++) {
      zeros10 &= b[i] == 0;
    }
    boolean mapped = zeros10 && b[10] == (byte) 0xff && b[11] == (byte) 0xff;
    boolean compatible = zeros10 && b[10] == 0 && b[11] == 0 && (b[12] != 0 || b[13] != 0);
    boolean nat64 =
        b[0] == 0x00
            && b[1] == 0x64
            && b[2] == (byte) 0xff
            && b[3] == (byte) 0x9b
            && allZero(b, 4, 12);
    try {
      if (mapped || compatible || nat64) {
        return Inet4Address.getByAddress(new byte[] {b[12], b[13], b[14], b[15]});
      }
      if (b[0] == 0x20 && b[1] == 0x02) {
        return Inet4Address.getByAddress(new byte[] {b[2], b[3], b[4], b[5]});
      }
    } catch (UnknownHostException impossible) {
      return null;
    }
    return null;
  }

  private static boolean allZero(byte[] b, int from, int to) {
    for (int i = from; i < to; i++) {
      if (b[i] != 0) {
        return false;
      }
    }
    return true;
  }
}
