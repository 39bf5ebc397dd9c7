package io.chat4all.node.webchat;

import static com.microsoft.playwright.assertions.PlaywrightAssertions.assertThat;
import static org.assertj.core.api.Assertions.assertThat;

import com.microsoft.playwright.Download;
import com.microsoft.playwright.Locator;
import com.microsoft.playwright.Page;
import com.microsoft.playwright.Route;
import com.microsoft.playwright.options.AriaRole;
import io.chat4all.node.api.Api;
import io.chat4all.testkit.Await;
import io.chat4all.testkit.BackendsExtension;
import io.chat4all.testkit.TestBackends;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The web chat as people use it: real Chromium pages (one browser context per person) against a
 * node started in this JVM on the shared backends, talking REST and the SockJS event-bus bridge.
 */
@ExtendWith(BackendsExtension.class)
class WebChatBrowserTest {
  static Api api;

  @RegisterExtension static final Browser browser = new Browser();

  static final Duration WAIT = Duration.ofSeconds(30);
  static final Pattern CHUNK = Pattern.compile(".*/v1/files/([0-9a-f-]{36})/chunks/(\\d+)$");

  @BeforeAll
  static void start(TestBackends.Isolation iso) {
    api = Api.start(iso);
    browser.base(api.base());
  }

  @AfterAll
  static void stop() {
    browser.close();
    api.close();
  }

  /** The message whose own text (or file name) is exactly {@code text} (not a reply quoting it). */
  static Locator message(Page page, String text) {
    Locator own =
        page.locator("[data-testid=text], [data-testid=file-name]")
            .filter(
                new Locator.FilterOptions().setHasText(Pattern.compile("^" + jsQuote(text) + "$")));
    return page.getByTestId("message").filter(new Locator.FilterOptions().setHas(own));
  }

  /** Escapes a literal for a regular expression that runs in the browser (no \\Q…\\E there). */
  static String jsQuote(String text) {
    return text.replaceAll("[.*+?^${}()|\\[\\]\\\\]", "\\\\$0");
  }

  static void send(Page page, String text) {
    Locator box = page.getByTestId("composer");
    box.fill(text);
    box.press("Enter");
  }

  static Locator conversation(Page page, String title) {
    return page.getByTestId("conversation").filter(new Locator.FilterOptions().setHasText(title));
  }

  static void register(Page page, String username) {
    page.navigate(browser.base() + "/");
    // not signed in: the app sends people to the login page, which links to registration
    assertThat(page).hasURL(Pattern.compile(".*/login$"));
    page.getByRole(AriaRole.LINK, new Page.GetByRoleOptions().setName("Create an account")).click();
    page.getByLabel("Username").fill(username);
    page.getByLabel("Email").fill(username + "@example.test");
    page.getByLabel("Password").fill("correct horse");
    page.getByRole(AriaRole.BUTTON, new Page.GetByRoleOptions().setName("Create account")).click();
    assertThat(page.locator(".me__name")).hasText(username);
  }

  static void startChat(Page page, String username) {
    page.locator(".side-head").getByLabel("New chat").click();
    page.getByTestId("user-search").fill(username);
    page.getByTestId("user-search-go").click();
    page.getByTestId("user-result").click();
    assertThat(page.getByTestId("thread-title")).hasText(username);
  }

  static String suffix() {
    return Long.toString(System.nanoTime(), 36).substring(4);
  }

