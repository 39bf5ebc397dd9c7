package io.chat4all.channel.whatsapp;

import io.chat4all.channel.meta.GraphClient;
import io.chat4all.channel.meta.MetaWebhooks;
import io.chat4all.channel.spi.Capabilities;
import io.chat4all.channel.spi.Capabilities.InboundMode;
import io.chat4all.channel.spi.Capabilities.MediaTransfer;
import io.chat4all.channel.spi.ChannelConnector;
import io.chat4all.channel.spi.ConfigField;
import io.chat4all.channel.spi.ConnectorContext;
import io.chat4all.channel.spi.ConnectorDescriptor;
import io.chat4all.channel.spi.ConnectorException;
import io.chat4all.channel.spi.ErrorClass;
import io.chat4all.channel.spi.HandshakeResult;
import io.chat4all.channel.spi.Health;
import io.chat4all.channel.spi.InboundEvent;
import io.chat4all.channel.spi.InboundMedia;
import io.chat4all.channel.spi.MediaDownload;
import io.chat4all.channel.spi.MediaKind;
import io.chat4all.channel.spi.OutboundMessage;
import io.chat4all.channel.spi.SendResult;
import io.chat4all.channel.spi.Spi;
import io.chat4all.channel.spi.WebhookRequest;
import io.vertx.core.Future;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;

/**
 * The WhatsApp Cloud API connector: one business phone number ({@code phone_number_id}) on the
 * Graph API at {@code base_url}/{@code api_version} (Meta's by default, a simulator in tests).
 * Sends go to {@code POST /{phone_number_id}/messages} (text, media by link or by an id from {@code
 * POST /{phone_number_id}/media}, templates passed through from {@code metadata.template}), inside
 * the 24-hour customer-service window. Webhooks are signed with {@code X-Hub-Signature-256} (the
 * app secret) and carry messages and statuses ({@link WebhookEvents}); inbound media are fetched
 * with {@code GET /{media_id}} and then the bytes from its URL with the same token.
 */
public class WhatsAppConnector implements ChannelConnector {
  public static final String CHANNEL = "whatsapp";
  static final String SIGNATURE_HEADER = "X-Hub-Signature-256";
  static final Duration WINDOW = Duration.ofHours(24);
  private static final long MB = 1024L * 1024;
  private static final String VERSION = readVersion();

  /** WhatsApp's limits per kind, by link and by upload alike. */
  static final Map<MediaKind, Long> LIMITS =
      Map.of(
          MediaKind.IMAGE, 5 * MB,
          MediaKind.VIDEO, 16 * MB,
          MediaKind.AUDIO, 16 * MB,
          MediaKind.DOCUMENT, 100 * MB);

  /** What a connector with {@code oversize_as_link} lets the host hand it by link. */
  private static final long LINK_ANY_SIZE = 1L << 40;

  private ConnectorContext context;
  private GraphClient graph;
  private Outbound outbound;
  private String phoneNumberId;
  private String appSecret;
  private String verifyToken;
  private MediaTransfer preferred = MediaTransfer.UPLOAD;
  private boolean oversizeAsLink;
  private long uploadTimeoutMs = 300_000;
  private volatile Health health = Health.down("not checked yet");
  private volatile long healthCheckedAt = Long.MIN_VALUE / 2;

