package io.chat4all.web;

import static org.assertj.core.api.Assertions.assertThat;

import io.chat4all.codecs.ErrorCode;
import io.vertx.redis.client.impl.types.ErrorType;
import java.io.IOException;
import java.net.ConnectException;
import org.junit.jupiter.api.Test;

/**
 * Which failures are a backend outage (503): the failures the clients really produce when a server
 * goes away or restarts, and others that are not.
 */
class BackendErrorsTest {
  private final BackendErrors errors = new BackendErrors();

  @Test
  void whatTheClientsSayWhenAServerGoesAwayIsAnOutage() {
    // the Redis client fails the commands in flight on a dropped connection with this reply
    assertThat(errors.translate(ErrorType.create("CONNECTION_CLOSED")).code())
        .isEqualTo(ErrorCode.UNAVAILABLE);
    assertThat(
            errors
                .translate(ErrorType.create("LOADING Redis is loading the dataset in memory"))
                .code())
        .isEqualTo(ErrorCode.UNAVAILABLE);
    assertThat(errors.translate(new ConnectException("Connection refused")).code())
        .isEqualTo(ErrorCode.UNAVAILABLE);
    assertThat(errors.translate(new IOException("Broken pipe")).code())
        .isEqualTo(ErrorCode.UNAVAILABLE);
    assertThat(
            errors.translate(
                new RuntimeException("wrapped", ErrorType.create("CONNECTION_CLOSED"))))
        .isNotNull();
  }

  @Test
  void otherFailuresAreNot() {
    assertThat(errors.translate(ErrorType.create("ERR wrong number of arguments"))).isNull();
    assertThat(errors.translate(new IllegalStateException("Connection closed by a bug"))).isNull();
    assertThat(errors.translate(new IOException("No space left on device"))).isNull();
  }
}