  @Test
  void twoPeopleRegisterAndChatLiveWithTypingAndReadTicks() {
    String alice = "alice_" + suffix();
    String bob = "bob_" + suffix();
    Page a = browser.newPage();
    Page b = browser.newPage();
    register(a, alice);
    register(b, bob);

    // a taken username is explained on the form
    Page c = browser.newPage();
    c.navigate(browser.base() + "/register");
    c.getByLabel("Username").fill(alice);
    c.getByLabel("Email").fill("other_" + alice + "@example.test");
    c.getByLabel("Password").fill("correct horse");
    c.getByRole(AriaRole.BUTTON, new Page.GetByRoleOptions().setName("Create account")).click();
    assertThat(c.getByText("That username is taken.")).isVisible();
    // a wrong password too
    c.navigate(browser.base() + "/login");
    c.getByLabel("Username or email").fill(alice);
    c.getByLabel("Password").fill("wrong password");
    c.getByRole(AriaRole.BUTTON, new Page.GetByRoleOptions().setName("Sign in")).click();
    assertThat(c.getByRole(AriaRole.ALERT)).hasText("Wrong username or password.");

    startChat(a, bob);
    send(a, "Hello Bob!");
    // bob's list gets the new conversation live, with one unread message
    Locator inBobsList = conversation(b, alice);
    assertThat(inBobsList.getByTestId("unread")).hasText("1");
    assertThat(inBobsList).containsText("Hello Bob!");
    inBobsList.click();
    assertThat(message(b, "Hello Bob!")).isVisible();
    // bob has seen it: alice's ticks turn to read
    assertThat(message(a, "Hello Bob!").getByTestId("ticks")).hasAttribute("data-state", "read");
    assertThat(inBobsList.getByTestId("unread")).hasCount(0);

    // typing shows on the other side while bob writes
    b.getByTestId("composer").pressSequentially("Hi Alice, how");
    assertThat(a.getByTestId("typing")).isVisible();
    b.getByTestId("composer").pressSequentially(" are you?");
    b.getByTestId("composer").press("Enter");
    assertThat(message(a, "Hi Alice, how are you?")).isVisible();
    assertThat(a.getByTestId("typing")).hasCount(0);
    assertThat(message(b, "Hi Alice, how are you?").getByTestId("ticks"))
        .hasAttribute("data-state", "read");

    // and once more each way: order is kept on both sides
    send(a, "Fine, thanks");
    assertThat(message(b, "Fine, thanks")).isVisible();
    List<String> seenByBob = b.getByTestId("text").allTextContents();
    assertThat(seenByBob).containsExactly("Hello Bob!", "Hi Alice, how are you?", "Fine, thanks");
    assertThat(a.getByTestId("text").allTextContents()).isEqualTo(seenByBob);

    // asking for delivery through a channel too: the message lists that channel's state
    a.getByTestId("channels-toggle").click();
    a.getByLabel("WhatsApp").check();
    send(a, "also on WhatsApp");
    assertThat(message(a, "also on WhatsApp").getByTestId("channel-delivery"))
        .containsText("WhatsApp");
    assertThat(message(b, "also on WhatsApp")).isVisible();
  }

