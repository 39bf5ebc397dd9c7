package io.chat4all.embedded;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Files only the owner may read: the data directory (mode 700) and the secret-bearing files in it
 * (mode 600) — the generated signing key {@code jwt-secret} and {@code backends.json}. A secret
 * file is written to a temporary file that is created 600 and then moved over the target, so it is
 * never readable by others, not even for a moment; an existing directory or file that others can
 * read is tightened. On a file system without POSIX permissions the files are written as they come.
 */
public final class PrivateFiles {
  private static final Logger LOG = LoggerFactory.getLogger(PrivateFiles.class);

  static final Set<PosixFilePermission> DIRECTORY = PosixFilePermissions.fromString("rwx------");
  static final Set<PosixFilePermission> FILE = PosixFilePermissions.fromString("rw-------");

  private PrivateFiles() {}

  private static boolean posix() {
    return FileSystems.getDefault().supportedFileAttributeViews().contains("posix");
  }

  /** Creates {@code dir} (and missing parents) or tightens it: mode 700. */
  public static Path directory(Path dir) throws IOException {
    Path abs = dir.toAbsolutePath().normalize();
    if (!posix()) {
      return Files.createDirectories(abs);
    }
    if (!Files.isDirectory(abs)) {
      if (abs.getParent() != null) {
        Files.createDirectories(abs.getParent());
      }
      try {
        Files.createDirectory(abs, PosixFilePermissions.asFileAttribute(DIRECTORY));
      } catch (java.nio.file.FileAlreadyExistsException raced) {
        // created meanwhile: tightened below
      }
    }
    // the umask may have taken bits away, never added any; an existing directory may be open
    tighten(abs, DIRECTORY);
    return abs;
  }

  /** Writes {@code content} to {@code file} (mode 600) in a private directory. */
  public static void write(Path file, String content) throws IOException {
    Path abs = file.toAbsolutePath().normalize();
    Path dir = directory(abs.getParent());
    if (!posix()) {
      Files.writeString(abs, content, StandardCharsets.UTF_8);
      return;
    }
    Path tmp =
        Files.createTempFile(
            dir, "." + abs.getFileName(), ".tmp", PosixFilePermissions.asFileAttribute(FILE));
    try {
      Files.writeString(tmp, content, StandardCharsets.UTF_8);
      try {
        Files.move(tmp, abs, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
      } catch (AtomicMoveNotSupportedException e) {
        Files.move(tmp, abs, StandardCopyOption.REPLACE_EXISTING);
      }
    } finally {
      Files.deleteIfExists(tmp);
    }
  }

  /** Reads a secret file, first tightening it to mode 600 when others can read it. */
  public static String read(Path file) throws IOException {
    Path abs = file.toAbsolutePath().normalize();
    if (posix()) {
      tighten(abs, FILE);
    }
    return Files.readString(abs, StandardCharsets.UTF_8);
  }

  private static void tighten(Path path, Set<PosixFilePermission> wanted) throws IOException {
    Set<PosixFilePermission> now = Files.getPosixFilePermissions(path);
    if (!now.equals(wanted)) {
      Files.setPosixFilePermissions(path, wanted);
      LOG.info(
          "{} had mode {}; now {} (owner only)",
          path,
          PosixFilePermissions.toString(now),
          PosixFilePermissions.toString(wanted));
    }
  }
}
