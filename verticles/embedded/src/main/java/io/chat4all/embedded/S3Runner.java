package io.chat4all.embedded;

import java.io.IOException;
import java.io.StringReader;
import java.io.StringWriter;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.Properties;
import org.gaul.s3proxy.S3Proxy;
import org.gaul.s3proxy.S3ProxyConstants;
import org.gaul.s3proxy.auth.AuthenticationType;
import org.gaul.s3proxy.blobstore.BlobStore;
import org.gaul.s3proxy.middleware.EncryptedBlobStore;
import org.gaul.s3proxy.nio2blob.FilesystemNio2BlobStore;

/**
 * An S3-compatible server (s3proxy, filesystem store under {@code <data>/s3}) with AWS signature
 * checking on, so presigned URLs and their expiry behave as with real S3. Clients use path-style
 * access.
 *
 * <p>Objects are encrypted at rest by s3proxy's encrypted blob store (AES-128 in CFB mode, the key
 * derived with PBKDF2-HMAC-SHA256 from a password and salt generated at the first start into {@code
 * <data>/s3-encryption.properties}, mode 600): the files under {@code <data>/s3} hold no plaintext,
 * while every S3 call — presigned downloads and ranges included — sees the plaintext. Objects
 * written before encryption was on stay readable as they are.
 */
final class S3Runner implements EmbeddedServer {
  static final String REGION = "us-east-1";

  /** What {@code file_metadata.encryption} records for objects in this store. */
  public static final String ALGORITHM = "AES-128-CFB";

  /** The key file beside the store directory. */
  static final String KEY_FILE = "s3-encryption.properties";

  private final String host;
  private final int port;
  private final Path dataDir;
  private final String accessKey;
  private final String secretKey;
  private S3Proxy proxy;

  S3Runner(String host, int port, Path dataDir, String accessKey, String secretKey) {
    this.host = host;
    this.port = port;
    this.dataDir = dataDir;
    this.accessKey = accessKey;
    this.secretKey = secretKey;
  }

  @Override
  public String name() {
    return "s3";
  }

  String endpoint() {
    return "http://" + host + ":" + port;
  }

  @Override
  public void start() throws Exception {
    Files.createDirectories(dataDir);
    BlobStore plain = new FilesystemNio2BlobStore(dataDir.toAbsolutePath().toString());
    proxy =
        S3Proxy.builder()
            .blobStore(EncryptedBlobStore.newEncryptedBlobStore(plain, keyProperties()))
            .endpoint(URI.create(endpoint()))
            .awsAuthentication(AuthenticationType.AWS_V2_OR_V4, accessKey, secretKey)
            .ignoreUnknownHeaders(true)
            .build();
    proxy.start();
    long deadline = System.nanoTime() + 30_000_000_000L;
    while (!"STARTED".equals(proxy.getState())) {
      if (System.nanoTime() > deadline) {
        throw new EmbeddedStartException("embedded s3 did not start within 30 s");
      }
      Thread.sleep(20);
    }
  }

  /** The store's password and salt: read from the key file, generated there at the first start. */
  private Properties keyProperties() throws IOException {
    Path keyFile = dataDir.toAbsolutePath().getParent().resolve(KEY_FILE);
    Properties key = new Properties();
    if (Files.exists(keyFile)) {
      key.load(new StringReader(PrivateFiles.read(keyFile)));
    } else {
      SecureRandom random = new SecureRandom();
      key.setProperty("algorithm", ALGORITHM);
      key.setProperty("password", secret(random, 32));
      key.setProperty("salt", secret(random, 16));
      StringWriter out = new StringWriter();
      key.store(out, "key material of the embedded S3 store's encryption at rest; keep it private");
      PrivateFiles.write(keyFile, out.toString());
    }
    String password = key.getProperty("password");
    String salt = key.getProperty("salt");
    if (password == null || password.isBlank() || salt == null || salt.isBlank()) {
      throw new EmbeddedStartException(keyFile + " lacks password or salt");
    }
    Properties p = new Properties();
    p.setProperty(S3ProxyConstants.PROPERTY_ENCRYPTED_BLOBSTORE, "true");
    p.setProperty(S3ProxyConstants.PROPERTY_ENCRYPTED_BLOBSTORE_PASSWORD, password);
    p.setProperty(S3ProxyConstants.PROPERTY_ENCRYPTED_BLOBSTORE_SALT, salt);
    return p;
  }

  private static String secret(SecureRandom random, int bytes) {
    byte[] b = new byte[bytes];
    random.nextBytes(b);
    return Base64.getUrlEncoder().withoutPadding().encodeToString(b);
  }

  @Override
  public void stop() {
    S3Proxy p = proxy;
    proxy = null;
    if (p != null) {
      try {
        p.stop();
      } catch (Exception e) {
        throw new IllegalStateException("stopping the embedded s3 failed", e);
      }
    }
  }
}
