package io.chat4all.node.webchat;

import static com.microsoft.playwright.assertions.PlaywrightAssertions.assertThat;

import com.microsoft.playwright.BrowserContext;
import com.microsoft.playwright.BrowserType;
import com.microsoft.playwright.Page;
import com.microsoft.playwright.Playwright;
import com.microsoft.playwright.Tracing;
import com.microsoft.playwright.options.AriaRole;
import io.chat4all.node.api.Api;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.extension.AfterTestExecutionCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * Debian's Chromium driven by Playwright (its bundled driver; no browser download), one browser per
 * test class and one context per simulated person. When a test fails, every open page's screenshot
 * and each context's trace ({@code npx playwright show-trace}) are written to {@code
 * target/playwright/}; passing tests keep nothing.
 */
final class Browser implements AfterTestExecutionCallback, AutoCloseable {
  static final Path CHROMIUM =
      Paths.get(
          System.getProperty(
              "chat4all.chromium",
              System.getenv().getOrDefault("CHROMIUM_PATH", "/usr/lib/chromium/chromium")));
  static final Path ARTIFACTS = Paths.get("target", "playwright");

  private final Playwright playwright;
  private final com.microsoft.playwright.Browser browser;
  private final List<BrowserContext> open = new ArrayList<>();
  private String base;

  Browser() {
    if (!Files.isExecutable(CHROMIUM)) {
      throw new IllegalStateException(
          "Chromium not found at "
              + CHROMIUM
              + ": install it (apt-get install chromium; .ci/run does) or set -Dchat4all.chromium");
    }
    playwright =
        Playwright.create(
            new Playwright.CreateOptions().setEnv(Map.of("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1")));
    browser =
        playwright
            .chromium()
            .launch(
                new BrowserType.LaunchOptions()
                    .setExecutablePath(CHROMIUM)
                    .setHeadless(true)
                    .setArgs(
                        List.of(
                            "--no-sandbox",
                            "--disable-gpu",
                            "--disable-background-networking",
                            "--disable-component-update",
                            "--disable-sync",
                            "--no-first-run")));
  }

  Browser base(String base) {
    this.base = base;
    return this;
  }

  String base() {
    return base;
  }

  /** A fresh browser profile (its own storage) with one page. */
  Page newPage() {
    BrowserContext ctx =
        browser.newContext(
            new com.microsoft.playwright.Browser.NewContextOptions()
                .setViewportSize(1200, 800)
                .setAcceptDownloads(true)
                .setLocale("en-US"));
    ctx.setDefaultTimeout(20_000);
    ctx.tracing().start(new Tracing.StartOptions().setScreenshots(true).setSnapshots(true));
    synchronized (open) {
      open.add(ctx);
    }
    Page page = ctx.newPage();
    page.onDialog(d -> d.accept());
    return page;
  }

  /** A page signed in as {@code user} (through the login form), showing the conversation list. */
  Page signIn(Api.User user) {
    Page page = newPage();
    page.navigate(base + "/login");
    page.getByLabel("Username or email").fill(user.username());
    page.getByLabel("Password").fill("correct horse");
    page.getByRole(AriaRole.BUTTON, new Page.GetByRoleOptions().setName("Sign in")).click();
    assertThat(page.locator(".side-head")).isVisible();
    return page;
  }

  @Override
  public void afterTestExecution(ExtensionContext context) throws Exception {
    boolean failed = context.getExecutionException().isPresent();
    String name =
        context.getRequiredTestClass().getSimpleName()
            + "-"
            + context.getRequiredTestMethod().getName();
    List<BrowserContext> contexts;
    synchronized (open) {
      contexts = List.copyOf(open);
      open.clear();
    }
    if (failed) {
      Files.createDirectories(ARTIFACTS);
    }
    int n = 0;
    for (BrowserContext ctx : contexts) {
      n++;
      try {
        if (failed) {
          int p = 0;
          for (Page page : ctx.pages()) {
            page.screenshot(
                new Page.ScreenshotOptions()
                    .setPath(ARTIFACTS.resolve(name + "-user" + n + "-page" + (++p) + ".png"))
                    .setFullPage(true));
          }
          ctx.tracing()
              .stop(
                  new Tracing.StopOptions()
                      .setPath(ARTIFACTS.resolve(name + "-user" + n + ".zip")));
        } else {
          ctx.tracing().stop();
        }
      } finally {
        ctx.close();
      }
    }
  }

  @Override
  public void close() {
    browser.close();
    playwright.close();
  }
}
