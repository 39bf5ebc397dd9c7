package io.chat4all.codecs;

import java.util.Arrays;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Collectors;

/**
 * The one project-wide error-code model. Every failure that leaves a service carries exactly one of
 * these codes; each maps 1:1 onto an HTTP status, a gRPC status code and an event-bus failure code.
 * The wire name ({@link #wireName()}) is the stable string clients see in {@code error.code}.
 */
public enum ErrorCode {
  MALFORMED_JSON(400, GrpcCode.INVALID_ARGUMENT, 40001, "the request body is not valid JSON"),
  VALIDATION_FAILED(400, GrpcCode.INVALID_ARGUMENT, 40002, "the request is invalid"),
  BAD_REQUEST(400, GrpcCode.INVALID_ARGUMENT, 40003, "bad request"),
  CHECKSUM_MISMATCH(
      400, GrpcCode.INVALID_ARGUMENT, 40004, "the data does not match its SHA-256 checksum"),
  UNAUTHENTICATED(401, GrpcCode.UNAUTHENTICATED, 40101, "authentication is required"),
  TOKEN_INVALID(401, GrpcCode.UNAUTHENTICATED, 40102, "the access token is invalid"),
  TOKEN_EXPIRED(401, GrpcCode.UNAUTHENTICATED, 40103, "the access token has expired"),
  TOKEN_REVOKED(401, GrpcCode.UNAUTHENTICATED, 40104, "the access token has been revoked"),
  FORBIDDEN(403, GrpcCode.PERMISSION_DENIED, 40301, "not allowed"),
  FEATURE_DISABLED(403, GrpcCode.PERMISSION_DENIED, 40302, "this feature is turned off"),
  NOT_FOUND(404, GrpcCode.NOT_FOUND, 40401, "not found"),
  ROUTE_NOT_FOUND(404, GrpcCode.UNIMPLEMENTED, 40402, "no such endpoint"),
  METHOD_NOT_ALLOWED(405, GrpcCode.UNIMPLEMENTED, 40501, "method not allowed"),
  REQUEST_TIMEOUT(
      408, GrpcCode.DEADLINE_EXCEEDED, 40801, "the request did not arrive completely in time"),
  CONFLICT(409, GrpcCode.ALREADY_EXISTS, 40901, "conflict"),
  IDEMPOTENCY_CONFLICT(
      409, GrpcCode.ALREADY_EXISTS, 40902, "idempotency key reused with a different request"),
  PRECONDITION_FAILED(412, GrpcCode.FAILED_PRECONDITION, 41201, "precondition failed"),
  PAYLOAD_TOO_LARGE(413, GrpcCode.RESOURCE_EXHAUSTED, 41301, "the request body is too large"),
  QUOTA_EXCEEDED(413, GrpcCode.RESOURCE_EXHAUSTED, 41302, "the storage quota would be exceeded"),
  URI_TOO_LONG(414, GrpcCode.INVALID_ARGUMENT, 41401, "the request URI is too long"),
  UNSUPPORTED_MEDIA_TYPE(415, GrpcCode.INVALID_ARGUMENT, 41501, "unsupported content type"),
  UPGRADE_REQUIRED(
      426, GrpcCode.FAILED_PRECONDITION, 42601, "a WebSocket upgrade (version 13) is required"),
  RATE_LIMITED(429, GrpcCode.RESOURCE_EXHAUSTED, 42901, "too many requests"),
  HEADERS_TOO_LARGE(431, GrpcCode.RESOURCE_EXHAUSTED, 43101, "the request headers are too large"),
  INTERNAL(500, GrpcCode.INTERNAL, 50001, "internal error"),
  UNAVAILABLE(503, GrpcCode.UNAVAILABLE, 50301, "service unavailable"),
  TIMEOUT(504, GrpcCode.DEADLINE_EXCEEDED, 50401, "the request timed out");

  private static final Map<Integer, ErrorCode> BY_FAILURE_CODE =
      Arrays.stream(values())
          .collect(Collectors.toMap(ErrorCode::failureCode, Function.identity()));
  private static final Map<String, ErrorCode> BY_WIRE_NAME =
      Arrays.stream(values()).collect(Collectors.toMap(ErrorCode::wireName, Function.identity()));

  private final int httpStatus;
  private final GrpcCode grpcCode;
  private final int failureCode;
  private final String defaultMessage;

  ErrorCode(int httpStatus, GrpcCode grpcCode, int failureCode, String defaultMessage) {
    this.httpStatus = httpStatus;
    this.grpcCode = grpcCode;
    this.failureCode = failureCode;
    this.defaultMessage = defaultMessage;
  }

  /** HTTP status of a REST reply carrying this error. */
  public int httpStatus() {
    return httpStatus;
  }

  /** gRPC status of a gRPC reply carrying this error. */
  public GrpcCode grpcCode() {
    return grpcCode;
  }

  /** Failure code of an event-bus {@code ReplyException} carrying this error. */
  public int failureCode() {
    return failureCode;
  }

  public String defaultMessage() {
    return defaultMessage;
  }

  /** Stable lowercase name used in JSON error bodies and gRPC error details. */
  public String wireName() {
    return name().toLowerCase(java.util.Locale.ROOT);
  }

  public static ErrorCode fromFailureCode(int failureCode) {
    return BY_FAILURE_CODE.get(failureCode);
  }

  public static ErrorCode fromWireName(String wireName) {
    return wireName == null ? null : BY_WIRE_NAME.get(wireName);
  }

  /** The gRPC status codes used by the model (numbers as in the gRPC specification). */
  public enum GrpcCode {
    OK(0),
    INVALID_ARGUMENT(3),
    DEADLINE_EXCEEDED(4),
    NOT_FOUND(5),
    ALREADY_EXISTS(6),
    PERMISSION_DENIED(7),
    RESOURCE_EXHAUSTED(8),
    FAILED_PRECONDITION(9),
    UNIMPLEMENTED(12),
    INTERNAL(13),
    UNAVAILABLE(14),
    UNAUTHENTICATED(16);

    private final int code;

    GrpcCode(int code) {
      this.code = code;
    }

    public int code() {
      return code;
    }
  }
}
