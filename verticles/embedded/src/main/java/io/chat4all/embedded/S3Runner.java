package io.chat4all.embedded;

import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import org.gaul.s3proxy.S3Proxy;
import org.gaul.s3proxy.auth.AuthenticationType;
import org.gaul.s3proxy.nio2blob.FilesystemNio2BlobStore;

/**
 * An S3-compatible server (s3proxy, filesystem store under {@code <data>/s3}) with AWS signature
 * checking on, so presigned URLs and their expiry behave as with real S3. Clients use path-style
 * access.
 */
final class S3Runner implements EmbeddedServer {
  static final String REGION = "us-east-1";
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
    proxy =
        S3Proxy.builder()
            .blobStore(new FilesystemNio2BlobStore(dataDir.toAbsolutePath().toString()))
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
