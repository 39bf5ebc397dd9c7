package io.chat4all.web;

import io.vertx.ext.web.Router;

/** A service's REST routes, mounted by the HTTP edge on the node's one router. */
@FunctionalInterface
public interface RouteModule {
  void mount(Router router);
}
