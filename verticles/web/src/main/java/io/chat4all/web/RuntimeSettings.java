package io.chat4all.web;

import io.chat4all.codecs.ErrorCode;
import io.chat4all.codecs.ServiceException;
import io.vertx.core.json.JsonObject;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * The cluster-wide runtime settings as this node last read them: feature flags ({@code enabled},
 * {@code rollout_percentage}) and global limits, each an override stored in PostgreSQL or, while
 * none exists, the default from the node's configuration; plus the administrators stored in
 * PostgreSQL (beside {@code admin.usernames}). Every node keeps a copy that the settings sync
 * replaces on a change notice and periodically; readers see one consistent snapshot.
 */
public final class RuntimeSettings {
  /** Limit names (what the enforcement points read). */
  public static final String REQUESTS_PER_MINUTE_PER_USER = "requests_per_minute_per_user";

  public static final String REQUESTS_PER_MINUTE_PER_IP = "requests_per_minute_per_ip";
  public static final String MESSAGES_PER_MINUTE_PER_USER = "messages_per_minute_per_user";
  public static final String FILES_PER_HOUR_PER_USER = "files_per_hour_per_user";
  public static final String MAX_UPLOAD_BYTES = "max_upload_bytes";
  public static final String USER_QUOTA_BYTES = "user_quota_bytes";

  /** Flag names. */
  public static final String TYPING_INDICATORS = "typing_indicators";

  /** A feature flag's value. */
  public record Flag(boolean enabled, int rolloutPercentage) {
    public Flag {
      if (rolloutPercentage < 0 || rolloutPercentage > 100) {
        throw new IllegalArgumentException("rollout_percentage must be 0 to 100");
      }
    }

    public JsonObject toJson() {
      return new JsonObject().put("enabled", enabled).put("rollout_percentage", rolloutPercentage);
    }

    public static Flag fromJson(JsonObject j) {
      return new Flag(j.getBoolean("enabled", false), j.getInteger("rollout_percentage", 100));
    }
  }

  /** A limit's definition: its default (from the configuration) and allowed range. */
  public record LimitSpec(String name, long defaultValue, long min, long max, String description) {}

  /**
   * One stored setting: its value (null when reset to the default), version and who set it when.
   */
  public record Override(JsonObject value, long version, String updatedBy, String updatedAt) {}

  /** What the node last read: overrides by name, stored admins and the highest audit id seen. */
  public record Snapshot(
      Map<String, Override> flags,
      Map<String, Override> limits,
      Set<String> admins,
      long revision) {
    public static final Snapshot EMPTY = new Snapshot(Map.of(), Map.of(), Set.of(), 0);
  }

  private final Map<String, Flag> defaultFlags;
  private final Map<String, LimitSpec> limits;
  private final Set<String> configuredAdmins;
  private volatile Snapshot current = Snapshot.EMPTY;

  public RuntimeSettings(
      Map<String, Flag> defaultFlags, Map<String, LimitSpec> limits, Set<String> configuredAdmins) {
    this.defaultFlags = Collections.unmodifiableMap(new LinkedHashMap<>(defaultFlags));
    this.limits = Collections.unmodifiableMap(new LinkedHashMap<>(limits));
    this.configuredAdmins = Set.copyOf(configuredAdmins);
  }

  /** Settings with only defaults and no stored overrides (tests, tools). */
  public static RuntimeSettings defaults(Map<String, Flag> flags, Map<String, LimitSpec> limits) {
    return new RuntimeSettings(flags, limits, Set.of());
  }

  public Map<String, Flag> defaultFlags() {
    return defaultFlags;
  }

  public Map<String, LimitSpec> limitSpecs() {
    return limits;
  }

  public Snapshot snapshot() {
    return current;
  }

  /** Replaces the node's copy (the sync does, after reading PostgreSQL); ignores older ones. */
  public synchronized boolean apply(Snapshot next) {
    Objects.requireNonNull(next, "next");
    if (next.revision() < current.revision()) {
      return false;
    }
    current = next;
    return true;
  }

  /** The limit's value in force (0 for limits where 0 means unlimited). */
  public long limit(String name) {
    LimitSpec spec = limits.get(name);
    if (spec == null) {
      throw new IllegalArgumentException("no such limit: " + name);
    }
    Override o = current.limits().get(name);
    return o == null || o.value() == null
        ? spec.defaultValue()
        : o.value().getLong("value", spec.defaultValue());
  }

  /** {@link #limit} as an int (capped at {@link Integer#MAX_VALUE}). */
  public int limitInt(String name) {
    return (int) Math.min(Integer.MAX_VALUE, limit(name));
  }

  /** The flag in force. */
  public Flag flag(String name) {
    Flag d = defaultFlags.get(name);
    if (d == null) {
      throw new IllegalArgumentException("no such flag: " + name);
    }
    Override o = current.flags().get(name);
    return o == null || o.value() == null ? d : Flag.fromJson(o.value());
  }

  /**
   * Whether the flag is on for {@code subject} (a user id): enabled, and the subject's stable
   * bucket ({@link #bucket}) below the rollout percentage. The same user gets the same answer on
   * every node, and a user inside 30 % stays inside when the rollout grows to 50 %.
   */
  public boolean enabled(String name, String subject) {
    Flag f = flag(name);
    return f.enabled()
        && (f.rolloutPercentage() >= 100
            || (subject != null && bucket(name, subject) < f.rolloutPercentage()));
  }

  /** Fails with {@code feature_disabled} when the flag is off for the user. */
  public void require(String name, String userId, String what) {
    if (!enabled(name, userId)) {
      throw new ServiceException(
          ErrorCode.FEATURE_DISABLED,
          what + " is turned off",
          new JsonObject().put("feature", name));
    }
  }

  /** The subject's bucket 0..99 for a flag: the first four bytes of SHA-256(flag:subject). */
  public static int bucket(String flag, String subject) {
    try {
      byte[] d =
          MessageDigest.getInstance("SHA-256")
              .digest((flag + ":" + subject).getBytes(StandardCharsets.UTF_8));
      long v =
          ((d[0] & 0xffL) << 24) | ((d[1] & 0xffL) << 16) | ((d[2] & 0xffL) << 8) | (d[3] & 0xffL);
      return (int) (v % 100);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  /** An account named in {@code admin.usernames} or stored as an administrator. */
  public boolean isAdmin(String username) {
    return username != null
        && (configuredAdmins.contains(username) || current.admins().contains(username));
  }

  /** Every flag evaluated for {@code userId}: {name: true|false}. */
  public JsonObject evaluate(String userId) {
    JsonObject out = new JsonObject();
    for (String name : defaultFlags.keySet()) {
      out.put(name, enabled(name, userId));
    }
    return out;
  }
}
