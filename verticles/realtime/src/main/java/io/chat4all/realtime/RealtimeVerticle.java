package io.chat4all.realtime;

import io.chat4all.codecs.ServiceException;
import io.chat4all.messaging.MessageActions;
import io.chat4all.web.Authn;
import io.chat4all.web.Principal;
import io.chat4all.web.TokenVerifier;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.eventbus.Message;
import io.vertx.core.json.JsonObject;
import java.util.List;
import java.util.function.BiFunction;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Serves the SockJS clients' addresses ({@link ClientAddresses}): each message's {@code
 * Authorization} header is verified again, then the action runs as that user (the services check
 * membership).
 */
public class RealtimeVerticle extends VerticleBase {
  private static final Logger LOG = LoggerFactory.getLogger(RealtimeVerticle.class);
  private final TokenVerifier verifier;
  private final ClientActions actions;

  public RealtimeVerticle(TokenVerifier verifier, ClientActions actions) {
    this.verifier = verifier;
    this.actions = actions;
  }

  @Override
  public Future<?> start() {
    return Future.all(
        List.of(
            bind(ClientAddresses.SEND, actions::send),
            bind(ClientAddresses.DELIVERED, (p, b) -> actions.mark(p, b, MessageActions.DELIVERED)),
            bind(ClientAddresses.READ, (p, b) -> actions.mark(p, b, MessageActions.READ)),
            bind(
                ClientAddresses.TYPING,
                (p, b) -> {
                  try {
                    return actions.typing(p, ClientActions.conversationId(b));
                  } catch (ServiceException e) {
                    return Future.failedFuture(e);
                  }
                })));
  }

  private Future<Void> bind(
      String address, BiFunction<Principal, JsonObject, Future<JsonObject>> action) {
    return vertx
        .eventBus()
        .<Object>consumer(
            address,
            (Message<Object> msg) ->
                Authn.verify(verifier, msg.headers().get("Authorization"))
                    .compose(
                        p ->
                            msg.body() instanceof JsonObject body
                                ? action.apply(p, body)
                                : Future.failedFuture(
                                    ClientActions.invalid("the body must be a JSON object")))
                    .onComplete(
                        ar -> {
                          if (ar.succeeded()) {
                            msg.reply(ar.result());
                          } else {
                            ServiceException se = ServiceException.from(ar.cause());
                            if (se.code() == io.chat4all.codecs.ErrorCode.INTERNAL) {
                              LOG.error("{} failed", address, ar.cause());
                            }
                            se.fail(msg);
                          }
                        }))
        .completion();
  }
}
