package io.chat4all.node;

import io.chat4all.auth.AuthConfig;
import io.chat4all.auth.AuthGrpc;
import io.chat4all.auth.AuthRoutes;
import io.chat4all.auth.AuthVerticle;
import io.chat4all.auth.JwtTokens;
import io.chat4all.channels.ConnectorRegistry;
import io.chat4all.channels.delivery.DeliveryConfig;
import io.chat4all.channels.delivery.DeliveryVerticle;
import io.chat4all.channels.host.HostConfig;
import io.chat4all.channels.host.JarObjects;
import io.chat4all.channels.host.PgDesiredState;
import io.chat4all.channels.host.PluginAdmin;
import io.chat4all.channels.host.PluginAdminRoutes;
import io.chat4all.channels.host.PluginHost;
import io.chat4all.channels.identity.ContactMerge;
import io.chat4all.channels.identity.IdentityConfig;
import io.chat4all.channels.identity.IdentityRoutes;
import io.chat4all.channels.identity.LinkVerification;
import io.chat4all.channels.inbound.Inbound;
import io.chat4all.channels.inbound.InboundConfig;
import io.chat4all.codecs.KafkaMembership;
import io.chat4all.conversations.ConversationGrpc;
import io.chat4all.conversations.ConversationRoutes;
import io.chat4all.conversations.ConversationsVerticle;
import io.chat4all.conversations.LocalMembers;
import io.chat4all.files.ChunkIngest;
import io.chat4all.files.FileGrpc;
import io.chat4all.files.FileRoutes;
import io.chat4all.files.FileStore;
import io.chat4all.files.FilesConfig;
import io.chat4all.files.FilesVerticle;
import io.chat4all.files.ObjectStorage;
import io.chat4all.files.UploadCleanupJob;
import io.chat4all.files.UploadLimits;
import io.chat4all.messaging.FeedStore;
import io.chat4all.messaging.MessageGrpc;
import io.chat4all.messaging.MessageRoutes;
import io.chat4all.messaging.MessageStore;
import io.chat4all.messaging.MessagingConfig;
import io.chat4all.messaging.MessagingVerticle;
import io.chat4all.messaging.Pipeline;
import io.chat4all.messaging.ReadHorizons;
import io.chat4all.messaging.RetentionJob;
import io.chat4all.node.backends.BackendClients;
import io.chat4all.node.cluster.NodeRegistry;
import io.chat4all.node.config.ConfigException;
import io.chat4all.node.config.NodeConfig;
import io.chat4all.node.edge.ClusterAdminRoutes;
import io.chat4all.node.edge.EdgeSecurity;
import io.chat4all.node.edge.OpenApiDocument;
import io.chat4all.node.edge.WebChatRoutes;
import io.chat4all.node.settings.ConfigAdminRoutes;
import io.chat4all.node.settings.ConsumerLag;
import io.chat4all.node.settings.SettingsCatalog;
import io.chat4all.node.settings.SettingsStore;
import io.chat4all.node.settings.SettingsSync;
import io.chat4all.realtime.ClientActions;
import io.chat4all.realtime.Presence;
import io.chat4all.realtime.RealtimeConfig;
import io.chat4all.realtime.RealtimeGateway;
import io.chat4all.realtime.RealtimeGrpc;
import io.chat4all.realtime.RealtimeVerticle;
import io.chat4all.web.GrpcModule;
import io.chat4all.web.RateLimiter;
import io.chat4all.web.RouteModule;
import io.chat4all.web.RuntimeSettings;
import io.chat4all.webhooks.DeliveryLogCleanup;
import io.chat4all.webhooks.DeliveryScheduler;
import io.chat4all.webhooks.DeliveryStore;
import io.chat4all.webhooks.Dispatcher;
import io.chat4all.webhooks.OutboxRelay;
import io.chat4all.webhooks.WebhookRoutes;
import io.chat4all.webhooks.WebhooksConfig;
import io.chat4all.webhooks.WebhooksVerticle;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.util.List;

/**
 * The business services of a node: each service verticle deployed with its collaborators, and the
 * REST and gRPC modules the edges mount.
 */
final class Services {
  final EdgeSecurity security;
  final List<RouteModule> routes;
  final List<GrpcModule> grpc;
  final Pipeline pipeline;

  /** The plugin host: the node's {@link ConnectorRegistry}. */
  final PluginHost plugins;

  /** The web chat, or null when {@code http.frontend_enabled} is false. */
  final WebChatRoutes webChat;

  /** Presence, whose unmarks a stopping node waits for before it closes the clients. */
  final Presence presence;

