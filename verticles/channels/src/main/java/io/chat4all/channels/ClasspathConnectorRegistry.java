package io.chat4all.channels;

import io.chat4all.channel.spi.ChannelConnector;
import io.chat4all.channel.spi.ConfigField;
import io.chat4all.channel.spi.ConnectorContext;
import io.chat4all.channel.spi.ConnectorDescriptor;
import io.chat4all.channel.spi.ConnectorMetrics;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.VerticleBase;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.micrometer.backends.BackendRegistries;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.ServiceLoader;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A stand-in registry until the plugin host serves connectors from {@code plugins/}: it runs the
 * connectors found on the node's own class path ({@code META-INF/services} entries of {@link
 * ChannelConnector}), each in a Vert.x deployment of its own, and lets tests {@link #register} and
 * {@link #remove} connectors while the node runs. No class-loader isolation, no directory watch.
 */
public final class ClasspathConnectorRegistry implements ConnectorRegistry {
  private static final Logger LOG = LoggerFactory.getLogger(ClasspathConnectorRegistry.class);

  private final Vertx vertx;
  private final JsonObject channels;
  private final Map<String, Deployed> active = new ConcurrentHashMap<>();
  private final List<Consumer<String>> listeners = new CopyOnWriteArrayList<>();

  public ClasspathConnectorRegistry(Vertx vertx, JsonObject channelsSection) {
    this.vertx = vertx;
    this.channels = channelsSection == null ? new JsonObject() : channelsSection;
  }

  /**
   * Starts every connector on the class path whose channel is not disabled; failures are logged.
   */
  public Future<ClasspathConnectorRegistry> startAll() {
    return vertx
        .executeBlocking(
            () -> {
              List<ChannelConnector> found = new ArrayList<>();
              ServiceLoader.load(ChannelConnector.class).forEach(found::add);
              return found;
            },
            false)
        .compose(
            found -> {
              List<Future<?>> starts = new ArrayList<>();
              for (ChannelConnector c : found) {
                String channel = c.descriptor().channel();
                if (!section(channel).getBoolean("enabled", true)) {
                  LOG.info("channel {} is disabled; its connector is not started", channel);
                  continue;
                }
                starts.add(
                    register(c)
                        .onFailure(
                            e ->
                                LOG.warn(
                                    "connector {} {} did not start: {}",
                                    channel,
                                    c.descriptor().version(),
                                    e.getMessage())));
              }
              return Future.join(starts).transform(x -> Future.succeededFuture(this));
            });
  }

  private JsonObject section(String channel) {
    return channels.getValue(channel) instanceof JsonObject o ? o : new JsonObject();
  }

  /** Starts {@code connector}; once started it replaces the active one of its channel. */
  public Future<Void> register(ChannelConnector connector) {
    ConnectorDescriptor d = connector.descriptor();
    Deployed next = new Deployed(connector, d);
    return vertx
        .deployVerticle(next)
        .compose(
            id -> {
              next.deploymentId = id;
              Deployed old = active.put(d.channel(), next);
              LOG.info("connector {} {} active", d.channel(), d.version());
              notifyChange(d.channel());
              return old == null ? Future.succeededFuture() : old.retire();
            });
  }

  /** Stops the active connector of {@code channel} (calls in flight finish first). */
  public Future<Void> remove(String channel) {
    Deployed old = active.remove(channel);
    if (old == null) {
      return Future.succeededFuture();
    }
    notifyChange(channel);
    return old.retire();
  }

  private void notifyChange(String channel) {
    for (Consumer<String> l : listeners) {
      try {
        l.accept(channel);
      } catch (RuntimeException e) {
        LOG.warn("a connector change listener failed", e);
      }
    }
  }

  @Override
  public Optional<ActiveConnector> active(String channel) {
    return Optional.ofNullable(active.get(channel));
  }

  @Override
  public Set<String> activeChannels() {
    return Set.copyOf(active.keySet());
  }

  @Override
  public void onChange(Consumer<String> listener) {
    listeners.add(listener);
  }

  /** Stops every connector. */
  public Future<Void> close() {
    List<Future<?>> all = new ArrayList<>();
    for (String channel : List.copyOf(active.keySet())) {
      all.add(remove(channel));
    }
    return Future.join(all).mapEmpty();
  }

  /** One started connector in its own deployment, counting its calls in flight. */
  private final class Deployed extends VerticleBase implements ActiveConnector {
    private final ChannelConnector connector;
    private final ConnectorDescriptor descriptor;
    private volatile boolean retired;
    private int inFlight;
    private Promise<Void> drained;
    private HttpClient http;
    String deploymentId;

    Deployed(ChannelConnector connector, ConnectorDescriptor descriptor) {
      this.connector = connector;
      this.descriptor = descriptor;
    }

    @Override
    public Future<?> start() {
      http =
          vertx.createHttpClient(
              new HttpClientOptions().setKeepAlive(true).setConnectTimeout(10_000),
              new PoolOptions().setHttp1MaxSize(64));
      return connector.start(new Ctx(descriptor, http));
    }

    @Override
    public Future<?> stop() {
      return connector.stop().eventually(() -> http.close());
    }

    Future<Void> retire() {
      Promise<Void> p = Promise.promise();
      context.runOnContext(
          v -> {
            retired = true;
            drained = p;
            if (inFlight == 0) {
              p.tryComplete();
            }
          });
      return p.future().compose(v -> vertx.undeploy(deploymentId));
    }

    @Override
    public String channel() {
      return descriptor.channel();
    }

    @Override
    public String version() {
      return descriptor.version();
    }

    @Override
    public ConnectorDescriptor descriptor() {
      return descriptor;
    }

    @Override
    public <T> Future<T> call(Function<ChannelConnector, Future<T>> fn) {
      if (retired) {
        return Future.failedFuture(new ConnectorGoneException(channel(), version()));
      }
      Promise<T> result = Promise.promise();
      context.runOnContext(
          v -> {
            if (retired) {
              result.fail(new ConnectorGoneException(channel(), version()));
              return;
            }
            inFlight++;
            Future<T> f;
            try {
              f = fn.apply(connector);
            } catch (RuntimeException e) {
              f = Future.failedFuture(e);
            }
            f.onComplete(
                ar -> {
                  inFlight--;
                  if (retired && inFlight == 0 && drained != null) {
                    drained.tryComplete();
                  }
                  result.handle(ar);
                });
          });
      return result.future();
    }

    @Override
    public <T> T callNow(Function<ChannelConnector, T> fn) {
      if (retired) {
        throw new ConnectorGoneException(channel(), version());
      }
      return fn.apply(connector);
    }
  }

  /** What a connector gets: its section of {@code channels}, secrets apart, the node's Vert.x. */
  private final class Ctx implements ConnectorContext {
    private final ConnectorDescriptor descriptor;
    private final HttpClient http;
    private final JsonObject config = new JsonObject();
    private final JsonObject secrets = new JsonObject();

    Ctx(ConnectorDescriptor descriptor, HttpClient http) {
      this.descriptor = descriptor;
      this.http = http;
      JsonObject section = section(descriptor.channel());
      Set<String> secretNames = new java.util.HashSet<>();
      for (ConfigField f : descriptor.config()) {
        if (f.secret()) {
          secretNames.add(f.name());
        } else if (f.defaultValue() != null) {
          config.put(f.name(), f.defaultValue());
        }
      }
      for (String key : section.fieldNames()) {
        Object v = section.getValue(key);
        if (secretNames.contains(key)) {
          if (v != null && !String.valueOf(v).isBlank()) {
            secrets.put(key, String.valueOf(v));
          }
        } else if (v != null && !(v instanceof String s && s.isEmpty())) {
          config.put(key, v);
        }
      }
    }

    @Override
    public Vertx vertx() {
      return vertx;
    }

    @Override
    public HttpClient httpClient() {
      return http;
    }

    @Override
    public JsonObject config() {
      return config.copy();
    }

    @Override
    public String secret(String name) {
      return secrets.getString(name);
    }

    @Override
    public Clock clock() {
      return Clock.systemUTC();
    }

    @Override
    public ConnectorMetrics metrics() {
      MeterRegistry registry = BackendRegistries.getDefaultNow();
      String channel = descriptor.channel();
      return new ConnectorMetrics() {
        @Override
        public void increment(String name, String... tags) {
          if (registry != null) {
            registry.counter("chat4all.channel." + name, withChannel(channel, tags)).increment();
          }
        }

        @Override
        public void record(String name, Duration duration, String... tags) {
          if (registry != null) {
            Timer.builder("chat4all.channel." + name)
                .tags(withChannel(channel, tags))
                .register(registry)
                .record(duration);
          }
        }
      };
    }

    @Override
    public System.Logger logger() {
      return System.getLogger("io.chat4all.channel." + descriptor.channel());
    }

    @Override
    public String webhookUrl() {
      String base = channels.getString("public_base_url", "");
      if (base == null || base.isBlank()) {
        return null;
      }
      return (base.endsWith("/") ? base.substring(0, base.length() - 1) : base)
          + "/webhooks/"
          + descriptor.channel();
    }
  }

  private static String[] withChannel(String channel, String[] tags) {
    String[] all = new String[tags.length + 2];
    all[0] = "channel";
    all[1] = channel;
    System.arraycopy(tags, 0, all, 2, tags.length);
    return all;
  }
}
