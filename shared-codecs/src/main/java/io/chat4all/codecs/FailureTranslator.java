package io.chat4all.codecs;

import java.util.List;
import java.util.ServiceLoader;

/**
 * Maps failures the codecs cannot know about onto the error model, for example a store refusing a
 * value of the request (which is the client's mistake, not an internal error). {@link
 * ServiceException#from} asks every translator found with {@link ServiceLoader} (registered under
 * {@code META-INF/services/io.chat4all.codecs.FailureTranslator}) before it falls back to {@code
 * internal}.
 */
public interface FailureTranslator {

  /** The error {@code failure} stands for, or null when this translator does not know it. */
  ServiceException translate(Throwable failure);

  /** The translators on the class path, loaded once. */
  static List<FailureTranslator> installed() {
    return Installed.ALL;
  }

  /** Lazy holder: loaded on first use. */
  final class Installed {
    private static final List<FailureTranslator> ALL =
        ServiceLoader.load(FailureTranslator.class, FailureTranslator.class.getClassLoader())
            .stream()
            .map(ServiceLoader.Provider::get)
            .toList();

    private Installed() {}
  }
}
