package io.chat4all.bench;

import de.bwaldvogel.mongo.MongoServer;
import de.bwaldvogel.mongo.backend.memory.MemoryBackend;

/**
 * A MongoDB-wire server with mongo-java-server's in-memory backend, run as its own process by
 * {@code ./chat4all bench send --mongo-memory}: the node treats it as an external MongoDB (its
 * normal {@code mongo.connection_string}), so the benchmark shows the product when the embedded
 * store's H2 backend is not the limit. Prints {@code MONGO READY mongodb://host:port} and runs
 * until killed. Not durable: for benchmarks only.
 */
public final class MongoMemoryServer {
  private MongoMemoryServer() {}

  public static void main(String[] args) throws Exception {
    String host = args.length > 0 ? args[0] : "127.0.0.1";
    int port = args.length > 1 ? Integer.parseInt(args[1]) : 0;
    MongoServer server = new MongoServer(new MemoryBackend());
    server.bind(host, port);
    System.out.println("MONGO READY mongodb://" + host + ":" + server.getLocalAddress().getPort());
    System.out.flush();
    Thread.currentThread().join();
  }
}
