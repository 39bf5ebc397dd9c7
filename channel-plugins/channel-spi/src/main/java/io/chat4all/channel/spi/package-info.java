/**
 * The channel connector SPI: the only project API a connector plugin sees.
 *
 * <p>A connector jar contains one class implementing {@link
 * io.chat4all.channel.spi.ChannelConnector}, a {@code META-INF/chat4all-plugin.json} descriptor
 * (see {@link io.chat4all.channel.spi.PluginDescriptor}) and bundles its own libraries, but never
 * this package, {@code io.vertx.*}, {@code io.netty.*}, logging or Jackson: those come parent-first
 * from the host. Every method returns a Vert.x {@code Future} or is pure computation: a connector
 * never blocks the event loop it is called on.
 *
 * <p>A connector never talks to Kafka, the databases or other verticles: the host does all of that
 * around it. The host delivers outbound messages one recipient at a time, in order per recipient,
 * retries according to the {@link io.chat4all.channel.spi.ErrorClass} of a failure, authenticates
 * and parses inbound webhook requests through the connector, deduplicates inbound events on their
 * {@code dedupKey}, and persists a polling offset only after the events before it are durable.
 */
package io.chat4all.channel.spi;
