package io.chat4all.files;

import io.chat4all.codecs.ErrorCode;
import io.chat4all.codecs.HttpClientDefaults;
import io.chat4all.codecs.ServiceException;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.time.Instant;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.ResponseInputStream;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.S3Configuration;
import software.amazon.awssdk.services.s3.model.CompletedPart;
import software.amazon.awssdk.services.s3.model.CreateMultipartUploadResponse;
import software.amazon.awssdk.services.s3.model.GetObjectResponse;
import software.amazon.awssdk.services.s3.model.NoSuchUploadException;
import software.amazon.awssdk.services.s3.model.S3Exception;
import software.amazon.awssdk.services.s3.model.ServerSideEncryption;
import software.amazon.awssdk.services.s3.presigner.S3Presigner;
import software.amazon.awssdk.services.s3.presigner.model.PresignedGetObjectRequest;
import software.amazon.awssdk.services.s3.presigner.model.PresignedUploadPartRequest;

/**
 * The file bytes in S3. Control calls (create, complete, abort a multipart upload; delete) go
 * through the blocking SDK client on worker threads. Part bytes never touch a worker or the heap in
 * bulk: each part is a presigned {@code UploadPart} PUT that the node's non-blocking HTTP client
 * streams the caller's bytes into (see {@link PartWriter}). Download URLs are presigned for the
 * public endpoint.
 */
public final class ObjectStorage {
  private final Vertx vertx;
  private final S3Client s3;
  private final FilesConfig.S3 settings;
  private final S3Presigner internal;
  private final S3Presigner external;
  private final HttpClient http;

  public ObjectStorage(Vertx vertx, S3Client s3, FilesConfig.S3 settings) {
    this.vertx = vertx;
    this.s3 = s3;
    this.settings = settings;
    this.internal = presigner(settings, settings.endpoint());
    this.external = presigner(settings, settings.effectivePublicEndpoint());
    this.http =
        vertx.createHttpClient(
            new HttpClientOptions()
                .setKeepAlive(true)
                .setKeepAliveTimeout(HttpClientDefaults.KEEP_ALIVE_TIMEOUT_SECONDS)
                .setConnectTimeout(5000)
                .setIdleTimeout(120),
            new PoolOptions().setHttp1MaxSize(64));
  }

  private static S3Presigner presigner(FilesConfig.S3 s, String endpoint) {
    return S3Presigner.builder()
        .endpointOverride(URI.create(endpoint))
        .region(Region.of(s.region()))
        .credentialsProvider(
            StaticCredentialsProvider.create(
                AwsBasicCredentials.create(s.accessKey(), s.secretKey())))
        .serviceConfiguration(
            S3Configuration.builder().pathStyleAccessEnabled(s.pathStyle()).build())
        .build();
  }

  public String bucket() {
    return settings.bucket();
  }

  /**
   * A started multipart upload: its id and how its object is encrypted at rest ({@code
   * file_metadata.encryption}: {@code algorithm}, {@code mode}, {@code key_id}; null when the
   * configuration turned encryption off).
   */
  public record Created(String uploadId, JsonObject encryption) {}

  /**
   * Starts a multipart upload, asking S3 for server-side encryption as configured ({@code
   * s3.encryption}): SSE-S3 or SSE-KMS with the configured key on the upload (S3 applies it to
   * every part), nothing for a store that encrypts by itself.
   */
  public Future<Created> createUpload(String key, String mimeType) {
    String mode = settings.encryption() == null ? "none" : settings.encryption();
    return blocking(
        () -> {
          CreateMultipartUploadResponse r =
              s3.createMultipartUpload(
                  b -> {
                    b.bucket(settings.bucket()).key(key).contentType(mimeType);
                    if (mode.equals("sse-s3")) {
                      b.serverSideEncryption(ServerSideEncryption.AES256);
                    } else if (mode.equals("sse-kms")) {
                      b.serverSideEncryption(ServerSideEncryption.AWS_KMS)
                          .ssekmsKeyId(settings.kmsKeyId());
                    }
                  });
          return new Created(r.uploadId(), encryption(mode, r));
        });
  }

  private JsonObject encryption(String mode, CreateMultipartUploadResponse r) {
    switch (mode) {
      case "sse-s3":
        return new JsonObject().put("algorithm", "AES-256").put("mode", mode).putNull("key_id");
      case "sse-kms":
        String keyId = r.ssekmsKeyId() != null ? r.ssekmsKeyId() : settings.kmsKeyId();
        return new JsonObject().put("algorithm", "AES-256").put("mode", mode).put("key_id", keyId);
      case "store":
        return new JsonObject()
            .put("algorithm", "AES-128-CFB")
            .put("mode", mode)
            .put("key_id", "store");
      default:
        return null;
    }
  }

  /**
   * Opens the PUT of part {@code partNumber} ({@code length} bytes); write the bytes to the
   * returned writer and end it to get the part's ETag.
   */
  public Future<PartWriter> openPart(String key, String uploadId, int partNumber, long length) {
    PresignedUploadPartRequest p =
        internal.presignUploadPart(
            r ->
                r.signatureDuration(Duration.ofHours(1))
                    .uploadPartRequest(
                        u ->
                            u.bucket(settings.bucket())
                                .key(key)
                                .uploadId(uploadId)
                                .partNumber(partNumber)));
    RequestOptions options =
        new RequestOptions()
            .setMethod(HttpMethod.PUT)
            .setAbsoluteURI(p.url().toString())
            .setIdleTimeout(120_000);
    for (Map.Entry<String, List<String>> h : p.signedHeaders().entrySet()) {
      if (!h.getKey().equalsIgnoreCase("host")) {
        options.putHeader(h.getKey(), String.join(",", h.getValue()));
      }
    }
    options.putHeader("Content-Length", Long.toString(length));
    return http.request(options).map(req -> new PartWriter(req, length));
  }

