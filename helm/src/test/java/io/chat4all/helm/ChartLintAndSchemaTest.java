package io.chat4all.helm;

import static org.assertj.core.api.Assertions.assertThat;

import com.marcnuri.helm.LintResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** {@code helm lint} is clean, and values the chart cannot work with fail with a clear message. */
class ChartLintAndSchemaTest {

  private static final Path BAD_VALUES =
      Path.of(System.getProperty("user.dir"), "src/test/resources/bad-values.yaml");

  @Test
  void lintIsCleanAlsoWhenStrict() {
    LintResult lint = Chart.helm().lint().call();
    assertThat(lint.isFailed()).as("lint: %s", lint.getMessages()).isFalse();
    // only INFO notes (Chart.yaml has no icon); no warning or error
    assertThat(lint.getMessages()).allSatisfy(m -> assertThat(m).startsWith("[INFO]"));

    LintResult strict = Chart.helm().lint().strict().call();
    assertThat(strict.isFailed()).as("strict lint: %s", strict.getMessages()).isFalse();
  }

  @Test
  void theChartShipsASchemaAndAProductionExample() {
    assertThat(Chart.DIR.resolve("values.schema.json")).isRegularFile();
    assertThat(Chart.PRODUCTION).isRegularFile();
  }

  @Test
  void aBadValuesFileIsRefusedNamingEveryBadKey() {
    assertThat(BAD_VALUES).isRegularFile();
    String error = Chart.renderError(List.of(BAD_VALUES), Map.of());
    assertThat(error)
        .contains("values don't meet the specifications of the schema")
        .contains("cluster.port: Must be less than or equal to 65535")
        .contains("backends.kafka.bootstrapServers: Does not match pattern")
        .contains("backends.s3.bucket: Does not match pattern")
        .contains("autoscaling.targetCPUUtilizationPercentage: Invalid type. Expected: integer")
        .contains("ingress: Additional property enabeld is not allowed");
  }

  @Test
  void singleBadSettingsAreNamed() {
    assertThat(Chart.renderError(List.of(), Map.of("replicaCount", 0)))
        .contains("replicaCount: Must be greater than or equal to 1");
    assertThat(Chart.renderError(List.of(), Map.of("node.logFormat", "xml")))
        .contains("node.logFormat: node.logFormat must be one of the following");
    assertThat(Chart.renderError(List.of(), Map.of("secrets.jwtSecret", "short")))
        .contains("secrets.jwtSecret: Does not match pattern");
    assertThat(Chart.renderError(List.of(), Map.of("backends.postgres.schema", "Chat-4-All")))
        .contains("backends.postgres.schema: Does not match pattern");
    assertThat(Chart.renderError(List.of(), Map.of("secrets.channels.whats_app.token", "x")))
        .contains("secrets.channels");
    assertThat(Chart.renderError(List.of(), Map.of("backends.s3.encryption", "sse-kms")))
        .contains("backends.s3.kmsKeyId: String length must be greater than or equal to 1");
    assertThat(Chart.renderError(List.of(), Map.of("backends.s3.encryption", "aes")))
        .contains("backends.s3.encryption must be one of the following");
    // both PDB forms at once (the default maxUnavailable was not unset)
    assertThat(Chart.renderError(List.of(), Map.of("podDisruptionBudget.minAvailable", 2)))
        .contains("podDisruptionBudget: Must validate one and only one schema");
  }

  @Test
  void rulesAcrossValuesFailTheRenderingWithTheReason() {
    assertThat(Chart.renderError(List.of(), Map.of("terminationGracePeriodSeconds", 30)))
        .contains(
            "terminationGracePeriodSeconds (30) must be longer than the node's drain on"
                + " shutdown, 40 s");
    assertThat(
            Chart.renderError(
                List.of(), Map.of("autoscaling.minReplicas", 6, "autoscaling.maxReplicas", 4)))
        .contains("autoscaling.minReplicas (6) must not be above autoscaling.maxReplicas (4)");
  }

  @Test
  void theImageTheChartRunsIsBuiltByTheDockerfile() throws Exception {
    Path dockerfile = Chart.REPO.resolve("docker/Dockerfile");
    assertThat(dockerfile).isRegularFile();
    String text = Files.readString(dockerfile);
    // the chart passes only arguments ("run --cluster --config ..."): the image's entrypoint is
    // the node's launcher, and its numeric user is the chart's runAsUser
    assertThat(text)
        .contains("ENTRYPOINT [\"java\", \"-cp\", \"/app/classes:/app/lib/*\",")
        .contains("\"io.chat4all.node.Main\"]")
        .containsPattern("(?m)^USER 10001$");
    assertThat(Chart.render().pod().path("securityContext").path("runAsUser").asInt())
        .isEqualTo(10001);
  }
}
