package io.chat4all.node.edge;

import io.chat4all.codecs.ErrorCode;
import io.chat4all.codecs.ServiceException;
import io.chat4all.node.cluster.NodeRegistry;
import io.chat4all.web.Authn;
import io.chat4all.web.Principal;
import io.chat4all.web.RouteModule;
import io.vertx.ext.web.Router;
import java.util.Objects;
import java.util.function.Predicate;

/**
 * {@code DELETE /v1/admin/cluster/members/{id}}: an administrator removes the entry a crashed
 * member left in {@code /health/cluster} (204; 404 unknown id; 409 while the member is still in the
 * cluster; 403 for everyone else).
 */
public final class ClusterAdminRoutes implements RouteModule {
  private final NodeRegistry registry;
  private final Predicate<String> isAdmin;

  /**
   * @param isAdmin whether a username is an administrator ({@code admin.usernames} and the
   *     administrators stored by the CLI)
   */
  public ClusterAdminRoutes(NodeRegistry registry, Predicate<String> isAdmin) {
    this.registry = Objects.requireNonNull(registry);
    this.isAdmin = Objects.requireNonNull(isAdmin);
  }

  @Override
  public void mount(Router router) {
    router
        .delete("/v1/admin/cluster/members/:id")
        .handler(
            ctx -> {
              Principal p = Authn.principal(ctx);
              if (p.username() == null || !isAdmin.test(p.username())) {
                ctx.fail(
                    new ServiceException(
                        ErrorCode.FORBIDDEN, "only administrators may remove cluster members"));
                return;
              }
              registry
                  .forget(ctx.pathParam("id"))
                  .onSuccess(v -> ctx.response().setStatusCode(204).end())
                  .onFailure(ctx::fail);
            });
  }
}