  /** Completes the upload from its parts (number → ETag), in order. */
  public Future<Void> complete(String key, String uploadId, List<CompletedPart> parts) {
    return blocking(
        () -> {
          s3.completeMultipartUpload(
              b ->
                  b.bucket(settings.bucket())
                      .key(key)
                      .uploadId(uploadId)
                      .multipartUpload(m -> m.parts(parts)));
          return null;
        });
  }

  /** Aborts the upload (its parts are deleted); an upload S3 no longer knows is success. */
  public Future<Void> abort(String key, String uploadId) {
    return blocking(
        () -> {
          try {
            s3.abortMultipartUpload(b -> b.bucket(settings.bucket()).key(key).uploadId(uploadId));
          } catch (NoSuchUploadException gone) {
            // already aborted or completed
          }
          return null;
        });
  }

  public Future<Void> delete(String key) {
    return blocking(
        () -> {
          s3.deleteObject(b -> b.bucket(settings.bucket()).key(key));
          return null;
        });
  }

  /** Reads the whole object back and hashes it; {size, sha256 hex}. Runs on a worker thread. */
  public Future<Hashed> sha256(String key) {
    return blocking(
        () -> {
          MessageDigest digest = MessageDigest.getInstance("SHA-256");
          long size = 0;
          try (ResponseInputStream<GetObjectResponse> in =
              s3.getObject(b -> b.bucket(settings.bucket()).key(key))) {
            byte[] buf = new byte[1 << 16];
            int n;
            while ((n = read(in, buf)) > 0) {
              digest.update(buf, 0, n);
              size += n;
            }
          }
          return new Hashed(size, HexFormat.of().formatHex(digest.digest()));
        });
  }

  private static int read(InputStream in, byte[] buf) throws IOException {
    return in.read(buf);
  }

  public record Hashed(long size, String sha256) {}

  /**
   * A presigned GET for the public endpoint that makes S3 answer with {@code Content-Disposition:
   * attachment} (so an uploaded page never renders in the chat's origin) and the file's type.
   */
  public Download downloadUrl(String key, String filename, String mimeType, int ttlSeconds) {
    Instant expires = Instant.now().plusSeconds(ttlSeconds);
    PresignedGetObjectRequest p =
        external.presignGetObject(
            r ->
                r.signatureDuration(Duration.ofSeconds(ttlSeconds))
                    .getObjectRequest(
                        g ->
                            g.bucket(settings.bucket())
                                .key(key)
                                .responseContentDisposition(contentDisposition(filename))
                                .responseContentType(mimeType)));
    return new Download(p.url().toString(), expires);
  }

  public record Download(String url, Instant expiresAt) {}

  /**
   * A presigned GET for the node's own endpoint (not the public one): a server-side reader such as
   * channel delivery streams the bytes through it with the non-blocking HTTP client.
   */
  public Download internalUrl(String key, int ttlSeconds) {
    Instant expires = Instant.now().plusSeconds(ttlSeconds);
    PresignedGetObjectRequest p =
        internal.presignGetObject(
            r ->
                r.signatureDuration(Duration.ofSeconds(ttlSeconds))
                    .getObjectRequest(g -> g.bucket(settings.bucket()).key(key)));
    return new Download(p.url().toString(), expires);
  }

  /** {@code attachment} with an ASCII fallback name and the exact UTF-8 name (RFC 6266/5987). */
  static String contentDisposition(String filename) {
    StringBuilder ascii = new StringBuilder();
    for (char c : filename.toCharArray()) {
      ascii.append(c >= 0x20 && c < 0x7f && c != '"' && c != '\\' && c != ';' ? c : '_');
    }
    String encoded = URLEncoder.encode(filename, StandardCharsets.UTF_8).replace("+", "%20");
    return "attachment; filename=\"" + ascii + "\"; filename*=UTF-8''" + encoded;
  }

  private interface Call<T> {
    T run() throws Exception;
  }

  private <T> Future<T> blocking(Call<T> call) {
    return vertx.executeBlocking(
        () -> {
          try {
            return call.run();
          } catch (S3Exception e) {
            throw new StorageException(e);
          } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
          }
        },
        false);
  }

  /** An S3 failure: its S3 error code and a service error (unavailable) for the caller. */
  public static final class StorageException extends ServiceException {
    private final String s3Code;

    StorageException(S3Exception e) {
      super(
          ErrorCode.UNAVAILABLE,
          "file storage failed: "
              + (e.awsErrorDetails() == null ? e.getMessage() : e.awsErrorDetails().errorCode()));
      this.s3Code = e.awsErrorDetails() == null ? "" : e.awsErrorDetails().errorCode();
    }

    public String s3Code() {
      return s3Code;
    }
  }

  public void close() {
    http.close();
    internal.close();
    external.close();
  }
}
