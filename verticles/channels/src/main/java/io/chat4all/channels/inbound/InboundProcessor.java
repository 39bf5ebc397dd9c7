package io.chat4all.channels.inbound;

import io.chat4all.channel.spi.InboundEvent;
import io.chat4all.channels.delivery.DeliveryStore;
import io.chat4all.channels.delivery.StatusRecords;
import io.chat4all.codecs.Addresses;
import io.chat4all.codecs.ErrorCode;
import io.chat4all.codecs.ServiceBus;
import io.chat4all.codecs.ServiceException;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.UUID;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What an inbound event does. A message of a contact enters the normal message path ({@code send}
 * on the messaging service, so it is numbered, stored and delivered live like any other) from the
 * contact, into the conversation of the latest message we sent them on that channel, else their
 * inbox conversation; its message id is derived from the channel and the provider's event key, so a
 * replay is the same message. A receipt moves the status of the outbound message it names; a
 * watermark those sent to the contact up to it.
 */
final class InboundProcessor {
  private static final Logger LOG = LoggerFactory.getLogger(InboundProcessor.class);

  private final Vertx vertx;
  private final Contacts contacts;
  private final DeliveryStore store;
  private final StatusRecords status;
  private final AttachmentStore media;
  private final InboundConfig config;
  private final ParkedReceipts parked;

  InboundProcessor(
      Vertx vertx,
      Contacts contacts,
      DeliveryStore store,
      StatusRecords status,
      AttachmentStore media,
      InboundConfig config) {
    this.vertx = vertx;
    this.contacts = contacts;
    this.store = store;
    this.status = status;
    this.media = media;
    this.config = config;
    this.parked = new ParkedReceipts(vertx, store, this::applyReceipt);
  }

  /** Tries the receipts that came before their sends once more (periodically, by the consumer). */
  Future<Void> sweepParkedReceipts() {
    return parked.sweep();
  }

  Future<Void> handle(String channel, InboundEvent event) {
    if (event instanceof InboundEvent.Message m) {
      return message(channel, m);
    }
    if (event instanceof InboundEvent.Receipt r) {
      return receipt(channel, r);
    }
    if (event instanceof InboundEvent.Watermark w) {
      return watermark(channel, w);
    }
    if (event instanceof InboundEvent.Deleted d) {
      return deleted(channel, d);
    }
    return Future.succeededFuture();
  }

  /** The platform id of the i-th message made from one provider event. */
  static String messageId(String channel, String dedupKey, int part) {
    return UUID.nameUUIDFromBytes(
            ("chat4all:" + channel + ":" + dedupKey + ":" + part).getBytes(StandardCharsets.UTF_8))
        .toString();
  }

  // --- messages ---

  private Future<Void> message(String channel, InboundEvent.Message m) {
    return contacts
        .findOrCreate(channel, m.providerUserId(), m.displayName(), m.username())
        .compose(
            contact ->
                contacts
                    .touchInbound(
                        channel,
                        m.providerUserId(),
                        m.sentAt() == null ? Instant.now() : m.sentAt())
                    .compose(v -> conversation(channel, contact.userId()))
                    .compose(conv -> deliver(channel, m, contact.userId(), conv, true)));
  }

  /** The conversation of the newest send to the contact on this channel, else the inbox's. */
  private Future<String> conversation(String channel, String contactId) {
    return store
        .latestSent(channel, contactId)
        .compose(
            latest ->
                latest != null && latest.getString("conversation_id") != null
                    ? Future.succeededFuture(latest.getString("conversation_id"))
                    : contacts.inboxConversation(channel, contactId));
  }

