package io.chat4all.testkit;

import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.HexFormat;

/**
 * A file of any size that exists only as a function: byte {@code i} is derived from a seed and
 * {@code i}, so any range can be produced again (to hash it, to send it, to compare a download)
 * without storing gigabytes.
 */
public final class GeneratedBytes {
  private final long seed;
  private final long size;

  public GeneratedBytes(long seed, long size) {
    this.seed = seed;
    this.size = size;
  }

  public long size() {
    return size;
  }

  private static long mix(long z) {
    z = (z ^ (z >>> 30)) * 0xbf58476d1ce4e5b9L;
    z = (z ^ (z >>> 27)) * 0x94d049bb133111ebL;
    return z ^ (z >>> 31);
  }

  /** Byte at {@code position}. */
  public byte at(long position) {
    return (byte) (mix(seed + (position >>> 3)) >>> ((position & 7) * 8));
  }

  /** Fills {@code out[off, off+len)} with the bytes from {@code position}. */
  public void fill(long position, byte[] out, int off, int len) {
    int i = 0;
    while (i < len && ((position + i) & 7) != 0) {
      out[off + i] = at(position + i);
      i++;
    }
    while (len - i >= 8) {
      long v = mix(seed + ((position + i) >>> 3));
      for (int k = 0; k < 8; k++) {
        out[off + i + k] = (byte) (v >>> (k * 8));
      }
      i += 8;
    }
    while (i < len) {
      out[off + i] = at(position + i);
      i++;
    }
  }

  /** The bytes of {@code [from, from+length)} as a stream. */
  public InputStream stream(long from, long length) {
    return new InputStream() {
      long pos = from;
      final long end = from + length;

      @Override
      public int read() {
        if (pos >= end) {
          return -1;
        }
        return at(pos++) & 0xff;
      }

      @Override
      public int read(byte[] b, int off, int len) {
        if (pos >= end) {
          return -1;
        }
        int n = (int) Math.min(len, end - pos);
        fill(pos, b, off, n);
        pos += n;
        return n;
      }
    };
  }

  public byte[] bytes(long from, int length) {
    byte[] b = new byte[length];
    fill(from, b, 0, length);
    return b;
  }

  /** SHA-256 (lowercase hex) of {@code [from, from+length)}. */
  public String sha256(long from, long length) {
    MessageDigest d = digest();
    byte[] buf = new byte[1 << 16];
    long pos = from;
    long end = from + length;
    while (pos < end) {
      int n = (int) Math.min(buf.length, end - pos);
      fill(pos, buf, 0, n);
      d.update(buf, 0, n);
      pos += n;
    }
    return HexFormat.of().formatHex(d.digest());
  }

  public static MessageDigest digest() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  /**
   * PUTs chunk {@code n} ({@code [from, from+length)}) of this file to the node's chunk endpoint
   * with the given checksum header (null: none); the response.
   */
  public HttpResponse<String> putChunk(
      HttpClient http,
      String base,
      String token,
      String fileId,
      int n,
      long from,
      long length,
      String checksum) {
    HttpRequest.Builder b =
        HttpRequest.newBuilder(URI.create(base + "/v1/files/" + fileId + "/chunks/" + n))
            .timeout(Duration.ofMinutes(5))
            .header("Authorization", "Bearer " + token)
            .header("Content-Type", "application/octet-stream")
            .PUT(
                HttpRequest.BodyPublishers.fromPublisher(
                    HttpRequest.BodyPublishers.ofInputStream(() -> stream(from, length)), length));
    if (checksum != null) {
      b.header("X-Checksum-SHA256", checksum);
    }
    try {
      return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    } catch (Exception e) {
      throw new AssertionError("PUT chunk " + n + " failed", e);
    }
  }
}
