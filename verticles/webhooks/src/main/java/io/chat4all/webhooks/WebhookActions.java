package io.chat4all.webhooks;

/** Action names of the webhook service ({@code chat4all.webhooks}). */
public final class WebhookActions {
  private WebhookActions() {}

  public static final String CREATE = "create";
  public static final String LIST = "list";
  public static final String GET = "get";
  public static final String UPDATE = "update";
  public static final String DELETE = "delete";
  public static final String ROTATE = "rotate_secret";
  public static final String TEST = "test";
  public static final String DELIVERIES = "deliveries";
  public static final String DELIVERY = "delivery";
  public static final String REDELIVER = "redeliver";
  public static final String REDELIVER_FAILED = "redeliver_failed";
}
