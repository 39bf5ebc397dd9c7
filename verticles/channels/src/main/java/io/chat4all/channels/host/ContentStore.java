package io.chat4all.channels.host;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.DigestOutputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.UUID;
import java.util.regex.Pattern;

/**
 * The node's private copies of plugin jars, named by their SHA-256 ({@code <sha256>.jar}): a jar is
 * always loaded from here, never from the drop folder or an upload in progress, so whatever happens
 * to the original afterwards cannot change what runs. All methods block: call them on a worker.
 */
public final class ContentStore {
  public static final Pattern SHA256 = Pattern.compile("[0-9a-f]{64}");

  private final Path dir;

  public ContentStore(Path dir) {
    this.dir = dir;
  }

  /** A stored jar: its hash, its path in the store, its size. */
  public record Stored(String sha256, Path path, long size) {}

  public Path dir() {
    return dir;
  }

  public Path path(String sha256) {
    if (!SHA256.matcher(sha256).matches()) {
      throw new IllegalArgumentException("not a SHA-256: " + sha256);
    }
    return dir.resolve(sha256 + ".jar");
  }

  public boolean has(String sha256) {
    return Files.isRegularFile(path(sha256));
  }

  /** A new, empty temporary file in the store (ignored by everything but its writer). */
  public Path tempFile() {
    try {
      Files.createDirectories(dir);
      return Files.createFile(dir.resolve("." + UUID.randomUUID() + ".tmp"));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * Copies {@code source} into the store (hashing while copying).
   *
   * @throws PluginRefused when it is larger than {@code maxBytes}
   */
  public Stored copyIn(Path source, long maxBytes) {
    Path tmp = tempFile();
    try {
      MessageDigest digest = sha256();
      long size;
      try (InputStream in = Files.newInputStream(source);
          OutputStream out = new DigestOutputStream(Files.newOutputStream(tmp), digest)) {
        size = copy(in, out, maxBytes);
      }
      return settle(tmp, HexFormat.of().formatHex(digest.digest()), size);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } finally {
      deleteQuietly(tmp);
    }
  }

  /**
   * Moves a temporary file of this store (an upload or a download) to its content address.
   *
   * @throws PluginRefused when it is larger than {@code maxBytes}
   */
  public Stored adopt(Path tmp, long maxBytes) {
    try {
      long size = Files.size(tmp);
      if (size > maxBytes) {
        throw new PluginRefused("the jar is larger than " + maxBytes + " bytes");
      }
      MessageDigest digest = sha256();
      try (InputStream in = Files.newInputStream(tmp)) {
        byte[] buf = new byte[1 << 16];
        int n;
        while ((n = in.read(buf)) > 0) {
          digest.update(buf, 0, n);
        }
      }
      return settle(tmp, HexFormat.of().formatHex(digest.digest()), size);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } finally {
      deleteQuietly(tmp);
    }
  }

  private Stored settle(Path tmp, String sha, long size) throws IOException {
    Path target = path(sha);
    if (!Files.exists(target)) {
      try {
        Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE);
      } catch (FileAlreadyExistsException raced) {
        // the same content arrived concurrently: identical bytes
      } catch (AtomicMoveNotSupportedException e) {
        Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING);
      }
    }
    return new Stored(sha, target, size);
  }

  /** Deletes a stored jar (one no version refers to any more). */
  public void delete(String sha256) {
    deleteQuietly(path(sha256));
  }

  private static long copy(InputStream in, OutputStream out, long maxBytes) throws IOException {
    byte[] buf = new byte[1 << 16];
    long total = 0;
    int n;
    while ((n = in.read(buf)) > 0) {
      total += n;
      if (total > maxBytes) {
        throw new PluginRefused("the jar is larger than " + maxBytes + " bytes");
      }
      out.write(buf, 0, n);
    }
    return total;
  }

  static MessageDigest sha256() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  public static void deleteQuietly(Path p) {
    try {
      Files.deleteIfExists(p);
    } catch (IOException ignored) {
      // best effort
    }
  }
}