  @Test
  void aGroupOfThreeWithRolesReceiptsPerMemberAndLeaving() {
    Api.User owner = api.newUser("gown");
    Api.User bob = api.newUser("gbob");
    Api.User carol = api.newUser("gcar");
    Page a = browser.signIn(owner);
    Page b = browser.signIn(bob);
    Page c = browser.signIn(carol);
    String team = "Team " + suffix();

    a.locator(".side-head").getByLabel("New group").click();
    a.getByTestId("group-name").fill(team);
    for (Api.User u : List.of(bob, carol)) {
      a.getByTestId("user-search").fill(u.username());
      a.getByTestId("user-search-go").click();
      assertThat(a.locator(".chips")).containsText(u.username());
    }
    a.getByTestId("create-group").click();
    assertThat(a.getByTestId("thread-title")).hasText(team);
    send(a, "Welcome to the team");

    for (Page p : List.of(b, c)) {
      conversation(p, team).click();
      assertThat(message(p, "Welcome to the team")).isVisible();
    }
    send(b, "Thanks! Bob here");
    assertThat(message(c, "Thanks! Bob here")).containsText(bob.username());
    assertThat(message(a, "Thanks! Bob here")).isVisible();

    // both have read it: the owner's ticks are read, and hovering them lists each member
    Locator ticks = message(a, "Welcome to the team").getByTestId("ticks");
    assertThat(ticks).hasAttribute("data-state", "read");
    ticks.hover();
    assertThat(ticks.getByTestId("receipt")).hasCount(2);
    assertThat(
            ticks
                .getByTestId("receipt")
                .filter(new Locator.FilterOptions().setHasText(bob.username())))
        .containsText("read");
    assertThat(
            ticks
                .getByTestId("receipt")
                .filter(new Locator.FilterOptions().setHasText(carol.username())))
        .containsText("read");

    // the owner makes bob an admin; carol leaves
    a.getByTestId("group-info").click();
    a.getByTestId("member")
        .filter(new Locator.FilterOptions().setHasText(bob.username()))
        .getByTestId("role-select")
        .selectOption("admin");
    String conv = a.url().substring(a.url().lastIndexOf('/') + 1);
    Await.until("bob is an admin", WAIT, () -> role(owner, conv, bob.id()).equals("admin"));
    c.getByTestId("group-info").click();
    c.getByTestId("leave").click();
    assertThat(conversation(c, team)).hasCount(0);
    Await.until(
        "carol left",
        WAIT,
        () ->
            api.get("/v1/conversations/" + conv, owner.accessToken())
                    .json()
                    .getJsonArray("members")
                    .size()
                == 2);
  }

  static String role(Api.User viewer, String conv, String member) {
    JsonArray members =
        api.get("/v1/conversations/" + conv, viewer.accessToken()).json().getJsonArray("members");
    for (Object o : members) {
      JsonObject m = (JsonObject) o;
      if (m.getString("user_id").equals(member)) {
        return m.getString("role");
      }
    }
    return "none";
  }

  @Test
  void editsAndDeletesReachTheOtherSideAndRepliesQuoteTheOriginal() {
    Api.User alice = api.newUser("eda");
    Api.User bob = api.newUser("edb");
    String conv = api.privateChat(alice, bob);
    Page a = browser.signIn(alice);
    Page b = browser.signIn(bob);
    a.navigate(browser.base() + "/c/" + conv);
    b.navigate(browser.base() + "/c/" + conv);
    send(a, "See you at 10");
    assertThat(message(b, "See you at 10")).isVisible();

    Locator mine = message(a, "See you at 10");
    mine.hover();
    mine.getByTestId("action-edit").click();
    Locator box = a.getByTestId("composer");
    assertThat(box).hasValue("See you at 10");
    box.fill("See you at 11");
    box.press("Enter");
    Locator edited = message(b, "See you at 11");
    assertThat(edited).containsText("edited");
    assertThat(message(b, "See you at 10")).hasCount(0);

    // bob replies to it: the quote shows the original
    edited.hover();
    edited.getByTestId("action-reply").click();
    assertThat(b.getByTestId("reply-preview")).containsText("See you at 11");
    send(b, "Works for me");
    Locator reply = message(a, "Works for me");
    assertThat(reply.locator(".quote")).containsText("See you at 11");

    Locator toDelete = message(a, "See you at 11");
    toDelete.hover();
    toDelete.getByTestId("action-delete").click();
    assertThat(b.getByText("This message was deleted")).isVisible();
    assertThat(b.getByTestId("text").allTextContents()).containsExactly("Works for me");
  }

