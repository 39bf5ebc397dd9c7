package io.chat4all.channel.spi;

/** Version of this SPI. A plugin declares the SPI version it was built against. */
public final class Spi {
  /**
   * {@code major.minor}: the host loads a plugin whose major equals this major and whose minor is
   * not greater than this minor. 1.0: the first SPI; 1.1 adds {@code support.AbortableStream} (a
   * download the host may give up; {@code LimitedStream} is one), so a plugin built against 1.0
   * runs unchanged, and one that implements the new interface declares 1.1.
   */
  public static final String VERSION = "1.1";

  /** Resource path of the plugin descriptor inside a connector jar. */
  public static final String DESCRIPTOR_RESOURCE = "META-INF/chat4all-plugin.json";

  private Spi() {}

  /** Whether a plugin built against {@code pluginSpi} can run on this SPI. */
  public static boolean compatible(String pluginSpi) {
    if (pluginSpi == null) {
      return false;
    }
    String[] mine = VERSION.split("\\.");
    String[] theirs = pluginSpi.trim().split("\\.");
    if (theirs.length != 2) {
      return false;
    }
    try {
      return Integer.parseInt(theirs[0]) == Integer.parseInt(mine[0])
          && Integer.parseInt(theirs[1]) <= Integer.parseInt(mine[1])
          && Integer.parseInt(theirs[1]) >= 0;
    } catch (NumberFormatException e) {
      return false;
    }
  }
}
