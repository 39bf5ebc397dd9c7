package io.chat4all.channels.host;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.services.s3.S3Client;

/**
 * Uploaded connector jars in S3 ({@code plugins/<sha256>.jar} in the node's bucket), so that every
 * node of a cluster can fetch the same bytes. The S3 client blocks: every call runs on a worker.
 */
public final class JarObjects {
  private final Vertx vertx;
  private final S3Client s3;
  private final String bucket;
  private final long maxBytes;

  public JarObjects(Vertx vertx, S3Client s3, String bucket, long maxBytes) {
    this.vertx = vertx;
    this.s3 = s3;
    this.bucket = bucket;
    this.maxBytes = maxBytes;
  }

  public static String key(String sha256) {
    return "plugins/" + sha256 + ".jar";
  }

  public Future<Void> put(String sha256, Path file) {
    return vertx.executeBlocking(
        () -> {
          s3.putObject(
              b -> b.bucket(bucket).key(key(sha256)).contentType("application/java-archive"),
              RequestBody.fromFile(file));
          return null;
        },
        false);
  }

  /** Downloads the jar into the store and checks that its bytes hash to {@code sha256}. */
  public Future<Void> download(String sha256, ContentStore store) {
    return vertx.executeBlocking(
        () -> {
          Path tmp = store.tempFile();
          try (InputStream in = s3.getObject(b -> b.bucket(bucket).key(key(sha256)))) {
            Files.copy(in, tmp, StandardCopyOption.REPLACE_EXISTING);
          } catch (RuntimeException | java.io.IOException e) {
            ContentStore.deleteQuietly(tmp);
            throw e;
          }
          ContentStore.Stored stored = store.adopt(tmp, maxBytes);
          if (!stored.sha256().equals(sha256)) {
            store.delete(stored.sha256());
            throw new IllegalStateException(
                "the stored object " + key(sha256) + " hashes to " + stored.sha256());
          }
          return null;
        },
        false);
  }

  /** Deletes the object; a missing object is success. */
  public Future<Void> delete(String sha256) {
    return vertx.executeBlocking(
        () -> {
          s3.deleteObject(b -> b.bucket(bucket).key(key(sha256)));
          return null;
        },
        false);
  }
}
