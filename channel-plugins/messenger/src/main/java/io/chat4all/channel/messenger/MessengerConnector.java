package io.chat4all.channel.messenger;

import io.chat4all.channel.meta.messaging.MessagingConnector;
import io.chat4all.channel.meta.messaging.MessagingProduct;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.Properties;

/**
 * The Messenger connector: {@link MessagingConnector} for {@link MessagingProduct#MESSENGER} (see
 * docs/channels/messenger.md). Everything but the product and the version lives in the meta-graph
 * library bundled into this jar.
 */
public class MessengerConnector extends MessagingConnector {
  public static final String CHANNEL = "messenger";
  private static final String VERSION = readVersion();

  public MessengerConnector() {
    super(MessagingProduct.MESSENGER, VERSION);
  }

  private static String readVersion() {
    try (InputStream in = MessengerConnector.class.getResourceAsStream("connector.properties")) {
      Properties p = new Properties();
      if (in != null) {
        p.load(in);
      }
      return p.getProperty("version", "0.0.0");
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
