package io.chat4all.channel.meta.messaging;

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
import io.chat4all.channel.spi.OutboundMedia;
import io.chat4all.channel.spi.OutboundMessage;
import io.chat4all.channel.spi.SendResult;
import io.chat4all.channel.spi.Spi;
import io.chat4all.channel.spi.WebhookRequest;
import io.vertx.core.Future;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * A connector for a Messenger Platform product (Facebook Messenger, Instagram Messaging): the Send
 * API {@code POST {base_url}/{api_version}/{account id}/messages} with the access token as a Bearer
 * header ({@link GraphClient}), webhooks authenticated by {@code X-Hub-Signature-256} over the raw
 * body with the app secret and verified by the {@code hub.*} handshake, the 24-hour window ({@link
 * SendPolicy}), attachments by URL or uploaded as {@code filedata}, and inbound attachments fetched
 * from their URLs. The two plugins are this class with a {@link MessagingProduct}; each bundles
 * this library.
 */
public abstract class MessagingConnector implements ChannelConnector {
  static final String SIGNATURE_HEADER = "X-Hub-Signature-256";
  private static final Pattern VERSION = Pattern.compile("v\\d{1,3}\\.\\d{1,3}");
  private static final Pattern ACCOUNT = Pattern.compile("[0-9A-Za-z_-]{1,64}");

  private final MessagingProduct product;
  private final String version;
  private ConnectorContext context;
  private GraphClient graph;
  private String account;
  private String appSecret;
  private String verifyToken;
  private long uploadTimeoutMs;
  private MediaTransfer preferred = MediaTransfer.UPLOAD;
  private volatile Health health = Health.down("not checked yet");
  private volatile long healthCheckedAt;

  /**
   * @param product the product served
   * @param version the plugin's version (the jar's descriptor's)
   */
  protected MessagingConnector(MessagingProduct product, String version) {
    this.product = product;
    this.version = version;
  }

  @Override
  public ConnectorDescriptor descriptor() {
    String name = product.displayName();
    return new ConnectorDescriptor(
        product.channel(),
        version,
        Spi.VERSION,
        List.of(
            ConfigField.url(
                "base_url", product.defaultBaseUrl(), "Graph API base URL (a simulator in tests)"),
            ConfigField.string("api_version", false, "v21.0", "Graph API version, e.g. v21.0"),
            ConfigField.string(
                product.accountKey(),
                true,
                null,
                "the " + name + " account the Send API is called on"),
            ConfigField.secret(product.tokenKey(), true, "the access token of that account"),
            ConfigField.secret(
                "app_secret",
                true,
                "the Meta app's secret: checks X-Hub-Signature-256 of every webhook"),
            ConfigField.secret(
                "verify_token", false, "the Verify Token entered with the callback URL at Meta"),
            ConfigField.string(
                "media_transfer",
                false,
                "upload",
                "upload (multipart filedata) or link (" + name + " fetches a URL)"),
            ConfigField.integer("request_timeout_ms", 30000, "timeout of one Graph API call"),
            ConfigField.integer("upload_timeout_ms", 300000, "timeout of one upload or download")),
        capabilities());
  }

  private Capabilities capabilities() {
    return new Capabilities(
        product.maxText(),
        product.maxBytes(),
        product.maxBytes(),
        preferred,
        product.receipts(),
        new Capabilities.MessagingWindow(SendPolicy.FREE_FORM, SendPolicy.HUMAN_AGENT),
        Set.of(InboundMode.WEBHOOK),
        true);
  }

  private String key(String k) {
    return "channels." + product.channel() + "." + k;
  }