  private Services(
      EdgeSecurity security,
      List<RouteModule> routes,
      List<GrpcModule> grpc,
      Pipeline pipeline,
      PluginHost plugins,
      WebChatRoutes webChat,
      Presence presence) {
    this.security = security;
    this.routes = routes;
    this.grpc = grpc;
    this.pipeline = pipeline;
    this.plugins = plugins;
    this.webChat = webChat;
    this.presence = presence;
  }

  /**
   * The consumers' group membership: {@code kafka.consumer_*} timeouts, and as static member id
   * {@code node.id} or, clustered, the cluster address (both stable across restarts); none when
   * neither is stable or {@code kafka.consumer_static_membership} is off.
   */
  static KafkaMembership membership(NodeConfig config) {
    JsonObject kafka = config.raw().getJsonObject("kafka");
    String instanceId = null;
    if (kafka.getBoolean("consumer_static_membership", true)) {
      if (!config.node().id().isBlank()) {
        instanceId = "chat4all-" + config.node().id();
      } else if (config.cluster().enabled() && config.cluster().port() != 0) {
        instanceId = "chat4all-" + config.cluster().host() + "-" + config.cluster().port();
      }
    }
    try {
      return new KafkaMembership(
          instanceId,
          kafka.getInteger("consumer_session_timeout_ms", 2000),
          kafka.getInteger("consumer_heartbeat_interval_ms", 500));
    } catch (IllegalArgumentException e) {
      throw new ConfigException("kafka.consumer_heartbeat_interval_ms", e.getMessage());
    }
  }

