package io.chat4all.node.api;

import static org.assertj.core.api.Assertions.assertThat;

import io.chat4all.testkit.BackendsExtension;
import io.chat4all.testkit.TestBackends;
import io.vertx.core.json.JsonObject;
import java.util.Locale;
import java.util.Set;
import java.util.SortedSet;
import java.util.TreeSet;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** The served OpenAPI document and the node's REST routes describe the same API. */
@ExtendWith(BackendsExtension.class)
class OpenApiTest {
  static Api api;

  @BeforeAll
  static void start(TestBackends.Isolation iso) {
    api = Api.start(iso);
  }

  @AfterAll
  static void stop() {
    api.close();
  }

  @Test
  void everyRouteIsDocumentedAndEveryDocumentedOperationIsServed() {
    JsonObject doc = api.get("/v1/openapi.json", null).expect(200).json();
    assertThat(doc.getString("openapi")).startsWith("3.");
    SortedSet<String> documented = new TreeSet<>();
    Set<String> methods = Set.of("get", "post", "put", "patch", "delete");
    JsonObject paths = doc.getJsonObject("paths");
    for (String path : paths.fieldNames()) {
      for (String method : paths.getJsonObject(path).fieldNames()) {
        if (methods.contains(method)) {
          documented.add(method.toUpperCase(Locale.ROOT) + " " + path);
          JsonObject op = paths.getJsonObject(path).getJsonObject(method);
          assertThat(op.getJsonObject("responses"))
              .as("responses of %s %s", method, path)
              .isNotNull();
        }
      }
    }
    SortedSet<String> served = api.node().apiRoutes();
    assertThat(served).as("routes served by the node").isNotEmpty();
    assertThat(documented).as("documented operations").containsExactlyElementsOf(served);
  }

  @Test
  void referencedSchemasExist() {
    JsonObject doc = api.get("/v1/openapi.json", null).expect(200).json();
    JsonObject schemas = doc.getJsonObject("components").getJsonObject("schemas");
    JsonObject responses = doc.getJsonObject("components").getJsonObject("responses");
    java.util.regex.Matcher m =
        java.util.regex.Pattern.compile(
                "\"\\$ref\"\\s*:\\s*\"#/components/(schemas|responses)/([^\"]+)\"")
            .matcher(doc.encode());
    int refs = 0;
    while (m.find()) {
      refs++;
      JsonObject in = m.group(1).equals("schemas") ? schemas : responses;
      assertThat(in.containsKey(m.group(2))).as("$ref %s/%s", m.group(1), m.group(2)).isTrue();
    }
    assertThat(refs).isGreaterThan(10);
  }

  @Test
  void everyJsonBodyOperationDocuments415AndTheErrorCodesAreTheModel() {
    JsonObject doc = api.get("/v1/openapi.json", null).expect(200).json();
    JsonObject paths = doc.getJsonObject("paths");
    int withBody = 0;
    for (String path : paths.fieldNames()) {
      for (String method : paths.getJsonObject(path).fieldNames()) {
        JsonObject op = paths.getJsonObject(path).getJsonObject(method);
        JsonObject body = op.getJsonObject("requestBody");
        if (body != null && body.getJsonObject("content").containsKey("application/json")) {
          withBody++;
          assertThat(op.getJsonObject("responses").containsKey("415"))
              .as("415 documented on %s %s", method, path)
              .isTrue();
        }
      }
    }
    assertThat(withBody).isGreaterThan(5);
    java.util.List<Object> documented =
        doc.getJsonObject("components")
            .getJsonObject("schemas")
            .getJsonObject("Error")
            .getJsonObject("properties")
            .getJsonObject("error")
            .getJsonObject("properties")
            .getJsonObject("code")
            .getJsonArray("enum")
            .getList();
    assertThat(documented)
        .containsExactlyInAnyOrderElementsOf(
            java.util.Arrays.stream(io.chat4all.codecs.ErrorCode.values())
                .map(io.chat4all.codecs.ErrorCode::wireName)
                .toList());
  }
}
