package io.chat4all.webhooks;

import io.chat4all.codecs.Addresses;
import io.chat4all.codecs.ErrorCode;
import io.chat4all.codecs.ServiceBus;
import io.chat4all.codecs.ServiceException;
import io.chat4all.codecs.Wire;
import io.chat4all.web.Bodies;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import java.net.URI;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.UUID;

/**
 * The webhook service on the event bus ({@value Addresses#WEBHOOKS}): a user's webhooks (create
 * with the secret shown once, list, get, update, delete, rotate the secret with an overlap, ping),
 * their delivery log and redeliveries. Requests arrive shape-validated by the edge; this verticle
 * owns ownership, the per-user limit, who may register global webhooks ({@code admin.usernames})
 * and the address check of URLs (resolved, {@link AddressGuard}).
 */
public class WebhooksVerticle extends VerticleBase {
  private final WebhooksConfig config;
  private final WebhookStore webhooks;
  private final DeliveryStore deliveries;
  private AddressGuard guard;

  public WebhooksVerticle(Pool pg, WebhooksConfig config) {
    this.config = Objects.requireNonNull(config);
    this.webhooks = new WebhookStore(Objects.requireNonNull(pg));
    this.deliveries = new DeliveryStore(pg);
  }

  @Override
  public Future<?> start() {
    guard = new AddressGuard(vertx, config.allowPrivateAddresses());
    return ServiceBus.bind(
            vertx,
            Addresses.WEBHOOKS,
            Map.ofEntries(
                Map.entry(WebhookActions.CREATE, this::create),
                Map.entry(WebhookActions.LIST, this::list),
                Map.entry(WebhookActions.GET, this::get),
                Map.entry(WebhookActions.UPDATE, this::update),
                Map.entry(WebhookActions.DELETE, this::delete),
                Map.entry(WebhookActions.ROTATE, this::rotate),
                Map.entry(WebhookActions.TEST, this::test),
                Map.entry(WebhookActions.DELIVERIES, this::deliveries),
                Map.entry(WebhookActions.DELIVERY, this::delivery),
                Map.entry(WebhookActions.REDELIVER, this::redeliver),
                Map.entry(WebhookActions.REDELIVER_FAILED, this::redeliverFailed)))
        .completion();
  }

  private Future<JsonObject> create(JsonObject req) {
    UUID me = uuid(req, "user_id");
    boolean global = req.getBoolean("global", false);
    if (global && !isAdmin(req)) {
      throw new ServiceException(
          ErrorCode.FORBIDDEN, "only administrators can register global webhooks");
    }
    String url = req.getString("url");
    String secret = Signatures.newSecret();
    return checkAddress(url)
        .compose(
            x ->
                webhooks.insert(
                    me,
                    url,
                    strings(req.getJsonArray("events")),
                    req.getString("description"),
                    global,
                    secret,
                    config.maxPerUser()))
        .map(
            created -> {
              if (created == null) {
                throw new ServiceException(
                    ErrorCode.CONFLICT,
                    "a user has at most " + config.maxPerUser() + " webhooks",
                    new JsonObject().put("max_per_user", config.maxPerUser()));
              }
              return created.put("secret", secret);
            });
  }

  private Future<JsonObject> list(JsonObject req) {
    return webhooks.list(uuid(req, "user_id")).map(items -> Wire.page(items, null));
  }

  private Future<JsonObject> get(JsonObject req) {
    return webhooks.get(uuid(req, "user_id"), webhookId(req)).map(WebhooksVerticle::found);
  }

  private Future<JsonObject> update(JsonObject req) {
    UUID me = uuid(req, "user_id");
    UUID id = webhookId(req);
    String url = req.getString("url");
    JsonArray events = req.getJsonArray("events");
    Future<Void> checked = url == null ? Future.succeededFuture() : checkAddress(url);
    return checked
        .compose(
            x ->
                webhooks.update(
                    me,
                    id,
                    url,
                    events == null ? null : strings(events),
                    req.getString("description"),
                    req.getBoolean("description_given", false),
                    req.getBoolean("active")))
        .map(WebhooksVerticle::found)
        .onSuccess(
            w -> {
              if (Boolean.TRUE.equals(req.getBoolean("active"))) {
                DeliveryScheduler.wake(vertx, id.toString()); // its pending deliveries resume
              }
            });
  }

  private Future<JsonObject> delete(JsonObject req) {
    return webhooks
        .delete(uuid(req, "user_id"), webhookId(req))
        .map(
            gone -> {
              if (!gone) {
                throw notFound();
              }
              return new JsonObject();
            });
  }

  private Future<JsonObject> rotate(JsonObject req) {
    long overlap = req.getLong("overlap_seconds", config.secretRotationOverlapSeconds());
    String secret = Signatures.newSecret();
    return webhooks
        .rotate(uuid(req, "user_id"), webhookId(req), secret, overlap)
        .map(w -> found(w).put("secret", secret));
  }

