package io.chat4all.channel.telegram;

import io.chat4all.channel.spi.Capabilities;
import io.chat4all.channel.spi.Capabilities.InboundMode;
import io.chat4all.channel.spi.Capabilities.MediaTransfer;
import io.chat4all.channel.spi.ChannelConnector;
import io.chat4all.channel.spi.ConfigField;
import io.chat4all.channel.spi.ConnectorContext;
import io.chat4all.channel.spi.ConnectorDescriptor;
import io.chat4all.channel.spi.ConnectorException;
import io.chat4all.channel.spi.ErrorClass;
import io.chat4all.channel.spi.Health;
import io.chat4all.channel.spi.InboundEvent;
import io.chat4all.channel.spi.InboundMedia;
import io.chat4all.channel.spi.MediaDownload;
import io.chat4all.channel.spi.MediaKind;
import io.chat4all.channel.spi.OutboundMedia;
import io.chat4all.channel.spi.OutboundMessage;
import io.chat4all.channel.spi.PollResult;
import io.chat4all.channel.spi.SendResult;
import io.chat4all.channel.spi.Signatures;
import io.chat4all.channel.spi.Spi;
import io.chat4all.channel.spi.WebhookRequest;
import io.chat4all.channel.spi.support.LimitedStream;
import io.chat4all.channel.spi.support.MultipartUpload;
import io.vertx.core.Future;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * The Telegram connector: a bot on the Bot API at {@code base_url} (the public API by default, a
 * simulator in tests). Text goes by {@code sendMessage}, media by {@code sendPhoto} / {@code
 * sendVideo} / {@code sendAudio} / {@code sendDocument} (uploaded as multipart, or by URL), replies
 * with {@code reply_parameters}. Inbound updates come by webhook (authenticated by the {@code
 * X-Telegram-Bot-Api-Secret-Token} header that {@code setWebhook} registered) or by {@code
 * getUpdates} long polling. Telegram reports no delivery or read receipts.
 */
public class TelegramConnector implements ChannelConnector {
  public static final String CHANNEL = "telegram";
  static final String SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token";
  static final int MAX_TEXT = 4096;
  static final int MAX_CAPTION = 1024;
  private static final long MB = 1024L * 1024;
  private static final Pattern SECRET_TOKEN = Pattern.compile("[A-Za-z0-9_-]{1,256}");
  private static final List<String> ALLOWED_UPDATES = List.of("message");
  private static final String VERSION = readVersion();

  private ConnectorContext context;
  private BotApi api;
  private String webhookSecret;
  private int pollTimeoutSeconds;
  private long uploadTimeoutMs;
  private MediaTransfer preferred = MediaTransfer.UPLOAD;
  private volatile Health health = Health.down("not checked yet");
  private volatile long healthCheckedAt;

