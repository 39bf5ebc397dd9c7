package io.chat4all.node;

import io.chat4all.node.config.ConfigException;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.PrintStream;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code ./chat4all admin …}: the operator's commands. All but {@code create-admin} talk to a
 * node's REST API as an administrator (a token from {@code --token} / {@code CHAT4ALL_ADMIN_TOKEN},
 * or a login with {@code --user} and the password in {@code CHAT4ALL_ADMIN_PASSWORD}); {@code
 * create-admin} writes to PostgreSQL ({@link AdminBootstrap}), since no administrator exists yet to
 * ask the API. Exit codes: 0 done, 1 the server refused or failed, 2 bad usage.
 */
public final class AdminCli {
  static final String USAGE =
      """
      usage: chat4all admin [connection options] COMMAND [args]
      commands:
        create-admin USERNAME [--email E]   make USERNAME an administrator (PostgreSQL; creates the
                                            account when missing, password from CHAT4ALL_ADMIN_PASSWORD
                                            or --password); takes --config FILE, --data-dir DIR and
                                            --set KEY=VALUE like ./chat4all run
        token                               print an access token for --user (for CHAT4ALL_ADMIN_TOKEN)
        nodes                               the cluster's nodes (/health/cluster)
        plugins                             channel plugins on every node (/v1/admin/plugins)
        consumers                           Kafka consumer-group lag (/v1/admin/consumers)
        config                              every runtime flag and limit in force
        get-flag NAME                       one flag
        set-flag NAME [--enabled true|false] [--rollout PERCENT]
        reset-flag NAME                     back to the configured default
        get-limit NAME                      one limit
        set-limit NAME VALUE
        reset-limit NAME                    back to the configured default
        audit [--name NAME] [--limit N]     changes of the runtime settings, newest first
      connection options:
        --url URL        the node (default http://127.0.0.1:8080, env CHAT4ALL_URL)
        --token TOKEN    an administrator's access token (env CHAT4ALL_ADMIN_TOKEN)
        --user NAME      log in as NAME instead (password: env CHAT4ALL_ADMIN_PASSWORD, or --password)
        --password P     the password (prefer the environment variable)
        --help           this text
      set-flag and set-limit read the setting first and write with If-Match, so a concurrent change
      is refused (412) rather than overwritten.
      """;

  private final PrintStream out;
  private final PrintStream err;
  private final Map<String, String> env;
  private final HttpClient http =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
  private String url;
  private String token;
  private String user;
  private String password;

  private AdminCli(PrintStream out, PrintStream err, Map<String, String> env) {
    this.out = out;
    this.err = err;
    this.env = env;
  }

  public static void main(String[] args) {
    int code = run(args, System.out, System.err, System.getenv());
    System.exit(code);
  }

  /** Runs one command; the exit code. */
  public static int run(String[] args, PrintStream out, PrintStream err, Map<String, String> env) {
    return new AdminCli(out, err, env).execute(List.of(args));
  }

  private static final class Usage extends RuntimeException {
    Usage(String message) {
      super(message);
    }
  }

  /** The server answered with an error. */
  private static final class Refused extends RuntimeException {
    Refused(String message) {
      super(message);
    }
  }

