package io.chat4all.node.api;

import io.vertx.core.json.JsonObject;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * A plain TCP client for what well-behaved HTTP clients never send: partial request heads, bytes
 * the codec refuses, bodies that stop. It can bind a chosen loopback source address (127.0.0.x) to
 * stand for another client IP.
 */
final class RawHttp implements AutoCloseable {
  final Socket socket;
  private final InputStream in;
  private final OutputStream out;

  private RawHttp(Socket socket) throws IOException {
    this.socket = socket;
    this.in = socket.getInputStream();
    this.out = socket.getOutputStream();
  }

  static RawHttp open(int port) {
    return open(port, null);
  }

  /** Connects to 127.0.0.1:port from {@code sourceIp} (any when null). */
  static RawHttp open(int port, String sourceIp) {
    try {
      Socket s = new Socket();
      if (sourceIp != null) {
        s.bind(new InetSocketAddress(InetAddress.getByName(sourceIp), 0));
      }
      s.connect(new InetSocketAddress("127.0.0.1", port), 5000);
      s.setTcpNoDelay(true);
      return new RawHttp(s);
    } catch (IOException e) {
      throw new AssertionError("cannot connect to port " + port, e);
    }
  }

  RawHttp send(String text) {
    return send(text.getBytes(StandardCharsets.ISO_8859_1));
  }

  RawHttp send(byte[] bytes) {
    try {
      out.write(bytes);
      out.flush();
      return this;
    } catch (IOException e) {
      throw new AssertionError("write failed", e);
    }
  }

  /** Writes and reports whether the peer had already closed (the write or a flush failed). */
  boolean trySend(String text) {
    try {
      out.write(text.getBytes(StandardCharsets.ISO_8859_1));
      out.flush();
      return true;
    } catch (IOException e) {
      return false;
    }
  }

  /**
   * Waits up to {@code timeout} for the server to close the connection (end of stream or reset),
   * skipping whatever it sends before; true when it did.
   */
  boolean closedWithin(Duration timeout) {
    long deadline = System.nanoTime() + timeout.toNanos();
    byte[] buf = new byte[8192];
    try {
      while (true) {
        long left = (deadline - System.nanoTime()) / 1_000_000;
        if (left <= 0) {
          return false;
        }
        socket.setSoTimeout((int) Math.max(1, left));
        try {
          if (in.read(buf) < 0) {
            return true;
          }
        } catch (SocketTimeoutException e) {
          return false;
        }
      }
    } catch (IOException e) {
      return true; // reset by the peer
    }
  }

  /** An HTTP/1.1 response: status, headers (lowercase names), body. */
  record Response(int status, Map<String, String> headers, String body) {
    JsonObject json() {
      return new JsonObject(body);
    }

    String errorCode() {
      return json().getJsonObject("error").getString("code");
    }
  }

  /** Reads one response (with a Content-Length body, or up to the end of the stream). */
  Response read(Duration timeout) {
    try {
      socket.setSoTimeout((int) timeout.toMillis());
      String head = readHead();
      String[] lines = head.split("\r\n");
      int status = Integer.parseInt(lines[0].split(" ")[1]);
      Map<String, String> headers = new LinkedHashMap<>();
      for (int i = 1; i < lines.length; i++) {
        int colon = lines[i].indexOf(':');
        if (colon > 0) {
          headers.put(
              lines[i].substring(0, colon).trim().toLowerCase(Locale.ROOT),
              lines[i].substring(colon + 1).trim());
        }
      }
      String length = headers.get("content-length");
      byte[] body;
      if (length != null) {
        body = in.readNBytes(Integer.parseInt(length));
      } else if ("chunked".equalsIgnoreCase(headers.get("transfer-encoding"))) {
        body = readChunked();
      } else {
        body = in.readAllBytes();
      }
      return new Response(status, headers, new String(body, StandardCharsets.UTF_8));
    } catch (IOException e) {
      throw new AssertionError("no response", e);
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

  private byte[] readChunked() throws IOException {
    ByteArrayOutputStream body = new ByteArrayOutputStream();
    while (true) {
      StringBuilder line = new StringBuilder();
      int b;
      while ((b = in.read()) != '\n') {
        if (b < 0) {
          throw new IOException("truncated chunked body");
        }
        if (b != '\r') {
          line.append((char) b);
        }
      }
      int size = Integer.parseInt(line.toString().split(";")[0].trim(), 16);
      if (size == 0) {
        in.read();
        in.read();
        return body.toByteArray();
      }
      body.write(in.readNBytes(size));
      in.read();
      in.read();
    }
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
