package io.chat4all.embedded;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.net.BindException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * A port handed out as free is one the server it is meant for can bind: never one handed out before
 * in this process (two nodes of a cluster test once got the same Hazelcast port, the second failing
 * "Port [...] is already in use"), never one in the machine's ephemeral range, and never one that
 * still has connections in TIME_WAIT.
 */
class PortsTest {

  @Test
  void portsHandedOutInOneProcessAreNeverTheSame() {
    Set<Integer> seen = new HashSet<>();
    for (int i = 0; i < 500; i++) {
      int port = Ports.free("127.0.0.1");
      assertEquals(true, seen.add(port), "port " + port + " handed out twice");
    }
  }

  @Test
  void thePortsComeFromOutsideTheEphemeralRange() {
    assertArrayEquals(new int[] {10000, 32768}, Ports.nonEphemeralRange(32768, 60999));
    // a machine whose outgoing connections take their ports from low numbers up
    assertArrayEquals(new int[] {40001, 65536}, Ports.nonEphemeralRange(1024, 40000));
    assertArrayEquals(new int[] {10000, 12000}, Ports.nonEphemeralRange(1024, 65535));
  }

  @Test
  void aPortWithConnectionsInTimeWaitIsNotHandedOutAsFree() throws Exception {
    int port = Ports.free("127.0.0.1");
    InetSocketAddress at = new InetSocketAddress(InetAddress.getByName("127.0.0.1"), port);
    try (ServerSocket old = new ServerSocket()) {
      old.setReuseAddress(true);
      old.bind(at);
      try (Socket peer = new Socket()) {
        peer.connect(at, 2000);
        old.accept().close(); // the server closes first: its side goes to TIME_WAIT
        assertEquals(-1, peer.getInputStream().read());
      }
    }
    // a server binding without SO_REUSEADDR (Netty's default) is refused that port now
    try (ServerSocket next = new ServerSocket()) {
      next.setReuseAddress(false);
      assertThrows(BindException.class, () -> next.bind(at));
    }
    assertNull(Ports.tryBind("127.0.0.1", port));

    // a port nobody used is taken
    int fresh = Ports.free("127.0.0.1");
    try (ServerSocket s = Ports.tryBind("127.0.0.1", fresh)) {
      assertNotNull(s);
      assertEquals(fresh, s.getLocalPort());
    }
  }
}
