package io.chat4all.conversations;

import io.chat4all.web.RouteModule;
import io.vertx.core.Vertx;
import io.vertx.ext.web.Router;

/** REST routes of the conversation service. STUB. */
public class ConversationRoutes implements RouteModule {
  public ConversationRoutes(Vertx vertx) {}

  @Override
  public void mount(Router router) {}
}
