package io.chat4all.pg;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import org.flywaydb.core.Flyway;
import org.flywaydb.core.api.output.MigrateResult;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Applies the versioned migrations under {@code db/migration} to one schema. Flyway uses JDBC, so
 * it runs in {@code executeBlocking}; its lock table makes concurrent starts of several nodes safe.
 */
public final class Migrations {
  private static final Logger LOG = LoggerFactory.getLogger(Migrations.class);

  private Migrations() {}

  /** Connection facts for the migration (JDBC, blocking). */
  public record Target(
      String host, int port, String database, String user, String password, String schema) {
    String url() {
      return "jdbc:postgresql://" + host + ":" + port + "/" + database;
    }
  }

  public static Future<Integer> migrate(Vertx vertx, Target target) {
    return vertx.executeBlocking(() -> migrateBlocking(target), false);
  }

  /** Blocking variant for plain threads. Returns the number of migrations applied now. */
  public static int migrateBlocking(Target target) {
    Flyway flyway =
        Flyway.configure(Migrations.class.getClassLoader())
            .dataSource(target.url(), target.user(), target.password())
            .schemas(target.schema())
            .defaultSchema(target.schema())
            .createSchemas(true)
            .locations("classpath:db/migration")
            .connectRetries(5)
            .load();
    MigrateResult result = flyway.migrate();
    if (result.migrationsExecuted > 0) {
      LOG.info(
          "schema {} migrated to version {} ({} migrations)",
          target.schema(),
          result.targetSchemaVersion,
          result.migrationsExecuted);
    }
    return result.migrationsExecuted;
  }
}