  private static String readVersion() {
    try (InputStream in = TelegramConnector.class.getResourceAsStream("connector.properties")) {
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
                "base_url", "https://api.telegram.org", "Bot API base URL (a simulator in tests)"),
            ConfigField.secret("bot_token", true, "the bot's token from @BotFather"),
            ConfigField.secret(
                "webhook_secret",
                false,
                "secret_token registered with setWebhook and checked on every webhook request"
                    + " (1-256 of A-Z a-z 0-9 _ -); required in webhook mode"),
            ConfigField.string(
                "inbound_mode", false, "webhook", "webhook (setWebhook) or polling (getUpdates)"),
            ConfigField.bool(
                "register_webhook",
                true,
                "call setWebhook at start when the node's public URL is configured"),
            ConfigField.integer("poll_timeout_seconds", 25, "long-poll timeout of getUpdates"),
            ConfigField.string(
                "media_transfer",
                false,
                "upload",
                "upload (multipart, up to 50 MB) or link (Telegram fetches a URL, up to 20 MB)"),
            ConfigField.integer("request_timeout_ms", 30000, "timeout of one Bot API call"),
            ConfigField.integer("upload_timeout_ms", 300000, "timeout of one upload")),
        capabilities());
  }

  private Capabilities capabilities() {
    return new Capabilities(
        MAX_TEXT,
        Map.of(
            MediaKind.IMAGE, 5 * MB,
            MediaKind.VIDEO, 20 * MB,
            MediaKind.AUDIO, 20 * MB,
            MediaKind.DOCUMENT, 20 * MB),
        Map.of(
            MediaKind.IMAGE, 10 * MB,
            MediaKind.VIDEO, 50 * MB,
            MediaKind.AUDIO, 50 * MB,
            MediaKind.DOCUMENT, 50 * MB),
        preferred,
        Set.of(Capabilities.ReceiptKind.SENT),
        Capabilities.MessagingWindow.NONE,
        Set.of(InboundMode.WEBHOOK, InboundMode.POLLING),
        true);
  }

  @Override
  public Future<Void> start(ConnectorContext context) {
    this.context = context;
    JsonObject c = context.config();
    String token = context.secret("bot_token");
    if (token == null || token.isBlank()) {
      return Future.failedFuture(
          new IllegalArgumentException("channels.telegram.bot_token is not configured"));
    }
    String mode = c.getString("inbound_mode", "webhook");
    if (!mode.equals("webhook") && !mode.equals("polling")) {
      return Future.failedFuture(
          new IllegalArgumentException(
              "channels.telegram.inbound_mode must be webhook or polling, not " + mode));
    }
    webhookSecret = context.secret("webhook_secret");
    if (webhookSecret != null && !SECRET_TOKEN.matcher(webhookSecret).matches()) {
      return Future.failedFuture(
          new IllegalArgumentException(
              "channels.telegram.webhook_secret must be 1-256 characters of A-Z a-z 0-9 _ -"));
    }
    if (mode.equals("webhook") && webhookSecret == null) {
      return Future.failedFuture(
          new IllegalArgumentException(
              "channels.telegram.webhook_secret is required in webhook mode (Telegram does not"
                  + " sign updates; the secret header is their only authentication)"));
    }
    String transfer = c.getString("media_transfer", "upload");
    if (!transfer.equals("upload") && !transfer.equals("link")) {
      return Future.failedFuture(
          new IllegalArgumentException(
              "channels.telegram.media_transfer must be upload or link, not " + transfer));
    }
    preferred = transfer.equals("link") ? MediaTransfer.LINK : MediaTransfer.UPLOAD;
    pollTimeoutSeconds = number(c, "poll_timeout_seconds", 25);
    uploadTimeoutMs = number(c, "upload_timeout_ms", 300_000);
    api =
        new BotApi(
            context.httpClient(),
            c.getString("base_url", "https://api.telegram.org"),
            token,
            number(c, "request_timeout_ms", 30_000),
            context.metrics());
    Future<Object> registration;
    if (mode.equals("polling")) {
      registration = api.call("deleteWebhook", new JsonObject().put("drop_pending_updates", false));
    } else if (context.webhookUrl() != null && c.getBoolean("register_webhook", true)) {
      registration =
          api.call(
              "setWebhook",
              new JsonObject()
                  .put("url", context.webhookUrl())
                  .put("secret_token", webhookSecret)
                  .put("allowed_updates", new JsonArray(ALLOWED_UPDATES)));
    } else {
      registration = Future.succeededFuture();
    }
    return registration
        .<Void>mapEmpty()
        .recover(
            err -> {
              if (err instanceof ConnectorException ce && ce.errorClass() == ErrorClass.AUTH) {
                return Future.failedFuture(
                    new IllegalStateException(
                        "the Bot API refused the bot token (" + ce.getMessage() + ")"));
              }
              // the provider may be away for a moment: sends retry; the registration is logged
              context
                  .logger()
                  .log(
                      System.Logger.Level.WARNING,
                      "Telegram webhook registration failed: " + err.getMessage());
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
    long now = context.clock().millis();
    if (now - healthCheckedAt < 30_000) {
      return Future.succeededFuture(health);
    }
    return api.call("getMe", new JsonObject())
        .map(
            me ->
                Health.up(
                    "bot @"
                        + (me instanceof JsonObject o ? o.getString("username", "?") : "?")
                        + " reachable"))
        .recover(err -> Future.succeededFuture(Health.down(err.getMessage())))
        .onSuccess(
            h -> {
              health = h;
              healthCheckedAt = now;
            });
  }

  // --- outbound ---

  @Override
  public Future<SendResult> send(OutboundMessage m) {
    String chat = m.recipientChannelId();
    if (chat == null || chat.isBlank()) {
      return Future.failedFuture(
          ConnectorException.of(ErrorClass.PERMANENT, null, "no Telegram chat id"));
    }
    JsonObject reply = replyParameters(m.replyToProviderMessageId(), chat);
    if (m.media() == null && (m.text() == null || m.text().isEmpty())) {
      return Future.failedFuture(
          ConnectorException.of(ErrorClass.PERMANENT, null, "a text message needs text"));
    }
    if (m.media() == null) {
      return sendTexts(chat, chunks(m.text(), MAX_TEXT), reply, new ArrayList<>())
          .map(SendResult::new);
    }
    String text = m.text();
    boolean separateText = text != null && text.length() > MAX_CAPTION;
    return sendMedia(chat, m.media(), separateText ? null : text, reply)
        .compose(
            id -> {
              List<String> ids = new ArrayList<>(List.of(id));
              return separateText
                  ? sendTexts(chat, chunks(text, MAX_TEXT), null, ids)
                  : Future.succeededFuture(ids);
            })
        .map(SendResult::new);
  }

  private static JsonObject replyParameters(String replyTo, String chat) {
    if (replyTo == null) {
      return null;
    }
    int colon = replyTo.lastIndexOf(':');
    String replyChat = colon < 0 ? chat : replyTo.substring(0, colon);
    if (!replyChat.equals(chat)) {
      return null; // a message of another chat cannot be quoted here
    }
    try {
      return new JsonObject()
          .put("message_id", Long.parseLong(replyTo.substring(colon + 1)))
          .put("allow_sending_without_reply", true);
    } catch (NumberFormatException e) {
      return null;
    }
  }

  static List<String> chunks(String text, int max) {
    List<String> out = new ArrayList<>();
    int i = 0;
    while (i < text.length()) {
      int end = Math.min(text.length(), i + max);
      if (end < text.length() && Character.isHighSurrogate(text.charAt(end - 1))) {
        end--; // never split a surrogate pair
      }
      out.add(text.substring(i, end));
      i = end;
    }
    return out;
  }

  private Future<List<String>> sendTexts(
      String chat, List<String> texts, JsonObject reply, List<String> ids) {
    if (texts.isEmpty()) {
      return Future.succeededFuture(ids);
    }
    JsonObject params = new JsonObject().put("chat_id", chat).put("text", texts.get(0));
    if (reply != null) {
      params.put("reply_parameters", reply);
    }
    return api.call("sendMessage", params)
        .compose(
            result -> {
              ids.add(messageId(result, chat));
              return sendTexts(chat, texts.subList(1, texts.size()), null, ids);
            });
  }

  /** {@code <chat_id>:<message_id>} of a sent Message. */
  private static String messageId(Object result, String chat) {
    if (result instanceof JsonObject msg && msg.getValue("message_id") instanceof Number n) {
      Object c = msg.getJsonObject("chat", new JsonObject()).getValue("id");
      return (c instanceof Number cn ? Long.toString(cn.longValue()) : chat) + ":" + n.longValue();
    }
    throw ConnectorException.of(
        ErrorClass.RETRYABLE, null, "the Bot API accepted the message without a message_id");
  }

  private Future<String> sendMedia(
      String chat, OutboundMedia media, String caption, JsonObject reply) {
    String method;
    String field;
    switch (media.kind()) {
      case IMAGE -> {
        method = "sendPhoto";
        field = "photo";
      }
      case VIDEO -> {
        method = "sendVideo";
        field = "video";
      }
      case AUDIO -> {
        method = "sendAudio";
        field = "audio";
      }
      default -> {
        method = "sendDocument";
        field = "document";
      }
    }
    Capabilities caps = capabilities();
    boolean canUpload =
        media.open() != null && caps.allows(media.kind(), media.sizeBytes(), MediaTransfer.UPLOAD);
    boolean canLink =
        media.link() != null && caps.allows(media.kind(), media.sizeBytes(), MediaTransfer.LINK);
    boolean upload = canUpload && (preferred == MediaTransfer.UPLOAD || !canLink);
    if (!upload && !canLink) {
      return Future.failedFuture(
          ConnectorException.of(
              ErrorClass.MEDIA_REJECTED,
              null,
              "a "
                  + media.kind().name().toLowerCase()
                  + " of "
                  + media.sizeBytes()
                  + " bytes is above Telegram's limits"));
    }
    if (!upload) {
      JsonObject params = new JsonObject().put("chat_id", chat).put(field, media.link());
      if (caption != null) {
        params.put("caption", caption);
      }
      if (reply != null) {
        params.put("reply_parameters", reply);
      }
      return api.call(method, params, uploadTimeoutMs).map(r -> messageId(r, chat));
    }
    Map<String, String> fields = new LinkedHashMap<>();
    fields.put("chat_id", chat);
    if (caption != null) {
      fields.put("caption", caption);
    }
    if (reply != null) {
      fields.put("reply_parameters", reply.encode());
    }
    long started = System.nanoTime();
    RequestOptions options = api.options(method, uploadTimeoutMs);
    return media
        .open()
        .get()
        .compose(
            stream ->
                MultipartUpload.send(
                    context.httpClient(),
                    options,
                    fields,
                    field,
                    media.filename(),
                    media.mimeType(),
                    media.sizeBytes(),
                    stream))
        .map(MultipartUpload.Answer::body)
        .compose(TelegramConnector::uploadResult)
        .transform(ar -> api.finish(method, started, ar.failed() ? ar.cause() : null, ar.result()))
        .map(r -> messageId(r, chat));
  }

  private static Future<Object> uploadResult(io.vertx.core.buffer.Buffer body) {
    JsonObject reply;
    try {
      reply = new JsonObject(body);
    } catch (DecodeException | ClassCastException e) {
      return Future.failedFuture(
          ConnectorException.of(
              ErrorClass.RETRYABLE, null, "the Bot API answered an upload without JSON"));
    }
    if (Boolean.TRUE.equals(reply.getValue("ok"))) {
      return Future.succeededFuture(reply.getValue("result"));
    }
    return Future.failedFuture(BotApi.classify(reply, 0));
  }

  // --- inbound ---

  @Override
  public boolean authenticate(WebhookRequest request) {
    return webhookSecret != null
        && Signatures.constantTimeEquals(request.headers().get(SECRET_HEADER), webhookSecret);
  }

  @Override
  public List<InboundEvent> parse(WebhookRequest request) {
    Object body;
    try {
      body = io.vertx.core.json.Json.decodeValue(request.rawBody());
    } catch (DecodeException e) {
      throw new IllegalArgumentException("the body is not JSON");
    }
    return List.of(Updates.parse(body));
  }

  @Override
  public Future<PollResult> poll(String offset) {
    JsonObject params =
        new JsonObject()
            .put("timeout", pollTimeoutSeconds)
            .put("allowed_updates", new JsonArray(ALLOWED_UPDATES));
    long from;
    try {
      from = offset == null ? 0 : Long.parseLong(offset);
    } catch (NumberFormatException e) {
      return Future.failedFuture(
          ConnectorException.of(ErrorClass.PERMANENT, null, "bad polling offset " + offset));
    }
    if (offset != null) {
      params.put("offset", from);
    }
    return api.call("getUpdates", params, (pollTimeoutSeconds + 15) * 1000L)
        .map(
            result -> {
              if (!(result instanceof JsonArray updates)) {
                throw ConnectorException.of(
                    ErrorClass.RETRYABLE, null, "getUpdates did not answer a list");
              }
              List<InboundEvent> events = new ArrayList<>();
              long next = from;
              for (Object u : updates) {
                try {
                  events.add(Updates.parse(u));
                  next = Math.max(next, Updates.updateId((JsonObject) u) + 1);
                } catch (IllegalArgumentException | ClassCastException bad) {
                  context
                      .logger()
                      .log(System.Logger.Level.WARNING, "skipping a malformed update: " + bad);
                  if (u instanceof JsonObject o && o.getValue("update_id") instanceof Number n) {
                    next = Math.max(next, n.longValue() + 1);
                  }
                }
              }
              return new PollResult(
                  events, next == 0 && offset == null ? null : Long.toString(next));
            });
  }

  @Override
  public Future<MediaDownload> fetchMedia(InboundMedia media, long maxBytes) {
    long limit = Math.min(maxBytes, Updates.DOWNLOAD_LIMIT);
    if (media.sizeBytes() > limit) {
      return Future.failedFuture(tooLarge(media.sizeBytes(), limit));
    }
    return api.call("getFile", new JsonObject().put("file_id", media.ref()))
        .compose(
            result -> {
              JsonObject file = result instanceof JsonObject o ? o : new JsonObject();
              long size = file.getValue("file_size") instanceof Number n ? n.longValue() : -1;
              if (size > limit) {
                return Future.failedFuture(tooLarge(size, limit));
              }
              String path = file.getString("file_path");
              if (path == null) {
                return Future.failedFuture(
                    ConnectorException.of(
                        ErrorClass.MEDIA_REJECTED, null, "getFile gave no file_path"));
              }
              long started = System.nanoTime();
              return context
                  .httpClient()
                  .request(
                      new RequestOptions()
                          .setMethod(HttpMethod.GET)
                          .setAbsoluteURI(api.fileUrl(path))
                          .setIdleTimeout(uploadTimeoutMs))
                  .compose(req -> req.send())
                  .compose(
                      resp -> {
                        resp.pause();
                        if (resp.statusCode() != 200) {
                          resp.resume();
                          return Future.failedFuture(
                              ConnectorException.of(
                                  resp.statusCode() >= 500
                                      ? ErrorClass.RETRYABLE
                                      : ErrorClass.MEDIA_REJECTED,
                                  Integer.toString(resp.statusCode()),
                                  "file download answered HTTP " + resp.statusCode()));
                        }
                        context
                            .metrics()
                            .record(
                                "provider.calls",
                                java.time.Duration.ofNanos(System.nanoTime() - started),
                                "method",
                                "downloadFile",
                                "outcome",
                                "ok");
                        long announced = size >= 0 ? size : media.sizeBytes();
                        return Future.succeededFuture(
                            new MediaDownload(
                                new LimitedStream(resp, limit, () -> resp.request().reset()),
                                media.mimeType(),
                                announced,
                                media.filename()));
                      });
            });
  }

  private static ConnectorException tooLarge(long size, long limit) {
    return ConnectorException.of(
        ErrorClass.MEDIA_REJECTED,
        null,
        "the file has " + size + " bytes, more than the " + limit + " that may be downloaded");
  }
}
