package io.chat4all.helm;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.chat4all.helm.Chart.Rendered;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.stream.StreamSupport;
import org.junit.jupiter.api.Test;

/** What the chart renders for its default values and for a production-like values file. */
class RenderedManifestsTest {

  private static final String FULLNAME = "chat-chat4all";
  private static final String HAZELCAST = "chat-chat4all-hazelcast";

  private static List<String> kinds(Rendered r) {
    return r.docs().stream().map(d -> d.path("kind").asText()).sorted().toList();
  }

  private static List<String> texts(JsonNode array) {
    return StreamSupport.stream(array.spliterator(), false).map(JsonNode::asText).toList();
  }

  @Test
  void defaultValuesRenderTheNodeSetAndItsCompanions() {
    Rendered r = Chart.render();
    assertThat(kinds(r))
        .containsExactly(
            "ConfigMap",
            "HorizontalPodAutoscaler",
            "PodDisruptionBudget",
            "Role",
            "RoleBinding",
            "Secret",
            "Service",
            "Service",
            "ServiceAccount",
            "StatefulSet");
    JsonNode sts = r.statefulSet();
    assertThat(sts.path("metadata").path("name").asText()).isEqualTo(FULLNAME);
    assertThat(sts.path("spec").path("serviceName").asText()).isEqualTo(HAZELCAST);
    assertThat(sts.path("spec").path("podManagementPolicy").asText()).isEqualTo("Parallel");
    assertThat(sts.path("spec").path("updateStrategy").path("type").asText())
        .isEqualTo("RollingUpdate");
    assertThat(r.container().path("image").asText()).isEqualTo("chat4all/node:0.1.0");
    assertThat(texts(r.container().path("args")))
        .containsExactly("run", "--cluster", "--config", "/etc/chat4all/chat4all.yaml");
    assertThat(r.container().path("resources").path("requests").path("cpu").asText())
        .isEqualTo("500m");
    assertThat(r.container().path("resources").path("limits").path("memory").asText())
        .isEqualTo("2Gi");
  }

  @Test
  void probesHitTheHealthEndpointsOnTheHttpPort() {
    for (Rendered r : List.of(Chart.render(), Chart.production())) {
      JsonNode c = r.container();
      assertThat(c.path("startupProbe").path("httpGet").path("path").asText())
          .isEqualTo("/health/live");
      assertThat(c.path("livenessProbe").path("httpGet").path("path").asText())
          .isEqualTo("/health/live");
      assertThat(c.path("readinessProbe").path("httpGet").path("path").asText())
          .isEqualTo("/health/ready");
      for (String probe : List.of("startupProbe", "livenessProbe", "readinessProbe")) {
        assertThat(c.path(probe).path("httpGet").path("port").asText()).isEqualTo("http");
      }
      JsonNode http = port(c, "http");
      // the named port is the one the node listens on
      assertThat(http.path("containerPort").asText())
          .isEqualTo(r.env("CHAT4ALL_HTTP_PORT").path("value").asText());
      assertThat(port(c, "grpc").path("containerPort").asText())
          .isEqualTo(r.env("CHAT4ALL_GRPC_PORT").path("value").asText());
      // a start with migrations and the cluster join gets minutes, not the liveness budget
      int startupBudget =
          c.path("startupProbe").path("periodSeconds").asInt()
              * c.path("startupProbe").path("failureThreshold").asInt();
      assertThat(startupBudget).isGreaterThanOrEqualTo(180);
    }
  }

  private static JsonNode port(JsonNode container, String name) {
    return StreamSupport.stream(container.path("ports").spliterator(), false)
        .filter(p -> name.equals(p.path("name").asText()))
        .findFirst()
        .orElseThrow(() -> new AssertionError("no port " + name));
  }

