package io.chat4all.node.obs;

import io.chat4all.node.config.ConfigException;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.api.trace.propagation.W3CTraceContextPropagator;
import io.opentelemetry.context.propagation.ContextPropagators;
import io.opentelemetry.exporter.otlp.http.trace.OtlpHttpSpanExporter;
import io.opentelemetry.sdk.OpenTelemetrySdk;
import io.opentelemetry.sdk.resources.Resource;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.export.BatchSpanProcessor;
import io.opentelemetry.sdk.trace.export.SimpleSpanProcessor;
import io.opentelemetry.sdk.trace.export.SpanExporter;
import io.opentelemetry.sdk.trace.samplers.Sampler;
import io.vertx.core.json.JsonObject;
import java.util.concurrent.TimeUnit;

/**
 * The {@code tracing.*} settings and the OpenTelemetry SDK they build: W3C trace-context
 * propagation, a parent-based ratio sampler, OTLP/HTTP export in batches.
 */
public record TracingSetup(
    boolean enabled, String endpoint, double samplerRatio, String serviceName) {

  public static TracingSetup from(JsonObject raw) {
    JsonObject t = raw.getJsonObject("tracing", new JsonObject());
    boolean enabled = Boolean.parseBoolean(String.valueOf(t.getValue("enabled", false)));
    String endpoint = String.valueOf(t.getValue("endpoint", "http://localhost:4318/v1/traces"));
    double ratio;
    try {
      ratio = Double.parseDouble(String.valueOf(t.getValue("sampler_ratio", 1.0)));
    } catch (NumberFormatException e) {
      throw new ConfigException("tracing.sampler_ratio", "must be a number from 0.0 to 1.0");
    }
    if (!(ratio >= 0.0 && ratio <= 1.0)) {
      throw new ConfigException("tracing.sampler_ratio", "must be a number from 0.0 to 1.0");
    }
    if (enabled && !(endpoint.startsWith("http://") || endpoint.startsWith("https://"))) {
      throw new ConfigException("tracing.endpoint", "must be an http:// or https:// URL");
    }
    String service = String.valueOf(t.getValue("service_name", "chat4all"));
    return new TracingSetup(enabled, endpoint, ratio, service.isBlank() ? "chat4all" : service);
  }

  /**
   * The SDK for this node; spans go to {@code exporter} when given (synchronously, for tests and
   * embedding), else to the OTLP endpoint in batches.
   */
  public OpenTelemetrySdk build(String nodeId, String version, SpanExporter exporter) {
    var attributes =
        Attributes.builder().put("service.name", serviceName).put("service.version", version);
    if (nodeId != null && !nodeId.isBlank()) {
      attributes.put("service.instance.id", nodeId);
    }
    Resource resource = Resource.getDefault().merge(Resource.create(attributes.build()));
    SdkTracerProvider provider =
        SdkTracerProvider.builder()
            .setResource(resource)
            .setSampler(Sampler.parentBased(Sampler.traceIdRatioBased(samplerRatio)))
            .addSpanProcessor(
                exporter != null
                    ? SimpleSpanProcessor.create(exporter)
                    : BatchSpanProcessor.builder(
                            OtlpHttpSpanExporter.builder()
                                .setEndpoint(endpoint)
                                .setTimeout(10, TimeUnit.SECONDS)
                                .build())
                        .build())
            .build();
    return OpenTelemetrySdk.builder()
        .setTracerProvider(provider)
        .setPropagators(ContextPropagators.create(W3CTraceContextPropagator.getInstance()))
        .build();
  }
}
