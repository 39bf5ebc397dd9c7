package io.chat4all.testkit;

import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolver;

/**
 * JUnit 5 extension: makes sure the shared embedded backends run (once per test JVM) and hands the
 * test class an {@link TestBackends.Isolation} of its own, injectable into constructors, lifecycle
 * methods and tests.
 *
 * <pre>{@code
 * @ExtendWith(BackendsExtension.class)
 * class MyTest {
 *   @BeforeAll static void setUp(TestBackends.Isolation iso) { ... iso.nodeConfig() ... }
 * }
 * }</pre>
 */
public class BackendsExtension implements BeforeAllCallback, ParameterResolver {
  private static final ExtensionContext.Namespace NS =
      ExtensionContext.Namespace.create(BackendsExtension.class);

  @Override
  public void beforeAll(ExtensionContext context) {
    isolation(context);
  }

  private static TestBackends.Isolation isolation(ExtensionContext context) {
    ExtensionContext classContext = context;
    while (classContext.getTestMethod().isPresent() && classContext.getParent().isPresent()) {
      classContext = classContext.getParent().get();
    }
    String label = classContext.getRequiredTestClass().getSimpleName();
    return classContext
        .getStore(NS)
        .getOrComputeIfAbsent(
            "isolation", k -> TestBackends.isolate(label), TestBackends.Isolation.class);
  }

  @Override
  public boolean supportsParameter(
      ParameterContext parameterContext, ExtensionContext extensionContext) {
    return parameterContext.getParameter().getType() == TestBackends.Isolation.class;
  }

  @Override
  public Object resolveParameter(
      ParameterContext parameterContext, ExtensionContext extensionContext) {
    return isolation(extensionContext);
  }
}
