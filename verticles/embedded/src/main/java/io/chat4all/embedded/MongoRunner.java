package io.chat4all.embedded;

import de.bwaldvogel.mongo.MongoDatabase;
import de.bwaldvogel.mongo.MongoServer;
import de.bwaldvogel.mongo.backend.h2.H2Backend;
import de.bwaldvogel.mongo.bson.Document;
import io.netty.channel.Channel;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A MongoDB-wire server (mongo-java-server) with its H2 file backend under {@code <data>/mongo}. No
 * $text, change streams or transactions; ranges scan; TTL is inert. Every command's changes are
 * committed to the file before its reply goes out (H2 alone commits about once a second), so an
 * acknowledged write survives a kill of the process.
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
    backend = new CommittingH2Backend(dataDir.resolve("mongo.mv").toString());
    server = new MongoServer(backend);
    server.bind(host, port);
  }

  /** Commits the MVStore after each command that changed it, before the reply is sent. */
  static final class CommittingH2Backend extends H2Backend {
    CommittingH2Backend(String fileName) {
      super(fileName);
    }

    @Override
    protected MongoDatabase openOrCreateDatabase(String databaseName) {
      return KeyedH2Database.open(databaseName, getMvStore(), getCursorRegistry());
    }

    @Override
    public Document handleCommand(
        Channel channel, String database, String command, Document query) {
      Document reply = super.handleCommand(channel, database, command, query);
      if (getMvStore().hasUnsavedChanges()) {
        commit();
      }
      return reply;
    }
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
