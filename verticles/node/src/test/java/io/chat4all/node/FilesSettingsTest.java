package io.chat4all.node;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.chat4all.files.FilesConfig;
import io.chat4all.node.config.ConfigException;
import io.chat4all.node.config.ConfigLoader;
import io.chat4all.node.config.NodeConfig;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.Map;
import java.util.Properties;
import org.junit.jupiter.api.Test;

/** The {@code files} settings: defaults, overrides from the environment, refused values. */
class FilesSettingsTest {
  static FilesConfig with(String key, Object value) {
    JsonObject c = ConfigLoader.defaults();
    if (key != null) {
      c.getJsonObject("files").put(key, value);
    }
    return ServiceSettings.filesConfig(NodeConfig.from(c));
  }

  @Test
  void defaultsTakeFilesWellAboveTwoGigabytes() {
    FilesConfig c = with(null, null);
    assertThat(c.maxSizeBytes()).isGreaterThan(2L * 1024 * 1024 * 1024);
    assertThat(c.chunkSizeBytes()).isGreaterThanOrEqualTo(FilesConfig.MIN_CHUNK_BYTES);
    assertThat(c.mimeAllowed("application/pdf")).isTrue();
    // a file of the largest size still fits S3's 10,000 parts
    assertThat(
            (c.maxSizeBytes() + c.chunkSizeFor(c.maxSizeBytes()) - 1)
                / c.chunkSizeFor(c.maxSizeBytes()))
        .isLessThanOrEqualTo(FilesConfig.MAX_CHUNKS);
  }

  @Test
  void environmentOverridesTheLimits() {
    JsonObject c =
        ConfigLoader.load(
            null,
            Map.of("CHAT4ALL_FILES_MAX_SIZE_BYTES", "5368709120"),
            new Properties(),
            Map.of());
    assertThat(ServiceSettings.filesConfig(NodeConfig.from(c)).maxSizeBytes())
        .isEqualTo(5368709120L);
  }

  @Test
  void mimeWildcards() {
    FilesConfig c =
        with("allowed_mime_types", new JsonArray().add("image/*").add("application/pdf"));
    assertThat(c.mimeAllowed("image/png")).isTrue();
    assertThat(c.mimeAllowed("IMAGE/JPEG")).isTrue();
    assertThat(c.mimeAllowed("application/pdf")).isTrue();
    assertThat(c.mimeAllowed("application/zip")).isFalse();
    assertThat(c.mimeAllowed("imagex/png")).isFalse();
  }

  @Test
  void badValuesAreRefusedNamingTheKey() {
    assertThatThrownBy(() -> with("chunk_size_bytes", 1024))
        .isInstanceOf(ConfigException.class)
        .extracting(e -> ((ConfigException) e).key())
        .isEqualTo("files.chunk_size_bytes");
    assertThatThrownBy(() -> with("max_chunk_size_bytes", 5 * 1024 * 1024 - 1))
        .extracting(e -> ((ConfigException) e).key())
        .isEqualTo("files.max_chunk_size_bytes");
    assertThatThrownBy(() -> with("max_size_bytes", 1L << 50))
        .extracting(e -> ((ConfigException) e).key())
        .isEqualTo("files.max_size_bytes");
    assertThatThrownBy(() -> with("allowed_mime_types", new JsonArray().add("pdf")))
        .extracting(e -> ((ConfigException) e).key())
        .isEqualTo("files.allowed_mime_types");
    assertThatThrownBy(() -> with("download_url_ttl_seconds", 0))
        .extracting(e -> ((ConfigException) e).key())
        .isEqualTo("files.download_url_ttl_seconds");
  }
}
