package io.chat4all.node;

import io.chat4all.auth.Passwords;
import io.chat4all.embedded.PrivateFiles;
import io.chat4all.node.config.ConfigException;
import io.chat4all.node.config.ConfigLoader;
import io.chat4all.node.config.NodeConfig;
import io.chat4all.pg.Migrations;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * Creates an administrator straight in PostgreSQL (the first one cannot be made through the API,
 * which only administrators may call): the account (when missing) and its {@code admin_users} row.
 * The database is the node configuration's ({@code postgres.*}); in embedded mode the servers'
 * endpoints come from {@code <data_dir>/endpoints.json}, which a running embedded node writes.
 */
final class AdminBootstrap {
  static final String ENDPOINTS_FILE = "endpoints.json";
  private static final Pattern USERNAME = Pattern.compile("[A-Za-z0-9._-]{3,32}");

  private AdminBootstrap() {}

  record Result(boolean createdAccount, boolean createdAdmin) {}

  /** Writes the embedded servers' endpoints (owner only: they hold credentials). */
  static void writeEndpoints(Path dataDir, Map<String, Object> endpoints) {
    try {
      PrivateFiles.write(
          dataDir.toAbsolutePath().normalize().resolve(ENDPOINTS_FILE),
          new JsonObject(endpoints).encodePrettily());
    } catch (IOException | RuntimeException e) {
      org.slf4j.LoggerFactory.getLogger(AdminBootstrap.class)
          .warn("cannot write {}: {}", ENDPOINTS_FILE, e.toString());
    }
  }

  static Result create(
      Path configFile,
      Map<String, String> overrides,
      Map<String, String> env,
      String username,
      String email,
      String password,
      String by) {
    if (!USERNAME.matcher(username).matches()) {
      throw new IllegalArgumentException(
          "a username has 3 to 32 letters, digits, '.', '_' and '-'");
    }
    NodeConfig config =
        NodeConfig.from(ConfigLoader.load(configFile, env, System.getProperties(), overrides));
    if (config.embeddedBackends()) {
      Path file = config.dataDir().toAbsolutePath().normalize().resolve(ENDPOINTS_FILE);
      if (!Files.exists(file)) {
        throw new ConfigException(
            "data_dir",
            "no "
                + file
                + ": start the embedded node first (./chat4all run), or pass --config with the"
                + " external backends");
      }
      try {
        JsonObject merged =
            config.raw().copy().mergeIn(new JsonObject(Files.readString(file)), true);
        config = NodeConfig.from(merged);
      } catch (IOException e) {
        throw new ConfigException("data_dir", "cannot read " + file + ": " + e.getMessage());
      }
    }
    NodeConfig.Postgres p = config.postgres();
    Migrations.migrateBlocking(
        new Migrations.Target(
            p.host(), p.port(), p.database(), p.user(), p.password(), p.schema()));
    String url =
        "jdbc:postgresql://"
            + p.host()
            + ":"
            + p.port()
            + "/"
            + p.database()
            + "?currentSchema="
            + p.schema();
    try (Connection c = DriverManager.getConnection(url, p.user(), p.password())) {
      c.setAutoCommit(false);
      boolean createdAccount = false;
      String stored = null;
      try (PreparedStatement q =
          c.prepareStatement(
              "SELECT username FROM users WHERE lower(username) = lower(?) AND status <> 'deleted'")) {
        q.setString(1, username);
        try (ResultSet rs = q.executeQuery()) {
          if (rs.next()) {
            stored = rs.getString(1);
          }
        }
      }
      if (stored == null) {
        if (password == null || password.length() < 8 || password.length() > 128) {
          throw new IllegalArgumentException(
              "no account "
                  + username
                  + " yet: give its password (8 to 128 characters) in CHAT4ALL_ADMIN_PASSWORD");
        }
        int iterations = config.raw().getJsonObject("auth").getInteger("password_iterations");
        try (PreparedStatement ins =
            c.prepareStatement(
                "INSERT INTO users (username, email, password_hash) VALUES (?, ?, ?)")) {
          ins.setString(1, username);
          ins.setString(2, email == null ? username + "@admin.invalid" : email);
          ins.setString(3, Passwords.hash(password, iterations));
          ins.executeUpdate();
        }
        stored = username;
        createdAccount = true;
      }
      int added;
      try (PreparedStatement ins =
          c.prepareStatement(
              "INSERT INTO admin_users (username, created_by) VALUES (?, ?) ON CONFLICT DO NOTHING")) {
        ins.setString(1, stored);
        ins.setString(2, by);
        added = ins.executeUpdate();
      }
      c.commit();
      return new Result(createdAccount, added == 1);
    } catch (SQLException e) {
      throw new IllegalStateException("PostgreSQL refused: " + e.getMessage(), e);
    }
  }
}
