package io.chat4all.channels.host;

import java.nio.file.Path;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The plugin host's records (one per jar content, keyed by SHA-256, or by file for a jar that could
 * not be stored), what the drop folder's scans make of them, and which stored copies nothing uses
 * any more. Used on the host's context only.
 */
final class PluginRecords {
  private static final Logger LOG = LoggerFactory.getLogger(PluginHost.class);

  /** A jar in the drop folder: its record, and when it was taken (the newest of a channel wins). */
  private record LocalJar(String recordId, long seq) {}

  private final Map<String, PluginRecord> records = new LinkedHashMap<>();
  private final Map<Path, LocalJar> local = new HashMap<>();

  /** Stored copies to delete at the next scan (when nothing uses them by then). */
  private final Set<String> unstored = new HashSet<>();

  private long seq;

  Collection<PluginRecord> values() {
    return records.values();
  }

  PluginRecord get(String id) {
    return records.get(id);
  }

  /** {@code r}, or the record already kept for its content. */
  PluginRecord putIfAbsent(PluginRecord r) {
    PluginRecord existing = records.putIfAbsent(r.sha256, r);
    return existing == null ? r : existing;
  }

  void put(PluginRecord r) {
    records.put(r.sha256, r);
  }

  /** Stored copies the cluster forgot: deleted by the next scan unless something uses them. */
  void forgetCopies(Collection<String> shas) {
    unstored.addAll(shas);
  }

  /** The stored copies to delete now: forgotten ones no record or desired state still uses. */
  Set<String> copiesToDelete(Collection<DesiredState.Want> wanted) {
    Set<String> delete = new HashSet<>(unstored);
    unstored.clear();
    records.values().forEach(r -> delete.remove(r.sha256));
    wanted.forEach(w -> delete.remove(w.sha256()));
    return delete;
  }

  /** The jar of {@code channel} dropped last into the folder (null: none). */
  PluginRecord newestDropped(String channel) {
    LocalJar newest = null;
    for (LocalJar lj : local.values()) {
      PluginRecord r = records.get(lj.recordId());
      if (r != null && channel.equals(r.channel()) && (newest == null || lj.seq() > newest.seq())) {
        newest = lj;
      }
    }
    return newest == null ? null : records.get(newest.recordId());
  }

  /**
   * A scan's jars taken and gone, into the records; the channels they concern into {@code touched}.
   */
  void apply(
      DropFolder.Changes changes,
      Set<String> touched,
      Collection<DesiredState.Want> wanted,
      Path dir) {
    for (DropFolder.Taken t : changes.taken()) {
      String name = t.file().getFileName().toString();
      String id = t.stored() == null ? "file:" + t.file() : t.stored().sha256();
      PluginRecord r =
          records.computeIfAbsent(
              id,
              k ->
                  new PluginRecord(
                      t.stored() == null ? null : t.stored().sha256(),
                      t.descriptor(),
                      t.stored() == null ? 0 : t.stored().size()));
      r.sources.add("file:" + name);
      if (t.refused() != null) {
        if (r.hosted == null) {
          r.fail(t.refused());
        }
        LOG.warn("plugin {} refused: {}", name, t.refused());
      } else if (r.state == PluginState.DISCOVERED
          || (r.state == PluginState.FAILED && r.hosted == null)) {
        // a jar dropped again is tried again
        r.to(PluginState.VALIDATED, null);
        LOG.info("plugin {} found: {} {}", name, r.channel(), r.version());
      }
      LocalJar prev = local.put(t.file(), new LocalJar(id, ++seq));
      if (prev != null && !prev.recordId().equals(id)) {
        drop(prev.recordId(), "file:" + name, touched, wanted);
      }
      if (r.channel() != null) {
        touched.add(r.channel());
      }
    }
    for (Path gone : changes.gone()) {
      LocalJar prev = local.remove(gone);
      if (prev != null) {
        LOG.info("plugin {} removed from {}", gone.getFileName(), dir);
        drop(prev.recordId(), "file:" + gone.getFileName(), touched, wanted);
      }
    }
  }

  private void drop(
      String recordId, String source, Set<String> touched, Collection<DesiredState.Want> wanted) {
    PluginRecord r = records.get(recordId);
    if (r != null) {
      r.sources.remove(source);
      if (r.channel() != null) {
        touched.add(r.channel());
      }
    }
    prune(wanted);
  }

  /** Forgets records nothing refers to any more (and their stored copies). */
  void prune(Collection<DesiredState.Want> wanted) {
    Set<String> wantedShas = new HashSet<>();
    wanted.forEach(w -> wantedShas.add(w.sha256()));
    records
        .values()
        .removeIf(
            r -> {
              boolean unused =
                  r.hosted == null
                      && r.retiring == null
                      && r.sources.isEmpty()
                      && !wantedShas.contains(r.sha256)
                      && r.state != PluginState.STARTING
                      && r.state != PluginState.LOADED;
              if (unused && r.sha256 != null) {
                // deleted by the next scan's worker task, before it copies anything in
                unstored.add(r.sha256);
              }
              return unused;
            });
  }
}
