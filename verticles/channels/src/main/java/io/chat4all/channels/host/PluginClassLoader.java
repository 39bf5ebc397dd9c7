package io.chat4all.channels.host;

import java.io.IOException;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Enumeration;
import java.util.List;

/**
 * The class loader of one plugin jar: child-first (the jar's own classes and resources win over the
 * node's), except for the {@link #PARENT_FIRST} packages, which always come from the node so that
 * the plugin and the host share one SPI, one Vert.x, one Netty, one logging and one Jackson.
 */
public final class PluginClassLoader extends URLClassLoader {
  /** Packages (as name prefixes) a plugin gets from the node and must never bundle. */
  public static final List<String> PARENT_FIRST =
      List.of(
          "java.",
          "javax.",
          "jdk.",
          "sun.",
          "io.chat4all.channel.spi.",
          "io.vertx.",
          "io.netty.",
          "org.slf4j.",
          "ch.qos.logback.",
          "com.fasterxml.jackson.");

  static {
    registerAsParallelCapable();
  }

  private final String label;

  public PluginClassLoader(String label, Path jar, ClassLoader parent) {
    super("plugin:" + label, new URL[] {toUrl(jar)}, parent);
    this.label = label;
  }

  private static URL toUrl(Path jar) {
    try {
      return jar.toUri().toURL();
    } catch (java.net.MalformedURLException e) {
      throw new IllegalArgumentException(e);
    }
  }

  /** Whether a class or package name belongs to the node (parent-first). */
  public static boolean parentFirst(String className) {
    for (String p : PARENT_FIRST) {
      if (className.startsWith(p)) {
        return true;
      }
    }
    return false;
  }

  private static boolean parentFirstResource(String name) {
    return parentFirst(name.replace('/', '.'));
  }

  @Override
  protected Class<?> loadClass(String name, boolean resolve) throws ClassNotFoundException {
    if (parentFirst(name)) {
      return super.loadClass(name, resolve);
    }
    synchronized (getClassLoadingLock(name)) {
      Class<?> c = findLoadedClass(name);
      if (c == null) {
        try {
          c = findClass(name);
        } catch (ClassNotFoundException notInJar) {
          c = getParent().loadClass(name);
        }
      }
      if (resolve) {
        resolveClass(c);
      }
      return c;
    }
  }

  @Override
  public URL getResource(String name) {
    if (parentFirstResource(name)) {
      return super.getResource(name);
    }
    URL own = findResource(name);
    return own != null ? own : getParent().getResource(name);
  }

  @Override
  public Enumeration<URL> getResources(String name) throws IOException {
    if (parentFirstResource(name)) {
      return super.getResources(name);
    }
    List<URL> all = new ArrayList<>(Collections.list(findResources(name)));
    all.addAll(Collections.list(getParent().getResources(name)));
    return Collections.enumeration(all);
  }

  @Override
  public String toString() {
    return "PluginClassLoader[" + label + "]";
  }
}
