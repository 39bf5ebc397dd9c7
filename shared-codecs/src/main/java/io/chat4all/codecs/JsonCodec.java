package io.chat4all.codecs;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.eventbus.EventBus;
import io.vertx.core.eventbus.MessageCodec;
import io.vertx.core.json.JsonObject;
import java.util.Objects;
import java.util.function.Function;

/**
 * An event-bus codec for a domain record that has a JSON form. On the wire it is the record's JSON;
 * locally it is passed as is (records are immutable). Decoding never returns null: a body that does
 * not decode fails loudly.
 */
public final class JsonCodec<T> implements MessageCodec<T, T> {

  private final Class<T> type;
  private final Function<T, JsonObject> toJson;
  private final Function<JsonObject, T> fromJson;

  public JsonCodec(
      Class<T> type, Function<T, JsonObject> toJson, Function<JsonObject, T> fromJson) {
    this.type = Objects.requireNonNull(type);
    this.toJson = Objects.requireNonNull(toJson);
    this.fromJson = Objects.requireNonNull(fromJson);
  }

  @Override
  public void encodeToWire(Buffer buffer, T value) {
    Buffer json = toJson.apply(value).toBuffer();
    buffer.appendInt(json.length());
    buffer.appendBuffer(json);
  }

  @Override
  public T decodeFromWire(int pos, Buffer buffer) {
    int length = buffer.getInt(pos);
    JsonObject json = new JsonObject(buffer.getBuffer(pos + 4, pos + 4 + length));
    return Objects.requireNonNull(
        fromJson.apply(json), () -> "codec for " + type + " decoded null");
  }

  @Override
  public T transform(T value) {
    return value;
  }

  @Override
  public String name() {
    return "chat4all." + type.getSimpleName();
  }

  @Override
  public byte systemCodecID() {
    return -1;
  }

  /** Registers this codec as the default codec of its type; registering twice is harmless. */
  public JsonCodec<T> registerOn(EventBus eventBus) {
    try {
      eventBus.registerDefaultCodec(type, this);
    } catch (IllegalStateException alreadyRegistered) {
      // another verticle of this node registered it first
    }
    return this;
  }
}
