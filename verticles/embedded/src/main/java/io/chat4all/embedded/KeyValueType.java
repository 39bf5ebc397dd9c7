package io.chat4all.embedded;

import de.bwaldvogel.mongo.backend.KeyValue;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import org.h2.mvstore.DataUtils;
import org.h2.mvstore.WriteBuffer;
import org.h2.mvstore.type.BasicDataType;
import org.h2.mvstore.type.ObjectDataType;

/**
 * The key type of the embedded MongoDB-wire server's unique indexes: a {@link KeyValue} written as
 * its count and its values, each in H2's compact {@link ObjectDataType} form, and compared value by
 * value.
 *
 * <p>The H2 backend opens its index maps with H2's default key type, which knows nothing of {@code
 * KeyValue} and so compares two keys by Java-serialising both: every step of every index look-up's
 * binary search ran two {@code ObjectOutputStream}s, about three quarters of the store's CPU while
 * the pipeline inserted messages (JFR, docs/benchmarks.md). Values of the common types (strings,
 * numbers, UUIDs) are compared as H2 compares them on their own; anything else still falls back to
 * comparing serialised forms, as before.
 */
final class KeyValueType extends BasicDataType<KeyValue> {
  private final ObjectDataType values = new ObjectDataType();

  @Override
  public int getMemory(KeyValue key) {
    int memory = 24;
    for (Object v : key) {
      memory += values.getMemory(v);
    }
    return memory;
  }

  @Override
  public void write(WriteBuffer buff, KeyValue key) {
    buff.putVarInt(key.size());
    for (Object v : key) {
      values.write(buff, v);
    }
  }

  @Override
  public KeyValue read(ByteBuffer buff) {
    int n = DataUtils.readVarInt(buff);
    List<Object> read = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      read.add(values.read(buff));
    }
    return new KeyValue(read);
  }

  @Override
  public KeyValue[] createStorage(int size) {
    return new KeyValue[size];
  }

  @Override
  public int compare(KeyValue a, KeyValue b) {
    if (a == b) {
      return 0;
    }
    int n = Math.min(a.size(), b.size());
    for (int i = 0; i < n; i++) {
      int c = values.compare(a.get(i), b.get(i));
      if (c != 0) {
        return c;
      }
    }
    return Integer.compare(a.size(), b.size());
  }
}
