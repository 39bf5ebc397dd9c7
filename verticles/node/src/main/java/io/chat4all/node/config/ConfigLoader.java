package io.chat4all.node.config;

import io.vertx.config.ConfigRetriever;
import io.vertx.config.ConfigRetrieverOptions;
import io.vertx.config.ConfigStoreOptions;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;

/**
 * Loads the node configuration with vertx-config, in this order (later wins):
 *
 * <ol>
 *   <li>{@code config/default.yaml} (shipped in the node jar as {@code
 *       chat4all-config/default.yaml})
 *   <li>the file given with {@code --config} (YAML or JSON)
 *   <li>environment variables {@code CHAT4ALL_<PATH>}, e.g. {@code CHAT4ALL_HTTP_PORT}
 *   <li>system properties {@code chat4all.<path>}, e.g. {@code -Dchat4all.http.port=8081}
 *   <li>command-line options ({@code --data-dir}, {@code --cluster}, {@code --set key=value} …)
 * </ol>
 *
 * Every key of an override must exist in the defaults (a typo fails fast, naming the key) and its
 * value is converted to the default's type. The one exception are channel blocks: under {@code
 * channels}, every section is one connector's settings ({@code channels.<channel>.<key>}), for any
 * channel id and any key (the connector's own schema says which it reads); keys the defaults name
 * are still converted to their type.
 */
public final class ConfigLoader {
  public static final String DEFAULTS_RESOURCE = "chat4all-config/default.yaml";
  private static final String ENV_PREFIX = "CHAT4ALL_";
  private static final String PROP_PREFIX = "chat4all.";

  /** The section whose sub-sections are free-form channel blocks. */
  static final String CHANNELS = "channels";

  private ConfigLoader() {}

  /**
   * Loads and merges the configuration. Blocking (it waits for vertx-config): call it from a plain
   * thread such as {@code main}, never from an event loop.
   */
  public static JsonObject load(
      Path configFile,
      Map<String, String> env,
      Properties sysProps,
      Map<String, String> cliOverrides) {
    Vertx vertx = Vertx.vertx();
    try {
      JsonObject defaults = retrieve(vertx, null);
      JsonObject merged = defaults.copy();
      if (configFile != null) {
        if (!Files.isRegularFile(configFile)) {
          throw new ConfigException(null, "config file " + configFile + " does not exist");
        }
        JsonObject fromFile = retrieveFile(vertx, configFile);
        overlay(defaults, merged, fromFile, "", "config file " + configFile);
      }
      for (Map.Entry<String, String> e : env.entrySet()) {
        if (e.getKey().startsWith(ENV_PREFIX)) {
          String rest = e.getKey().substring(ENV_PREFIX.length()).toLowerCase(Locale.ROOT);
          List<String> path = resolveUnderscored(defaults, rest);
          if (path == null) {
            path = channelPath(merged, rest);
          }
          if (path != null) {
            set(defaults, merged, path, e.getValue(), "environment variable " + e.getKey());
          }
        }
      }
      for (String name : sysProps.stringPropertyNames()) {
        if (name.startsWith(PROP_PREFIX)) {
          List<String> path = Arrays.asList(name.substring(PROP_PREFIX.length()).split("\\."));
          if (exists(defaults, path) || channelKey(defaults, path)) {
            set(defaults, merged, path, sysProps.getProperty(name), "system property " + name);
          }
        }
      }
      for (Map.Entry<String, String> e : cliOverrides.entrySet()) {
        List<String> path = Arrays.asList(e.getKey().split("\\."));
        if (!exists(defaults, path) && !channelKey(defaults, path)) {
          throw new ConfigException(e.getKey(), "unknown configuration key (command line)");
        }
        set(defaults, merged, path, e.getValue(), "command line");
      }
      return merged;
    } finally {
      vertx.close();
    }
  }

  /** The shipped defaults alone. */
  public static JsonObject defaults() {
    Vertx vertx = Vertx.vertx();
    try {
      return retrieve(vertx, null);
    } finally {
      vertx.close();
    }
  }

  private static JsonObject retrieve(Vertx vertx, ConfigStoreOptions extra) {
    ConfigRetrieverOptions options =
        new ConfigRetrieverOptions()
            .setScanPeriod(0)
            .addStore(
                new ConfigStoreOptions()
                    .setType("file")
                    .setFormat("yaml")
                    .setConfig(new JsonObject().put("path", DEFAULTS_RESOURCE)));
    if (extra != null) {
      options.addStore(extra);
    }
    ConfigRetriever retriever = ConfigRetriever.create(vertx, options);
    try {
      return retriever
          .getConfig()
          .toCompletionStage()
          .toCompletableFuture()
          .get(30, TimeUnit.SECONDS);
    } catch (Exception e) {
      Throwable cause = e.getCause() == null ? e : e.getCause();
      throw new ConfigException(null, "cannot read configuration: " + cause.getMessage(), cause);
    } finally {
      retriever.close();
    }
  }

