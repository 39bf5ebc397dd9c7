package io.chat4all.node.process;

import io.chat4all.testkit.NodeProcess;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** Starts node JVMs with this module's runtime class path (written by the build). */
final class NodeJvm {
  private NodeJvm() {}

  static String classPath() {
    Path cpFile = Path.of("target", "runtime-classpath.txt");
    try {
      return Path.of("target", "classes").toAbsolutePath()
          + java.io.File.pathSeparator
          + Files.readString(cpFile).trim();
    } catch (IOException e) {
      throw new UncheckedIOException("run the build first: " + cpFile + " is missing", e);
    }
  }

  static NodeProcess start(String... args) {
    return startWithJvm(List.of(), args);
  }

  static NodeProcess startWithJvm(List<String> jvmArgs, String... args) {
    List<String> jvm =
        new ArrayList<>(List.of("-Xmx512m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1"));
    jvm.addAll(jvmArgs);
    return NodeProcess.start(classPath(), jvm, List.of(args));
  }
}