  @Test
  void nodesDiscoverEachOtherThroughTheHeadlessServiceWithRbac() {
    Rendered r = Chart.render();
    assertThat(r.env("CHAT4ALL_CLUSTER_ENABLED").path("value").asText()).isEqualTo("true");
    assertThat(r.env("CHAT4ALL_CLUSTER_DISCOVERY").path("value").asText()).isEqualTo("kubernetes");
    assertThat(r.env("CHAT4ALL_CLUSTER_KUBERNETES_SERVICE_NAME").path("value").asText())
        .isEqualTo(HAZELCAST);
    assertThat(r.env("CHAT4ALL_CLUSTER_KUBERNETES_NAMESPACE").path("value").asText())
        .isEqualTo(Chart.NAMESPACE);
    assertThat(
            r.env("CHAT4ALL_CLUSTER_HOST")
                .path("valueFrom")
                .path("fieldRef")
                .path("fieldPath")
                .asText())
        .isEqualTo("status.podIP");
    assertThat(r.envVar("CHAT4ALL_CLUSTER_MEMBERS")).isEmpty();

    JsonNode headless = r.get("Service", HAZELCAST).path("spec");
    assertThat(headless.path("clusterIP").asText()).isEqualTo("None");
    assertThat(headless.path("publishNotReadyAddresses").asBoolean()).isTrue();
    JsonNode hzPort = headless.path("ports").path(0);
    assertThat(hzPort.path("name").asText()).isEqualTo("hazelcast");
    assertThat(hzPort.path("port").asText())
        .isEqualTo(r.env("CHAT4ALL_CLUSTER_PORT").path("value").asText());
    assertThat(selects(headless.path("selector"), podLabels(r))).isTrue();

    String sa = r.pod().path("serviceAccountName").asText();
    assertThat(r.find("ServiceAccount", sa)).isPresent();
    assertThat(r.pod().path("automountServiceAccountToken").asBoolean()).isTrue();
    JsonNode binding = r.one("RoleBinding");
    assertThat(binding.path("subjects").path(0).path("name").asText()).isEqualTo(sa);
    assertThat(binding.path("subjects").path(0).path("namespace").asText())
        .isEqualTo(Chart.NAMESPACE);
    JsonNode role = r.get("Role", binding.path("roleRef").path("name").asText());
    List<String> grants = new ArrayList<>();
    for (JsonNode rule : role.path("rules")) {
      for (String res : texts(rule.path("resources"))) {
        for (String verb : texts(rule.path("verbs"))) {
          grants.add(res + ":" + verb);
        }
      }
    }
    assertThat(grants)
        .contains(
            "endpoints:list",
            "endpoints:get",
            "endpointslices:list",
            "pods:get",
            "pods:list",
            "services:get",
            "statefulsets:watch");

    Rendered noRbac = Chart.render(List.of(), Map.of("rbac.create", false));
    assertThat(noRbac.all("Role")).isEmpty();
    assertThat(noRbac.all("RoleBinding")).isEmpty();
  }

  private static JsonNode podLabels(Rendered r) {
    return r.statefulSet().path("spec").path("template").path("metadata").path("labels");
  }

  private static boolean selects(JsonNode selector, JsonNode labels) {
    if (selector.isEmpty()) {
      return false;
    }
    for (Map.Entry<String, JsonNode> e : selector.properties()) {
      if (!e.getValue().asText().equals(labels.path(e.getKey()).asText())) {
        return false;
      }
    }
    return true;
  }

  @Test
  void theGracePeriodOutlastsTheNodesDrain() {
    for (Rendered r : List.of(Chart.render(), Chart.production())) {
      int grace = r.pod().path("terminationGracePeriodSeconds").asInt();
      int shutdownGrace = r.env("CHAT4ALL_NODE_SHUTDOWN_GRACE_SECONDS").path("value").asInt();
      List<String> preStop =
          texts(r.container().path("lifecycle").path("preStop").path("exec").path("command"));
      assertThat(preStop.get(0)).isEqualTo("sleep");
      int sleep = Integer.parseInt(preStop.get(1));
      // preStop, then the HTTP and the gRPC edge drain one after the other, then consumers,
      // clients and the Hazelcast leave
      assertThat(grace).isGreaterThan(sleep + 2 * shutdownGrace + 15);
    }
    assertThat(
            Chart.production().env("CHAT4ALL_NODE_SHUTDOWN_GRACE_SECONDS").path("value").asText())
        .isEqualTo("20");
  }