  private int execute(List<String> args) {
    List<String> positional = new ArrayList<>();
    Map<String, String> options = new LinkedHashMap<>();
    Map<String, String> sets = new LinkedHashMap<>();
    try {
      for (int i = 0; i < args.size(); i++) {
        String a = args.get(i);
        if (a.equals("--help") || a.equals("-h")) {
          out.print(USAGE);
          return 0;
        }
        if (a.startsWith("--")) {
          if (i + 1 >= args.size()) {
            throw new Usage(a + " needs a value");
          }
          String v = args.get(++i);
          if (a.equals("--set")) {
            int eq = v.indexOf('=');
            if (eq <= 0) {
              throw new Usage("--set takes KEY=VALUE, got '" + v + "'");
            }
            sets.put(v.substring(0, eq).trim(), v.substring(eq + 1));
          } else {
            options.put(a.substring(2), v);
          }
        } else {
          positional.add(a);
        }
      }
      if (positional.isEmpty()) {
        throw new Usage("a command is needed");
      }
      url =
          strip(
              options.getOrDefault(
                  "url", env.getOrDefault("CHAT4ALL_URL", "http://127.0.0.1:8080")));
      token = options.getOrDefault("token", env.get("CHAT4ALL_ADMIN_TOKEN"));
      user = options.get("user");
      password = options.getOrDefault("password", env.get("CHAT4ALL_ADMIN_PASSWORD"));
      String command = positional.get(0);
      List<String> rest = positional.subList(1, positional.size());
      return switch (command) {
        case "create-admin" -> createAdmin(one(rest, "USERNAME"), options, sets);
        case "token" -> print(new JsonObject().put("access_token", token()));
        case "nodes" -> print(call("GET", "/health/cluster", null, null, false));
        case "plugins" -> print(call("GET", "/v1/admin/plugins", null, null, true));
        case "consumers" -> print(call("GET", "/v1/admin/consumers", null, null, true));
        case "config" -> print(call("GET", "/v1/admin/config", null, null, true));
        case "get-flag" -> print(call("GET", flag(one(rest, "NAME")), null, null, true));
        case "get-limit" -> print(call("GET", limit(one(rest, "NAME")), null, null, true));
        case "set-flag" -> setFlag(one(rest, "NAME"), options);
        case "set-limit" -> setLimit(rest);
        case "reset-flag" -> reset(flag(one(rest, "NAME")));
        case "reset-limit" -> reset(limit(one(rest, "NAME")));
        case "audit" -> audit(options);
        default -> throw new Usage("unknown command '" + command + "'");
      };
    } catch (Usage e) {
      err.println("chat4all admin: " + e.getMessage() + "\n" + USAGE);
      return 2;
    } catch (Refused e) {
      err.println("chat4all admin: " + e.getMessage());
      return 1;
    } catch (ConfigException e) {
      err.println("chat4all admin: invalid configuration: " + e.getMessage());
      return 2;
    } catch (java.io.IOException | RuntimeException e) {
      err.println("chat4all admin: " + e.getMessage());
      return 1;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return 1;
    }
  }

  private static String strip(String u) {
    return u.endsWith("/") ? u.substring(0, u.length() - 1) : u;
  }

  private static String one(List<String> rest, String what) {
    if (rest.size() != 1) {
      throw new Usage("expected " + what);
    }
    return rest.get(0);
  }

  private static String flag(String name) {
    return "/v1/admin/config/flags/" + URLEncoder.encode(name, StandardCharsets.UTF_8);
  }

  private static String limit(String name) {
    return "/v1/admin/config/limits/" + URLEncoder.encode(name, StandardCharsets.UTF_8);
  }

  private int print(JsonObject j) {
    out.println(j.encodePrettily());
    return 0;
  }

  // --- commands ---

  private int createAdmin(String username, Map<String, String> options, Map<String, String> sets) {
    Path configFile = options.containsKey("config") ? Path.of(options.get("config")) : null;
    if (options.containsKey("data-dir")) {
      sets.put("data_dir", options.get("data-dir"));
    }
    AdminBootstrap.Result r =
        AdminBootstrap.create(
            configFile, sets, env, username, options.get("email"), password, "chat4all admin");
    out.println(
        (r.createdAccount() ? "created account " : "account ")
            + username
            + (r.createdAdmin() ? " is now an administrator" : " was already an administrator")
            + " (every node applies it within runtime.reconcile_interval_ms)");
    return 0;
  }

  private int setFlag(String name, Map<String, String> options)
      throws java.io.IOException, InterruptedException {
    JsonObject body = new JsonObject();
    if (options.containsKey("enabled")) {
      String e = options.get("enabled");
      if (!e.equals("true") && !e.equals("false")) {
        throw new Usage("--enabled takes true or false");
      }
      body.put("enabled", Boolean.parseBoolean(e));
    }
    if (options.containsKey("rollout")) {
      try {
        body.put("rollout_percentage", Integer.parseInt(options.get("rollout")));
      } catch (NumberFormatException e) {
        throw new Usage("--rollout takes a whole percentage 0 to 100");
      }
    }
    if (body.isEmpty()) {
      throw new Usage("set-flag needs --enabled and/or --rollout");
    }
    return write(flag(name), body);
  }