  /** Builds the services; the returned future completes when every service verticle is deployed. */
  static Future<Services> deploy(
      Vertx vertx,
      NodeConfig config,
      BackendClients clients,
      String nodeId,
      NodeRegistry registry) {
    JsonObject raw = config.raw();
    AuthConfig authConfig = ServiceSettings.authConfig(config, ServiceSettings.jwtSecret(config));
    WebhooksConfig webhooksConfig = ServiceSettings.webhooksConfig(config);
    String redisPrefix = config.redis().keyPrefix();
    JwtTokens tokens = new JwtTokens(vertx, authConfig, clients.redisApi(), redisPrefix);
    // every node's own copy of the revocations, kept by events (and a read every 30 s)
    Future<Void> revocations = tokens.start(30_000);
    LocalMembers localMembers =
        new LocalMembers(vertx, clients.pg(), clients.redisApi(), redisPrefix);
    Future<Void> members = localMembers.start();
    HostConfig hostConfig = ServiceSettings.hostConfig(config);
    // the cluster's runtime flags and limits: read before the node serves, kept in step by the sync
    RuntimeSettings settings = SettingsCatalog.from(raw, hostConfig.adminUsernames());
    SettingsStore settingsStore = new SettingsStore(clients.pg());
    SettingsSync settingsSync =
        new SettingsSync(settingsStore, settings, SettingsCatalog.reconcileIntervalMs(raw));
    Future<String> runtimeSettings = vertx.deployVerticle(settingsSync);
    RateLimiter limiter = new RateLimiter(clients.redisApi(), redisPrefix);
    EdgeSecurity security =
        new EdgeSecurity(
            tokens,
            limiter,
            () -> settings.limitInt(RuntimeSettings.REQUESTS_PER_MINUTE_PER_USER),
            () -> settings.limitInt(RuntimeSettings.REQUESTS_PER_MINUTE_PER_IP));

    Future<String> auth =
        vertx.deployVerticle(
            new AuthVerticle(clients.pg(), clients.redisApi(), redisPrefix, tokens, authConfig));
    Future<String> conversations =
        vertx.deployVerticle(
            new ConversationsVerticle(
                clients.pg(),
                clients.redisApi(),
                redisPrefix,
                config.kafka().topicPrefix(),
                ServiceSettings.conversationsConfig(config),
                localMembers));

    MessagingConfig messaging = ServiceSettings.messagingConfig(config);
    KafkaMembership membership = membership(config);
    MessageStore store = new MessageStore(clients.mongo());
    FeedStore feed = new FeedStore(clients.redis(), redisPrefix, messaging.feedMaxEntries());
    Future<String> messages =
        vertx.deployVerticle(
            new MessagingVerticle(
                    clients.pg(), clients.redisApi(), clients.producer(), store, feed, messaging)
                .withMessageLimit(
                    () -> settings.limitInt(RuntimeSettings.MESSAGES_PER_MINUTE_PER_USER))
                .withMembership(localMembers::of));
    Pipeline messagePipeline =
        new Pipeline(clients.pg(), store, feed, clients.producer(), messaging)
            .membership(membership);
    Future<String> pipeline = vertx.deployVerticle(messagePipeline);
    Future<String> retention =
        vertx.deployVerticle(
            new RetentionJob(
                store, new ReadHorizons(clients.pg()), messaging.retentionDays(), 3_600_000L));
    ClientActions clientActions =
        new ClientActions(vertx, messaging)
            .withFeed(feed)
            .withTypingGate(user -> settings.enabled(RuntimeSettings.TYPING_INDICATORS, user));
    RealtimeConfig realtimeConfig = ServiceSettings.realtimeConfig(config);
    Presence presence =
        new Presence(
            vertx,
            clients.redisApi(),
            redisPrefix,
            clients.pg(),
            clients.producer(),
            config.kafka().topicPrefix(),
            realtimeConfig.presenceTtlSeconds());
    presence.startSweeping(realtimeConfig.presenceSweepSeconds());
    Future<String> realtime = vertx.deployVerticle(new RealtimeVerticle(tokens, clientActions));

    FilesConfig filesConfig = ServiceSettings.filesConfig(config);
    ObjectStorage objects = new ObjectStorage(vertx, clients.s3(), filesConfig.s3());
    FileStore fileStore = new FileStore(clients.mongo());
    FilesVerticle filesVerticle =
        new FilesVerticle(fileStore, objects, filesConfig)
            .withLimits(uploadLimits(settings, limiter));
    Future<String> files =
        vertx
            .deployVerticle(filesVerticle)
            .compose(
                id ->
                    vertx.deployVerticle(
                        new UploadCleanupJob(
                            fileStore,
                            filesVerticle,
                            filesConfig.cleanupIntervalSeconds() * 1000L)));
    ChunkIngest ingest = new ChunkIngest(vertx, objects);

    DeliveryStore deliveryStore = new DeliveryStore(clients.pg());
    // the lease owner differs at every start, also for a node restarted with the same id
    String leaseOwner = nodeId + "/" + java.util.UUID.randomUUID().toString().substring(0, 8);
    Future<String> webhooks =
        vertx
            .deployVerticle(new WebhooksVerticle(clients.pg(), webhooksConfig))
            .compose(
                id ->
                    vertx.deployVerticle(
                        new DeliveryScheduler(deliveryStore, webhooksConfig, leaseOwner)))
            .compose(
                id ->
                    vertx.deployVerticle(
                        new Dispatcher(deliveryStore, webhooksConfig).membership(membership)))
            .compose(
                id ->
                    vertx.deployVerticle(
                        new DeliveryLogCleanup(
                            deliveryStore, webhooksConfig.logRetentionDays(), 3_600_000L)));
    Future<String> outbox =
        vertx.deployVerticle(
            new OutboxRelay(
                clients.pg(),
                clients.mongo(),
                clients.producer(),
                List.of(FileStore.FILES),
                webhooksConfig.outboxIntervalMs(),
                webhooksConfig.outboxBatchSize()));
    JarObjects jars =
        new JarObjects(vertx, clients.s3(), config.s3().bucket(), hostConfig.maxJarBytes());
    PluginHost plugins =
        new PluginHost(
            hostConfig,
            nodeId,
            new PgDesiredState(clients.pg(), jars),
            io.vertx.micrometer.backends.BackendRegistries.getDefaultNow(),
            java.time.Clock.systemUTC());
    Future<String> pluginHost = vertx.deployVerticle(plugins);
    PluginAdmin pluginAdmin =
        new PluginAdmin(vertx, clients.pg(), jars, plugins, () -> memberIds(registry));

    // outbound delivery and inbound webhooks, served by the plugin host's connectors
    ServiceSettings.ChannelSettings channelSettings =
        ServiceSettings.channelSettings(config, messaging.maxTextLength());
    DeliveryConfig deliveryConfig = channelSettings.delivery();
    InboundConfig inboundConfig = channelSettings.inbound();
    IdentityConfig identityConfig = channelSettings.identity();
    // outbound delivery starts once the runtime flags are read (outbound_delivery.<channel>)
    DeliveryVerticle deliveryVerticle =
        new DeliveryVerticle(
                plugins,
                clients.mongo(),
                clients.pg(),
                clients.redisApi(),
                clients.producer(),
                deliveryConfig)
            .membership(membership)
            .withOutboundGate(
                (channel, user) -> {
                  String flag = SettingsCatalog.outboundFlag(channel);
                  return !settings.defaultFlags().containsKey(flag) || settings.enabled(flag, user);
                });
    Future<String> delivery = runtimeSettings.compose(x -> vertx.deployVerticle(deliveryVerticle));
    Future<Inbound> inbound =
        Future.all(messages, conversations, files)
            .compose(
                x ->
                    Inbound.deploy(
                        vertx,
                        inboundConfig,
                        plugins,
                        clients.pg(),
                        clients.mongo(),
                        clients.redisApi(),
                        clients.producer(),
                        ingest,
                        membership));

    OpenApiDocument openApi =
        OpenApiDocument.load(
            List.of(
                "auth",
                "conversations",
                "messaging",
                "realtime",
                "files",
                "plugins",
                "channels",
                "webhooks",
                "settings"));
    // the web chat is mounted last: it answers only GET/HEAD paths no other module has
    WebChatRoutes webChat =
        WebChatRoutes.enabled(raw)
            ? WebChatRoutes.load(
                config.s3().publicEndpoint().isBlank()
                    ? config.s3().endpoint()
                    : config.s3().publicEndpoint())
            : null;
    List<RouteModule> routes =
        new java.util.ArrayList<>(
            List.of(
                openApi,
                new AuthRoutes(vertx),
                new ConversationRoutes(vertx),
                new MessageRoutes(vertx, messaging),
                new RealtimeGateway(vertx, tokens, clientActions, realtimeConfig, presence),
                new FileRoutes(vertx, ingest),
                new PluginAdminRoutes(vertx, pluginAdmin, settings::isAdmin),
                new ClusterAdminRoutes(registry, settings::isAdmin),
                new IdentityRoutes(
                    new LinkVerification(clients.pg(), plugins, identityConfig),
                    new ContactMerge(
                        clients.pg(), clients.mongo(), clients.redisApi(), redisPrefix),
                    settings::isAdmin),
                new ConfigAdminRoutes(
                    vertx,
                    settings,
                    settingsStore,
                    settingsSync,
                    new ConsumerLag(clients.kafkaAdmin(), consumerGroups(config, raw))),
                new WebhookRoutes(vertx, webhooksConfig, settings::isAdmin)));
    List<GrpcModule> grpc =
        List.of(
            new AuthGrpc(vertx, security.rateLimited()),
            new ConversationGrpc(vertx, security.rateLimited()),
            new MessageGrpc(vertx, security.rateLimited(), messaging),
            new FileGrpc(vertx, security.rateLimited(), ingest),
            new RealtimeGrpc(
                vertx, security.rateLimited(), tokens, clientActions, realtimeConfig, presence));
    return Future.all(
            List.of(
                auth,
                conversations,
                messages,
                pipeline,
                retention,
                realtime,
                files,
                pluginHost,
                delivery,
                inbound,
                webhooks,
                outbox,
                runtimeSettings,
                revocations,
                members))
        .map(
            x -> {
              routes.add(inbound.result().routes());
              if (webChat != null) {
                routes.add(webChat);
              }
              return new Services(
                  security, List.copyOf(routes), grpc, messagePipeline, plugins, webChat, presence);
            });
  }