  @Test
  void messagesWrittenOfflineAreDeliveredOnceWhenBackOnline() {
    Api.User alice = api.newUser("offa");
    Api.User bob = api.newUser("offb");
    String conv = api.privateChat(alice, bob);
    Page a = browser.signIn(alice);
    Page b = browser.signIn(bob);
    a.navigate(browser.base() + "/c/" + conv);
    b.navigate(browser.base() + "/c/" + conv);
    send(a, "before the tunnel");
    assertThat(message(b, "before the tunnel")).isVisible();

    a.context().setOffline(true);
    assertThat(
            a.getByRole(AriaRole.STATUS).filter(new Locator.FilterOptions().setHasText("offline")))
        .isVisible();
    send(a, "written in the tunnel 1");
    send(a, "written in the tunnel 2");
    assertThat(message(a, "written in the tunnel 2").getByTestId("ticks"))
        .hasAttribute("data-state", "pending");
    assertThat(history(alice, conv)).doesNotContain("written in the tunnel 1");

    a.context().setOffline(false);
    assertThat(message(b, "written in the tunnel 2")).isVisible();
    assertThat(message(a, "written in the tunnel 2").getByTestId("ticks"))
        .not()
        .hasAttribute("data-state", "pending");
    assertThat(b.getByTestId("text").allTextContents())
        .containsExactly("before the tunnel", "written in the tunnel 1", "written in the tunnel 2");
    b.reload();
    assertThat(message(b, "written in the tunnel 2")).isVisible();
    assertThat(b.getByTestId("text").allTextContents())
        .containsExactly("before the tunnel", "written in the tunnel 1", "written in the tunnel 2");
    assertThat(history(alice, conv))
        .containsExactly("before the tunnel", "written in the tunnel 1", "written in the tunnel 2");

    // now bob is cut off: what he missed arrives once, in order, from his sync cursor
    b.context().setOffline(true);
    assertThat(
            b.getByRole(AriaRole.STATUS).filter(new Locator.FilterOptions().setHasText("offline")))
        .isVisible();
    for (int i = 1; i <= 3; i++) {
      send(a, "while bob was away " + i);
      assertThat(message(a, "while bob was away " + i).getByTestId("ticks"))
          .not()
          .hasAttribute("data-state", "pending");
    }
    b.context().setOffline(false);
    assertThat(message(b, "while bob was away 3")).isVisible();
    assertThat(b.locator(".banner")).hasCount(0);
    assertThat(b.getByTestId("text").allTextContents())
        .containsExactly(
            "before the tunnel",
            "written in the tunnel 1",
            "written in the tunnel 2",
            "while bob was away 1",
            "while bob was away 2",
            "while bob was away 3");
  }

  static List<String> history(Api.User u, String conv) {
    return api
        .get("/v1/conversations/" + conv + "/messages?limit=50", u.accessToken())
        .expect(200)
        .json()
        .getJsonArray("items")
        .stream()
        .map(o -> ((JsonObject) o).getJsonObject("payload").getString("text"))
        .toList();
  }

  @Test
  void aLargeUploadShowsProgressResumesAfterAReloadAndDownloadsIdentical() throws Exception {
    Api.User alice = api.newUser("upa");
    Api.User bob = api.newUser("upb");
    String conv = api.privateChat(alice, bob);
    Path file = Files.createDirectories(Path.of("target", "webchat")).resolve("holiday.bin");
    String sha = writeRandom(file, 30 * 1024 * 1024 + 12345);

    Page a = browser.signIn(alice);
    Page b = browser.signIn(bob);
    a.navigate(browser.base() + "/c/" + conv);
    b.navigate(browser.base() + "/c/" + conv);

    // chunks 3 and later are held back, as if the connection stalled there
    List<Route> held = new CopyOnWriteArrayList<>();
    String[] fileId = new String[1];
    boolean[] holding = {true};
    a.route(
        "**/v1/files/*/chunks/*",
        route -> {
          Matcher m = CHUNK.matcher(route.request().url());
          if (holding[0] && m.matches() && Integer.parseInt(m.group(2)) >= 3) {
            fileId[0] = m.group(1);
            held.add(route);
          } else {
            route.resume();
          }
        });
    a.getByTestId("file-input").setInputFiles(file);
    Locator upload = a.getByTestId("upload");
    assertThat(upload).containsText("holiday.bin");
    // (Playwright runs route handlers only while this thread is inside a Playwright call)
    Page.WaitForConditionOptions wait = new Page.WaitForConditionOptions().setTimeout(60_000);
    a.waitForCondition(() -> !held.isEmpty(), wait);
    a.waitForCondition(() -> received(alice, fileId[0]).size() == 2, wait);
    assertThat(upload.getByTestId("upload-status")).containsText("%");
    double shown = Double.parseDouble(upload.getByTestId("upload-progress").getAttribute("value"));
    assertThat(shown).isGreaterThanOrEqualTo(16 * 1024 * 1024);

    // reload in the middle (the held chunks never finish: the reload drops them); the new page asks
    // the node what it has and sends only the rest
    holding[0] = false;
    List<Integer> afterReload = new CopyOnWriteArrayList<>();
    a.onRequest(
        r -> {
          Matcher m = CHUNK.matcher(r.url());
          if (m.matches() && r.method().equals("PUT")) {
            afterReload.add(Integer.parseInt(m.group(2)));
          }
        });
    a.reload();
    Locator card = message(b, "holiday.bin");
    assertThat(card.getByTestId("file-card")).containsText("30.0 MB");
    assertThat(afterReload).containsExactlyInAnyOrder(3, 4);
    assertThat(a.getByTestId("upload")).hasCount(0);
    assertThat(message(a, "holiday.bin").getByTestId("ticks")).hasAttribute("data-state", "read");

    Download download = b.waitForDownload(() -> card.getByTestId("download").click());
    assertThat(sha256(download.path())).isEqualTo(sha);
  }

