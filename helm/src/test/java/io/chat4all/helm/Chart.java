package io.chat4all.helm;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.marcnuri.helm.Helm;
import com.marcnuri.helm.TemplateCommand;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.StreamSupport;

/** The chart under test, rendered in-process by Helm's own library (no cluster, no helm binary). */
final class Chart {
  static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());
  static final String RELEASE = "chat";
  static final String NAMESPACE = "messaging";

  static final Path DIR =
      Path.of(System.getProperty("chat4all.chart.dir", "chat4all")).toAbsolutePath().normalize();
  static final Path REPO =
      Path.of(System.getProperty("chat4all.repo.root", "..")).toAbsolutePath().normalize();
  static final Path PRODUCTION = DIR.resolve("ci/production-values.yaml");

  private Chart() {}

  static Helm helm() {
    return new Helm(DIR);
  }

  /** Renders the chart with the given values files (in order) and --set pairs. */
  static Rendered render(List<Path> valuesFiles, Map<String, Object> sets) {
    TemplateCommand t = helm().template().withName(RELEASE).withNamespace(NAMESPACE);
    for (Path f : valuesFiles) {
      t = t.withValuesFile(f);
    }
    for (Map.Entry<String, Object> e : sets.entrySet()) {
      t = t.set(e.getKey(), e.getValue());
    }
    return new Rendered(parse(t.call()));
  }

  static Rendered render() {
    return render(List.of(), Map.of());
  }

  static Rendered production() {
    return render(List.of(PRODUCTION), Map.of());
  }

  /** The error Helm reports for these values (fails the test if they render). */
  static String renderError(List<Path> valuesFiles, Map<String, Object> sets) {
    try {
      render(valuesFiles, sets);
    } catch (RuntimeException e) {
      return e.getMessage();
    }
    throw new AssertionError("rendered without error: " + valuesFiles + " " + sets);
  }

  private static List<JsonNode> parse(String manifests) {
    try {
      List<JsonNode> docs = new ArrayList<>();
      for (JsonNode d : YAML.readerFor(JsonNode.class).<JsonNode>readValues(manifests).readAll()) {
        if (d != null && !d.isNull() && !d.isMissingNode() && d.has("kind")) {
          docs.add(d);
        }
      }
      return docs;
    } catch (IOException e) {
      throw new AssertionError("rendered manifests are not YAML:\n" + manifests, e);
    }
  }

  static JsonNode readYaml(Path file) {
    try {
      return YAML.readTree(Files.readString(file));
    } catch (IOException e) {
      throw new AssertionError("cannot read " + file, e);
    }
  }

  /** The manifests of one rendering. */
  record Rendered(List<JsonNode> docs) {
    List<JsonNode> all(String kind) {
      return docs.stream().filter(d -> kind.equals(d.path("kind").asText())).toList();
    }

    Optional<JsonNode> find(String kind, String name) {
      return all(kind).stream()
          .filter(d -> name.equals(d.path("metadata").path("name").asText()))
          .findFirst();
    }

    JsonNode one(String kind) {
      List<JsonNode> found = all(kind);
      if (found.size() != 1) {
        throw new AssertionError("expected one " + kind + ", got " + found.size());
      }
      return found.get(0);
    }

    JsonNode get(String kind, String name) {
      return find(kind, name).orElseThrow(() -> new AssertionError("no " + kind + " " + name));
    }

    JsonNode statefulSet() {
      return one("StatefulSet");
    }

    JsonNode pod() {
      return statefulSet().path("spec").path("template").path("spec");
    }

    JsonNode container() {
      return pod().path("containers").path(0);
    }

    /** The node container's environment variable {@code name} (fails if missing). */
    JsonNode env(String name) {
      return envVar(name).orElseThrow(() -> new AssertionError("no env " + name));
    }

    Optional<JsonNode> envVar(String name) {
      return StreamSupport.stream(container().path("env").spliterator(), false)
          .filter(e -> name.equals(e.path("name").asText()))
          .findFirst();
    }

    List<JsonNode> envList() {
      return StreamSupport.stream(container().path("env").spliterator(), false).toList();
    }
  }
}
