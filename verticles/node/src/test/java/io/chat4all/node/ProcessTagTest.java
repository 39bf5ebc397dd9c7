package io.chat4all.node;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The node module runs its tests in two steps (see its pom): the in-process tests two JVMs at a
 * time, then the tests tagged {@code process} one at a time with the box to themselves. A test that
 * starts nodes in JVMs of their own ({@code NodeJvm}), or lives with those tests in the {@code
 * process} package, must carry {@code @Tag("process")}: untagged, it would run beside other tests
 * and lose the CPU its time bounds assume.
 */
class ProcessTagTest {
  private static final Path TESTS = Path.of("src", "test", "java");

  @Test
  void everyTestThatStartsNodeProcessesRunsInTheProcessStep() throws IOException {
    assertThat(TESTS).as("the node module's test sources (run from the module)").isDirectory();
    List<Path> processTests = processTests();
    assertThat(processTests).as("test classes that start node processes").hasSizeGreaterThan(10);
    assertThat(processTests)
        .as("test classes that start node processes without @Tag(\"process\")")
        .filteredOn(f -> !read(f).contains("@Tag(\"process\")"))
        .isEmpty();
  }

  @Test
  void theTagIsOnlyWhereItBelongs() throws IOException {
    List<Path> processTests = processTests();
    try (Stream<Path> all = Files.walk(TESTS)) {
      assertThat(all.filter(f -> f.toString().endsWith(".java")))
          .as(
              "classes tagged process that start no node processes (they would lose the two-JVM step)")
          .filteredOn(f -> read(f).contains("@Tag(\"process\")") && !processTests.contains(f))
          .isEmpty();
    }
  }

  /** Test classes that use {@code NodeJvm} or sit in the {@code process} package. */
  private static List<Path> processTests() throws IOException {
    try (Stream<Path> all = Files.walk(TESTS)) {
      return all.filter(f -> f.getFileName().toString().endsWith("Test.java"))
          .filter(
              f ->
                  f.getParent().endsWith(Path.of("io", "chat4all", "node", "process"))
                      || read(f).contains("NodeJvm"))
          .toList();
    }
  }

  private static String read(Path f) {
    try {
      return Files.readString(f);
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }
}