  private static JsonObject retrieveFile(Vertx vertx, Path file) {
    String name = file.getFileName().toString().toLowerCase(Locale.ROOT);
    String format = name.endsWith(".json") ? "json" : "yaml";
    ConfigRetrieverOptions options =
        new ConfigRetrieverOptions()
            .setScanPeriod(0)
            .addStore(
                new ConfigStoreOptions()
                    .setType("file")
                    .setFormat(format)
                    .setConfig(new JsonObject().put("path", file.toAbsolutePath().toString())));
    ConfigRetriever retriever = ConfigRetriever.create(vertx, options);
    try {
      return retriever
          .getConfig()
          .toCompletionStage()
          .toCompletableFuture()
          .get(30, TimeUnit.SECONDS);
    } catch (Exception e) {
      Throwable cause = e.getCause() == null ? e : e.getCause();
      throw new ConfigException(
          null,
          "config file "
              + file
              + " is not valid "
              + format.toUpperCase(Locale.ROOT)
              + ": "
              + cause.getMessage(),
          cause);
    } finally {
      retriever.close();
    }
  }

  /** Copies {@code source} onto {@code target}, checking each key against {@code defaults}. */
  private static void overlay(
      JsonObject defaults, JsonObject target, JsonObject source, String prefix, String origin) {
    for (String key : source.fieldNames()) {
      String dotted = prefix.isEmpty() ? key : prefix + "." + key;
      if (prefix.equals(CHANNELS) && source.getValue(key) instanceof JsonObject block) {
        Object def = defaults.getValue(key);
        if (def == null || def instanceof JsonObject) {
          channelBlock(
              def == null ? new JsonObject() : (JsonObject) def,
              target,
              key,
              block,
              dotted,
              origin);
          continue;
        }
      }
      if (!defaults.containsKey(key)) {
        throw new ConfigException(dotted, "unknown configuration key (" + origin + ")");
      }
      Object def = defaults.getValue(key);
      Object value = source.getValue(key);
      if (def instanceof JsonObject defObj) {
        if (!(value instanceof JsonObject valueObj)) {
          throw new ConfigException(
              dotted, "must be a section with keys " + defObj.fieldNames() + " (" + origin + ")");
        }
        overlay(defObj, target.getJsonObject(key), valueObj, dotted, origin);
      } else {
        target.put(key, coerce(dotted, def, value, origin));
      }
    }
  }

  private static void set(
      JsonObject defaults, JsonObject target, List<String> path, String raw, String origin) {
    JsonObject d = defaults;
    JsonObject t = target;
    for (int i = 0; i < path.size() - 1; i++) {
      d = d == null ? null : d.getJsonObject(path.get(i));
      JsonObject next = t.getJsonObject(path.get(i));
      if (next == null) {
        next = new JsonObject();
        t.put(path.get(i), next);
      }
      t = next;
    }
    String leaf = path.get(path.size() - 1);
    Object def = d == null ? null : d.getValue(leaf);
    t.put(leaf, def == null ? raw : coerce(String.join(".", path), def, raw, origin));
  }

  /** Merges one channel block: any key, converted to the default's type where there is one. */
  private static void channelBlock(
      JsonObject defaults,
      JsonObject target,
      String channel,
      JsonObject block,
      String dotted,
      String origin) {
    JsonObject t = target.getJsonObject(channel);
    if (t == null) {
      t = new JsonObject();
      target.put(channel, t);
    }
    for (String key : block.fieldNames()) {
      Object value = block.getValue(key);
      Object def = defaults.getValue(key);
      if (value instanceof JsonObject) {
        throw new ConfigException(
            dotted + "." + key,
            "a channel setting must be a single value or a list (" + origin + ")");
      }
      t.put(key, def == null ? value : coerce(dotted + "." + key, def, value, origin));
    }
  }

  /** Whether {@code path} is {@code channels.<channel>.<key>} (a free-form channel setting). */
  static boolean channelKey(JsonObject defaults, List<String> path) {
    if (path.size() != 3 || !path.get(0).equals(CHANNELS)) {
      return false;
    }
    Object section = defaults.getJsonObject(CHANNELS, new JsonObject()).getValue(path.get(1));
    return section == null || section instanceof JsonObject;
  }