  private Future<Void> deliver(
      String channel, InboundEvent.Message m, String contact, String conv, boolean firstTry) {
    Future<String> replyTo =
        m.replyToProviderMessageId() == null
            ? Future.succeededFuture()
            : store
                .byProviderId(channel, m.replyToProviderMessageId())
                .map(
                    doc ->
                        doc != null && conv.equals(doc.getString("conversation_id"))
                            ? doc.getString("message_id")
                            : null);
    return Future.all(replyTo, media.store(channel, m, contact, conv))
        .compose(
            all -> {
              String reply = all.resultAt(0);
              AttachmentStore.Stored stored = all.resultAt(1);
              List<JsonObject> payloads = payloads(m, stored);
              Future<Void> chain = Future.succeededFuture();
              for (int i = 0; i < payloads.size(); i++) {
                JsonObject payload = payloads.get(i);
                String id = messageId(channel, m.dedupKey(), i);
                String quoted = i == 0 ? reply : null;
                chain = chain.compose(v -> send(channel, m, contact, conv, id, payload, quoted));
              }
              return chain;
            })
        .recover(
            err -> {
              // no longer a member of the latest conversation: the inbox conversation instead
              if (firstTry && ServiceException.from(err).code() == ErrorCode.NOT_FOUND) {
                return contacts
                    .inboxConversation(channel, contact)
                    .compose(
                        inbox ->
                            inbox.equals(conv)
                                ? Future.failedFuture(err)
                                : deliver(channel, m, contact, inbox, false));
              }
              return Future.failedFuture(err);
            });
  }

  /** Text (split to the platform's length), the attachment, and a notice of what was left out. */
  private List<JsonObject> payloads(InboundEvent.Message m, AttachmentStore.Stored stored) {
    List<JsonObject> out = new ArrayList<>();
    String text = m.text();
    List<String> notices = new ArrayList<>();
    if (m.notice() != null) {
      notices.add(m.notice());
    }
    if (stored != null && stored.notice() != null) {
      notices.add(stored.notice());
    }
    if (!notices.isEmpty()) {
      String n = "[" + String.join("; ", notices) + "]";
      text = text == null || text.isEmpty() ? n : text + "\n" + n;
    }
    if (stored != null && stored.fileId() != null) {
      JsonObject p =
          new JsonObject().put("type", stored.payloadType()).put("file_id", stored.fileId());
      String caption = text;
      if (caption != null && caption.length() <= config.maxTextLength()) {
        p.put("text", caption);
        text = null;
      }
      out.add(p);
    }
    if (text != null && !text.isEmpty()) {
      int max = config.maxTextLength();
      for (int i = 0; i < text.length(); ) {
        int end = Math.min(text.length(), i + max);
        if (end < text.length() && Character.isHighSurrogate(text.charAt(end - 1))) {
          end--;
        }
        out.add(new JsonObject().put("type", "text").put("text", text.substring(i, end)));
        i = end;
      }
    }
    if (out.isEmpty()) {
      out.add(new JsonObject().put("type", "text").put("text", "[an empty message]"));
    }
    return out;
  }

  private Future<Void> send(
      String channel,
      InboundEvent.Message m,
      String contact,
      String conv,
      String messageId,
      JsonObject payload,
      String replyTo) {
    JsonObject req =
        new JsonObject()
            .put("user_id", contact)
            .put("conversation_id", conv)
            .put("message_id", messageId)
            .put("payload", payload)
            .put("channels", new JsonArray())
            .put("source_channel", channel)
            .put("source_message_id", m.providerMessageId());
    if (replyTo != null) {
      req.put("reply_to_message_id", replyTo);
    }
    JsonObject target =
        new JsonObject()
            .put("message_id", messageId)
            .put("conversation_id", conv)
            .put("user_id", contact)
            .put("direction", "in");
    return ServiceBus.request(vertx, Addresses.MESSAGES, "send", req)
        .<Void>mapEmpty()
        .recover(
            err ->
                // already stored by an earlier attempt (into another conversation maybe): done
                ServiceException.from(err).code() == ErrorCode.IDEMPOTENCY_CONFLICT
                    ? Future.succeededFuture()
                    : Future.failedFuture(err))
        .compose(
            v -> store.recordInbound(channel, messageId, contact, m.providerMessageId(), target));
  }

  // --- deletions ---

