package io.chat4all.testkit;

import io.vertx.core.json.JsonObject;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Arrays;
import java.util.Map;
import java.util.zip.ZipEntry;
import java.util.zip.ZipInputStream;
import java.util.zip.ZipOutputStream;

/**
 * Connector jars for tests: variants of the test connector (module {@code
 * channel-plugins/test-connector}, copied by the build to the folder named by the system property
 * {@code chat4all.test.plugins}) with a rewritten {@code META-INF/chat4all-plugin.json}, and broken
 * jars of every kind the plugin host must refuse.
 */
public final class PluginJars {
  public static final String DESCRIPTOR = "META-INF/chat4all-plugin.json";
  public static final String MAIN = "io.chat4all.channel.testconnector.TestConnector";

  private PluginJars() {}

  /** The test connector jar as built. */
  public static Path testConnector() {
    String dir = System.getProperty("chat4all.test.plugins");
    if (dir == null) {
      throw new IllegalStateException("the build sets -Dchat4all.test.plugins (run through Maven)");
    }
    return Path.of(dir, "test-connector.jar");
  }

  /** The test connector as {@code channel} {@code version}. */
  public static byte[] connector(String channel, String version) {
    return connector(channel, version, new JsonObject());
  }

  /** The test connector with its descriptor's fields set from {@code fields} over the defaults. */
  public static byte[] connector(String channel, String version, JsonObject fields) {
    JsonObject d =
        new JsonObject()
            .put("channel", channel)
            .put("version", version)
            .put("spi_version", "1.0")
            .put("main_class", MAIN)
            .put("name", "Test connector " + version)
            .mergeIn(fields);
    return rewrite(
        read(testConnector()), Map.of(DESCRIPTOR, d.encode().getBytes(StandardCharsets.UTF_8)));
  }

  /** {@code jar} with entries replaced or added (a null value removes the entry). */
  public static byte[] rewrite(byte[] jar, Map<String, byte[]> entries) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    java.util.Set<String> done = new java.util.HashSet<>();
    try (ZipInputStream in = new ZipInputStream(new java.io.ByteArrayInputStream(jar));
        ZipOutputStream zip = new ZipOutputStream(out)) {
      ZipEntry e;
      while ((e = in.getNextEntry()) != null) {
        String name = e.getName();
        byte[] content = in.readAllBytes();
        if (entries.containsKey(name)) {
          done.add(name);
          content = entries.get(name);
          if (content == null) {
            continue;
          }
        }
        zip.putNextEntry(entry(name));
        zip.write(content);
        zip.closeEntry();
      }
      for (Map.Entry<String, byte[]> add : entries.entrySet()) {
        if (!done.contains(add.getKey()) && add.getValue() != null) {
          zip.putNextEntry(entry(add.getKey()));
          zip.write(add.getValue());
          zip.closeEntry();
        }
      }
    } catch (IOException ex) {
      throw new UncheckedIOException(ex);
    }
    return out.toByteArray();
  }

  /** Entries with a fixed time, so the same variant is always the same bytes (same SHA-256). */
  private static ZipEntry entry(String name) {
    ZipEntry e = new ZipEntry(name);
    e.setTime(1_600_000_000_000L);
    return e;
  }

  /** The first {@code fraction} of the bytes (a jar cut off while being copied). */
  public static byte[] truncated(byte[] jar, double fraction) {
    return Arrays.copyOf(jar, (int) (jar.length * fraction));
  }

  /** A well-formed jar that is no connector (no descriptor): any library jar. */
  public static byte[] foreign() {
    Map<String, byte[]> without = new java.util.HashMap<>();
    without.put(DESCRIPTOR, null);
    return rewrite(read(testConnector()), without);
  }

  /** A connector jar that also bundles a class of a package the node provides. */
  public static byte[] bundling(String channel, String version, String classEntry) {
    return rewrite(
        connector(channel, version), Map.of(classEntry, new byte[] {(byte) 0xCA, (byte) 0xFE}));
  }

  public static byte[] read(Path p) {
    try {
      return Files.readAllBytes(p);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * Drops a jar into a plugins folder the way an operator's {@code mv} does: written next to it
   * under a dot-name, then renamed in one step.
   */
  public static Path drop(Path pluginsDir, String fileName, byte[] jar) {
    try {
      Files.createDirectories(pluginsDir);
      Path tmp = pluginsDir.resolve("." + fileName + ".part");
      Files.write(tmp, jar);
      Path target = pluginsDir.resolve(fileName);
      Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
      return target;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
