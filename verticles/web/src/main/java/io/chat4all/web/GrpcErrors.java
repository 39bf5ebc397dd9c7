package io.chat4all.web;

import io.chat4all.codecs.ServiceException;
import io.vertx.grpc.common.GrpcStatus;
import io.vertx.grpc.server.StatusException;

/** Maps the project's error model onto gRPC status: {@code status} plus "code: message". */
public final class GrpcErrors {
  private GrpcErrors() {}

  public static StatusException toStatus(Throwable failure) {
    if (failure instanceof StatusException se) {
      return se;
    }
    ServiceException error = ServiceException.from(failure);
    return new StatusException(
        GrpcStatus.valueOf(error.code().grpcCode().code()),
        error.code().wireName() + ": " + error.getMessage());
  }
}
