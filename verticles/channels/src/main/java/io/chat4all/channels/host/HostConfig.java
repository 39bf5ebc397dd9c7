package io.chat4all.channels.host;

import io.chat4all.codecs.Settings;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.file.Path;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * The plugin host's settings: the {@code channels} section of the node configuration (its scalar
 * keys; every sub-section is one channel's connector settings) and {@code admin.usernames}.
 *
 * @param pluginsDir the drop folder watched for connector jars
 * @param storeDir the private content-addressed copies ({@code <sha256>.jar}) jars are loaded from
 * @param scanIntervalMs how often the drop folder is listed
 * @param reconcileIntervalMs how often the node re-reads the cluster's desired state
 * @param startTimeoutMs how long a connector's start (and first health check) may take
 * @param stopTimeoutMs how long a connector's stop may take
 * @param drainTimeoutMs how long a replaced connector's calls in flight may take to finish
 * @param maxJarBytes largest accepted jar (upload and drop folder)
 * @param publicBaseUrl the node's public URL for provider webhooks (empty: none)
 * @param channels per-channel settings, channel id → its block (secrets included)
 * @param adminUsernames accounts allowed on {@code /v1/admin/*}
 */
public record HostConfig(
    Path pluginsDir,
    Path storeDir,
    long scanIntervalMs,
    long reconcileIntervalMs,
    long startTimeoutMs,
    long stopTimeoutMs,
    long drainTimeoutMs,
    long maxJarBytes,
    String publicBaseUrl,
    JsonObject channels,
    Set<String> adminUsernames) {

  /** The scalar keys of the {@code channels} section; every other key is a channel's block. */
  public static final Set<String> HOST_KEYS =
      Set.of(
          "plugins_dir",
          "store_dir",
          "scan_interval_ms",
          "reconcile_interval_ms",
          "start_timeout_ms",
          "stop_timeout_ms",
          "drain_timeout_ms",
          "max_jar_bytes",
          "public_base_url",
          "webhook_max_body_bytes");

  /**
   * Sections of {@code channels} that hold delivery and inbound settings, not a channel's block.
   */
  public static final Set<String> SETTINGS_SECTIONS = Set.of("delivery", "inbound");

  /** A bad setting: the dotted key and what is wrong. */
  public static final class Invalid extends RuntimeException {
    private final String key;

    public Invalid(String key, String message) {
      super(message, null, false, false);
      this.key = key;
    }

    public String key() {
      return key;
    }
  }

  /**
   * Reads the settings from the whole node configuration ({@code data_dir}, {@code channels},
   * {@code admin}).
   *
   * @throws Invalid naming the first bad key
   */
  public static HostConfig from(JsonObject node) {
    Path dataDir = Path.of(node.getString("data_dir", "./data"));
    JsonObject c = node.getJsonObject("channels", new JsonObject());
    JsonObject blocks = new JsonObject();
    for (String key : c.fieldNames()) {
      if (!HOST_KEYS.contains(key)
          && !SETTINGS_SECTIONS.contains(key)
          && c.getValue(key) instanceof JsonObject block) {
        blocks.put(key, block.copy());
      }
    }
    Set<String> admins = new LinkedHashSet<>();
    try {
      admins.addAll(
          Settings.texts(Settings.section(node, null, "admin"), "admin", "usernames", List.of()));
    } catch (IllegalArgumentException e) {
      throw new Invalid("admin.usernames", "must be a list of usernames");
    }
    admins.remove("");
    String base = text(c, "public_base_url").trim();
    if (!base.isEmpty() && !base.matches("https?://[^\\s/]+(/\\S*)?")) {
      throw new Invalid("channels.public_base_url", "must be an http(s) URL, got \"" + base + "\"");
    }
    while (base.endsWith("/")) {
      base = base.substring(0, base.length() - 1);
    }
    return new HostConfig(
        dir(dataDir, text(c, "plugins_dir"), "plugins"),
        dir(dataDir, text(c, "store_dir"), "plugin-store"),
        millis(c, "scan_interval_ms", 1000, 50, 3_600_000),
        millis(c, "reconcile_interval_ms", 30_000, 100, 86_400_000),
        millis(c, "start_timeout_ms", 30_000, 100, 600_000),
        millis(c, "stop_timeout_ms", 30_000, 100, 600_000),
        millis(c, "drain_timeout_ms", 30_000, 0, 600_000),
        millis(c, "max_jar_bytes", 64L << 20, 1024, 1L << 31),
        base,
        blocks,
        Set.copyOf(admins));
  }

  private static Path dir(Path dataDir, String configured, String below) {
    return configured.isBlank() ? dataDir.resolve(below) : Path.of(configured);
  }

  private static String text(JsonObject c, String key) {
    Object v = c.getValue(key);
    if (v instanceof JsonObject || v instanceof JsonArray) {
      throw new Invalid("channels." + key, "must be a single value");
    }
    return v == null ? "" : v.toString();
  }

  private static long millis(JsonObject c, String key, long def, long min, long max) {
    Object v = c.getValue(key);
    if (v == null) {
      return def;
    }
    Long whole = Settings.whole(v);
    if (whole == null) {
      throw new Invalid("channels." + key, "must be an integer, got \"" + v + "\"");
    }
    long value = whole;
    if (value < min || value > max) {
      throw new Invalid("channels." + key, "must be from " + min + " to " + max + ", got " + value);
    }
    return value;
  }

  /** Never the channel blocks' values (they hold secrets): only which channels have one. */
  @Override
  public String toString() {
    return "HostConfig[pluginsDir="
        + pluginsDir
        + ", storeDir="
        + storeDir
        + ", scanIntervalMs="
        + scanIntervalMs
        + ", reconcileIntervalMs="
        + reconcileIntervalMs
        + ", startTimeoutMs="
        + startTimeoutMs
        + ", stopTimeoutMs="
        + stopTimeoutMs
        + ", drainTimeoutMs="
        + drainTimeoutMs
        + ", maxJarBytes="
        + maxJarBytes
        + ", publicBaseUrl="
        + publicBaseUrl
        + ", channels="
        + channels.fieldNames()
        + ", adminUsernames="
        + adminUsernames
        + "]";
  }

  /** The block {@code channels.<channel>} (empty when not configured). */
  public JsonObject channel(String channel) {
    return channels.getJsonObject(channel, new JsonObject());
  }

  /** The webhook URL of a channel, or null when no public base URL is set. */
  public String webhookUrl(String channel) {
    return publicBaseUrl.isEmpty() ? null : publicBaseUrl + "/webhooks/" + channel;
  }
}