  /**
   * Maps an env suffix {@code channels_<channel>_<key>} that the defaults do not know onto {@code
   * channels.<channel>.<key>}: the channel is the longest run of tokens naming a block already
   * configured (a config file may declare a channel whose id contains '_'), else the first token.
   */
  static List<String> channelPath(JsonObject merged, String rest) {
    if (!rest.startsWith(CHANNELS + "_")) {
      return null;
    }
    String[] tokens = rest.substring(CHANNELS.length() + 1).split("_");
    if (tokens.length < 2) {
      return null;
    }
    JsonObject blocks = merged.getJsonObject(CHANNELS, new JsonObject());
    int split = 1;
    for (int end = tokens.length - 1; end >= 1; end--) {
      String candidate = String.join("_", Arrays.copyOfRange(tokens, 0, end));
      if (blocks.getValue(candidate) instanceof JsonObject) {
        split = end;
        break;
      }
    }
    String channel = String.join("_", Arrays.copyOfRange(tokens, 0, split));
    String key = String.join("_", Arrays.copyOfRange(tokens, split, tokens.length));
    if (blocks.containsKey(channel) && !(blocks.getValue(channel) instanceof JsonObject)) {
      return null;
    }
    return new ArrayList<>(List.of(CHANNELS, channel, key));
  }

  /** Converts {@code value} to the type of the default {@code def}. */
  static Object coerce(String key, Object def, Object value, String origin) {
    if (value == null) {
      throw new ConfigException(key, "must not be empty (" + origin + ")");
    }
    if (def instanceof Integer || def instanceof Long) {
      if (value instanceof Number n && n.doubleValue() == Math.rint(n.doubleValue())) {
        return n.longValue() == n.intValue() ? (Object) n.intValue() : (Object) n.longValue();
      }
      try {
        long l = Long.parseLong(value.toString().trim());
        return l == (int) l ? (Object) (int) l : (Object) l;
      } catch (NumberFormatException e) {
        throw new ConfigException(
            key, "must be an integer, got \"" + value + "\" (" + origin + ")");
      }
    }
    if (def instanceof Boolean) {
      if (value instanceof Boolean) {
        return value;
      }
      String s = value.toString().trim().toLowerCase(Locale.ROOT);
      if (s.equals("true") || s.equals("false")) {
        return Boolean.parseBoolean(s);
      }
      throw new ConfigException(
          key, "must be true or false, got \"" + value + "\" (" + origin + ")");
    }
    if (def instanceof JsonArray) {
      if (value instanceof JsonArray) {
        return value;
      }
      if (value instanceof String s) {
        JsonArray array = new JsonArray();
        for (String part : s.split(",")) {
          if (!part.isBlank()) {
            array.add(part.trim());
          }
        }
        return array;
      }
      throw new ConfigException(key, "must be a list (" + origin + ")");
    }
    if (def instanceof String) {
      if (value instanceof JsonObject || value instanceof JsonArray) {
        throw new ConfigException(
            key, "must be a single value, not a section or list (" + origin + ")");
      }
      return value.toString();
    }
    return value;
  }

  private static boolean exists(JsonObject defaults, List<String> path) {
    JsonObject d = defaults;
    for (int i = 0; i < path.size(); i++) {
      if (d == null || !d.containsKey(path.get(i))) {
        return false;
      }
      Object v = d.getValue(path.get(i));
      if (i < path.size() - 1) {
        d = v instanceof JsonObject o ? o : null;
      } else if (v instanceof JsonObject) {
        return false;
      }
    }
    return true;
  }

  /**
   * Maps an env suffix like {@code kafka_bootstrap_servers} onto a key path ({@code kafka}, {@code
   * bootstrap_servers}) by matching the longest known key at each level; null if none.
   */
  static List<String> resolveUnderscored(JsonObject defaults, String rest) {
    String[] tokens = rest.split("_");
    return resolve(defaults, tokens, 0);
  }

  private static List<String> resolve(JsonObject level, String[] tokens, int from) {
    for (int end = tokens.length; end > from; end--) {
      String candidate = String.join("_", Arrays.copyOfRange(tokens, from, end));
      if (!level.containsKey(candidate)) {
        continue;
      }
      Object value = level.getValue(candidate);
      if (value instanceof JsonObject child) {
        if (end == tokens.length) {
          continue;
        }
        List<String> tail = resolve(child, tokens, end);
        if (tail != null) {
          List<String> path = new ArrayList<>();
          path.add(candidate);
          path.addAll(tail);
          return path;
        }
      } else if (end == tokens.length) {
        return new ArrayList<>(List.of(candidate));
      }
    }
    return null;
  }
}