  @Test
  void secretsComeFromTheChartsSecret() {
    Rendered r =
        Chart.render(
            List.of(),
            Map.of(
                "secrets.postgresPassword", "pg-pass",
                "secrets.s3AccessKey", "AKIA",
                "secrets.s3SecretKey", "s3-secret",
                "secrets.channels.telegram.bot_token", "123:abc"));
    JsonNode secret = r.get("Secret", FULLNAME);
    byte[] jwt = decode(secret, "jwt-secret");
    // generated: base64 of at least 32 bytes, what auth.jwt_secret needs
    assertThat(Base64.getDecoder().decode(new String(jwt))).hasSizeGreaterThanOrEqualTo(32);
    assertThat(new String(decode(secret, "postgres-password"))).isEqualTo("pg-pass");
    assertThat(new String(decode(secret, "channels.telegram.bot_token"))).isEqualTo("123:abc");
    assertThat(secret.path("data").has("mongo-connection-string")).isFalse();

    assertSecretRef(r, "CHAT4ALL_AUTH_JWT_SECRET", FULLNAME, "jwt-secret", false);
    assertSecretRef(r, "CHAT4ALL_POSTGRES_PASSWORD", FULLNAME, "postgres-password", false);
    assertSecretRef(r, "CHAT4ALL_S3_ACCESS_KEY", FULLNAME, "s3-access-key", false);
    assertSecretRef(r, "CHAT4ALL_S3_SECRET_KEY", FULLNAME, "s3-secret-key", false);
    assertSecretRef(
        r, "CHAT4ALL_CHANNELS_TELEGRAM_BOT_TOKEN", FULLNAME, "channels.telegram.bot_token", false);
    // what was not given is not referenced (the config file's value stays)
    assertThat(r.envVar("CHAT4ALL_MONGO_CONNECTION_STRING")).isEmpty();

    String given = Base64.getEncoder().encodeToString(new byte[48]);
    JsonNode fixed =
        Chart.render(List.of(), Map.of("secrets.jwtSecret", given)).get("Secret", FULLNAME);
    assertThat(new String(decode(fixed, "jwt-secret"))).isEqualTo(given);
    // the pods roll when a secret value changes
    assertThat(
            r.statefulSet()
                .path("spec")
                .path("template")
                .path("metadata")
                .path("annotations")
                .has("checksum/secret"))
        .isTrue();
  }

  private static byte[] decode(JsonNode secret, String key) {
    String value = secret.path("data").path(key).asText(null);
    assertThat(value).as("secret key %s", key).isNotNull();
    return Base64.getDecoder().decode(value);
  }

  private static void assertSecretRef(
      Rendered r, String env, String secret, String key, boolean optional) {
    JsonNode ref = r.env(env).path("valueFrom").path("secretKeyRef");
    assertThat(ref.path("name").asText()).as(env).isEqualTo(secret);
    assertThat(ref.path("key").asText()).as(env).isEqualTo(key);
    assertThat(ref.path("optional").asBoolean(false)).as(env + " optional").isEqualTo(optional);
  }

  @Test
  void anExistingSecretReplacesTheChartsOwn() {
    Rendered r = Chart.production();
    assertThat(r.all("Secret")).isEmpty();
    String existing = "chat4all-credentials";
    assertSecretRef(r, "CHAT4ALL_AUTH_JWT_SECRET", existing, "jwt-secret", false);
    assertSecretRef(r, "CHAT4ALL_POSTGRES_PASSWORD", existing, "postgres-password", true);
    assertSecretRef(
        r, "CHAT4ALL_MONGO_CONNECTION_STRING", existing, "mongo-connection-string", true);
    assertSecretRef(
        r, "CHAT4ALL_REDIS_CONNECTION_STRING", existing, "redis-connection-string", true);
    assertSecretRef(r, "CHAT4ALL_S3_ACCESS_KEY", existing, "s3-access-key", true);
    assertSecretRef(r, "CHAT4ALL_S3_SECRET_KEY", existing, "s3-secret-key", true);
    assertSecretRef(
        r,
        "CHAT4ALL_CHANNELS_TELEGRAM_WEBHOOK_SECRET",
        existing,
        "channels.telegram.webhook_secret",
        false);
    // no secret value anywhere else in the pod spec
    for (JsonNode e : r.envList()) {
      if (e.path("name").asText().matches(".*(SECRET|PASSWORD|TOKEN|KEY).*")) {
        assertThat(e.has("value")).as(e.path("name").asText()).isFalse();
      }
    }
  }

  @Test
  void disruptionBudgetAndAutoscalerKeepTheClusterUp() {
    Rendered r = Chart.render();
    JsonNode pdb = r.one("PodDisruptionBudget").path("spec");
    assertThat(pdb.path("maxUnavailable").asInt()).isEqualTo(1);
    assertThat(pdb.has("minAvailable")).isFalse();
    assertThat(selects(pdb.path("selector").path("matchLabels"), podLabels(r))).isTrue();

    JsonNode hpa = r.one("HorizontalPodAutoscaler").path("spec");
    assertThat(hpa.path("scaleTargetRef").path("kind").asText()).isEqualTo("StatefulSet");
    assertThat(hpa.path("scaleTargetRef").path("name").asText()).isEqualTo(FULLNAME);
    assertThat(hpa.path("minReplicas").asInt()).isEqualTo(3);
    assertThat(hpa.path("maxReplicas").asInt()).isEqualTo(12);
    JsonNode cpu = hpa.path("metrics").path(0).path("resource");
    assertThat(cpu.path("name").asText()).isEqualTo("cpu");
    assertThat(cpu.path("target").path("averageUtilization").asInt()).isEqualTo(70);
    assertThat(
            hpa.path("behavior").path("scaleDown").path("policies").path(0).path("value").asInt())
        .isEqualTo(1);
    // the autoscaler owns the replica count: an upgrade must not reset it
    assertThat(r.statefulSet().path("spec").has("replicas")).isFalse();

    Rendered fixed =
        Chart.render(
            List.of(),
            Map.of(
                "autoscaling.enabled",
                false,
                "replicaCount",
                4,
                "podDisruptionBudget.maxUnavailable",
                "null",
                "podDisruptionBudget.minAvailable",
                2));
    assertThat(fixed.all("HorizontalPodAutoscaler")).isEmpty();
    assertThat(fixed.statefulSet().path("spec").path("replicas").asInt()).isEqualTo(4);
    JsonNode minPdb = fixed.one("PodDisruptionBudget").path("spec");
    assertThat(minPdb.path("minAvailable").asInt()).isEqualTo(2);
    assertThat(minPdb.has("maxUnavailable")).isFalse();
  }

