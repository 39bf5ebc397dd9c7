package io.chat4all.node.cluster;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A small stateful stand-in for the part of the Kubernetes API that Hazelcast's discovery reads:
 * the EndpointSlices of a Service ({@code GET
 * /apis/discovery.k8s.io/v1/namespaces/<ns>/endpointslices} with {@code
 * labelSelector=kubernetes.io/service-name=<name>}), behind a bearer token like the real API
 * server. Pods are added with their IP, Hazelcast port and readiness; one slice per pod.
 */
final class KubernetesApiSimulator implements AutoCloseable {
  record Pod(String namespace, String service, String name, String ip, int port, boolean ready) {}

  private final String token;
  private final HttpServer server;
  private final Map<String, Pod> pods = new ConcurrentHashMap<>();
  private final List<String> requests = new CopyOnWriteArrayList<>();

  KubernetesApiSimulator(String token) throws IOException {
    this.token = token;
    server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    server.createContext("/", this::handle);
    server.start();
  }

  String url() {
    return "http://127.0.0.1:" + server.getAddress().getPort();
  }

  void addPod(Pod pod) {
    pods.put(pod.namespace() + "/" + pod.name(), pod);
  }

  /** Every request line ("GET /path?query") the API has answered, in order. */
  List<String> requests() {
    return List.copyOf(requests);
  }

  private void handle(HttpExchange ex) throws IOException {
    try (ex) {
      String query = ex.getRequestURI().getRawQuery();
      String path = ex.getRequestURI().getPath();
      requests.add(
          ex.getRequestMethod()
              + " "
              + path
              + (query == null ? "" : "?" + URLDecoder.decode(query, StandardCharsets.UTF_8)));
      if (!("Bearer " + token).equals(ex.getRequestHeaders().getFirst("Authorization"))) {
        reply(ex, 401, status(401, "Unauthorized"));
        return;
      }
      String[] parts = path.split("/");
      // /apis/discovery.k8s.io/v1/namespaces/<ns>/endpointslices
      if (!ex.getRequestMethod().equals("GET")
          || parts.length != 7
          || !path.startsWith("/apis/discovery.k8s.io/v1/namespaces/")
          || !parts[6].equals("endpointslices")) {
        reply(ex, 404, status(404, "NotFound"));
        return;
      }
      String namespace = parts[5];
      String service = serviceSelector(query);
      JsonArray items = new JsonArray();
      for (Pod p : pods.values()) {
        if (p.namespace().equals(namespace) && (service == null || p.service().equals(service))) {
          items.add(slice(p));
        }
      }
      reply(
          ex,
          200,
          new JsonObject()
              .put("kind", "EndpointSliceList")
              .put("apiVersion", "discovery.k8s.io/v1")
              .put("metadata", new JsonObject().put("resourceVersion", "1"))
              .put("items", items));
    }
  }

  private static String serviceSelector(String rawQuery) {
    if (rawQuery == null) {
      return null;
    }
    for (String param : URLDecoder.decode(rawQuery, StandardCharsets.UTF_8).split("&")) {
      String prefix = "labelSelector=kubernetes.io/service-name=";
      if (param.startsWith(prefix)) {
        return param.substring(prefix.length());
      }
    }
    return null;
  }

  private static JsonObject slice(Pod p) {
    return new JsonObject()
        .put(
            "metadata",
            new JsonObject()
                .put("name", p.service() + "-" + p.name())
                .put("namespace", p.namespace())
                .put("labels", new JsonObject().put("kubernetes.io/service-name", p.service()))
                .put(
                    "ownerReferences",
                    new JsonArray()
                        .add(
                            new JsonObject()
                                .put("apiVersion", "v1")
                                .put("kind", "Service")
                                .put("name", p.service()))))
        .put("addressType", "IPv4")
        .put(
            "endpoints",
            new JsonArray()
                .add(
                    new JsonObject()
                        .put("addresses", new JsonArray().add(p.ip()))
                        .put("conditions", new JsonObject().put("ready", p.ready()))
                        .put(
                            "targetRef",
                            new JsonObject()
                                .put("kind", "Pod")
                                .put("name", p.name())
                                .put("namespace", p.namespace()))))
        .put(
            "ports",
            new JsonArray()
                .add(
                    new JsonObject()
                        .put("name", "hazelcast")
                        .put("port", p.port())
                        .put("protocol", "TCP")));
  }

  private static JsonObject status(int code, String reason) {
    return new JsonObject()
        .put("kind", "Status")
        .put("apiVersion", "v1")
        .put("status", "Failure")
        .put("reason", reason)
        .put("code", code);
  }

  private static void reply(HttpExchange ex, int code, JsonObject body) throws IOException {
    byte[] bytes = body.encode().getBytes(StandardCharsets.UTF_8);
    ex.getResponseHeaders().set("Content-Type", "application/json");
    ex.sendResponseHeaders(code, bytes.length);
    ex.getResponseBody().write(bytes);
  }

  @Override
  public void close() {
    server.stop(0);
  }
}
