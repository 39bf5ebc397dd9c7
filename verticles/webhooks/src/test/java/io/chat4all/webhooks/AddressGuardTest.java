package io.chat4all.webhooks;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetAddress;
import org.junit.jupiter.api.Test;

/** Which addresses a webhook may call. */
class AddressGuardTest {

  static String refusal(String ip, boolean allowPrivate) throws Exception {
    return AddressGuard.refusal(InetAddress.getByName(ip), allowPrivate);
  }

  @Test
  void nonPublicAddressesAreRefused() throws Exception {
    String[][] cases = {
      {"127.0.0.1", "loopback"},
      {"127.8.9.10", "loopback"},
      {"::1", "loopback"},
      {"10.0.0.1", "private"},
      {"172.16.5.4", "private"},
      {"172.31.255.255", "private"},
      {"192.168.1.1", "private"},
      {"fd12:3456::1", "private"},
      {"fc00::1", "private"},
      {"169.254.1.1", "link-local"},
      {"fe80::1", "link-local"},
      {"169.254.169.254", "metadata"},
      {"fd00:ec2::254", "metadata"},
      {"100.100.100.200", "metadata"},
      {"100.64.0.1", "carrier-grade NAT"},
      {"0.0.0.0", "unspecified"},
      {"::", "unicast"},
      {"224.0.0.1", "multicast"},
      {"255.255.255.255", "broadcast"},
      {"198.18.0.1", "reserved"},
      {"192.0.2.1", "documentation"},
      {"::ffff:127.0.0.1", "loopback"},
      {"::ffff:10.0.0.1", "private"},
      {"64:ff9b::a9fe:a9fe", "metadata"},
      {"2002:7f00:1::1", "loopback"},
      {"2001:db8::1", "documentation"},
    };
    for (String[] c : cases) {
      assertThat(refusal(c[0], false)).as(c[0]).isNotNull().contains(c[1]);
    }
  }

  @Test
  void publicAddressesAreAllowed() throws Exception {
    for (String ip :
        new String[] {"93.184.215.14", "8.8.8.8", "172.32.0.1", "100.128.0.1", "2606:4700::1111"}) {
      assertThat(refusal(ip, false)).as(ip).isNull();
    }
  }

  @Test
  void allowingPrivateAddressesStillRefusesMetadataAndNonUnicast() throws Exception {
    for (String ip : new String[] {"127.0.0.1", "::1", "10.0.0.1", "192.168.1.1", "169.254.1.1"}) {
      assertThat(refusal(ip, true)).as(ip).isNull();
    }
    for (String ip :
        new String[] {
          "169.254.169.254", "fd00:ec2::254", "0.0.0.0", "224.0.0.1", "::ffff:169.254.169.254"
        }) {
      assertThat(refusal(ip, true)).as(ip).isNotNull();
    }
  }
}
