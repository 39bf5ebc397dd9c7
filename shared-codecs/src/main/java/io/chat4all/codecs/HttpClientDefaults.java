package io.chat4all.codecs;

/**
 * What every HTTP client of the node (object storage, channel delivery, connectors, webhooks) keeps
 * to, so that no request waits on a closed connection without bound.
 *
 * <p>A pooled keep-alive connection that the server closes at the moment a request is put on it can
 * leave that request neither answered nor failed in Vert.x 5.0.7's HTTP/1 client (reproduced with
 * Vert.x alone: a server closing each connection after a fixed time, requests sent just as it does,
 * one request in 600 to 1,200 waited forever, its connection's close handler never called). So:
 *
 * <ul>
 *   <li>the client lets an idle pooled connection go after {@link #KEEP_ALIVE_TIMEOUT_SECONDS},
 *       before the usual server idle timeouts (60 s for this node, most load balancers and proxies)
 *       would close it under a new request;
 *   <li>every request carries its own idle timeout ({@code RequestOptions.setIdleTimeout}) or a
 *       deadline, which ends such a request with a failure the caller retries.
 * </ul>
 */
public final class HttpClientDefaults {
  /** Idle pooled connections are let go after this (Vert.x's default is 60 s). */
  public static final int KEEP_ALIVE_TIMEOUT_SECONDS = 30;

  private HttpClientDefaults() {}
}
