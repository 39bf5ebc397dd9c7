package io.chat4all.embedded;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Secret-bearing files are owner-only: mode 600 in a mode 700 directory, looser ones tightened. */
class PrivateFilesTest {

  static String mode(Path p) throws Exception {
    return PosixFilePermissions.toString(Files.getPosixFilePermissions(p));
  }

  @Test
  void newFilesAreOwnerOnlyInAnOwnerOnlyDirectory(@TempDir Path tmp) throws Exception {
    Path dir = tmp.resolve("a/b/data");
    Path file = dir.resolve("backends.json");
    PrivateFiles.write(file, "{\"auth\":{\"jwt_secret\":\"k\"}}");
    assertEquals("rwx------", mode(dir));
    assertEquals("rw-------", mode(file));
    assertTrue(Files.readString(file).contains("jwt_secret"));
    // nothing else left behind (the temporary file was moved over the target)
    try (var files = Files.list(dir)) {
      assertEquals(java.util.List.of(file), files.toList());
    }
  }

  @Test
  void existingLooseFilesAndDirectoriesAreTightened(@TempDir Path tmp) throws Exception {
    Path dir = Files.createDirectories(tmp.resolve("shared"));
    Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
    Path overlay = Files.writeString(dir.resolve("backends.json"), "old");
    Files.setPosixFilePermissions(overlay, PosixFilePermissions.fromString("rw-r--r--"));
    Path secret = Files.writeString(dir.resolve("jwt-secret"), "key");
    Files.setPosixFilePermissions(secret, PosixFilePermissions.fromString("rw-rw-rw-"));

    PrivateFiles.write(overlay, "new");
    assertEquals("rwx------", mode(dir));
    assertEquals("rw-------", mode(overlay));
    assertEquals("new", Files.readString(overlay));

    assertEquals("key", PrivateFiles.read(secret));
    assertEquals("rw-------", mode(secret));
  }
}
