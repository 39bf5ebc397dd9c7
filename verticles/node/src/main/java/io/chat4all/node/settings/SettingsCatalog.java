package io.chat4all.node.settings;

import io.chat4all.node.config.ConfigException;
import io.chat4all.web.RuntimeSettings;
import io.chat4all.web.RuntimeSettings.Flag;
import io.chat4all.web.RuntimeSettings.LimitSpec;
import io.vertx.core.json.JsonObject;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Which flags and limits exist and their defaults, from the node configuration: every flag under
 * {@code runtime.flags}, an {@code outbound_delivery.<channel>} flag per channel block of {@code
 * channels}, and the limits whose defaults are the configured {@code rate_limit.*} and {@code
 * files.*} values.
 */
public final class SettingsCatalog {
  static final Pattern NAME = Pattern.compile("[a-z][a-z0-9_.-]{0,63}");
  private static final Set<String> NOT_CHANNELS = Set.of("delivery", "inbound");
  private static final long MAX_RATE = 1_000_000_000L;

  private SettingsCatalog() {}

  /** The outbound-delivery flag of a channel. */
  public static String outboundFlag(String channel) {
    return "outbound_delivery." + channel;
  }

  /**
   * @param admins the accounts of {@code admin.usernames}
   */
  public static RuntimeSettings from(JsonObject raw, Set<String> admins) {
    Map<String, Flag> flags = new LinkedHashMap<>();
    JsonObject runtime = raw.getJsonObject("runtime", new JsonObject());
    JsonObject configured = runtime.getJsonObject("flags", new JsonObject());
    for (String name : configured.fieldNames()) {
      String key = "runtime.flags." + name;
      if (!NAME.matcher(name).matches()) {
        throw new ConfigException(key, "flag names are lowercase letters, digits, _ . -");
      }
      if (!(configured.getValue(name) instanceof JsonObject f)) {
        throw new ConfigException(key, "must be {enabled, rollout_percentage}");
      }
      Object enabled = f.getValue("enabled", true);
      Object rollout = f.getValue("rollout_percentage", 100);
      if (!(enabled instanceof Boolean e)
          || !(rollout instanceof Number r)
          || r.intValue() != r.doubleValue()
          || r.intValue() < 0
          || r.intValue() > 100) {
        throw new ConfigException(
            key, "enabled must be true or false and rollout_percentage an integer 0 to 100");
      }
      flags.put(name, new Flag(e, r.intValue()));
    }
    JsonObject channels = raw.getJsonObject("channels", new JsonObject());
    for (String channel : channels.fieldNames()) {
      if (!NOT_CHANNELS.contains(channel)
          && channels.getValue(channel) instanceof JsonObject
          && NAME.matcher(channel).matches()) {
        flags.putIfAbsent(outboundFlag(channel), new Flag(true, 100));
      }
    }

    JsonObject rate = raw.getJsonObject("rate_limit", new JsonObject());
    JsonObject files = raw.getJsonObject("files", new JsonObject());
    long maxChunk = files.getLong("max_chunk_size_bytes", 64L * 1024 * 1024);
    Map<String, LimitSpec> limits = new LinkedHashMap<>();
    put(
        limits,
        RuntimeSettings.REQUESTS_PER_MINUTE_PER_USER,
        rate.getLong("per_user_per_minute", 1200L),
        0,
        MAX_RATE,
        "requests per minute and user to /v1 and gRPC (0 = unlimited)");
    put(
        limits,
        RuntimeSettings.REQUESTS_PER_MINUTE_PER_IP,
        rate.getLong("per_ip_per_minute", 2400L),
        0,
        MAX_RATE,
        "requests per minute and client IP to /v1 (0 = unlimited)");
    put(
        limits,
        RuntimeSettings.MESSAGES_PER_MINUTE_PER_USER,
        rate.getLong("messages_per_minute_per_user", 0L),
        0,
        MAX_RATE,
        "messages a user may send per minute (0 = unlimited)");
    put(
        limits,
        RuntimeSettings.FILES_PER_HOUR_PER_USER,
        rate.getLong("files_per_hour_per_user", 0L),
        0,
        MAX_RATE,
        "uploads a user may start per hour (0 = unlimited)");
    put(
        limits,
        RuntimeSettings.MAX_UPLOAD_BYTES,
        files.getLong("max_size_bytes", 10L * 1024 * 1024 * 1024),
        1,
        maxChunk * 10_000,
        "largest file accepted, in bytes");
    put(
        limits,
        RuntimeSettings.USER_QUOTA_BYTES,
        files.getLong("user_quota_bytes", 50L * 1024 * 1024 * 1024),
        0,
        Long.MAX_VALUE / 2,
        "bytes a user may hold in uploads and files (0 = unlimited)");

    return new RuntimeSettings(flags, limits, admins);
  }

  private static void put(
      Map<String, LimitSpec> limits, String name, long def, long min, long max, String what) {
    limits.put(name, new LimitSpec(name, def, min, max, what));
  }

  /** How often each node re-reads the settings ({@code runtime.reconcile_interval_ms}). */
  public static long reconcileIntervalMs(JsonObject raw) {
    long ms =
        raw.getJsonObject("runtime", new JsonObject()).getLong("reconcile_interval_ms", 5000L);
    if (ms < 100) {
      throw new ConfigException("runtime.reconcile_interval_ms", "must be at least 100");
    }
    return ms;
  }
}
