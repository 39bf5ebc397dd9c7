package io.chat4all.embedded;

import de.bwaldvogel.mongo.MongoCollection;
import de.bwaldvogel.mongo.backend.CursorRegistry;
import de.bwaldvogel.mongo.backend.Index;
import de.bwaldvogel.mongo.backend.IndexKey;
import de.bwaldvogel.mongo.backend.KeyValue;
import de.bwaldvogel.mongo.backend.h2.H2Database;
import java.util.List;
import java.util.Map;
import org.h2.mvstore.MVMap;
import org.h2.mvstore.MVStore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The H2 backend's database with its unique indexes keyed by {@link KeyValueType} (in maps of their
 * own name, {@code <ns>._kindex_<index>}). An index map of the library's own kind found in a data
 * directory written before is copied into the new map once, at open, and removed (the copy is
 * committed with the next write; a crash before that leaves the old map and it is copied again).
 */
final class KeyedH2Database extends H2Database {
  private static final Logger LOG = LoggerFactory.getLogger(KeyedH2Database.class);

  /** The store while the super constructor opens the indexes (before this class's fields exist). */
  private static final ThreadLocal<MVStore> OPENING = new ThreadLocal<>();

  private MVStore store;

  private KeyedH2Database(String name, MVStore store, CursorRegistry cursors) {
    super(name, store, cursors);
    this.store = store;
  }

  static KeyedH2Database open(String name, MVStore store, CursorRegistry cursors) {
    OPENING.set(store);
    try {
      return new KeyedH2Database(name, store, cursors);
    } finally {
      OPENING.remove();
    }
  }

  private MVStore store() {
    return store != null ? store : OPENING.get();
  }

  private String legacyName(String collection, String index) {
    return getFullCollectionNamespace(collection) + "._index_" + index;
  }

  private String keyedName(String collection, String index) {
    return getFullCollectionNamespace(collection) + "._kindex_" + index;
  }

  @Override
  protected Index<Object> openOrCreateUniqueIndex(
      String collection, String index, List<IndexKey> keys, boolean sparse) {
    MVStore s = store();
    String name = keyedName(collection, index);
    boolean fresh = !s.hasMap(name);
    MVMap<KeyValue, Object> map =
        s.openMap(name, new MVMap.Builder<KeyValue, Object>().keyType(new KeyValueType()));
    String legacy = legacyName(collection, index);
    if (fresh && s.hasMap(legacy)) {
      MVMap<Object, Object> old = s.openMap(legacy);
      for (Map.Entry<Object, Object> e : old.entrySet()) {
        map.put((KeyValue) e.getKey(), e.getValue());
      }
      LOG.info(
          "index {} of {}: {} keys moved to the keyed index map", index, collection, map.size());
      s.removeMap(old);
    }
    return new KeyedIndex(map, index, keys, sparse);
  }

  @Override
  protected void dropIndex(MongoCollection<Object> collection, String index) {
    super.dropIndex(collection, index);
    String name = keyedName(collection.getCollectionName(), index);
    if (store.hasMap(name)) {
      store.removeMap(name);
    }
  }
}