  private Future<JsonObject> test(JsonObject req) {
    UUID me = uuid(req, "user_id");
    UUID id = webhookId(req);
    return webhooks
        .get(me, id)
        .compose(
            w -> {
              found(w);
              if (!w.getBoolean("active")) {
                throw new ServiceException(
                    ErrorCode.CONFLICT,
                    "the webhook is disabled; turn it on (PATCH active=true) first",
                    new JsonObject().put("disabled_reason", w.getString("disabled_reason")));
              }
              WebhookEvent ping = WebhookEvent.ping(id.toString());
              return deliveries
                  .insertOne(id, ping)
                  .map(
                      deliveryId -> {
                        DeliveryScheduler.wake(vertx, id.toString());
                        return new JsonObject()
                            .put("delivery_id", deliveryId)
                            .put("event_id", ping.id());
                      });
            });
  }

  private Future<JsonObject> deliveries(JsonObject req) {
    UUID id = webhookId(req);
    return owned(req)
        .compose(
            x ->
                deliveries.page(
                    id,
                    req.getString("status"),
                    req.getLong("cursor"),
                    req.getInteger("limit", Wire.DEFAULT_LIMIT)));
  }

  private Future<JsonObject> delivery(JsonObject req) {
    UUID id = webhookId(req);
    UUID deliveryId = uuidOrNotFound(req, "delivery_id", "delivery");
    return owned(req)
        .compose(x -> deliveries.get(id, deliveryId))
        .map(
            d -> {
              if (d == null) {
                throw new ServiceException(ErrorCode.NOT_FOUND, "delivery not found");
              }
              return d;
            });
  }

  private Future<JsonObject> redeliver(JsonObject req) {
    UUID id = webhookId(req);
    UUID deliveryId = uuidOrNotFound(req, "delivery_id", "delivery");
    return owned(req)
        .compose(x -> deliveries.get(id, deliveryId))
        .compose(
            d -> {
              if (d == null) {
                throw new ServiceException(ErrorCode.NOT_FOUND, "delivery not found");
              }
              return deliveries.redeliver(id, deliveryId, null);
            })
        .map(
            n -> {
              if (n == 0) {
                throw new ServiceException(
                    ErrorCode.CONFLICT,
                    "the delivery is being attempted right now; try again soon");
              }
              DeliveryScheduler.wake(vertx, id.toString());
              return new JsonObject().put("redelivered", n);
            });
  }

  private Future<JsonObject> redeliverFailed(JsonObject req) {
    UUID id = webhookId(req);
    Instant since = Instant.parse(req.getString("since"));
    return owned(req)
        .compose(x -> deliveries.redeliver(id, null, since))
        .map(
            n -> {
              if (n > 0) {
                DeliveryScheduler.wake(vertx, id.toString());
              }
              return new JsonObject().put("redelivered", n);
            });
  }

  // --- helpers ---

  /**
   * Fails {@code validation_failed} on {@code url} unless its host resolves to addresses a webhook
   * may call (the same check runs again before every delivery).
   */
  private Future<Void> checkAddress(String url) {
    String host = WebhookUrls.hostOf(URI.create(url));
    return guard
        .resolve(host)
        .<Void>mapEmpty()
        .recover(
            err ->
                Future.failedFuture(
                    err instanceof AddressGuard.Refused
                        ? Bodies.invalid(
                            "url",
                            "is refused: "
                                + err.getMessage()
                                + (config.allowPrivateAddresses()
                                    ? ""
                                    : " (only public addresses can be webhook targets)"))
                        : err));
  }

  private boolean isAdmin(JsonObject req) {
    // the edge says so for the runtime settings' administrators; admin.usernames holds here too
    String name = req.getString("username");
    return req.getBoolean("admin", false)
        || name != null && config.adminUsernames().contains(name.toLowerCase(Locale.ROOT));
  }

  /** Fails not_found unless the caller owns the webhook of the request. */
  private Future<JsonObject> owned(JsonObject req) {
    return webhooks.get(uuid(req, "user_id"), webhookId(req)).map(WebhooksVerticle::found);
  }

  private static JsonObject found(JsonObject webhook) {
    if (webhook == null) {
      throw notFound();
    }
    return webhook;
  }

  private static ServiceException notFound() {
    return new ServiceException(ErrorCode.NOT_FOUND, "webhook not found");
  }

  private static UUID webhookId(JsonObject req) {
    return uuidOrNotFound(req, "webhook_id", "webhook");
  }

  private static UUID uuidOrNotFound(JsonObject req, String field, String what) {
    try {
      return UUID.fromString(String.valueOf(req.getValue(field)));
    } catch (IllegalArgumentException e) {
      throw new ServiceException(ErrorCode.NOT_FOUND, what + " not found");
    }
  }

  private static UUID uuid(JsonObject req, String field) {
    try {
      return UUID.fromString(String.valueOf(req.getValue(field)));
    } catch (IllegalArgumentException e) {
      throw Bodies.invalid(field, "must be a UUID");
    }
  }

  private static List<String> strings(JsonArray array) {
    List<String> out = new ArrayList<>();
    array.forEach(o -> out.add(String.valueOf(o)));
    return out;
  }
}
