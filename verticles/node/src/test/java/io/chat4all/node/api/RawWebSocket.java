package io.chat4all.node.api;

import io.vertx.core.json.JsonObject;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;
import java.util.concurrent.ThreadLocalRandom;

/**
 * A WebSocket client on a plain TCP socket, for what the Vert.x client always does and a test needs
 * not to: it answers no ping (Vert.x answers every one by itself). It does the RFC 6455 handshake,
 * writes masked text and ping frames, and reads the server's frames one at a time.
 */
final class RawWebSocket implements AutoCloseable {
  static final int TEXT = 0x1;
  static final int CLOSE = 0x8;
  static final int PING = 0x9;
  static final int PONG = 0xA;

  /** One frame from the server (the server never masks nor fragments what it sends here). */
  record Frame(int opcode, byte[] payload) {
    String text() {
      return new String(payload, StandardCharsets.UTF_8);
    }

    int closeCode() {
      return payload.length < 2 ? -1 : ((payload[0] & 0xff) << 8) | (payload[1] & 0xff);
    }

    String closeReason() {
      return payload.length < 2
          ? ""
          : new String(payload, 2, payload.length - 2, StandardCharsets.UTF_8);
    }
  }

  private final Socket socket;
  private final InputStream in;
  private final OutputStream out;

  private RawWebSocket(Socket socket) throws IOException {
    this.socket = socket;
    this.in = socket.getInputStream();
    this.out = socket.getOutputStream();
  }

  /** Connects to 127.0.0.1:port and upgrades {@code path}; fails unless the answer is 101. */
  static RawWebSocket open(int port, String path) {
    try {
      Socket s = new Socket();
      s.connect(new InetSocketAddress("127.0.0.1", port), 5000);
      s.setTcpNoDelay(true);
      s.setSoTimeout(30_000);
      RawWebSocket ws = new RawWebSocket(s);
      byte[] nonce = new byte[16];
      ThreadLocalRandom.current().nextBytes(nonce);
      String head =
          "GET "
              + path
              + " HTTP/1.1\r\nHost: 127.0.0.1:"
              + port
              + "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: "
              + Base64.getEncoder().encodeToString(nonce)
              + "\r\nSec-WebSocket-Version: 13\r\n\r\n";
      ws.out.write(head.getBytes(StandardCharsets.ISO_8859_1));
      ws.out.flush();
      String answer = ws.readHead();
      if (!answer.startsWith("HTTP/1.1 101")) {
        throw new AssertionError("upgrade refused: " + answer);
      }
      return ws;
    } catch (IOException e) {
      throw new AssertionError("cannot open a WebSocket on port " + port, e);
    }
  }

  void sendText(JsonObject frame) {
    write(TEXT, frame.encode().getBytes(StandardCharsets.UTF_8));
  }

  void sendPing() {
    write(PING, new byte[0]);
  }

  /** A client frame: final, masked (RFC 6455 5.3), payload under 64 KiB. */
  private void write(int opcode, byte[] payload) {
    ByteArrayOutputStream f = new ByteArrayOutputStream();
    f.write(0x80 | opcode);
    if (payload.length < 126) {
      f.write(0x80 | payload.length);
    } else {
      f.write(0x80 | 126);
      f.write(payload.length >> 8);
      f.write(payload.length & 0xff);
    }
    byte[] mask = new byte[4];
    ThreadLocalRandom.current().nextBytes(mask);
    f.writeBytes(mask);
    for (int i = 0; i < payload.length; i++) {
      f.write(payload[i] ^ mask[i % 4]);
    }
    try {
      out.write(f.toByteArray());
      out.flush();
    } catch (IOException e) {
      throw new AssertionError("write failed", e);
    }
  }

  /** The next frame from the server within {@code timeout}; null when none came in time. */
  Frame read(Duration timeout) {
    try {
      socket.setSoTimeout((int) Math.max(1, timeout.toMillis()));
      int b0 = in.read();
      if (b0 < 0) {
        throw new AssertionError("the connection ended without a close frame");
      }
      socket.setSoTimeout(30_000); // the rest of a frame that has begun
      int b1 = in.read();
      long length = b1 & 0x7f;
      if (length == 126) {
        length = (in.read() << 8) | in.read();
      } else if (length == 127) {
        length = 0;
        for (int i = 0; i < 8; i++) {
          length = (length << 8) | in.read();
        }
      }
      return new Frame(b0 & 0x0f, in.readNBytes((int) length));
    } catch (SocketTimeoutException e) {
      return null;
    } catch (IOException e) {
      throw new AssertionError("read failed", e);
    }
  }

  private String readHead() throws IOException {
    ByteArrayOutputStream head = new ByteArrayOutputStream();
    int matched = 0;
    byte[] end = {'\r', '\n', '\r', '\n'};
    while (matched < 4) {
      int b = in.read();
      if (b < 0) {
        throw new IOException("connection closed before a response head: " + head);
      }
      head.write(b);
      matched = b == end[matched] ? matched + 1 : (b == '\r' ? 1 : 0);
    }
    return head.toString(StandardCharsets.ISO_8859_1);
  }

  @Override
  public void close() {
    try {
      socket.close();
    } catch (IOException e) {
      // closing anyway
    }
  }
}
