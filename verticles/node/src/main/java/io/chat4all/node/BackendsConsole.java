package io.chat4all.node;

import io.chat4all.embedded.EmbeddedBackends;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;

/**
 * Commands for a running {@code chat4all backends}, one per line on its standard input, for outage
 * drills: {@code stop <server>}, {@code start <server>} and {@code restart <server>} stop and start
 * one server (PostgreSQL or Redis) with its data kept while the others keep running. Each command
 * is answered with a {@code CHAT4ALL BACKENDS STOPPED|STARTED <server>} line, or a line starting
 * {@code chat4all:} saying why not. End of input (no terminal, {@code </dev/null}) ends nothing.
 */
final class BackendsConsole {
  static final String STOPPED_MARKER = "CHAT4ALL BACKENDS STOPPED";
  static final String STARTED_MARKER = "CHAT4ALL BACKENDS STARTED";

  private BackendsConsole() {}

  static void listen(InputStream in, EmbeddedBackends backends, PrintStream out) {
    Thread t =
        new Thread(
            () -> {
              try (BufferedReader r =
                  new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))) {
                String line;
                while ((line = r.readLine()) != null) {
                  if (!line.isBlank()) {
                    out.println(run(backends, line.trim()));
                    out.flush();
                  }
                }
              } catch (IOException ignored) {
                // no input: nothing to listen to
              }
            },
            "chat4all-backends-console");
    t.setDaemon(true);
    t.start();
  }

  static String run(EmbeddedBackends backends, String line) {
    String[] words = line.split("\\s+");
    if (words.length != 2) {
      return "chat4all: commands are stop|start|restart <server>, not '" + line + "'";
    }
    String server = words[1];
    try {
      switch (words[0]) {
        case "stop":
          backends.stopServer(server);
          return STOPPED_MARKER + " " + server;
        case "start":
          backends.startServer(server);
          return STARTED_MARKER + " " + server;
        case "restart":
          backends.stopServer(server);
          backends.startServer(server);
          return STARTED_MARKER + " " + server;
        default:
          return "chat4all: unknown command '" + words[0] + "' (stop|start|restart <server>)";
      }
    } catch (IllegalArgumentException e) {
      return "chat4all: " + e.getMessage();
    } catch (Exception e) {
      return "chat4all: " + words[0] + " " + server + " failed: " + e.getMessage();
    }
  }
}
