package io.chat4all.channel.instagram;

import io.chat4all.channel.meta.messaging.MessagingConnector;
import io.chat4all.channel.meta.messaging.MessagingProduct;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.Properties;

/**
 * The Instagram connector: {@link MessagingConnector} for {@link MessagingProduct#INSTAGRAM} (see
 * docs/channels/instagram.md). Everything but the product and the version lives in the meta-graph
 * library bundled into this jar.
 */
public class InstagramConnector extends MessagingConnector {
  public static final String CHANNEL = "instagram";
  private static final String VERSION = readVersion();

  public InstagramConnector() {
    super(MessagingProduct.INSTAGRAM, VERSION);
  }

  private static String readVersion() {
    try (InputStream in = InstagramConnector.class.getResourceAsStream("connector.properties")) {
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
