package io.chat4all.testkit;

import java.util.AbstractList;
import java.util.ArrayList;
import java.util.List;
import java.util.RandomAccess;

/**
 * A list one thread appends to while others read it: an append costs O(1) (a {@code
 * CopyOnWriteArrayList} copies the whole list on every add, which a socket receiving hundreds of
 * thousands of frames cannot afford), and reading while it grows never throws: an iteration sees at
 * least the elements present when it began.
 */
public final class AppendOnlyList<T> extends AbstractList<T> implements RandomAccess {
  private final List<T> items = new ArrayList<>();

  @Override
  public synchronized boolean add(T t) {
    return items.add(t);
  }

  @Override
  public synchronized T get(int index) {
    return items.get(index);
  }

  @Override
  public synchronized int size() {
    return items.size();
  }
}