  /**
   * The contact unsent a message: the stored inbound message it names (by channel and provider id)
   * becomes a tombstone exactly as when its author deletes it ({@code delete} on the messaging
   * service as that author: deleted, content removed, a live {@code deleted} event to the members,
   * snippet {@code [deleted]}). Unknown ids, our own outbound messages and messages deleted before
   * change nothing.
   */
  private Future<Void> deleted(String channel, InboundEvent.Deleted d) {
    return store
        .byProviderId(channel, d.providerMessageId())
        .compose(
            doc -> {
              if (doc == null
                  || !"in".equals(doc.getString("direction"))
                  || doc.getString("message_id") == null
                  || doc.getString("user_id") == null) {
                LOG.debug(
                    "channel {}: deletion of unknown message {}", channel, d.providerMessageId());
                return Future.succeededFuture();
              }
              return ServiceBus.request(
                      vertx,
                      Addresses.MESSAGES,
                      "delete",
                      new JsonObject()
                          .put("user_id", doc.getString("user_id"))
                          .put("message_id", doc.getString("message_id")))
                  .<Void>mapEmpty()
                  .recover(
                      err -> {
                        ErrorCode code = ServiceException.from(err).code();
                        // deleted before (a replay), or no longer visible to its author: done
                        return code == ErrorCode.CONFLICT
                                || code == ErrorCode.NOT_FOUND
                                || code == ErrorCode.FORBIDDEN
                            ? Future.succeededFuture()
                            : Future.failedFuture(err);
                      });
            });
  }

  // --- receipts ---

  private Future<Void> receipt(String channel, InboundEvent.Receipt r) {
    return applyReceipt(channel, r)
        .compose(
            applied -> {
              if (applied) {
                return Future.succeededFuture();
              }
              // the provider was quicker than the delivery recording its answer: keep it
              LOG.debug(
                  "channel {}: receipt for a message not recorded (yet) {}",
                  channel,
                  r.providerMessageId());
              return parked.park(channel, r);
            });
  }

  /** True when {@code r} applied or has nothing to apply; false when its send is unknown. */
  private Future<Boolean> applyReceipt(String channel, InboundEvent.Receipt r) {
    String s = r.status().name().toLowerCase(Locale.ROOT);
    if (s.equals("sent")) {
      return Future.succeededFuture(true); // the delivery records sent itself
    }
    return store
        .byProviderId(channel, r.providerMessageId())
        .compose(
            doc -> {
              if (doc == null) {
                return Future.succeededFuture(false);
              }
              if (!"out".equals(doc.getString("direction"))) {
                return Future.succeededFuture(true); // a receipt of a contact's own message
              }
              JsonObject record =
                  StatusRecords.status(
                      doc,
                      doc.getString("user_id"),
                      channel,
                      s,
                      r.at() == null ? Instant.now() : r.at());
              record.put("external_message_id", r.providerMessageId());
              if (s.equals("failed")) {
                record
                    .put(
                        "reason",
                        r.errorClass() == null ? "provider_error" : r.errorClass().reason())
                    .put("provider_code", r.providerCode());
              }
              return status.receipt(record).map(true);
            });
  }

  private Future<Void> watermark(String channel, InboundEvent.Watermark w) {
    String s = w.status().name().toLowerCase(Locale.ROOT);
    if (!s.equals("delivered") && !s.equals("read")) {
      return Future.succeededFuture();
    }
    return contacts
        .find(channel, w.providerUserId())
        .compose(
            user ->
                user == null
                    ? Future.succeededFuture(List.<JsonObject>of())
                    : store.sentUpTo(channel, user, w.watermark(), 1000))
        .compose(
            sends -> {
              List<Future<?>> all = new ArrayList<>();
              for (JsonObject d : sends) {
                all.add(
                    status.receipt(
                        StatusRecords.status(
                            d, d.getString("recipient_user_id"), channel, s, w.watermark())));
              }
              return Future.all(all).mapEmpty();
            });
  }
}