  static List<Object> received(Api.User u, String fileId) {
    if (fileId == null) {
      return List.of();
    }
    return api.get("/v1/files/" + fileId, u.accessToken())
        .expect(200)
        .json()
        .getJsonArray("received_chunks")
        .getList();
  }

  static String writeRandom(Path file, int size) throws Exception {
    MessageDigest md = MessageDigest.getInstance("SHA-256");
    Random r = new Random(42);
    byte[] buf = new byte[1 << 20];
    try (OutputStream out = Files.newOutputStream(file)) {
      for (int left = size; left > 0; left -= buf.length) {
        r.nextBytes(buf);
        int n = Math.min(left, buf.length);
        out.write(buf, 0, n);
        md.update(buf, 0, n);
      }
    }
    return HexFormat.of().formatHex(md.digest());
  }

  static String sha256(Path file) throws Exception {
    MessageDigest md = MessageDigest.getInstance("SHA-256");
    md.update(Files.readAllBytes(file));
    return HexFormat.of().formatHex(md.digest());
  }

  @Test
  void aDeepLinkReloadsIntoTheSameThreadAndSurvivesSignIn() {
    Api.User alice = api.newUser("dla");
    Api.User bob = api.newUser("dlb");
    String conv = api.privateChat(alice, bob);
    api.post(
            "/v1/messages",
            bob.accessToken(),
            Api.textMessage(conv, java.util.UUID.randomUUID().toString(), "deep link"))
        .expect(202);
    Page a = browser.signIn(alice);
    a.navigate(browser.base() + "/c/" + conv);
    assertThat(a.getByTestId("thread-title")).hasText(bob.username());
    a.reload();
    assertThat(a.getByTestId("thread-title")).hasText(bob.username());
    assertThat(message(a, "deep link")).isVisible();
    assertThat(a).hasURL(browser.base() + "/c/" + conv);

    // signed out, the link goes through the login page and then to the thread
    Page fresh = browser.newPage();
    fresh.navigate(browser.base() + "/c/" + conv);
    assertThat(fresh).hasURL(Pattern.compile(".*/login\\?next=.*"));
    fresh.getByLabel("Username or email").fill(alice.username());
    fresh.getByLabel("Password").fill("correct horse");
    fresh.getByRole(AriaRole.BUTTON, new Page.GetByRoleOptions().setName("Sign in")).click();
    assertThat(fresh.getByTestId("thread-title")).hasText(bob.username());
    assertThat(fresh).hasURL(browser.base() + "/c/" + conv);
  }
}
