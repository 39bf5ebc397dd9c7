/**
 * Helpers connectors share (served by the node with the SPI, so a connector jar need not bundle
 * them): a byte-limited stream for media downloads and a streamed {@code multipart/form-data}
 * upload.
 */
package io.chat4all.channel.spi.support;
