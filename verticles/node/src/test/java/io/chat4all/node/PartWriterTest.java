package io.chat4all.node;

import static org.assertj.core.api.Assertions.assertThat;

import io.chat4all.codecs.ErrorCode;
import io.chat4all.codecs.ServiceException;
import io.chat4all.files.ObjectStorage;
import io.chat4all.files.PartWriter;
import io.chat4all.node.backends.BackendClients;
import io.chat4all.node.config.ConfigLoader;
import io.chat4all.node.config.NodeConfig;
import io.chat4all.testkit.Await;
import io.chat4all.testkit.BackendsExtension;
import io.chat4all.testkit.TestBackends;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import software.amazon.awssdk.services.s3.model.CompletedPart;

/**
 * A part written in pieces of every size (many small ones, ones larger than a gathered write, ones
 * exactly that size) reaches the embedded S3 byte for byte; a part whose checksum is wrong is reset
 * before S3 has all of it, so S3 stores nothing under its number.
 */
@ExtendWith(BackendsExtension.class)
class PartWriterTest {
  static Vertx vertx;
  static BackendClients clients;
  static ObjectStorage storage;
  static Context context;

  @BeforeAll
  static void setUp(TestBackends.Isolation iso) {
    vertx = Vertx.vertx();
    NodeConfig config = NodeConfig.from(ConfigLoader.defaults().mergeIn(iso.nodeConfig(), true));
    clients = BackendClients.create(vertx, config);
    Await.result(clients.prepare(), Duration.ofSeconds(60));
    storage = new ObjectStorage(vertx, clients.s3(), ServiceSettings.filesConfig(config).s3());
    context = vertx.getOrCreateContext();
  }

  @AfterAll
  static void tearDown() {
    Await.result(clients.close());
    Await.result(vertx.close());
  }

  /** Piece sizes: small ones, then one above, one at and one just below 128 KiB, and so on. */
  static List<Integer> pieces(Random random) {
    List<Integer> sizes = new ArrayList<>();
    for (int round = 0; round < 4; round++) {
      for (int i = 0; i < 40; i++) {
        sizes.add(1 + random.nextInt(8192));
      }
      sizes.add(200 * 1024);
      sizes.add(128 * 1024);
      sizes.add(128 * 1024 - 1);
      sizes.add(1);
      sizes.add(64 * 1024);
    }
    return sizes;
  }

  static byte[] bytes(List<Integer> sizes, Random random) {
    byte[] all = new byte[sizes.stream().mapToInt(Integer::intValue).sum()];
    random.nextBytes(all);
    return all;
  }

  static String sha256(byte[] b) throws Exception {
    return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(b));
  }

  /** Writes {@code all} cut as {@code sizes} into a new part and ends it with {@code sha256}. */
  static Future<PartWriter.Part> writePart(
      String key, String uploadId, byte[] all, List<Integer> sizes, String sha256) {
    Promise<PartWriter.Part> done = Promise.promise();
    context.runOnContext(
        v ->
            storage
                .openPart(key, uploadId, 1, all.length)
                .compose(
                    w -> {
                      int at = 0;
                      for (int size : sizes) {
                        assertThat(w.write(Buffer.buffer().appendBytes(all, at, size))).isTrue();
                        at += size;
                      }
                      return w.end(sha256);
                    })
                .onComplete(done));
    return done.future();
  }

  /** Completes the one-part upload and reads the object back from S3. */
  static byte[] completeAndRead(String key, String uploadId, PartWriter.Part part) {
    Await.result(
        storage.complete(
            key,
            uploadId,
            List.of(CompletedPart.builder().partNumber(1).eTag(part.etag()).build())));
    return clients.s3().getObjectAsBytes(b -> b.bucket(storage.bucket()).key(key)).asByteArray();
  }

  @Test
  void piecesOfEverySizeAreStoredByteForByte() throws Exception {
    Random random = new Random(21);
    List<Integer> sizes = pieces(random);
    byte[] all = bytes(sizes, random);
    String key = "partwriter/" + UUID.randomUUID();
    String uploadId =
        Await.result(storage.createUpload(key, "application/octet-stream")).uploadId();

    PartWriter.Part part = Await.result(writePart(key, uploadId, all, sizes, sha256(all)));
    assertThat(part.size()).isEqualTo(all.length);
    assertThat(part.sha256()).isEqualTo(sha256(all));
    byte[] stored = completeAndRead(key, uploadId, part);
    assertThat(stored.length).isEqualTo(all.length);
    assertThat(sha256(stored)).isEqualTo(sha256(all));
  }

  @Test
  void aPartWithTheWrongChecksumLeavesNothingStoredUnderItsNumber() throws Exception {
    Random random = new Random(22);
    List<Integer> sizes = pieces(random);
    byte[] all = bytes(sizes, random);
    String key = "partwriter/" + UUID.randomUUID();
    String uploadId =
        Await.result(storage.createUpload(key, "application/octet-stream")).uploadId();

    String wrong = sha256(new byte[] {1});
    Throwable refused = Await.failure(writePart(key, uploadId, all, sizes, wrong));
    assertThat(ServiceException.from(refused).code()).isEqualTo(ErrorCode.CHECKSUM_MISMATCH);
    assertThat(
            clients
                .s3()
                .listParts(b -> b.bucket(storage.bucket()).key(key).uploadId(uploadId))
                .parts())
        .isEmpty();

    // the same bytes with their own checksum are then stored whole
    PartWriter.Part part = Await.result(writePart(key, uploadId, all, sizes, sha256(all)));
    byte[] stored = completeAndRead(key, uploadId, part);
    assertThat(sha256(stored)).isEqualTo(sha256(all));
  }
}
