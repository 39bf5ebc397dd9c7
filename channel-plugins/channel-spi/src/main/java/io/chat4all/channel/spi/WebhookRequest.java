package io.chat4all.channel.spi;

import io.vertx.core.MultiMap;
import io.vertx.core.buffer.Buffer;

/**
 * An HTTP request the provider made to {@code /webhooks/<channel>}, as received.
 *
 * @param method {@code GET} or {@code POST}
 * @param query query parameters
 * @param headers request headers (case-insensitive)
 * @param rawBody the body exactly as received (empty for GET): signatures are computed over it,
 *     never over re-serialised JSON
 */
public record WebhookRequest(String method, MultiMap query, MultiMap headers, Buffer rawBody) {}
