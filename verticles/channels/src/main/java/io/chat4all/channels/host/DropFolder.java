package io.chat4all.channels.host;

import io.chat4all.channel.spi.PluginDescriptor;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The watched plugins folder. {@link #scan} (blocking: run it on a worker, one at a time) lists the
 * {@code *.jar} files (dot-files and {@code *.tmp} ignored); a jar counts once its size and
 * modification time are the same in two scans in a row, and is then copied into the {@link
 * ContentStore} and inspected. A jar whose size or time changes again is taken again; a jar that
 * disappears is reported gone.
 */
final class DropFolder {
  private final Path dir;
  private final ContentStore store;
  private final long maxBytes;
  private final Map<Path, Stamp> lastSeen = new HashMap<>();
  private final Map<Path, Stamp> taken = new HashMap<>();

  DropFolder(Path dir, ContentStore store, long maxBytes) {
    this.dir = dir;
    this.store = store;
    this.maxBytes = maxBytes;
  }

  private record Stamp(long size, long mtime) {}

  /** A jar that became stable: its stored copy and descriptor, or why it is refused. */
  record Taken(
      Path file, ContentStore.Stored stored, PluginDescriptor descriptor, String refused) {}

  /** What one scan found. */
  record Changes(List<Taken> taken, List<Path> gone) {
    boolean isEmpty() {
      return taken.isEmpty() && gone.isEmpty();
    }
  }

  Path dir() {
    return dir;
  }

  static boolean candidate(Path file) {
    String name = file.getFileName().toString();
    return !name.startsWith(".") && !name.endsWith(".tmp") && name.endsWith(".jar");
  }

  Changes scan() {
    Map<Path, Stamp> now = new HashMap<>();
    try {
      Files.createDirectories(dir);
      try (DirectoryStream<Path> files = Files.newDirectoryStream(dir)) {
        for (Path f : files) {
          if (!candidate(f)) {
            continue;
          }
          try {
            BasicFileAttributes a = Files.readAttributes(f, BasicFileAttributes.class);
            if (a.isRegularFile()) {
              now.put(f, new Stamp(a.size(), a.lastModifiedTime().toMillis()));
            }
          } catch (IOException vanished) {
            // deleted while listing
          }
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot list " + dir + ": " + e.getMessage(), e);
    }
    List<Taken> ready = new ArrayList<>();
    for (Map.Entry<Path, Stamp> e : now.entrySet()) {
      Path f = e.getKey();
      Stamp s = e.getValue();
      if (s.equals(lastSeen.get(f)) && !s.equals(taken.get(f))) {
        Taken t = take(f, s);
        if (t != null) {
          taken.put(f, s);
          ready.add(t);
        }
      }
    }
    List<Path> gone = new ArrayList<>();
    for (Path f : new HashSet<>(taken.keySet())) {
      if (!now.containsKey(f)) {
        taken.remove(f);
        gone.add(f);
      }
    }
    lastSeen.clear();
    lastSeen.putAll(now);
    return new Changes(ready, gone);
  }

  /** Copies and inspects a stable jar; null when it changed meanwhile (taken at a later scan). */
  private Taken take(Path f, Stamp s) {
    ContentStore.Stored stored;
    try {
      stored = store.copyIn(f, maxBytes);
    } catch (PluginRefused r) {
      return new Taken(f, null, null, r.getMessage());
    } catch (UncheckedIOException e) {
      return null;
    }
    try {
      BasicFileAttributes a = Files.readAttributes(f, BasicFileAttributes.class);
      if (a.size() != s.size() || a.lastModifiedTime().toMillis() != s.mtime()) {
        return null;
      }
    } catch (IOException vanished) {
      return null;
    }
    try {
      return new Taken(f, stored, PluginJar.inspect(stored.path()), null);
    } catch (PluginRefused r) {
      return new Taken(f, stored, null, r.getMessage());
    }
  }

  /** Jars currently taken (for tests and status). */
  Set<Path> takenFiles() {
    return Set.copyOf(taken.keySet());
  }
}