  @Override
  public Future<Void> start(ConnectorContext context) {
    this.context = context;
    JsonObject c = context.config();
    String token = context.secret(product.tokenKey());
    account =
        c.getValue(product.accountKey()) == null
            ? null
            : c.getValue(product.accountKey()).toString().trim();
    appSecret = context.secret("app_secret");
    verifyToken = context.secret("verify_token");
    String apiVersion = c.getString("api_version", "v21.0");
    String transfer = c.getString("media_transfer", "upload");
    String problem = null;
    if (token == null || token.isBlank()) {
      problem = key(product.tokenKey()) + " is not configured";
    } else if (account == null || !ACCOUNT.matcher(account).matches()) {
      problem = key(product.accountKey()) + " is not configured (or is not an id)";
    } else if (appSecret == null || appSecret.isBlank()) {
      problem = key("app_secret") + " is required: every webhook is checked against it";
    } else if (!VERSION.matcher(apiVersion).matches()) {
      problem = key("api_version") + " must look like v21.0, not " + apiVersion;
    } else if (!transfer.equals("upload") && !transfer.equals("link")) {
      problem = key("media_transfer") + " must be upload or link, not " + transfer;
    }
    if (problem != null) {
      return Future.failedFuture(new IllegalArgumentException(problem));
    }
    preferred = transfer.equals("link") ? MediaTransfer.LINK : MediaTransfer.UPLOAD;
    uploadTimeoutMs = number(c, "upload_timeout_ms", 300_000);
    graph =
        new GraphClient(
            context.httpClient(),
            c.getString("base_url", product.defaultBaseUrl()),
            apiVersion,
            token,
            number(c, "request_timeout_ms", 30_000),
            context.metrics());
    return check()
        .compose(
            h -> {
              if (!h.healthy() && h.detail().startsWith("auth:")) {
                return Future.failedFuture(
                    new IllegalStateException(
                        product.displayName() + " refused the access token (" + h.detail() + ")"));
              }
              if (!h.healthy()) {
                context
                    .logger()
                    .log(
                        System.Logger.Level.WARNING,
                        product.displayName() + " not reachable at start: " + h.detail());
              }
              return Future.succeededFuture();
            });
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

  /** {@code GET /me}: the token's account; an AUTH failure makes the health bad. */
  private Future<Health> check() {
    long now = context.clock().millis();
    return graph
        .get("me")
        .map(
            me ->
                Health.up(
                    product.displayName() + " account " + me.getValue("id", "?") + " reachable"))
        .recover(
            err ->
                Future.succeededFuture(
                    Health.down(
                        (err instanceof ConnectorException ce && ce.errorClass() == ErrorClass.AUTH
                                ? "auth: "
                                : "")
                            + err.getMessage())))
        .onSuccess(
            h -> {
              health = h;
              healthCheckedAt = now;
            });
  }

  // --- outbound ---

  @Override
  public Future<SendResult> send(OutboundMessage m) {
    String to = m.recipientChannelId();
    SendPolicy.Typing typing;
    try {
      if (to == null || to.isBlank()) {
        throw ConnectorException.of(
            ErrorClass.PERMANENT, null, "no " + product.displayName() + " recipient id");
      }
      if (m.media() == null && (m.text() == null || m.text().isEmpty())) {
        throw ConnectorException.of(ErrorClass.PERMANENT, null, "a text message needs text");
      }
      if (m.text() != null && m.text().length() > product.maxText()) {
        throw ConnectorException.of(
            ErrorClass.PERMANENT,
            null,
            "the text is longer than " + product.maxText() + " characters");
      }
      if (m.media() != null) {
        checkSize(m.media());
      }
      typing = SendPolicy.typing(m, context.clock().instant());
    } catch (ConnectorException e) {
      return Future.failedFuture(e);
    }
    JsonObject reply =
        m.replyToProviderMessageId() == null
            ? null
            : new JsonObject().put("mid", m.replyToProviderMessageId());
    if (m.media() == null) {
      return text(to, typing, m.text(), reply).map(SendResult::of);
    }
    List<String> ids = new ArrayList<>();
    return media(to, typing, m.media(), reply)
        .compose(
            id -> {
              ids.add(id);
              // attachments carry no caption: the text follows as its own message
              return m.text() == null || m.text().isEmpty()
                  ? Future.succeededFuture()
                  : text(to, typing, m.text(), null).map(ids::add);
            })
        .map(v -> new SendResult(ids));
  }

  private void checkSize(OutboundMedia media) {
    Long max = product.maxBytes().get(media.kind());
    if (max == null || media.sizeBytes() > max) {
      throw ConnectorException.of(
          ErrorClass.MEDIA_TOO_LARGE,
          null,
          "a "
              + media.kind().name().toLowerCase()
              + " of "
              + media.sizeBytes()
              + " bytes is above "
              + product.displayName()
              + "'s limit of "
              + max
              + " bytes");
    }
  }

  private JsonObject envelope(
      String to, SendPolicy.Typing typing, JsonObject message, JsonObject reply) {
    JsonObject body =
        new JsonObject()
            .put("recipient", new JsonObject().put("id", to))
            .put("messaging_type", typing.messagingType());
    if (typing.tag() != null) {
      body.put("tag", typing.tag());
    }
    if (reply != null) {
      body.put("reply_to", reply);
    }
    return body.put("message", message);
  }

  private Future<String> text(String to, SendPolicy.Typing typing, String text, JsonObject reply) {
    return graph
        .post(
            account + "/messages", envelope(to, typing, new JsonObject().put("text", text), reply))
        .map(this::messageId);
  }

  private String messageId(JsonObject answer) {
    String id = answer.getString("message_id");
    if (id == null || id.isEmpty()) {
      throw ConnectorException.of(
          ErrorClass.RETRYABLE,
          null,
          product.displayName() + " accepted the message without a message_id");
    }
    return id;
  }

  static String attachmentType(OutboundMedia media) {
    return switch (media.kind()) {
      case IMAGE -> "image";
      case VIDEO -> "video";
      case AUDIO -> "audio";
      case DOCUMENT -> "file";
    };
  }

  private Future<String> media(
      String to, SendPolicy.Typing typing, OutboundMedia media, JsonObject reply) {
    boolean canUpload = media.open() != null;
    boolean canLink = media.link() != null;
    if (!canUpload && !canLink) {
      return Future.failedFuture(
          ConnectorException.of(
              ErrorClass.MEDIA_REJECTED, null, "the file can neither be linked nor uploaded"));
    }
    boolean upload = canUpload && (preferred == MediaTransfer.UPLOAD || !canLink);
    String type = attachmentType(media);
    if (!upload) {
      JsonObject att =
          new JsonObject()
              .put("type", type)
              .put("payload", new JsonObject().put("url", media.link()).put("is_reusable", false));
      return graph
          .post(
              account + "/messages",
              envelope(to, typing, new JsonObject().put("attachment", att), reply))
          .map(this::messageId);
    }
    Map<String, String> fields = new LinkedHashMap<>();
    JsonObject env =
        envelope(
            to,
            typing,
            new JsonObject()
                .put(
                    "attachment",
                    new JsonObject()
                        .put("type", type)
                        .put("payload", new JsonObject().put("is_reusable", false))),
            reply);
    for (String k : env.fieldNames()) {
      Object v = env.getValue(k);
      fields.put(k, v instanceof JsonObject o ? o.encode() : String.valueOf(v));
    }
    return media
        .open()
        .get()
        .compose(
            stream ->
                graph.upload(
                    account + "/messages",
                    fields,
                    "filedata",
                    media.filename(),
                    media.mimeType(),
                    media.sizeBytes(),
                    stream,
                    uploadTimeoutMs))
        .map(this::messageId);
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
    return MessagingEvents.parse(product.webhookObject(), body);
  }

  @Override
  public Future<MediaDownload> fetchMedia(InboundMedia media, long maxBytes) {
    long limit = Math.min(maxBytes, product.maxBytes().getOrDefault(media.kind(), 25L << 20));
    if (media.sizeBytes() > limit) {
      return Future.failedFuture(
          ConnectorException.of(
              ErrorClass.MEDIA_REJECTED,
              null,
              "the file has "
                  + media.sizeBytes()
                  + " bytes, more than the "
                  + limit
                  + " that may be downloaded"));
    }
    String url = media.ref();
    if (url == null || !(url.startsWith("https://") || url.startsWith("http://"))) {
      return Future.failedFuture(
          ConnectorException.of(ErrorClass.MEDIA_REJECTED, null, "the attachment has no URL"));
    }
    return graph
        // attachment links are signed CDN URLs: the page token is not theirs to see
        .download(
            url,
            limit,
            media.mimeType(),
            media.filename(),
            uploadTimeoutMs,
            GraphClient.MediaAuth.NONE)
        .recover(
            err ->
                // an expired or refused CDN link is gone for good; network trouble is retried
                err instanceof ConnectorException ce
                        && ce.errorClass() != ErrorClass.RETRYABLE
                        && ce.errorClass() != ErrorClass.THROTTLED
                    ? Future.failedFuture(
                        ConnectorException.of(
                            ErrorClass.MEDIA_REJECTED, ce.providerCode(), ce.getMessage()))
                    : Future.failedFuture(err));
  }
}
