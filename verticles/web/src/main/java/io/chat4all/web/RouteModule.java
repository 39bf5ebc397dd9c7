package io.chat4all.web;

import io.vertx.ext.web.Router;

/** A service's REST routes, mounted by the HTTP edge on the node's one router. */
@FunctionalInterface
public interface RouteModule {
  void mount(Router router);

  /**
   * Request paths whose bodies this module streams itself (the edge must not buffer them), or null.
   */
  default java.util.regex.Pattern streamedBodies() {
    return null;
  }
}
