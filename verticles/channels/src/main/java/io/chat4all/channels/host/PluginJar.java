package io.chat4all.channels.host;

import io.chat4all.channel.spi.PluginDescriptor;
import io.chat4all.channel.spi.Spi;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Enumeration;
import java.util.zip.ZipEntry;
import java.util.zip.ZipException;
import java.util.zip.ZipFile;

/**
 * Checks a connector jar before any of its classes is loaded: a readable zip whose every entry
 * passes its CRC check, a valid {@link Spi#DESCRIPTOR_RESOURCE} for a compatible SPI version, the
 * main class present, and no class of a package the node provides ({@link
 * PluginClassLoader#PARENT_FIRST}). Blocking: call it on a worker thread.
 */
public final class PluginJar {
  private PluginJar() {}

  /**
   * The jar's descriptor.
   *
   * @throws PluginRefused with the reason operators see
   */
  public static PluginDescriptor inspect(Path jar) {
    try (ZipFile zip = new ZipFile(jar.toFile())) {
      String bundled = null;
      byte[] buf = new byte[8192];
      Enumeration<? extends ZipEntry> entries = zip.entries();
      while (entries.hasMoreElements()) {
        ZipEntry e = entries.nextElement();
        String name = e.getName();
        if (!e.isDirectory()) {
          try (InputStream in = zip.getInputStream(e)) {
            while (in.read(buf) > 0) {
              // reading to the end checks the entry's CRC
            }
          }
        }
        if (bundled == null && name.endsWith(".class")) {
          String cls = stripVersioned(name);
          if (PluginClassLoader.parentFirst(cls.replace('/', '.'))) {
            bundled = cls;
          }
        }
      }
      if (bundled != null) {
        throw new PluginRefused(
            "the jar bundles "
                + bundled
                + ", a class of a package the node provides ("
                + String.join(" ", PluginClassLoader.PARENT_FIRST)
                + "); mark those dependencies provided");
      }
      ZipEntry d = zip.getEntry(Spi.DESCRIPTOR_RESOURCE);
      if (d == null) {
        throw new PluginRefused("not a connector jar: no " + Spi.DESCRIPTOR_RESOURCE);
      }
      PluginDescriptor descriptor;
      try (InputStream in = zip.getInputStream(d)) {
        descriptor = PluginDescriptor.parse(new String(in.readAllBytes(), StandardCharsets.UTF_8));
      } catch (IllegalArgumentException | NullPointerException bad) {
        throw new PluginRefused(Spi.DESCRIPTOR_RESOURCE + ": " + bad.getMessage());
      }
      if (!Spi.compatible(descriptor.spiVersion())) {
        throw new PluginRefused(
            "built for SPI "
                + descriptor.spiVersion()
                + ", this node runs SPI "
                + Spi.VERSION
                + " (same major, minor not above)");
      }
      if (zip.getEntry(descriptor.mainClass().replace('.', '/') + ".class") == null) {
        throw new PluginRefused("main class " + descriptor.mainClass() + " is not in the jar");
      }
      return descriptor;
    } catch (ZipException e) {
      throw new PluginRefused("not a valid jar (zip): " + e.getMessage());
    } catch (IOException e) {
      throw new PluginRefused("cannot read the jar: " + e.getMessage());
    }
  }

  /** {@code META-INF/versions/11/a/B.class} → {@code a/B.class}. */
  private static String stripVersioned(String name) {
    if (name.startsWith("META-INF/versions/")) {
      int slash = name.indexOf('/', "META-INF/versions/".length());
      return slash < 0 ? name : name.substring(slash + 1);
    }
    return name;
  }
}
