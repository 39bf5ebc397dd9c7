package io.chat4all.codecs;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.EventBus;
import io.vertx.core.eventbus.MessageCodec;
import io.vertx.core.json.JsonObject;

/**
 * The event-bus codec of bodies that are never changed once sent: a JSON object, on the wire
 * exactly as Vert.x's own JSON codec writes it, but handed to local consumers as the sender's
 * instance instead of a deep copy per consumer. A live envelope is published once per recipient, so
 * the copy was a deep copy of the same message for every recipient on the node; shared, the
 * recipients' envelopes hold one message, which their sockets then encode once ({@code Frames} in
 * the realtime gateway).
 *
 * <p>The contract on both sides: the sender builds the body (and everything it holds) for the send
 * and does not touch it after; a consumer reads it and never changes it (a consumer that needs to
 * change it copies it first). Every node registers the codec at start ({@link #registerOn}), as a
 * body that comes from another node names it.
 */
public final class SharedJsonCodec implements MessageCodec<JsonObject, JsonObject> {
  public static final String NAME = "chat4all.shared-json";

  static final SharedJsonCodec INSTANCE = new SharedJsonCodec();
  private static final DeliveryOptions OPTIONS = new DeliveryOptions().setCodecName(NAME);

  private SharedJsonCodec() {}

  /** Registers the codec on {@code eventBus}; registering it twice is harmless. */
  public static void registerOn(EventBus eventBus) {
    try {
      eventBus.registerCodec(INSTANCE);
    } catch (IllegalStateException alreadyRegistered) {
      // another verticle of this node registered it first
    }
  }

  /**
   * Delivery options that send a body with this codec. Shared and must not be changed: {@code new
   * DeliveryOptions(options())} to add headers.
   */
  public static DeliveryOptions options() {
    return OPTIONS;
  }

  @Override
  public void encodeToWire(Buffer buffer, JsonObject json) {
    Buffer encoded = json.toBuffer();
    buffer.appendInt(encoded.length());
    buffer.appendBuffer(encoded);
  }

  @Override
  public JsonObject decodeFromWire(int pos, Buffer buffer) {
    int length = buffer.getInt(pos);
    return new JsonObject(buffer.getBuffer(pos + 4, pos + 4 + length));
  }

  @Override
  public JsonObject transform(JsonObject json) {
    return json;
  }

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public byte systemCodecID() {
    return -1;
  }
}