  private int setLimit(List<String> rest) throws java.io.IOException, InterruptedException {
    if (rest.size() != 2) {
      throw new Usage("expected NAME VALUE");
    }
    long value;
    try {
      value = Long.parseLong(rest.get(1));
    } catch (NumberFormatException e) {
      throw new Usage("VALUE must be a whole number");
    }
    return write(limit(rest.get(0)), new JsonObject().put("value", value));
  }

  /** Reads the version, then writes with If-Match (a concurrent change → 412, reported). */
  private int write(String path, JsonObject body) throws java.io.IOException, InterruptedException {
    JsonObject current = call("GET", path, null, null, true);
    return print(call("PUT", path, body, "\"" + current.getLong("version", 0L) + "\"", true));
  }

  private int reset(String path) throws java.io.IOException, InterruptedException {
    JsonObject current = call("GET", path, null, null, true);
    return print(call("DELETE", path, null, "\"" + current.getLong("version", 0L) + "\"", true));
  }

  private int audit(Map<String, String> options) throws java.io.IOException, InterruptedException {
    StringBuilder q = new StringBuilder("/v1/admin/config/audit?limit=");
    q.append(URLEncoder.encode(options.getOrDefault("limit", "50"), StandardCharsets.UTF_8));
    if (options.containsKey("name")) {
      q.append("&name=").append(URLEncoder.encode(options.get("name"), StandardCharsets.UTF_8));
    }
    return print(call("GET", q.toString(), null, null, true));
  }

  // --- HTTP ---

  private String token() throws java.io.IOException, InterruptedException {
    if (token != null && !token.isBlank()) {
      return token;
    }
    if (user == null) {
      throw new Usage(
          "give --token (or CHAT4ALL_ADMIN_TOKEN), or --user with CHAT4ALL_ADMIN_PASSWORD");
    }
    if (password == null) {
      throw new Usage("the password of --user comes from CHAT4ALL_ADMIN_PASSWORD (or --password)");
    }
    JsonObject r =
        call(
            "POST",
            "/v1/auth/token",
            new JsonObject().put("username", user).put("password", password),
            null,
            false);
    token = r.getString("access_token");
    return token;
  }

  private JsonObject call(String method, String path, JsonObject body, String ifMatch, boolean auth)
      throws java.io.IOException, InterruptedException {
    HttpRequest.Builder b;
    try {
      b = HttpRequest.newBuilder(URI.create(url + path)).timeout(Duration.ofSeconds(30));
    } catch (IllegalArgumentException e) {
      throw new Usage("--url is not a URL: " + url);
    }
    if (auth) {
      b.header("Authorization", "Bearer " + token());
    }
    if (ifMatch != null) {
      b.header("If-Match", ifMatch);
    }
    if (body != null) {
      b.header("Content-Type", "application/json");
    }
    b.method(
        method,
        body == null
            ? HttpRequest.BodyPublishers.noBody()
            : HttpRequest.BodyPublishers.ofString(body.encode()));
    HttpResponse<String> r;
    try {
      r = http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    } catch (java.net.ConnectException e) {
      throw new Refused("cannot reach " + url + " (is a node running? --url)");
    }
    JsonObject json;
    try {
      String text = r.body() == null ? "" : r.body().trim();
      json =
          text.startsWith("{")
              ? new JsonObject(text)
              : text.startsWith("[")
                  ? new JsonObject().put("items", new JsonArray(text))
                  : new JsonObject();
    } catch (DecodeException e) {
      json = new JsonObject();
    }
    if (r.statusCode() >= 300) {
      JsonObject error = json.getJsonObject("error", new JsonObject());
      throw new Refused(
          method
              + " "
              + path
              + " → "
              + r.statusCode()
              + " "
              + error.getString("code", "")
              + ": "
              + error.getString("message", r.body())
              + (error.containsKey("details") ? " " + error.getValue("details") : ""));
    }
    return json;
  }
}