  @Test
  void serviceMonitorOnlyWhenAsked() {
    assertThat(Chart.render().all("ServiceMonitor")).isEmpty();
    Rendered r = Chart.production();
    JsonNode sm = r.one("ServiceMonitor");
    assertThat(sm.path("metadata").path("labels").path("release").asText())
        .isEqualTo("kube-prometheus-stack");
    JsonNode endpoint = sm.path("spec").path("endpoints").path(0);
    assertThat(endpoint.path("port").asText()).isEqualTo("http");
    assertThat(endpoint.path("path").asText()).isEqualTo("/metrics");
    assertThat(endpoint.path("interval").asText()).isEqualTo("15s");
    JsonNode selector = sm.path("spec").path("selector").path("matchLabels");
    // it scrapes the node Service, which has the http port, not the headless one
    assertThat(selects(selector, r.get("Service", FULLNAME).path("metadata").path("labels")))
        .isTrue();
    assertThat(selects(selector, r.get("Service", HAZELCAST).path("metadata").path("labels")))
        .isFalse();
  }

  @Test
  void ingressKeepsWebSocketsOpenAndSockJsSticky() {
    assertThat(Chart.render().all("Ingress")).isEmpty();
    Rendered r = Chart.production();
    JsonNode web = r.get("Ingress", FULLNAME);
    JsonNode a = web.path("metadata").path("annotations");
    assertThat(a.path("nginx.ingress.kubernetes.io/proxy-read-timeout").asText()).isEqualTo("3600");
    assertThat(a.path("nginx.ingress.kubernetes.io/proxy-send-timeout").asText()).isEqualTo("3600");
    assertThat(a.path("nginx.ingress.kubernetes.io/proxy-http-version").asText()).isEqualTo("1.1");
    assertThat(a.path("nginx.ingress.kubernetes.io/affinity").asText()).isEqualTo("cookie");
    assertThat(a.path("nginx.ingress.kubernetes.io/session-cookie-name").asText())
        .isEqualTo("CHAT4ALL_NODE");
    assertThat(a.path("nginx.ingress.kubernetes.io/proxy-request-buffering").asText())
        .isEqualTo("off");
    assertThat(a.path("cert-manager.io/cluster-issuer").asText()).isEqualTo("letsencrypt");
    assertThat(web.path("spec").path("ingressClassName").asText()).isEqualTo("nginx");
    JsonNode backend =
        web.path("spec").path("rules").path(0).path("http").path("paths").path(0).path("backend");
    assertThat(backend.path("service").path("name").asText()).isEqualTo(FULLNAME);
    assertThat(backend.path("service").path("port").path("name").asText()).isEqualTo("http");
    assertThat(web.path("spec").path("tls").path(0).path("secretName").asText())
        .isEqualTo("chat-example-com-tls");

    JsonNode grpc = r.get("Ingress", FULLNAME + "-grpc");
    assertThat(
            grpc.path("metadata")
                .path("annotations")
                .path("nginx.ingress.kubernetes.io/backend-protocol")
                .asText())
        .isEqualTo("GRPC");
    assertThat(
            grpc.path("spec")
                .path("rules")
                .path(0)
                .path("http")
                .path("paths")
                .path(0)
                .path("backend")
                .path("service")
                .path("port")
                .path("name")
                .asText())
        .isEqualTo("grpc");

    Rendered plain =
        Chart.render(
            List.of(), Map.of("ingress.enabled", true, "ingress.nginx.stickySessions", false));
    JsonNode pa = plain.one("Ingress").path("metadata").path("annotations");
    assertThat(pa.has("nginx.ingress.kubernetes.io/affinity")).isFalse();
    assertThat(pa.path("nginx.ingress.kubernetes.io/proxy-read-timeout").asText())
        .isEqualTo("3600");
  }
}
