package io.chat4all.webhooks;

import io.chat4all.codecs.Addresses;
import io.chat4all.codecs.LockedPeriodicJob;
import io.chat4all.codecs.Outbox;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.mongo.FindOptions;
import io.vertx.ext.mongo.MongoClient;
import io.vertx.kafka.client.producer.KafkaProducer;
import io.vertx.kafka.client.producer.KafkaProducerRecord;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The outbox relay: on one node at a time (cluster lock), publishes the events services wrote into
 * the PostgreSQL {@code outbox} table and into the {@value Outbox#FIELD} arrays of MongoDB
 * documents, in the order they were written, and removes each one once Kafka has acknowledged it. A
 * crash between the two publishes it again (consumers drop repeats by {@code event_id}); an event
 * Kafka refuses stays and is tried at the next round. Runs every {@code outbox.interval_ms} and at
 * once when a service nudges it after a commit; MongoDB collections are scanned when nudged and
 * every tenth round.
 */
public class OutboxRelay extends LockedPeriodicJob<Integer> {
  private static final Logger LOG = LoggerFactory.getLogger(OutboxRelay.class);
  static final String LOCK = "chat4all.outbox.relay";

  private final Pool pg;
  private final MongoClient mongo;
  private final KafkaProducer<String, String> producer;
  private final List<String> collections;
  private final int batch;
  private boolean mongoDue = true;
  private int rounds;

  public OutboxRelay(
      Pool pg,
      MongoClient mongo,
      KafkaProducer<String, String> producer,
      List<String> collections,
      long intervalMs,
      int batch) {
    super(LOCK, intervalMs);
    this.pg = Objects.requireNonNull(pg);
    this.mongo = Objects.requireNonNull(mongo);
    this.producer = Objects.requireNonNull(producer);
    this.collections = List.copyOf(collections);
    this.batch = batch;
  }

  @Override
  protected Future<?> started() {
    return vertx
        .eventBus()
        .<JsonObject>localConsumer(
            Addresses.OUTBOX_NUDGE,
            msg -> {
              if (Outbox.MONGO.equals(msg.body().getString("store"))) {
                mongoDue = true;
              }
              runOnce();
            })
        .completion();
  }

  @Override
  protected Future<Integer> pass() {
    boolean scanMongo = mongoDue || ++rounds % 10 == 0;
    mongoDue = false;
    return relayPostgres(0)
        .compose(n -> scanMongo ? relayMongo(0, n) : Future.succeededFuture(n))
        .onFailure(
            err -> {
              mongoDue |= scanMongo;
              LOG.warn("outbox relay round failed, retried next round: {}", err.toString());
            });
  }

  @Override
  protected Integer skipped() {
    return -1;
  }

  /** Publishes and deletes batches of outbox rows until none is left; how many. */
  private Future<Integer> relayPostgres(int done) {
    return pg.preparedQuery(
            "SELECT id, topic, record_key, payload FROM outbox ORDER BY id LIMIT $1")
        .execute(Tuple.of(batch))
        .compose(
            rows -> {
              if (rows.size() == 0) {
                return Future.succeededFuture(done);
              }
              List<Long> ids = new ArrayList<>();
              List<Future<?>> sends = new ArrayList<>();
              for (Row r : rows) {
                ids.add(r.getLong("id"));
                sends.add(
                    producer.send(
                        KafkaProducerRecord.create(
                            r.getString("topic"),
                            r.getString("record_key"),
                            r.getString("payload"))));
              }
              return Future.join(sends)
                  .transform(
                      all -> {
                        List<Long> sent = new ArrayList<>();
                        for (int i = 0; i < sends.size(); i++) {
                          if (sends.get(i).succeeded()) {
                            sent.add(ids.get(i));
                          }
                        }
                        Future<Void> deleted =
                            sent.isEmpty()
                                ? Future.succeededFuture()
                                : pg.preparedQuery("DELETE FROM outbox WHERE id = ANY ($1)")
                                    .execute(Tuple.of(sent.toArray(Long[]::new)))
                                    .mapEmpty();
                        if (all.failed()) {
                          return deleted.compose(x -> Future.<Integer>failedFuture(all.cause()));
                        }
                        return deleted.compose(x -> relayPostgres(done + sent.size()));
                      });
            });
  }

  /** Publishes and pulls the pending entries of the documents of collection {@code i} on. */
  private Future<Integer> relayMongo(int i, int done) {
    if (i == collections.size()) {
      return Future.succeededFuture(done);
    }
    String collection = collections.get(i);
    return mongo
        .findWithOptions(
            collection,
            new JsonObject().put(Outbox.FIELD + ".id", new JsonObject().put("$exists", true)),
            new FindOptions()
                .setLimit(batch)
                .setFields(new JsonObject().put("_id", 1).put(Outbox.FIELD, 1)))
        .compose(
            docs -> {
              List<Future<Integer>> each = new ArrayList<>();
              for (JsonObject doc : docs) {
                each.add(relayDocument(collection, doc));
              }
              return Future.all(each)
                  .compose(
                      all -> {
                        int n = 0;
                        for (Future<Integer> f : each) {
                          n += f.result();
                        }
                        return docs.size() == batch
                            ? relayMongo(i, done + n)
                            : relayMongo(i + 1, done + n);
                      });
            });
  }

  private Future<Integer> relayDocument(String collection, JsonObject doc) {
    JsonArray entries = doc.getJsonArray(Outbox.FIELD, new JsonArray());
    Future<Void> chain = Future.succeededFuture();
    JsonArray sent = new JsonArray();
    // one document's events in their order
    for (Object o : entries) {
      if (!(o instanceof JsonObject e)) {
        continue;
      }
      chain =
          chain.compose(
              x ->
                  producer
                      .send(
                          KafkaProducerRecord.create(
                              e.getString("topic"), e.getString("key"), e.getString("value")))
                      .map(
                          meta -> {
                            sent.add(e.getString("id"));
                            return null;
                          }));
    }
    return chain.transform(
        ar -> {
          Future<Integer> pulled =
              sent.isEmpty()
                  ? Future.succeededFuture(0)
                  : mongo
                      .updateCollection(
                          collection,
                          new JsonObject().put("_id", doc.getValue("_id")),
                          new JsonObject()
                              .put(
                                  "$pull",
                                  new JsonObject()
                                      .put(
                                          Outbox.FIELD,
                                          new JsonObject()
                                              .put("id", new JsonObject().put("$in", sent)))))
                      .map(sent.size());
          return ar.failed() ? pulled.compose(x -> Future.failedFuture(ar.cause())) : pulled;
        });
  }
}
