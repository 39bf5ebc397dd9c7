package io.chat4all.realtime;

import io.vertx.core.Handler;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.WebSocketFrame;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;

/**
 * Reassembles a WebSocket's messages from its frames (a text or binary frame and its continuations)
 * and decodes text messages as strict UTF-8. Vert.x's own text-message handler replaces invalid
 * bytes with U+FFFD; RFC 6455 (8.1) requires failing the connection instead, with close code 1007.
 */
final class TextMessages implements Handler<WebSocketFrame> {
  static final short CLOSE_INVALID_DATA = 1007;
  static final short CLOSE_TOO_BIG = 1009;

  /** Where complete messages and failures go. */
  interface Sink {
    void text(String message);

    void binary();

    void fail(short closeCode, String reason);
  }

  private final int maxMessageBytes;
  private final Sink sink;
  private Buffer partial;
  private boolean binary;
  private boolean failed;

  TextMessages(int maxMessageBytes, Sink sink) {
    this.maxMessageBytes = maxMessageBytes;
    this.sink = sink;
  }

  @Override
  public void handle(WebSocketFrame frame) {
    if (failed) {
      return;
    }
    if (frame.isText() || frame.isBinary()) {
      partial = Buffer.buffer();
      binary = frame.isBinary();
    } else if (!frame.isContinuation() || partial == null) {
      return; // ping, pong and close are Vert.x's; a stray continuation carries no message
    }
    if (!binary) {
      partial.appendBuffer(frame.binaryData());
    }
    if (partial.length() > maxMessageBytes) {
      fail(CLOSE_TOO_BIG, "message over " + maxMessageBytes + " bytes");
      return;
    }
    if (!frame.isFinal()) {
      return;
    }
    Buffer message = partial;
    partial = null;
    if (binary) {
      sink.binary();
      return;
    }
    String text;
    try {
      text =
          StandardCharsets.UTF_8
              .newDecoder()
              .onMalformedInput(CodingErrorAction.REPORT)
              .onUnmappableCharacter(CodingErrorAction.REPORT)
              .decode(ByteBuffer.wrap(message.getBytes()))
              .toString();
    } catch (CharacterCodingException e) {
      fail(CLOSE_INVALID_DATA, "text frame is not valid UTF-8");
      return;
    }
    sink.text(text);
  }

  private void fail(short code, String reason) {
    failed = true;
    partial = null;
    sink.fail(code, reason);
  }
}