  private static String readVersion() {
    try (InputStream in = WhatsAppConnector.class.getResourceAsStream("connector.properties")) {
      Properties p = new Properties();
      if (in != null) {
        p.load(in);
      }
      return p.getProperty("version", "0.0.0");
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  @Override
  public ConnectorDescriptor descriptor() {
    return new ConnectorDescriptor(
        CHANNEL,
        VERSION,
        Spi.VERSION,
        List.of(
            ConfigField.url(
                "base_url",
                "https://graph.facebook.com",
                "Graph API base URL (a simulator in tests)"),
            ConfigField.string("api_version", false, "v21.0", "Graph API version"),
            ConfigField.string(
                "phone_number_id", true, null, "the business phone number's id (WhatsApp Manager)"),
            ConfigField.secret(
                "access_token",
                true,
                "a system-user access token with whatsapp_business_messaging"),
            ConfigField.secret(
                "app_secret",
                true,
                "the Meta app's secret: checks X-Hub-Signature-256 of webhooks"),
            ConfigField.secret(
                "verify_token", false, "the Verify Token entered in the app's webhook settings"),
            ConfigField.string(
                "media_transfer",
                false,
                "upload",
                "upload (POST /media, then the id) or link (WhatsApp fetches the presigned URL)"),
            ConfigField.bool(
                "oversize_as_link",
                false,
                "a file above WhatsApp's limit goes as a text with its link instead of failing"),
            ConfigField.integer("request_timeout_ms", 30000, "timeout of one Graph API call"),
            ConfigField.integer("upload_timeout_ms", 300000, "timeout of one upload or download")),
        capabilities());
  }

  private Capabilities capabilities() {
    Map<MediaKind, Long> byLink = LIMITS;
    if (oversizeAsLink) {
      byLink = new HashMap<>();
      for (MediaKind k : MediaKind.values()) {
        byLink.put(k, LINK_ANY_SIZE);
      }
    }
    return new Capabilities(
        Outbound.MAX_TEXT,
        byLink,
        LIMITS,
        preferred,
        Set.of(
            Capabilities.ReceiptKind.SENT,
            Capabilities.ReceiptKind.DELIVERED,
            Capabilities.ReceiptKind.READ),
        new Capabilities.MessagingWindow(WINDOW, Duration.ZERO),
        Set.of(InboundMode.WEBHOOK),
        true);
  }

  @Override
  public Future<Void> start(ConnectorContext context) {
    this.context = context;
    JsonObject c = context.config();
    String token = context.secret("access_token");
    phoneNumberId = c.getString("phone_number_id");
    appSecret = context.secret("app_secret");
    verifyToken = context.secret("verify_token");
    if (token == null || token.isBlank()) {
      return fail("channels.whatsapp.access_token is not configured");
    }
    if (phoneNumberId == null || !phoneNumberId.matches("[0-9A-Za-z_-]+")) {
      return fail(
          "channels.whatsapp.phone_number_id is not configured (digits, from WhatsApp Manager)");
    }
    if (appSecret == null || appSecret.isBlank()) {
      return fail(
          "channels.whatsapp.app_secret is required: every webhook is checked against its"
              + " X-Hub-Signature-256");
    }
    String transfer = c.getString("media_transfer", "upload");
    if (!transfer.equals("upload") && !transfer.equals("link")) {
      return fail("channels.whatsapp.media_transfer must be upload or link, not " + transfer);
    }
    preferred = transfer.equals("link") ? MediaTransfer.LINK : MediaTransfer.UPLOAD;
    oversizeAsLink = Boolean.TRUE.equals(c.getValue("oversize_as_link"));
    uploadTimeoutMs = number(c, "upload_timeout_ms", 300_000);
    graph =
        new GraphClient(
            context.httpClient(),
            c.getString("base_url", "https://graph.facebook.com"),
            c.getString("api_version", "v21.0"),
            token,
            number(c, "request_timeout_ms", 30_000),
            context.metrics());
    outbound =
        new Outbound(
            graph, phoneNumberId, context.clock(), preferred, oversizeAsLink, uploadTimeoutMs);
    return check()
        .compose(
            h -> {
              if (!h.healthy() && h.detail().startsWith("access token refused")) {
                return fail("the Graph API refused the access token: " + h.detail());
              }
              if (!h.healthy()) {
                context
                    .logger()
                    .log(System.Logger.Level.WARNING, "WhatsApp Cloud API check: " + h.detail());
              }
              return Future.succeededFuture();
            });
  }

  private static <T> Future<T> fail(String message) {
    return Future.failedFuture(new IllegalArgumentException(message));
  }

  private static int number(JsonObject c, String key, int def) {
    return c.getValue(key) instanceof Number n ? n.intValue() : def;
  }

  @Override
  public Future<Void> stop() {
    return Future.succeededFuture();
  }

  @Override
  public Future<Health> health() {
    if (context.clock().millis() - healthCheckedAt < 30_000) {
      return Future.succeededFuture(health);
    }
    return check();
  }

  /** {@code GET /{phone_number_id}}: the token works and the number exists. */
  private Future<Health> check() {
    long now = context.clock().millis();
    return graph
        .get(phoneNumberId, Map.of("fields", "display_phone_number,verified_name"))
        .map(
            o ->
                Health.up(
                    "phone number "
                        + o.getString("display_phone_number", phoneNumberId)
                        + " reachable"))
        .recover(
            err ->
                Future.succeededFuture(
                    err instanceof ConnectorException ce && ce.errorClass() == ErrorClass.AUTH
                        ? Health.down("access token refused (" + ce.getMessage() + ")")
                        : Health.down(err.getMessage())))
        .onSuccess(
            h -> {
              health = h;
              healthCheckedAt = now;
            });
  }

  // --- outbound ---

  @Override
  public Future<SendResult> send(OutboundMessage m) {
    return outbound
        .send(m)
        .onSuccess(
            r -> {
              if (!health.healthy()) {
                health = Health.up("sending");
              }
            })
        .onFailure(
            err -> {
              if (err instanceof ConnectorException ce && ce.errorClass() == ErrorClass.AUTH) {
                // the token stopped working: the channel is unhealthy until a check says otherwise
                health = Health.down("access token refused (" + ce.getMessage() + ")");
                healthCheckedAt = context.clock().millis();
              }
            });
  }

  // --- inbound ---

  @Override
  public HandshakeResult handshake(WebhookRequest request) {
    return MetaWebhooks.handshake(
        verifyToken,
        request.query().get("hub.mode"),
        request.query().get("hub.verify_token"),
        request.query().get("hub.challenge"));
  }

  @Override
  public boolean authenticate(WebhookRequest request) {
    return MetaWebhooks.signatureValid(
        appSecret, request.headers().get(SIGNATURE_HEADER), request.rawBody());
  }

  @Override
  public List<InboundEvent> parse(WebhookRequest request) {
    JsonObject body;
    try {
      body = new JsonObject(request.rawBody());
    } catch (DecodeException | ClassCastException e) {
      throw new IllegalArgumentException("the body is not a JSON object");
    }
    return WebhookEvents.parse(body, phoneNumberId);
  }

  @Override
  public Future<MediaDownload> fetchMedia(InboundMedia media, long maxBytes) {
    if (media.sizeBytes() > maxBytes) {
      return Future.failedFuture(tooLarge(media.sizeBytes(), maxBytes));
    }
    return graph
        .get(media.ref())
        .compose(
            info -> {
              long size = size(info.getValue("file_size"));
              if (size > maxBytes) {
                return Future.failedFuture(tooLarge(size, maxBytes));
              }
              String url = info.getString("url");
              if (url == null) {
                return Future.failedFuture(
                    ConnectorException.of(
                        ErrorClass.MEDIA_REJECTED, null, "GET /" + media.ref() + " gave no url"));
              }
              String mime =
                  media.mimeType() != null ? media.mimeType() : info.getString("mime_type");
              String name =
                  media.filename() != null
                      ? media.filename()
                      : WebhookEvents.defaultName(media.kind(), media.ref(), mime);
              return graph
                  .download(url, maxBytes, mime, name, uploadTimeoutMs)
                  .map(
                      d ->
                          new MediaDownload(
                              d.stream(),
                              d.mimeType(),
                              d.sizeBytes() >= 0 ? d.sizeBytes() : size,
                              d.filename()));
            });
  }

  private static long size(Object v) {
    if (v instanceof Number n) {
      return n.longValue();
    }
    if (v instanceof String s) {
      try {
        return Long.parseLong(s.trim());
      } catch (NumberFormatException e) {
        return -1;
      }
    }
    return -1;
  }

  private static ConnectorException tooLarge(long size, long limit) {
    return ConnectorException.of(
        ErrorClass.MEDIA_REJECTED,
        null,
        "the file has " + size + " bytes, more than the " + limit + " that may be downloaded");
  }
}
