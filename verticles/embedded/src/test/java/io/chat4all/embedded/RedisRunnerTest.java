package io.chat4all.embedded;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The embedded Redis restarted on its data directory and port: what was written just before a stop
 * is there after it (a stop is a shutdown that flushes, not a kill), and the unpacked binary is run
 * again as it is, not rewritten while other servers start processes.
 */
class RedisRunnerTest {

  /** One inline command over a plain socket; the first line of the reply (and the bulk line). */
  static String command(int port, String line) throws Exception {
    try (Socket s = new Socket("127.0.0.1", port)) {
      OutputStream out = s.getOutputStream();
      out.write((line + "\r\n").getBytes(StandardCharsets.UTF_8));
      out.flush();
      BufferedReader in =
          new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.UTF_8));
      String first = in.readLine();
      return first.startsWith("$") && !first.equals("$-1") ? in.readLine() : first;
    }
  }

  @Test
  void aRestartKeepsTheLastWritesAndTheBinary(@TempDir Path dir) throws Exception {
    int port = Ports.free("127.0.0.1");
    RedisRunner first = new RedisRunner("127.0.0.1", port, dir.resolve("redis"));
    first.start();
    Path binary;
    FileTime written;
    try {
      assertEquals("+OK", command(port, "SET last-word kept"));
      binary = RedisRunner.binary(dir.resolve("redis").resolve("bin"));
      written = Files.getLastModifiedTime(binary);
    } finally {
      first.stop();
    }
    // set the clock of the file back: a rewrite would show as a new modification time
    FileTime old = FileTime.fromMillis(written.toMillis() - 60_000);
    Files.setLastModifiedTime(binary, old);

    RedisRunner second = new RedisRunner("127.0.0.1", port, dir.resolve("redis"));
    second.start();
    try {
      assertEquals("kept", command(port, "GET last-word"));
      assertEquals(old, Files.getLastModifiedTime(binary));
    } finally {
      second.stop();
    }
  }
}