  /** New uploads checked against the runtime limits (size, quota, uploads per hour). */
  private static UploadLimits uploadLimits(RuntimeSettings settings, RateLimiter limiter) {
    return new UploadLimits() {
      @Override
      public long maxSizeBytes() {
        return settings.limit(RuntimeSettings.MAX_UPLOAD_BYTES);
      }

      @Override
      public long userQuotaBytes() {
        return settings.limit(RuntimeSettings.USER_QUOTA_BYTES);
      }

      @Override
      public Future<Void> admit(String userId) {
        return limiter.hit(
            "files:" + userId, settings.limitInt(RuntimeSettings.FILES_PER_HOUR_PER_USER), 3600);
      }
    };
  }

  /** The consumer groups whose lag {@code /v1/admin/consumers} shows, by role. */
  private static java.util.Map<String, String> consumerGroups(NodeConfig config, JsonObject raw) {
    String prefix = config.kafka().topicPrefix();
    JsonObject channels = raw.getJsonObject("channels", new JsonObject());
    java.util.Map<String, String> groups = new java.util.LinkedHashMap<>();
    groups.put(
        "pipeline",
        prefix
            + raw.getJsonObject("messaging", new JsonObject())
                .getString("consumer_group", "chat4all-pipeline"));
    groups.put(
        "delivery",
        prefix
            + channels
                .getJsonObject("delivery", new JsonObject())
                .getString("consumer_group", "chat4all-delivery"));
    groups.put(
        "inbound",
        prefix
            + channels
                .getJsonObject("inbound", new JsonObject())
                .getString("consumer_group", "chat4all-inbound"));
    groups.put(
        "webhooks",
        prefix
            + raw.getJsonObject("webhooks", new JsonObject())
                .getString("consumer_group", "chat4all-webhooks"));
    return groups;
  }

  /** The ids of the cluster's live nodes (from the node registry). */
  private static Future<List<String>> memberIds(NodeRegistry registry) {
    return registry
        .describe()
        .map(
            view ->
                view.getJsonArray("members").stream()
                    .map(o -> (JsonObject) o)
                    .filter(m -> !"missing".equals(m.getString("state")))
                    .map(m -> m.getString("node_id"))
                    .toList());
  }
}
