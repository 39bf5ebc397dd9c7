package io.chat4all.embedded;

import de.bwaldvogel.mongo.MongoServer;
import de.bwaldvogel.mongo.backend.h2.H2Backend;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A MongoDB-wire server (mongo-java-server) with its H2 file backend under {@code <data>/mongo}. No
 * $text, change streams or transactions; ranges scan; TTL is inert.
 */
final class MongoRunner implements EmbeddedServer {
  private final String host;
  private final int port;
  private final Path dataDir;
  private MongoServer server;
  private H2Backend backend;

  MongoRunner(String host, int port, Path dataDir) {
    this.host = host;
    this.port = port;
    this.dataDir = dataDir;
  }

  @Override
  public String name() {
    return "mongo";
  }

  String connectionString() {
    return "mongodb://" + host + ":" + port;
  }

  @Override
  public void start() throws Exception {
    Files.createDirectories(dataDir);
    backend = new H2Backend(dataDir.resolve("mongo.mv").toString());
    server = new MongoServer(backend);
    server.bind(host, port);
  }

  @Override
  public void stop() {
    MongoServer s = server;
    server = null;
    if (s != null) {
      s.shutdown();
    }
    H2Backend b = backend;
    backend = null;
    if (b != null) {
      b.close();
    }
  }
}
