//! Browser tests: real headless Chromium through chromedriver, against the real
//! application, finding elements the way a person does (labels, roles, visible text).
//! They skip when Chromium is missing, unless ROSTER_REQUIRE_BROWSER=1.

// A test that unwraps fails with the error as its message.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../common/mod.rs"]
mod common;

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use fantoccini::elements::Element;
use fantoccini::{Client, ClientBuilder, Locator};

use common::{spawn_app, spawn_app_with, start_dns, TestApp, PASSWORD};

const TAB: &str = "\u{e004}";
const ENTER: &str = "\u{e007}";
const BACKSPACE: &str = "\u{e003}";
const ARROW_DOWN: &str = "\u{e015}";

/// chromedriver as a child process, stopped when dropped.
struct Driver {
    child: Child,
    port: u16,
    _profile: TempDir,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

struct TempDir(std::path::PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn find_program(names: &[&str]) -> Option<String> {
    names.iter().find_map(|name| {
        let found = Command::new("sh").arg("-c").arg(format!("command -v {name}")).output().ok()?;
        found.status.success().then(|| String::from_utf8_lossy(&found.stdout).trim().to_owned())
    })
}

/// Starts chromedriver, or says why not: `None` means "skip", unless browsers are required.
fn start_driver() -> Option<Driver> {
    let required = std::env::var("ROSTER_REQUIRE_BROWSER").is_ok_and(|v| v == "1");
    let (Some(driver), Some(_)) =
        (find_program(&["chromedriver"]), find_program(&["chromium", "chromium-browser", "google-chrome"]))
    else {
        assert!(!required, "ROSTER_REQUIRE_BROWSER=1 but chromium or chromedriver is not installed");
        eprintln!("skipping browser test: chromium and chromedriver are not installed (apt-get install chromium chromium-driver)");
        return None;
    };
    let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let child = Command::new(driver)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start chromedriver");
    let profile = std::env::temp_dir().join(format!("roster-chromium-{}", uuid::Uuid::new_v4().simple()));
    Some(Driver { child, port, _profile: TempDir(profile) })
}

async fn open_browser(driver: &Driver) -> Client {
    open_browser_with(driver, true).await
}

/// A browser, with JavaScript on or off (off: every action must work through plain forms).
async fn open_browser_with(driver: &Driver, javascript: bool) -> Client {
    open_browser_profile(driver, javascript, "main").await
}

/// A browser with a profile of its own, so two people can use the app side by side.
async fn open_browser_profile(driver: &Driver, javascript: bool, profile: &str) -> Client {
    open_browser_args(driver, javascript, profile, &[]).await
}

/// A browser whose system setting is dark mode (`prefers-color-scheme: dark`).
async fn open_dark_browser(driver: &Driver) -> Client {
    open_browser_args(driver, true, "dark", &["--force-dark-mode", "--blink-settings=preferredColorScheme=0"]).await
}

async fn open_browser_args(driver: &Driver, javascript: bool, profile: &str, extra: &[&str]) -> Client {
    let chromium = find_program(&["chromium", "chromium-browser", "google-chrome"]).unwrap();
    let mut args: Vec<String> = [
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--window-size=1280,900",
    ]
    .iter()
    .chain(extra)
    .map(|arg| (*arg).to_owned())
    .collect();
    args.push(format!("--user-data-dir={}", driver._profile.0.join(profile).display()));
    let mut capabilities = serde_json::Map::new();
    capabilities.insert(
        "goog:chromeOptions".into(),
        serde_json::json!({
            "binary": chromium,
            "args": args,
            "prefs": { "profile.managed_default_content_settings.javascript": if javascript { 1 } else { 2 } }
        }),
    );
    let url = format!("http://127.0.0.1:{}", driver.port);
    for _ in 0..50 {
        let mut builder = ClientBuilder::rustls().expect("the system trust store loads");
        match builder.capabilities(capabilities.clone()).connect(&url).await {
            Ok(client) => return client,
            Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
        }
    }
    panic!("could not connect to chromedriver at {url}");
}

/// What a person sees and does.
/// Whether a command failed because htmx or a navigation replaced the element it held.
fn went_stale(error: &fantoccini::error::CmdError) -> bool {
    matches!(error, fantoccini::error::CmdError::Standard(e)
        if e.error == fantoccini::error::ErrorStatus::StaleElementReference)
}

struct Person<'a> {
    browser: Client,
    app: &'a TestApp,
}

impl Person<'_> {
    async fn visit(&self, path: &str) {
        self.browser.goto(&self.app.url(path)).await.unwrap();
    }

    /// The control labelled `label`.
    async fn field(&self, label: &str) -> Element {
        let label_element = self
            .browser
            .wait()
            .at_most(Duration::from_secs(5))
            .for_element(Locator::XPath(&format!("//label[normalize-space()='{label}']")))
            .await
            .unwrap_or_else(|_| panic!("no field labelled {label:?}"));
        let id = label_element.attr("for").await.unwrap().expect("label has a for attribute");
        self.browser.find(Locator::Id(&id)).await.unwrap()
    }

    async fn fill(&self, label: &str, value: &str) {
        let field = self.field(label).await;
        field.clear().await.unwrap();
        field.send_keys(value).await.unwrap();
    }

    /// Clicks the button named `name`: in an open dialog if there is one, else in the page's main part.
    async fn press_button(&self, name: &str) {
        let xpath = format!(
            "(//dialog[@open]//button[normalize-space()='{name}'] | //main[not(//dialog[@open])]//button[normalize-space()='{name}'])"
        );
        let button = self
            .browser
            .wait()
            .at_most(Duration::from_secs(5))
            .for_element(Locator::XPath(&xpath))
            .await
            .unwrap_or_else(|_| panic!("no button {name:?}"));
        button.click().await.unwrap();
    }

    /// Clicks the button or link named `name` in the table row that mentions `row_text`.
    async fn press_in_row(&self, row_text: &str, name: &str) {
        let xpath = format!(
            "//tr[td[contains(normalize-space(.), '{row_text}')]]//*[(self::button or self::a) and normalize-space()='{name}']"
        );
        let control = self
            .browser
            .wait()
            .at_most(Duration::from_secs(5))
            .for_element(Locator::XPath(&xpath))
            .await
            .unwrap_or_else(|_| panic!("no {name:?} in the row of {row_text:?}"));
        if !control.is_displayed().await.unwrap() {
            // A secondary action: open the row's More actions menu first, as a person would.
            self.open_row_menu(row_text).await;
        }
        control.click().await.unwrap();
    }

    /// Opens the More actions menu of the table row that shows `row_text`.
    async fn open_row_menu(&self, row_text: &str) {
        let xpath = format!(
            "//tr[td[contains(normalize-space(.), '{row_text}')]]//summary[contains(normalize-space(.), 'More actions')]"
        );
        let summary = self
            .browser
            .find(Locator::XPath(&xpath))
            .await
            .unwrap_or_else(|_| panic!("no More actions in the row of {row_text:?}"));
        summary.click().await.unwrap();
    }

    /// The text of the table row that mentions `row_text`. A row that htmx replaces while
    /// its text is read (pages refresh themselves when the bell changes) is found again.
    async fn row(&self, row_text: &str) -> String {
        let xpath = format!("//tr[td[contains(normalize-space(.), '{row_text}')]]");
        for _ in 0..20 {
            let row = self
                .browser
                .wait()
                .at_most(Duration::from_secs(5))
                .for_element(Locator::XPath(&xpath))
                .await
                .unwrap_or_else(|_| panic!("no row for {row_text:?}"));
            match row.text().await {
                Ok(text) => return text,
                Err(e) if went_stale(&e) => tokio::time::sleep(Duration::from_millis(100)).await,
                Err(e) => panic!("reading the row of {row_text:?}: {e}"),
            }
        }
        panic!("the row of {row_text:?} kept being replaced")
    }

    /// Waits until the row that mentions `row_text` shows `text`.
    async fn row_shows(&self, row_text: &str, text: &str) {
        for _ in 0..50 {
            if self.row(row_text).await.contains(text) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("the row of {row_text:?} never showed {text:?}: {}", self.row(row_text).await);
    }

    async fn sign_in(&self, email: &str) {
        self.visit("/sign-in").await;
        self.fill("Email", email).await;
        self.fill("Password", PASSWORD).await;
        self.press_button("Sign in").await;
        self.sees("Your organizations").await;
    }

    async fn sign_out(&self) {
        self.browser
            .find(Locator::XPath("//summary[starts-with(@aria-label, 'Account menu')]"))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        self.browser
            .find(Locator::XPath("//button[normalize-space()='Sign out']"))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        self.sees("You have signed out.").await;
    }

    async fn follow_link(&self, text: &str) {
        let xpath = format!(
            "//a[normalize-space()='{text}' and not(ancestor::details[not(@open)]) and (ancestor::main or not(//main//a[normalize-space()='{text}']))]"
        );
        // A link found on a page that htmx or a navigation replaces at that moment goes stale:
        // find it again rather than fail on a race the person would never notice.
        for _ in 0..3 {
            let link = self
                .browser
                .wait()
                .at_most(Duration::from_secs(5))
                .for_element(Locator::XPath(&xpath))
                .await
                .unwrap_or_else(|_| panic!("no visible link {text:?}"));
            match link.click().await {
                Ok(_) => return,
                Err(e) if went_stale(&e) => continue,
                Err(e) => panic!("following {text:?}: {e}"),
            }
        }
        panic!("the link {text:?} kept going stale");
    }

    /// Waits until the page shows `text`.
    async fn sees(&self, text: &str) {
        let xpath = format!("//*[contains(normalize-space(.), \"{text}\")]");
        if self.browser.wait().at_most(Duration::from_secs(5)).for_element(Locator::XPath(&xpath)).await.is_err() {
            let body = self.browser.find(Locator::Css("body")).await.unwrap().text().await.unwrap();
            panic!("the page does not show {text:?}; it shows:\n{body}");
        }
    }

    async fn heading(&self) -> String {
        self.browser.find(Locator::Css("main h1")).await.unwrap().text().await.unwrap()
    }

    /// Screenshots of the page at 1280×800 (`{name}-desktop`) and 390×844 (`{name}-phone`), leaving the window at 1280×800.
    async fn screenshots_at_both_widths(&self, name: &str) {
        for (width, height, suffix) in [(1280, 800, "desktop"), (390, 844, "phone")] {
            self.browser.set_window_size(width, height).await.unwrap();
            self.screenshot(&format!("{name}-{suffix}")).await;
        }
        self.browser.set_window_size(1280, 800).await.unwrap();
    }

    async fn screenshot(&self, name: &str) {
        let png = self.browser.screenshot().await.unwrap();
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/screenshots");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join(format!("{name}.png")), png).unwrap();
    }

    /// Presses Tab until the control labelled `label` has focus (at most 40 times).
    async fn tab_to(&self, label: &str) {
        let target = self.field(label).await.attr("id").await.unwrap();
        for _ in 0..40 {
            let active = self.browser.active_element().await.unwrap();
            if active.attr("id").await.unwrap() == target {
                return;
            }
            active.send_keys(TAB).await.unwrap();
        }
        panic!("Tab never reached {label:?}");
    }

    /// What the link `text` downloads, fetched with this person's session, as the
    /// browser would save it.
    async fn download(&self, text: &str) -> String {
        let link = self.browser.find(Locator::LinkText(text)).await.unwrap();
        let href = link.attr("href").await.unwrap().expect("the link has an address");
        let cookies = self.browser.get_all_cookies().await.unwrap();
        let cookie = cookies.iter().map(|c| format!("{}={}", c.name(), c.value())).collect::<Vec<_>>().join("; ");
        let response = reqwest::Client::new()
            .get(self.app.url(&href))
            .header(reqwest::header::COOKIE, cookie)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), reqwest::StatusCode::OK, "downloading {href}");
        response.text().await.unwrap()
    }

    async fn type_keys(&self, keys: &str) {
        self.browser.active_element().await.unwrap().send_keys(keys).await.unwrap();
    }
}

#[tokio::test]
async fn a_newcomer_signs_up_verifies_through_the_dev_mailbox_and_creates_an_organization() {
    let Some(driver) = start_driver() else { return };
    let app = spawn_app().await;
    let person = Person { browser: open_browser(&driver).await, app: &app };

    person.visit("/").await;
    assert_eq!(person.heading().await, "Sign in to Roster");
    person.follow_link("Create an account").await;
    person.fill("Name", "Ada Lovelace").await;
    person.fill("Email", "ada@example.com").await;
    person.fill("Password", PASSWORD).await;
    person.fill("Confirm password", PASSWORD).await;
    person.screenshot("sign-up").await;
    person.press_button("Create account").await;
    person.sees("We sent a link to ada@example.com").await;
    assert_eq!(person.heading().await, "Check your email");

    person.follow_link("Dev mailbox").await;
    person.follow_link("Verify your email address for Roster").await;
    let link = person.browser.find(Locator::XPath("//main//a[contains(@href, '/verify-email?token=')]")).await.unwrap();
    link.click().await.unwrap();
    person.sees("Confirm that ada@example.com is your address.").await;
    person.press_button("Verify email address").await;
    // Signed in by the link, in the browser that signed up: no sign-in form on the way.
    person.sees("ada@example.com is verified. Welcome to Roster.").await;
    person.sees("You do not belong to any organization yet.").await;
    assert_eq!(person.heading().await, "Dashboard");

    person.follow_link("Create organization").await;
    person.fill("Organization name", "Babbage & Co").await;
    person.press_button("Create organization").await;
    person.sees("Babbage & Co was created. You are its Owner.").await;
    assert_eq!(person.heading().await, "Babbage & Co");
    person.sees("1 / 100 seats used").await;
    person.screenshot("organization-overview").await;

    person.follow_link("Dashboard").await;
    person.sees("Your organizations").await;
    let row = person
        .browser
        .find(Locator::XPath("//table//tr[td/a[normalize-space()='Babbage & Co']]"))
        .await
        .expect("the new organization is listed on the Dashboard");
    assert!(row.text().await.unwrap().contains("Owner"));
    person.screenshot("dashboard").await;
    person.browser.close().await.unwrap();
}

#[tokio::test]
async fn signing_in_and_out_works_from_the_keyboard_alone() {
    let Some(driver) = start_driver() else { return };
    let app = spawn_app().await;
    app.create_verified_user("Grace Hopper", "grace@example.com").await;
    let person = Person { browser: open_browser(&driver).await, app: &app };

    person.visit("/sign-in").await;
    person.tab_to("Email").await;
    person.type_keys("grace@example.com").await;
    person.type_keys(TAB).await;
    person.type_keys(PASSWORD).await;
    person.type_keys(ENTER).await;
    person.sees("Your organizations").await;

    // The account menu opens with Enter and closes with Escape, focus back on it.
    let summary =
        person.browser.find(Locator::XPath("//summary[@aria-label='Account menu for Grace Hopper']")).await.unwrap();
    summary.send_keys(ENTER).await.unwrap();
    person.sees("Signed in as").await;
    let menu = person.browser.find(Locator::Css("details.account")).await.unwrap();
    assert!(menu.attr("open").await.unwrap().is_some(), "Enter opens the menu");
    person.type_keys("\u{e00c}").await; // Escape
    assert!(menu.attr("open").await.unwrap().is_none(), "Escape closes the menu");
    let focused = person.browser.active_element().await.unwrap();
    assert_eq!(focused.attr("aria-label").await.unwrap().as_deref(), Some("Account menu for Grace Hopper"));

    summary.send_keys(ENTER).await.unwrap();
    for _ in 0..3 {
        let active = person.browser.active_element().await.unwrap();
        if active.text().await.unwrap() == "Sign out" {
            break;
        }
        active.send_keys(TAB).await.unwrap();
    }
    assert_eq!(person.browser.active_element().await.unwrap().text().await.unwrap(), "Sign out");
    person.type_keys(ENTER).await;
    person.sees("You have signed out.").await;
    person.browser.close().await.unwrap();
}

#[tokio::test]
async fn an_account_without_a_password_is_offered_a_link_to_set_one() {
    let Some(driver) = start_driver() else { return };
    let app = spawn_app().await;
    app.create_verified_user("Pat Provisioned", "pat@example.com").await;
    let person = Person { browser: open_browser(&driver).await, app: &app };
    person.sign_in("pat@example.com").await;
    // As single sign-on or provisioning will make accounts: no password at all.
    app.execute("UPDATE users SET password_hash = NULL WHERE email = 'pat@example.com'");
    person.visit("/account").await;
    person.sees("Your account has no password").await;
    let violations = accessibility_violations(&person.browser, "body").await;
    assert!(violations.is_empty(), "axe-core on Account without a password: {violations:?}");
    for (width, height, suffix) in [(1280, 800, "desktop"), (390, 844, "phone")] {
        person.browser.set_window_size(width, height).await.unwrap();
        person.browser.execute("document.getElementById('email-heading').scrollIntoView()", vec![]).await.unwrap();
        person.screenshot(&format!("account-no-password-{suffix}")).await;
    }
    assert!(
        person.browser.find(Locator::Css("#email_password")).await.is_err(),
        "changing the address does not ask for a password the account does not have"
    );
    person.browser.set_window_size(1280, 800).await.unwrap();
    assert!(
        person.browser.find(Locator::Css("#current_password")).await.is_err(),
        "no current password is asked of an account that has none"
    );
    person.press_button("Email me a link").await;
    person.sees("we have sent it a link to choose a new password").await;
    assert!(app.last_mail_to("pat@example.com").text_body.contains("/reset-password?token="));
    person.browser.close().await.unwrap();
}

#[tokio::test]
async fn a_person_turns_on_two_factor_with_an_authenticator_app_and_signs_in_with_a_code() {
    let Some(driver) = start_driver() else { return };
    let app = spawn_app().await;
    app.create_verified_user("Ada Lovelace", "ada@example.com").await;
    let person = Person { browser: open_browser(&driver).await, app: &app };
    person.sign_in("ada@example.com").await;
    person.visit("/account").await;
    person.follow_link("Set up two-factor authentication").await;
    person.press_button("Set up").await;
    person.sees("Scan this code").await;
    let violations = accessibility_violations(&person.browser, "body").await;
    assert!(violations.is_empty(), "axe-core on the app's setup: {violations:?}");
    person.screenshots_at_both_widths("two-factor-setup").await;
    // The test is the phone: it reads the key the page shows, as a person types it into an app.
    let secret = person.browser.find(Locator::Css("code.secret")).await.unwrap().text().await.unwrap();
    let code_now = |offset: i64| totp_code(&secret, offset);
    person.fill("Code from the app", &code_now(0)).await;
    person.press_button("Turn on").await;
    person.sees("Your recovery codes").await;
    let violations = accessibility_violations(&person.browser, "body").await;
    assert!(violations.is_empty(), "axe-core on the recovery codes: {violations:?}");
    person.screenshot("two-factor-recovery-codes").await;
    // She keeps one of the codes the page shows, as a person writes one down.
    let recovery_code =
        person.browser.find(Locator::Css("ul.recovery-codes li code")).await.unwrap().text().await.unwrap();

    // Signing in now takes a code too, typed from the keyboard.
    person.sign_out().await;
    person.visit("/sign-in").await;
    person.fill("Email", "ada@example.com").await;
    person.fill("Password", PASSWORD).await;
    person.press_button("Sign in").await;
    person.sees("Code from your authenticator app").await;
    let violations = accessibility_violations(&person.browser, "body").await;
    assert!(violations.is_empty(), "axe-core on the second step: {violations:?}");
    person.screenshot("two-factor-sign-in").await;
    person.tab_to("Code from your authenticator app").await;
    person.type_keys(&code_now(30)).await;
    person.type_keys(ENTER).await;
    person.sees("Your organizations").await;

    // Without her phone, a recovery code signs her in, once.
    for attempt in ["first", "again"] {
        person.sign_out().await;
        person.visit("/sign-in").await;
        person.fill("Email", "ada@example.com").await;
        person.fill("Password", PASSWORD).await;
        person.press_button("Sign in").await;
        // (Found once the second step's page has come.)
        person
            .browser
            .wait()
            .at_most(Duration::from_secs(5))
            .for_element(Locator::XPath("//summary[normalize-space()='Use a recovery code']"))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        person.fill("Recovery code", &recovery_code).await;
        person.press_button("Use recovery code").await;
        if attempt == "first" {
            person.sees("Your organizations").await;
        } else {
            person.sees("That is not one of your recovery codes, or it was used already.").await;
        }
    }
    person.browser.close().await.unwrap();
}

/// The code an authenticator app holding `secret` (base32, as pages show it) shows `offset` seconds from now.
fn totp_code(secret: &str, offset: i64) -> String {
    let bytes = data_encoding::BASE32_NOPAD.decode(secret.replace(' ', "").as_bytes()).unwrap();
    let totp = totp_rs::Builder::new().with_secret(bytes).build().unwrap();
    let now = time::OffsetDateTime::now_utc().unix_timestamp() + offset;
    totp.generate(u64::try_from(now).unwrap()).to_string()
}

/// Turns on an authenticator app for the person signed in on the test client; returns its secret.
async fn turn_on_two_factor(app: &TestApp) -> String {
    let response = app.post_form("/account/two-factor/app", &[]).await;
    let page = response.text().await.unwrap();
    let at = page.find("<code class=\"secret\">").unwrap() + "<code class=\"secret\">".len();
    let secret = page[at..at + page[at..].find('<').unwrap()].to_owned();
    let response = app.post_form("/account/two-factor/app/confirm", &[("code", &totp_code(&secret, 0))]).await;
    assert!(response.text().await.unwrap().contains("Your recovery codes"));
    secret
}

/// Sets up an authenticator app in the browser, from the page that offers `Set up`, as a person with a phone would.
async fn set_up_app_in_browser(person: &Person<'_>) {
    person.press_button("Set up").await;
    person.sees("Scan this code").await;
    let secret = person.browser.find(Locator::Css("code.secret")).await.unwrap().text().await.unwrap();
    person.fill("Code from the app", &totp_code(&secret, 0)).await;
    person.press_button("Turn on").await;
    person.sees("Your recovery codes").await;
}

#[tokio::test]
async fn an_owner_requires_two_factor_and_a_member_without_it_is_reminded_then_closed_out_until_she_enrols() {
    let Some(driver) = start_driver() else { return };
    let app = spawn_app().await;
    let slug = acme(&app).await;
    let secret = turn_on_two_factor(&app).await;
    app.member(&slug, "Ann Member", "ann@example.com", "member").await;
    let person = Person { browser: open_browser(&driver).await, app: &app };
    person.browser.set_window_size(1280, 800).await.unwrap();

    // The Owner signs in with her code and requires two-factor, keeping the 14 days of grace offered.
    person.visit("/sign-in").await;
    person.fill("Email", "olivia@acme.test").await;
    person.fill("Password", PASSWORD).await;
    person.press_button("Sign in").await;
    person.fill("Code from your authenticator app", &totp_code(&secret, 30)).await;
    person.press_button("Verify").await;
    person.sees("Your organizations").await;
    person.visit(&format!("/orgs/{slug}/settings")).await;
    person.follow_link("Security").await;
    person.sees("1 member has no two-factor authentication").await;
    person.field("Require two-factor").await.click().await.unwrap();
    person.press_button("Save").await;
    person.sees("Two-factor authentication is required from").await;
    let violations = accessibility_violations(&person.browser, "body").await;
    assert!(violations.is_empty(), "axe-core on Settings → Security: {violations:?}");
    person.screenshots_at_both_widths("require-two-factor").await;
    person.follow_link("1 member has not set it up").await;
    person.row_shows("ann@example.com", "Off").await;
    person.screenshot("members-two-factor").await;
    person.sign_out().await;

    // Ann is reminded on her Dashboard and in the bell.
    person.sign_in("ann@example.com").await;
    person.sees("requires two-factor authentication from").await;
    let violations = accessibility_violations(&person.browser, "body").await;
    assert!(violations.is_empty(), "axe-core on the Dashboard's reminder: {violations:?}");
    person.screenshot("two-factor-reminder").await;

    // After the date, Acme is closed to her, and opens again the moment she enrols.
    app.execute("UPDATE organizations SET two_factor_required_from = now() - interval '1 minute'");
    person.visit(&format!("/orgs/{slug}/members")).await;
    person.sees("Two-factor authentication required").await;
    let violations = accessibility_violations(&person.browser, "body").await;
    assert!(violations.is_empty(), "axe-core on the closed organization: {violations:?}");
    person.screenshots_at_both_widths("two-factor-required").await;
    person.follow_link("Set up two-factor authentication").await;
    set_up_app_in_browser(&person).await;
    person.follow_link("Continue").await;
    person.sees("Need more access?").await;
    person.browser.close().await.unwrap();
}

/// Chromium's virtual authenticator (the WebDriver extension of WebAuthn): a platform
/// authenticator that keeps discoverable credentials and verifies its user, as a
/// laptop's fingerprint reader does.
#[derive(Debug)]
struct AddVirtualAuthenticator;

impl fantoccini::wd::WebDriverCompatibleCommand for AddVirtualAuthenticator {
    fn endpoint(&self, base: &url::Url, session: Option<&str>) -> Result<url::Url, url::ParseError> {
        base.join(&format!("session/{}/webauthn/authenticator", session.unwrap_or_default()))
    }

    fn method_and_body(&self, _: &url::Url) -> (http::Method, Option<String>) {
        let options = serde_json::json!({
            "protocol": "ctap2",
            "transport": "internal",
            "hasResidentKey": true,
            "hasUserVerification": true,
            "isUserVerified": true,
        });
        (http::Method::POST, Some(options.to_string()))
    }
}

#[tokio::test]
async fn a_person_adds_a_passkey_signs_in_with_it_alone_and_as_a_second_step_then_removes_it() {
    let Some(driver) = start_driver() else { return };
    // Passkeys need a domain name: the app and the browser use localhost.
    let app = spawn_app_with(|s| s.base_url = url::Url::parse("http://localhost:0").unwrap()).await;
    app.create_verified_user("Ada Lovelace", "ada@example.com").await;
    let person = Person { browser: open_browser(&driver).await, app: &app };
    person.browser.set_window_size(1280, 800).await.unwrap();
    person.sign_in("ada@example.com").await;
    person.browser.issue_cmd(AddVirtualAuthenticator).await.unwrap();

    // Added under a name: her first second factor, so recovery codes come with it.
    person.visit("/account/two-factor").await;
    person.fill("Name", "Work laptop").await;
    person.press_button("Add a passkey").await;
    person.sees("Your recovery codes").await;
    person.row_shows("Work laptop", "Never").await;
    let violations = accessibility_violations(&person.browser, "body").await;
    assert!(violations.is_empty(), "axe-core on Passkeys: {violations:?}");
    person.screenshots_at_both_widths("passkeys").await;
    assert_eq!(app.count("SELECT count(*) FROM audit_events WHERE action = 'account.passkey_added'"), 1);
    assert_eq!(app.count("SELECT count(*) FROM users WHERE two_factor = 'passkey'"), 1);

    // The passkey alone signs her in, from the keyboard.
    person.sign_out().await;
    person.visit("/sign-in").await;
    person.screenshot("sign-in-with-passkey").await;
    person
        .browser
        .find(Locator::XPath("//button[normalize-space()='Sign in with a passkey']"))
        .await
        .unwrap()
        .send_keys(ENTER)
        .await
        .unwrap();
    person.sees("Your organizations").await;
    assert_eq!(app.count("SELECT count(*) FROM sessions WHERE sign_in_methods = '{passkey}'"), 1);

    // After her password, the passkey is the second step.
    person.sign_out().await;
    person.visit("/sign-in").await;
    person.fill("Email", "ada@example.com").await;
    person.fill("Password", PASSWORD).await;
    person.press_button("Sign in").await;
    person.sees("Use a passkey").await;
    let violations = accessibility_violations(&person.browser, "body").await;
    assert!(violations.is_empty(), "axe-core on the second step with a passkey: {violations:?}");
    person.press_button("Use a passkey").await;
    person.sees("Your organizations").await;
    assert_eq!(app.count("SELECT count(*) FROM sessions WHERE sign_in_methods = '{password,passkey}'"), 1);

    // With an authenticator app beside it, the passkey can stand in for the password
    // to remove the app.
    person.visit("/account/two-factor").await;
    set_up_app_in_browser(&person).await;
    person.press_button("Remove the authenticator app with a passkey").await;
    person.sees("The authenticator app was removed. Your passkeys keep two-factor authentication on.").await;
    assert_eq!(app.count("SELECT count(*) FROM authenticator_apps"), 0);

    // Removing the passkey asks for the password; then two-factor is off again.
    person.visit("/account/two-factor").await;
    person.row_shows("Work laptop", "just now").await;
    person.follow_link("Remove").await;
    let violations = accessibility_violations(&person.browser, "body").await;
    assert!(violations.is_empty(), "axe-core on Remove passkey: {violations:?}");
    person.fill("Current password", PASSWORD).await;
    person.press_button("Remove passkey").await;
    person.sees("The passkey “Work laptop” was removed.").await;
    assert_eq!(app.count("SELECT count(*) FROM passkeys"), 0);
    assert_eq!(app.count("SELECT count(*) FROM users WHERE two_factor = 'off'"), 1);
    assert_eq!(app.count("SELECT count(*) FROM recovery_codes"), 0);

    // Her Security log tells the story, newest first.
    person.visit("/account").await;
    person.follow_link("Security log").await;
    person.sees("Removed the passkey “Work laptop”").await;
    person.sees("Signed in with password and passkey").await;
    person.sees("Signed in with passkey").await;
    person.sees("Added the passkey “Work laptop”").await;
    let violations = accessibility_violations(&person.browser, "body").await;
    assert!(violations.is_empty(), "axe-core on the Security log: {violations:?}");
    person.screenshots_at_both_widths("security-log").await;
    person.browser.close().await.unwrap();
}

#[tokio::test]
async fn the_owner_resets_the_two_factor_of_a_member_at_a_verified_domain_after_typing_her_address() {
    let Some(driver) = start_driver() else { return };
    let app = spawn_app().await;
    let slug = acme(&app).await;
    app.execute(
        "INSERT INTO organization_domains (id, organization_id, domain, token, verified_at) \
         SELECT gen_random_uuid(), id, 'acme.test', 'fedcba9876543210fedcba9876543210', now() FROM organizations",
    );
    let ann = app.member(&slug, "Ann Member", "ann@acme.test", "member").await;
    turn_on_two_factor(&ann).await;
    let person = Person { browser: open_browser(&driver).await, app: &app };
    person.browser.set_window_size(1280, 800).await.unwrap();
    person.sign_in("olivia@acme.test").await;
    person.visit(&format!("/orgs/{slug}/members")).await;
    person.row_shows("ann@acme.test", "On").await;
    person.press_in_row("ann@acme.test", "Reset two-factor").await;
    person.sees("Reset two-factor authentication for").await;
    let violations = accessibility_violations(&person.browser, "body").await;
    assert!(violations.is_empty(), "axe-core on Reset two-factor: {violations:?}");
    person.screenshots_at_both_widths("reset-two-factor").await;
    person.fill("Type ann@acme.test to confirm", "ann@acme.test").await;
    person.press_button("Reset two-factor").await;
    person.sees("Two-factor authentication was reset for ann@acme.test.").await;
    assert_eq!(app.count("SELECT count(*) FROM users WHERE email = 'ann@acme.test' AND two_factor = 'off'"), 1);
    person.browser.close().await.unwrap();
}

/// An Owner with organization Acme, signed in on the test client; returns the slug.
async fn acme(app: &TestApp) -> String {
    app.owner_of("Acme", "Olivia Owner", "olivia@acme.test").await
}

/// The scenario of the invitations issue, with JavaScript on (dialogs, in-place swaps) or off (plain forms).
async fn invite_three_resend_one_revoke_one_and_sign_up_from_the_mail(javascript: bool) {
    let Some(driver) = start_driver() else { return };
    let app = spawn_app().await;
    let slug = acme(&app).await;
    let person = Person { browser: open_browser_with(&driver, javascript).await, app: &app };
    let shot = |name: &str| format!("{name}{}", if javascript { "" } else { "-no-js" });

    person.sign_in("olivia@acme.test").await;
    person.visit(&format!("/orgs/{slug}")).await;
    person.follow_link("Invitations").await;
    person.sees("1 / 100 seats used").await;
    person.follow_link("Invite Members").await;
    person.fill("Email addresses", "ada@example.com, Grace Hopper <grace@example.com>\nalan@example.com").await;
    person.screenshot(&shot("invite-dialog")).await;
    person.press_button("Send Invitations").await;
    person.sees("3 sent.").await;
    if javascript {
        person.press_button("Close").await;
    } else {
        person.follow_link("Back to Invitations").await;
    }
    person.row_shows("grace@example.com", "Pending").await;
    person.sees("4 / 100 seats used").await;

    person.press_in_row("grace@example.com", "Resend Invitation").await;
    person.sees("Invitation sent again to grace@example.com.").await;
    person.row_shows("grace@example.com", "Sent 2×").await;

    person.press_in_row("alan@example.com", "Revoke").await;
    person.sees("Revoke the invitation to alan@example.com").await;
    person.press_button("Revoke").await;
    person.sees("Invitation to alan@example.com revoked.").await;
    if javascript {
        person.row_shows("alan@example.com", "Revoked").await;
    }
    person.screenshot(&shot("invitations")).await;
    assert_eq!(app.count("SELECT count(*) FROM invitations WHERE status = 'revoked'"), 1);
    assert_eq!(app.mail_to("grace@example.com").len(), 2);

    // Ada opens her mail in the dev mailbox, creates her account from the link and joins.
    person.sign_out().await;
    person.visit("/dev/mailbox").await;
    person
        .browser
        .find(Locator::XPath("//tr[td[normalize-space()='ada@example.com']]//a"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    person.browser.find(Locator::XPath("//main//a[contains(@href, '/invite/')]")).await.unwrap().click().await.unwrap();
    person.sees("Olivia Owner invited ada@example.com to join Acme as Member.").await;
    person.follow_link("Create account and join Acme").await;
    person.fill("Name", "Ada Lovelace").await;
    person.fill("Password", PASSWORD).await;
    person.fill("Confirm password", PASSWORD).await;
    person.press_button("Create account and join Acme").await;
    person.sees("You joined Acme as Member.").await;
    assert_eq!(person.heading().await, "Acme");
    person.sees("Your role: Member").await;
    person.browser.close().await.unwrap();
}

#[tokio::test]
async fn an_admin_invites_three_resends_one_revokes_one_and_the_third_signs_up_from_the_mail() {
    invite_three_resend_one_revoke_one_and_sign_up_from_the_mail(true).await;
}

#[tokio::test]
async fn the_invitation_scenario_works_without_javascript() {
    invite_three_resend_one_revoke_one_and_sign_up_from_the_mail(false).await;
}

async fn accept_from_the_dashboard(javascript: bool) {
    let Some(driver) = start_driver() else { return };
    let app = spawn_app().await;
    let slug = acme(&app).await;
    app.create_verified_user("Grace Hopper", "grace@example.com").await;
    app.invite(&slug, "grace@example.com", "member").await;
    let person = Person { browser: open_browser_with(&driver, javascript).await, app: &app };
    person.sign_in("grace@example.com").await;
    person.sees("Olivia Owner invited you to join Acme as Member.").await;
    person.screenshot(if javascript { "dashboard-prompt" } else { "dashboard-prompt-no-js" }).await;
    person.press_button("Accept").await;
    person.sees("You joined Acme as Member.").await;
    if javascript {
        // Also once the live refresh that follows the answer has replaced the section.
        tokio::time::sleep(Duration::from_millis(1500)).await;
        let focused = person.browser.active_element().await.unwrap();
        assert_eq!(
            focused.attr("id").await.unwrap().as_deref(),
            Some("dashboard-live"),
            "focus stays on the answered section"
        );
    }
    let row = person
        .browser
        .wait()
        .at_most(Duration::from_secs(5))
        .for_element(Locator::XPath("//section[@id='orgs']//tr[td/a[normalize-space()='Acme']]"))
        .await
        .expect("Acme appears in the list at once");
    assert!(row.text().await.unwrap().contains("Member"));
    assert_eq!(app.count("SELECT count(*) FROM memberships WHERE role = 'member'"), 1);
    person.browser.close().await.unwrap();
}

#[tokio::test]
async fn an_invitee_accepts_from_the_dashboard_prompt() {
    accept_from_the_dashboard(true).await;
}

#[tokio::test]
async fn the_dashboard_prompt_works_without_javascript() {
    accept_from_the_dashboard(false).await;
}

#[tokio::test]
async fn owner_promotes_the_admin_removes_a_member_ownership_moves_and_the_audit_log_shows_it_all() {
    let Some(driver) = start_driver() else { return };
    let app = spawn_app().await;
    let slug = acme(&app).await;
    app.member(&slug, "Ada Lovelace", "ada@example.com", "member").await;
    app.member(&slug, "Bob Builder", "bob@example.com", "member").await;
    let person = Person { browser: open_browser(&driver).await, app: &app };

    // The Owner promotes Ada in place.
    person.sign_in("olivia@acme.test").await;
    person.visit(&format!("/orgs/{slug}")).await;
    person.follow_link("Members").await;
    person.open_row_menu("ada@example.com").await;
    let select = person.field("Role of ada@example.com").await;
    select.select_by_label("Admin").await.unwrap();
    person.press_in_row("ada@example.com", "Change role").await;
    person.sees("ada@example.com is now Admin.").await;
    person.row_shows("ada@example.com", "Admin").await;
    let focused = person.browser.active_element().await.unwrap();
    assert_eq!(
        focused.attr("id").await.unwrap(),
        Some(format!("member-{}", app.membership_id(&slug, "ada@example.com"))),
        "focus is on the changed row"
    );
    person.screenshot("members").await;
    let violations = accessibility_violations(&person.browser, "body").await;
    assert!(violations.is_empty(), "axe-core on the Members page: {violations:?}");
    person.sign_out().await;

    // Ada, now an Admin, cannot make Bob an Admin (the control offers no such role), but removes him.
    person.sign_in("ada@example.com").await;
    person.visit(&format!("/orgs/{slug}/members")).await;
    let bob_row = person.row("bob@example.com").await;
    assert!(!bob_row.contains("Change role"), "an Admin is offered no role to give: {bob_row}");
    person.press_in_row("bob@example.com", "Remove").await;
    person.sees("Remove Bob Builder").await;
    let focused = person.browser.active_element().await.unwrap();
    assert_eq!(focused.text().await.unwrap(), "Cancel", "a confirmation opens on Cancel");
    person.press_button("Remove member").await;
    person.sees("bob@example.com was removed.").await;
    let focused = person.browser.active_element().await.unwrap();
    assert_eq!(focused.text().await.unwrap(), "Members", "with the row gone, focus is on the page's heading");
    assert_eq!(app.count("SELECT count(*) FROM memberships WHERE member_email = 'bob@example.com'"), 0);
    person.sign_out().await;

    // The Owner hands ownership to Ada.
    person.sign_in("olivia@acme.test").await;
    person.visit(&format!("/orgs/{slug}/settings/danger-zone")).await;
    person.screenshot("settings").await;
    pick(&person, "New Owner", "ada", "Ada Lovelace").await;
    person.fill("Type Acme to confirm", "Acme").await;
    person.press_button("Transfer ownership").await;
    person.sees("ada@example.com is now the Owner. You are an Admin.").await;

    person.follow_link("Audit Log").await;
    for action in ["member.role_changed", "member.removed", "ownership.transferred"] {
        person.sees(action).await;
    }
    person.screenshot("audit-log").await;
    person.browser.close().await.unwrap();
}

#[tokio::test]
async fn an_admin_suspends_a_member_who_is_closed_out_at_once_and_reactivates_her_with_everything_back() {
    let Some(driver) = start_driver() else { return };
    let app = spawn_app().await;
    let slug = acme(&app).await;
    app.member(&slug, "Adam Admin", "adam@example.com", "admin").await;
    let ada_app = app.member(&slug, "Ada Lovelace", "ada@example.com", "member").await;
    let person = Person { browser: open_browser(&driver).await, app: &app };
    person.sign_in("adam@example.com").await;
    person.visit(&format!("/orgs/{slug}/members")).await;

    // Suspend, from the row's More actions, behind a confirmation that opens on Cancel.
    person.press_in_row("ada@example.com", "Suspend").await;
    person.sees("Suspend Ada Lovelace").await;
    let focused = person.browser.active_element().await.unwrap();
    assert_eq!(focused.text().await.unwrap(), "Cancel", "a confirmation opens on Cancel");
    person.screenshots_at_both_widths("members-suspend-dialog").await;
    person.press_button("Suspend").await;
    person.sees("ada@example.com is suspended and their seat is free.").await;
    person.row_shows("ada@example.com", "Suspended").await;
    let focused = person.browser.active_element().await.unwrap();
    assert_eq!(
        focused.attr("id").await.unwrap(),
        Some(format!("member-{}", app.membership_id(&slug, "ada@example.com"))),
        "focus is on the changed row"
    );
    let violations = accessibility_violations(&person.browser, "body").await;
    assert!(violations.is_empty(), "axe-core on the Members page with a suspended member: {violations:?}");
    person.visit(&format!("/orgs/{slug}/members?status=suspended")).await;
    person.row_shows("ada@example.com", "Suspended").await;
    person.screenshots_at_both_widths("members-suspended").await;

    // Ada's next request is refused; her Dashboard says why.
    let ada = Person { browser: open_browser_profile(&driver, true, "ada").await, app: &ada_app };
    ada.sign_in("ada@example.com").await;
    ada.visit(&format!("/orgs/{slug}/members")).await;
    ada.sees("Your access to Acme is suspended — ask an admin.").await;
    assert_eq!(ada.heading().await, "Access suspended");
    ada.visit("/dashboard").await;
    ada.sees("Your access to Acme is suspended — ask an admin.").await;
    let violations = accessibility_violations(&ada.browser, "body").await;
    assert!(violations.is_empty(), "axe-core on the Dashboard of a suspended member: {violations:?}");
    ada.screenshots_at_both_widths("dashboard-suspended").await;

    // Reactivate: a plain action in the same menu, no confirmation; Ada is back at once.
    person.press_in_row("ada@example.com", "Reactivate").await;
    person.sees("ada@example.com is active again, with their role, teams and project access.").await;
    person.row_shows("ada@example.com", "Active").await;
    ada.visit(&format!("/orgs/{slug}/members")).await;
    assert_eq!(ada.heading().await, "Members");
    person.browser.close().await.unwrap();
    ada.browser.close().await.unwrap();
}

#[tokio::test]
async fn an_owner_gives_a_contractor_access_until_a_date_both_are_reminded_a_week_before_and_the_owner_extends_it() {
    let Some(driver) = start_driver() else { return };
    let app = spawn_app().await;
    let slug = acme(&app).await;
    let carl_app = app.member(&slug, "Carl Contractor", "carl@contractor.test", "member").await;
    let olivia = Person { browser: open_browser_profile(&driver, true, "olivia").await, app: &app };
    olivia.sign_in("olivia@acme.test").await;
    olivia.visit(&format!("/orgs/{slug}/projects/new")).await;
    olivia.fill("Name", "Apollo").await;
    olivia.press_button("Create project").await;
    olivia.sees("Project Apollo was created.").await;

    // From the keyboard: the member, the last day, the level, Enter.
    let ends = (time::OffsetDateTime::now_utc() + time::Duration::days(10)).date();
    olivia.tab_to("Member").await;
    olivia.type_keys("carl@contractor.test").await;
    olivia.tab_to("Expires on (optional, a member only)").await;
    // A date field takes the digits of its parts in the browser's order (month, day, year here).
    olivia.type_keys(&format!("{:02}{:02}{}", u8::from(ends.month()), ends.day(), ends.year())).await;
    olivia.tab_to("Level").await;
    olivia.type_keys("Write").await;
    olivia.type_keys(TAB).await;
    assert_eq!(olivia.browser.active_element().await.unwrap().text().await.unwrap(), "Grant access");
    olivia.type_keys(ENTER).await;
    olivia.sees("carl@contractor.test now has Write access to Apollo.").await;
    let day = roster::domain::dates::day(ends.with_time(time::Time::MIDNIGHT).assume_utc());
    olivia.row_shows("carl@contractor.test", &format!("Expires {day}")).await;

    // A week before the day, Roster's sweep reminds them both.
    let swept = app.sweep_at(ends.with_time(time::Time::MIDNIGHT).assume_utc() - time::Duration::days(7));
    assert_eq!(swept.reminded, 1);
    let carl = Person { browser: open_browser_profile(&driver, true, "carl").await, app: &carl_app };
    carl.sign_in("carl@contractor.test").await;
    // The grant, its end date, and the reminder.
    bell_says(&carl, "Notifications, 3 unread").await;
    carl.visit("/notifications").await;
    carl.sees(&format!("Your access to project Apollo in Acme ends on {day}.")).await;
    olivia.visit("/dashboard").await;
    // Carl's accepting her invitation, and the reminder.
    bell_says(&olivia, "Notifications, 2 unread").await;
    olivia.browser.find(Locator::Id("bell-button")).await.unwrap().click().await.unwrap();
    bell_panel_shows(&olivia, &format!("carl@contractor.test’s access to project Apollo in Acme ends on {day}.")).await;
    let violations = accessibility_violations(&olivia.browser, "#bell").await;
    assert!(violations.is_empty(), "axe-core on the bell with Extend: {violations:?}");
    olivia.screenshot("bell-extend").await;

    // Extend, from the bell: the page of that access, then 30 days more.
    olivia
        .browser
        .find(Locator::XPath("//*[@id='bell-panel']//a[normalize-space()='Extend']"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    assert_eq!(olivia.heading().await, "Extend");
    olivia.sees(&format!("Carl Contractor’s access to project Apollo ends on {day}.")).await;
    let violations = accessibility_violations(&olivia.browser, "body").await;
    assert!(violations.is_empty(), "axe-core on Extend: {violations:?}");
    for (width, height) in [(1280, 800), (390, 844)] {
        olivia.browser.set_window_size(width, height).await.unwrap();
        assert_eq!(sideways_overflow(&olivia.browser).await, 0, "nothing scrolls sideways at {width} px");
    }
    olivia.browser.set_window_size(1280, 800).await.unwrap();
    olivia.screenshots_at_both_widths("expiry-extend").await;
    olivia.press_button("Extend by 30 days").await;
    let later =
        roster::domain::dates::day(ends.with_time(time::Time::MIDNIGHT).assume_utc() + time::Duration::days(30));
    olivia.sees(&format!("Carl Contractor’s access to project Apollo ends on {later}.")).await;
    olivia.row_shows("Apollo", &later).await;
    olivia.screenshots_at_both_widths("member-access-expires").await;
    carl.visit("/notifications").await;
    carl.sees(&format!("Olivia Owner set your access to project Apollo in Acme to end on {later}.")).await;

    // Settings → General: how many days ahead, and whether invitations are reminded.
    olivia.visit(&format!("/orgs/{slug}/settings")).await;
    olivia.fill("Days before access ends", "14").await;
    olivia.press_button("Save reminders").await;
    olivia.sees("Reminders saved.").await;
    let violations = accessibility_violations(&olivia.browser, "body").await;
    assert!(violations.is_empty(), "axe-core on Settings with Reminders: {violations:?}");
    olivia.screenshots_at_both_widths("settings-reminders").await;
    olivia.browser.close().await.unwrap();
    carl.browser.close().await.unwrap();
}

#[tokio::test]
async fn a_person_at_a_verified_domain_asks_to_join_and_an_admin_approves_from_the_bell() {
    let Some(driver) = start_driver() else { return };
    let app = spawn_app().await;
    let slug = acme(&app).await;
    app.execute(
        "INSERT INTO organization_domains (id, organization_id, domain, token, verified_at, policy) \
         SELECT gen_random_uuid(), id, 'good.test', 'fedcba9876543210fedcba9876543210', now(), 'request' FROM organizations",
    );
    let adam_app = app.member(&slug, "Adam Admin", "adam@acme.test", "admin").await;
    let created = app.post_form(&format!("/orgs/{slug}/teams"), &[("name", "Platform"), ("description", "")]).await;
    assert_eq!(created.status(), reqwest::StatusCode::SEE_OTHER);
    app.create_verified_user("Ann Good", "ann@good.test").await;

    // Ann, at good.test, asks from her Dashboard, from the keyboard.
    let ann = Person { browser: open_browser_profile(&driver, true, "ann").await, app: &app };
    ann.sign_in("ann@good.test").await;
    ann.sees("Ask to join Acme").await;
    ann.tab_to("Note (optional)").await;
    ann.type_keys("I run the data team.").await;
    ann.type_keys(TAB).await;
    assert_eq!(ann.browser.active_element().await.unwrap().text().await.unwrap(), "Ask to join Acme");
    ann.type_keys(ENTER).await;
    ann.sees("Your request to join Acme was sent.").await;
    ann.sees("You asked to join Acme").await;
    let violations = accessibility_violations(&ann.browser, "body").await;
    assert!(violations.is_empty(), "axe-core on the Dashboard with a request: {violations:?}");
    ann.screenshots_at_both_widths("dashboard-join-request").await;

    // Adam, an Admin, sees it in the bell and the navigation, and approves it from there.
    let adam = Person { browser: open_browser_profile(&driver, true, "adam").await, app: &adam_app };
    adam.browser.set_window_size(1280, 800).await.unwrap();
    adam.sign_in("adam@acme.test").await;
    adam.visit(&format!("/orgs/{slug}/members")).await;
    bell_says(&adam, "Notifications, 1 unread").await;
    adam.sees("Requests 1").await;
    adam.visit(&format!("/orgs/{slug}/members/requests")).await;
    adam.row_shows("ann@good.test", "Open").await;
    let violations = accessibility_violations(&adam.browser, "body").await;
    assert!(violations.is_empty(), "axe-core on Requests: {violations:?}");
    for (width, height) in [(1280, 800), (390, 844)] {
        adam.browser.set_window_size(width, height).await.unwrap();
        assert_eq!(sideways_overflow(&adam.browser).await, 0, "Requests scrolls nothing sideways at {width} px");
    }
    adam.screenshots_at_both_widths("requests").await;
    adam.browser.set_window_size(1280, 800).await.unwrap();
    adam.browser.find(Locator::Id("bell-button")).await.unwrap().click().await.unwrap();
    bell_panel_shows(&adam, "Ann Good (ann@good.test) asks to join Acme. “I run the data team.”").await;
    let violations = accessibility_violations(&adam.browser, "#bell").await;
    assert!(violations.is_empty(), "axe-core on the bell with a request: {violations:?}");
    adam.screenshot("bell-join-request").await;
    adam.browser
        .find(Locator::XPath("//*[@id='bell-panel']//a[normalize-space()='Review']"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    assert_eq!(adam.heading().await, "Ann Good asks to join Acme");
    let violations = accessibility_violations(&adam.browser, "body").await;
    assert!(violations.is_empty(), "axe-core on the request: {violations:?}");
    for (width, height) in [(1280, 800), (390, 844)] {
        adam.browser.set_window_size(width, height).await.unwrap();
        assert_eq!(sideways_overflow(&adam.browser).await, 0, "nothing scrolls sideways at {width} px");
    }
    adam.browser.set_window_size(1280, 800).await.unwrap();
    adam.screenshots_at_both_widths("join-request").await;
    adam.browser.set_window_size(1280, 800).await.unwrap();
    pick(&adam, "Teams (optional)", "Plat", "Platform").await;
    chips_are(&adam, "Teams (optional)", &["Platform"], "the team chosen").await;
    adam.press_button("Approve").await;
    adam.sees("Ann Good joined as Member, in Platform.").await;
    adam.sees("No request is waiting.").await;
    let violations = accessibility_violations(&adam.browser, "body").await;
    assert!(violations.is_empty(), "axe-core on Requests: {violations:?}");

    // Ann is told, and is in.
    ann.visit("/notifications").await;
    ann.sees("Adam Admin approved your request to join Acme: you are a member, as Member, with team Platform.").await;
    ann.visit(&format!("/orgs/{slug}/access")).await;
    ann.sees("Platform").await;
    ann.browser.close().await.unwrap();
    adam.browser.close().await.unwrap();
}

#[tokio::test]
async fn an_invite_link_with_two_uses_admits_two_people_and_refuses_the_third() {
    let Some(driver) = start_driver() else { return };
    let app = spawn_app().await;
    let slug = acme(&app).await;
    let created = app.post_form(&format!("/orgs/{slug}/teams"), &[("name", "Platform"), ("description", "")]).await;
    assert_eq!(created.status(), reqwest::StatusCode::SEE_OTHER);

    // The Owner makes the link from Invitations → Invite links, from the keyboard.
    let olivia = Person { browser: open_browser_profile(&driver, true, "olivia").await, app: &app };
    olivia.browser.set_window_size(1280, 800).await.unwrap();
    olivia.sign_in("olivia@acme.test").await;
    olivia.visit(&format!("/orgs/{slug}/invitations")).await;
    olivia.follow_link("Invite links").await;
    olivia.sees("No invite links yet.").await;
    olivia.follow_link("Create invite link").await;
    assert_eq!(olivia.heading().await, "Create invite link");
    let violations = accessibility_violations(&olivia.browser, "body").await;
    assert!(violations.is_empty(), "axe-core on Create invite link: {violations:?}");
    olivia.screenshots_at_both_widths("invite-link-new").await;
    olivia.browser.set_window_size(1280, 800).await.unwrap();
    olivia.tab_to("Label (optional)").await;
    olivia.type_keys("Launch crew").await;
    pick(&olivia, "Teams (optional)", "Plat", "Platform").await;
    chips_are(&olivia, "Teams (optional)", &["Platform"], "the team chosen").await;
    olivia.fill("Maximum uses (optional)", "2").await;
    olivia.press_button("Create invite link").await;
    olivia.sees("Invite link created.").await;
    assert_eq!(olivia.heading().await, "Launch crew");
    let shared = olivia.browser.find(Locator::Css("input[aria-labelledby='link-url-label']")).await.unwrap();
    let url = shared.prop("value").await.unwrap().expect("the link");
    let path = url.split_once("/join/").map(|(_, token)| format!("/join/{token}")).expect("a /join/ link");
    let violations = accessibility_violations(&olivia.browser, "body").await;
    assert!(violations.is_empty(), "axe-core on an invite link: {violations:?}");
    olivia.follow_link("← Invite links").await;
    olivia.row_shows("Launch crew", "0 / 2").await;
    let violations = accessibility_violations(&olivia.browser, "body").await;
    assert!(violations.is_empty(), "axe-core on Invite links: {violations:?}");
    olivia.screenshots_at_both_widths("invite-links").await;
    olivia.browser.set_window_size(1280, 800).await.unwrap();
    olivia.follow_link("Launch crew").await;

    // Two people join by it; the third is told it is used up.
    for (name, email) in [("Ann Crew", "ann@crew.test"), ("Bob Crew", "bob@crew.test"), ("Cy Crew", "cy@crew.test")] {
        app.create_verified_user(name, email).await;
    }
    let ann = Person { browser: open_browser_profile(&driver, true, "ann").await, app: &app };
    ann.sign_in("ann@crew.test").await;
    ann.visit(&path).await;
    assert_eq!(ann.heading().await, "Join Acme on Roster");
    let violations = accessibility_violations(&ann.browser, "body").await;
    assert!(violations.is_empty(), "axe-core on the join page: {violations:?}");
    ann.screenshots_at_both_widths("invite-link-join").await;
    ann.press_button("Join Acme").await;
    ann.sees("You joined Acme as Member, with team Platform.").await;
    let bob = Person { browser: open_browser_profile(&driver, true, "bob").await, app: &app };
    bob.sign_in("bob@crew.test").await;
    bob.visit(&path).await;
    bob.press_button("Join Acme").await;
    bob.sees("You joined Acme as Member, with team Platform.").await;
    let cy = Person { browser: open_browser_profile(&driver, true, "cy").await, app: &app };
    cy.sign_in("cy@crew.test").await;
    cy.visit(&path).await;
    assert_eq!(cy.heading().await, "This invite link no longer works");
    cy.sees("It has been used as many times as it allows.").await;

    // The link's page shows who joined.
    olivia.browser.refresh().await.unwrap();
    olivia.sees("2 / 2").await;
    olivia.sees("Ann Crew").await;
    olivia.sees("Bob Crew").await;
    olivia.browser.set_window_size(1280, 800).await.unwrap();
    olivia.screenshots_at_both_widths("invite-link").await;
    for (width, height) in [(1280, 800), (390, 844)] {
        olivia.browser.set_window_size(width, height).await.unwrap();
        assert_eq!(sideways_overflow(&olivia.browser).await, 0, "nothing scrolls sideways at {width} px");
    }
    for person in [olivia, ann, bob, cy] {
        person.browser.close().await.unwrap();
    }
}

/// Acme with team Platform (Write on Billing API) and twenty members in it, "Crew 01"
/// to "Crew 20" at crew.test, and Ada Admin; returns the slug.
async fn acme_with_a_crew_in_platform(app: &TestApp) -> String {
    let slug = acme(app).await;
    app.member(&slug, "Ada Admin", "ada@acme.test", "admin").await;
    let created = app.post_form(&format!("/orgs/{slug}/teams"), &[("name", "Platform"), ("description", "")]).await;
    assert_eq!(created.status(), reqwest::StatusCode::SEE_OTHER);
    let created = app.post_form(&format!("/orgs/{slug}/projects"), &[("name", "Billing API")]).await;
    assert_eq!(created.status(), reqwest::StatusCode::SEE_OTHER);
    app.execute(&format!(
        "WITH org AS (SELECT id FROM organizations WHERE slug = '{slug}'), \
              u AS (INSERT INTO users (id, name, email, password_hash, email_verified_at) \
                    SELECT gen_random_uuid(), 'Crew ' || lpad(i::text, 2, '0'), 'crew' || lpad(i::text, 2, '0') || '@crew.test', 'x', now() \
                    FROM generate_series(1, 20) i RETURNING id, name, email), \
              m AS (INSERT INTO memberships (id, organization_id, user_id, role, member_name, member_email, member_verified) \
                    SELECT gen_random_uuid(), org.id, u.id, 'member', u.name, u.email, true FROM u, org RETURNING id, organization_id) \
         INSERT INTO team_members (organization_id, team_id, membership_id, role) \
         SELECT m.organization_id, t.id, m.id, 'member' FROM m JOIN teams t ON t.organization_id = m.organization_id"
    ));
    app.execute(
        "INSERT INTO project_grants (id, organization_id, project_id, team_id, level) \
         SELECT gen_random_uuid(), p.organization_id, p.id, t.id, 'write' FROM projects p JOIN teams t ON t.organization_id = p.organization_id",
    );
    slug
}

#[tokio::test]
async fn an_admin_selects_twenty_members_previews_taking_them_out_of_platform_and_sees_one_batch() {
    let Some(driver) = start_driver() else { return };
    let app = spawn_app().await;
    let slug = acme_with_a_crew_in_platform(&app).await;
    // The crew joined Platform ten days ago.
    for table in ["team_place_history", "grant_history"] {
        app.execute(&format!("UPDATE {table} SET started_at = started_at - interval '10 days'"));
    }
    let ada = Person { browser: open_browser(&driver).await, app: &app };
    ada.browser.set_window_size(1280, 800).await.unwrap();
    ada.sign_in("ada@acme.test").await;
    ada.visit(&format!("/orgs/{slug}/members?q=crew.test")).await;

    // Every member of the page, by the header's checkbox (Space on it, as from the keyboard).
    let all = ada.browser.find(Locator::Css("input[data-select-page]")).await.unwrap();
    assert!(all.is_displayed().await.unwrap(), "with JavaScript the header selects the page");
    all.send_keys(" ").await.unwrap();
    let checked = ada.browser.find_all(Locator::Css("input[name=member]:checked")).await.unwrap();
    assert_eq!(checked.len(), 20, "the twenty members of the page are selected");
    ada.browser
        .find(Locator::XPath("//summary[normalize-space()='Act on selected members']"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    ada.field("Action").await.select_by_value("remove_from_team").await.unwrap();
    pick(&ada, "Team (Add to team, Remove from team)", "Plat", "Platform").await;
    ada.screenshots_at_both_widths("members-bulk-bar").await;
    ada.press_button("Preview").await;

    // The dialog names who loses which project, and opens on Cancel.
    ada.sees("This takes 20 members out of team Platform.").await;
    ada.sees("All 20 lose access to projects:").await;
    ada.sees("Crew 07 (crew07@crew.test) loses Write on Billing API — it came through team Platform").await;
    let focused = ada.browser.active_element().await.unwrap();
    assert_eq!(focused.text().await.unwrap(), "Cancel", "the preview opens on Cancel");
    let violations = accessibility_violations(&ada.browser, "body").await;
    assert!(violations.is_empty(), "axe-core on the preview: {violations:?}");
    ada.screenshots_at_both_widths("members-bulk-preview").await;
    for (width, height) in [(1280, 800), (390, 844)] {
        ada.browser.set_window_size(width, height).await.unwrap();
        assert_eq!(sideways_overflow(&ada.browser).await, 0, "nothing scrolls sideways at {width} px");
    }
    ada.browser.set_window_size(1280, 800).await.unwrap();
    ada.press_button("Confirm").await;
    ada.sees("You took 20 members out of team Platform (batch").await;
    assert_eq!(
        app.count("SELECT count(*) FROM team_members tm JOIN memberships m ON m.id = tm.membership_id WHERE m.member_email LIKE '%@crew.test'"),
        0
    );

    // One batch in the Audit Log, and its twenty changes behind its link.
    ada.visit(&format!("/orgs/{slug}/audit")).await;
    ada.sees("took 20 members out of team Platform").await;
    let batch = app.scalar("SELECT left(replace(batch_id::text, '-', ''), 8) AS value FROM audit_events WHERE action = 'member.bulk_changed'");
    ada.follow_link(&format!("Batch {batch}")).await;
    ada.sees("Showing the events of batch").await;
    let rows = ada.browser.find_all(Locator::Css("table.audit tbody tr")).await.unwrap();
    assert_eq!(rows.len(), 21, "the twenty changes and the summary");
    let violations = accessibility_violations(&ada.browser, "body").await;
    assert!(violations.is_empty(), "axe-core on a batch of the Audit Log: {violations:?}");
    ada.screenshots_at_both_widths("audit-batch").await;

    // The Members view's CSV, as its link gives it to her, reads cleanly as a spreadsheet.
    ada.visit(&format!("/orgs/{slug}/members?q=crew.test")).await;
    let csv = ada.download("CSV").await;
    let mut sheet = csv::Reader::from_reader(csv.as_bytes());
    let columns = sheet.headers().unwrap().clone();
    assert_eq!(&columns[0], "name");
    let rows: Vec<csv::StringRecord> = sheet.records().map(|r| r.expect("every row reads")).collect();
    assert_eq!(rows.len(), 20, "the twenty of the view, on every page");
    for row in &rows {
        assert_eq!(row.len(), columns.len(), "every row has every column: {row:?}");
        assert!(row.iter().all(|cell| !cell.starts_with(['=', '+', '-', '@'])), "no cell is a formula: {row:?}");
    }
    assert_eq!(&rows[6][0], "Crew 07");
    assert_eq!(&rows[6][10], "", "no project any more");

    // Who could reach Billing API last week: the twenty, through Platform.
    ada.visit(&format!("/orgs/{slug}/projects")).await;
    ada.follow_link("Billing API").await;
    ada.follow_link("Access history").await;
    ada.sees("Now, nobody can reach Billing API").await;
    ada.sees("Crew 07 lost Write — left team Platform").await;
    let week_ago = (time::OffsetDateTime::now_utc() - time::Duration::days(7)).date();
    ada.tab_to("Day (UTC)").await;
    ada.type_keys(&format!("{:02}{:02}{}", u8::from(week_ago.month()), week_ago.day(), week_ago.year())).await;
    ada.type_keys(ENTER).await;
    let day = roster::domain::dates::day(week_ago.with_time(time::Time::MIDNIGHT).assume_utc());
    ada.sees(&format!("At the end of {day}, 20 people could reach Billing API")).await;
    ada.row_shows("crew07@crew.test", "Write via team Platform").await;
    let violations = accessibility_violations(&ada.browser, "body").await;
    assert!(violations.is_empty(), "axe-core on Access history: {violations:?}");
    for (width, height) in [(1280, 800), (390, 844)] {
        ada.browser.set_window_size(width, height).await.unwrap();
        assert_eq!(sideways_overflow(&ada.browser).await, 0, "nothing scrolls sideways at {width} px");
    }
    ada.browser.set_window_size(1280, 800).await.unwrap();
    ada.screenshots_at_both_widths("project-access-history").await;
    ada.follow_link("Crew 07").await;
    ada.sees("Project Billing API · via team Platform").await;
    let violations = accessibility_violations(&ada.browser, "body").await;
    assert!(violations.is_empty(), "axe-core on a member's Access history: {violations:?}");
    for (width, height) in [(1280, 800), (390, 844)] {
        ada.browser.set_window_size(width, height).await.unwrap();
        assert_eq!(sideways_overflow(&ada.browser).await, 0, "nothing scrolls sideways at {width} px");
    }
    ada.browser.set_window_size(1280, 800).await.unwrap();
    ada.screenshots_at_both_widths("member-access-history").await;
    ada.browser.close().await.unwrap();
}

#[tokio::test]
async fn bulk_actions_work_without_javascript() {
    let Some(driver) = start_driver() else { return };
    let app = spawn_app().await;
    let slug = acme_with_a_crew_in_platform(&app).await;
    let ada = Person { browser: open_browser_with(&driver, false).await, app: &app };
    ada.sign_in("ada@acme.test").await;
    ada.visit(&format!("/orgs/{slug}/members?q=crew.test")).await;
    let all = ada.browser.find(Locator::Css("input[data-select-page]")).await.unwrap();
    assert!(!all.is_displayed().await.unwrap(), "without JavaScript the header's checkbox is not offered");
    for who in ["crew01@crew.test", "crew02@crew.test"] {
        let box_ = ada.browser.find(Locator::Css(&format!("input[aria-label='Select {who}']"))).await.unwrap();
        box_.click().await.unwrap();
    }
    ada.browser
        .find(Locator::XPath("//summary[normalize-space()='Act on selected members']"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    ada.field("Action").await.select_by_value("suspend").await.unwrap();
    ada.press_button("Preview").await;
    ada.sees("This suspends 2 members").await;
    assert_eq!(ada.heading().await, "Suspend");
    ada.press_button("Confirm").await;
    ada.sees("You suspended 2 members (batch").await;
    assert_eq!(app.count("SELECT count(*) FROM memberships WHERE suspended_at IS NOT NULL"), 2);
    ada.browser.close().await.unwrap();
}

#[tokio::test]
async fn the_owner_turns_on_provisioning_makes_a_scim_token_and_sees_what_the_identity_provider_did() {
    let Some(driver) = start_driver() else { return };
    let app = spawn_app().await;
    let slug = acme(&app).await;
    let person = Person { browser: open_browser(&driver).await, app: &app };
    person.sign_in("olivia@acme.test").await;
    person.visit(&format!("/orgs/{slug}/settings")).await;
    person.follow_link("Provisioning (SCIM)").await;
    person.sees("SCIM tokens are refused until you turn it on.").await;
    person.press_button("Turn on provisioning").await;
    person.sees("Provisioning is on: your identity provider can now use its SCIM token.").await;
    person.fill("Identity provider", "Okta").await;
    person.press_button("Create SCIM token").await;
    person.sees("Copy the SCIM token “Okta” now.").await;
    let token = person.field("SCIM token Okta").await.prop("value").await.unwrap().unwrap();
    assert!(token.starts_with("roster_"), "{token}");
    person.screenshots_at_both_widths("settings-provisioning-token").await;

    // Okta provisions Ada; the page lists it, and Members marks her.
    provision_by_scim(&app, &token, "ada@example.com", "Ada", "Lovelace").await;
    person.visit(&format!("/orgs/{slug}/settings/provisioning")).await;
    person.sees("Create user").await;
    person.sees("ada@example.com").await;
    let violations = accessibility_violations(&person.browser, "body").await;
    assert!(violations.is_empty(), "axe-core on Settings → Provisioning (SCIM): {violations:?}");
    for (width, height) in [(1280, 800), (390, 844)] {
        person.browser.set_window_size(width, height).await.unwrap();
        assert_eq!(sideways_overflow(&person.browser).await, 0, "nothing scrolls sideways at {width} px");
    }
    person.browser.set_window_size(1280, 800).await.unwrap();
    person.screenshots_at_both_widths("settings-provisioning").await;
    person.follow_link("Members").await;
    person.row_shows("ada@example.com", "Managed by SCIM").await;
    person.open_row_menu("ada@example.com").await;
    let row = person.row("ada@example.com").await;
    assert!(row.contains("Stop managing by SCIM"), "the menu is open: {row}");
    assert!(!row.contains("Suspend") && !row.contains("Remove"), "the console leaves her to the provider: {row}");
    let violations = accessibility_violations(&person.browser, "body").await;
    assert!(violations.is_empty(), "axe-core on Members with a managed member: {violations:?}");
    person.screenshots_at_both_widths("members-managed-by-scim").await;

    // Someone with an account of her own is asked before the organization sees it.
    app.create_verified_user("Beatrice Real", "bea@example.com").await;
    provision_by_scim(&app, &token, "bea@example.com", "Bea", "Alias").await;
    person.sign_out().await;
    person.sign_in("bea@example.com").await;
    person.sees("Acme's identity provider added you.").await;
    let violations = accessibility_violations(&person.browser, "body").await;
    assert!(violations.is_empty(), "axe-core on the Dashboard asking to accept: {violations:?}");
    person.screenshots_at_both_widths("dashboard-accept-provisioning").await;
    person.press_button("Accept").await;
    person.sees("You joined Acme.").await;
    person.browser.close().await.unwrap();
}

/// The identity provider creates a User with `token`, as Okta would.
async fn provision_by_scim(app: &TestApp, token: &str, email: &str, given: &str, family: &str) {
    let created = reqwest::Client::new()
        .post(app.url("/scim/v2/Users"))
        .bearer_auth(token)
        .header("content-type", "application/scim+json")
        .body(
            serde_json::json!({
                "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
                "userName": email,
                "name": { "givenName": given, "familyName": family },
                "emails": [{ "value": email, "type": "work", "primary": true }],
            })
            .to_string(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), reqwest::StatusCode::CREATED, "creating {email}");
}

/// Runs axe-core (vendored, test-only) on the element matching `selector`; returns its violations.
async fn accessibility_violations(browser: &Client, selector: &str) -> Vec<String> {
    let axe = include_str!("vendor/axe-4.14.1.min.js");
    let script = format!(
        "{axe}\nreturn axe.run(document.querySelector(arguments[0]), {{ runOnly: {{ type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] }}, \
         rules: {{ 'label-content-name-mismatch': {{ enabled: true }}, 'landmark-unique': {{ enabled: true }} }} }})\
         .then(function (r) {{ return r.violations.map(function (v) {{ return v.id + ': ' + v.help + ' (' + v.nodes.length + ')'; }}); }});"
    );
    let result = browser.execute(&script, vec![serde_json::json!(selector)]).await.expect("axe runs");
    serde_json::from_value(result).expect("a list of violations")
}

/// Waits (at most 5 s, without reloading) until the bell's accessible name is `name`.
/// Waits until the open bell dropdown has loaded an item with `text` and put focus in
/// itself (the Dashboard behind it may say the same sentence, so the page alone proves nothing).
async fn bell_panel_shows(person: &Person<'_>, text: &str) {
    let xpath = format!("//div[@id='bell-panel']//*[contains(normalize-space(.), \"{text}\")]");
    person
        .browser
        .wait()
        .at_most(Duration::from_secs(15))
        .for_element(Locator::XPath(&xpath))
        .await
        .unwrap_or_else(|_| panic!("the bell's dropdown shows {text:?}"));
    for _ in 0..50 {
        let focused = person
            .browser
            .execute("return document.getElementById('bell-panel').contains(document.activeElement);", vec![])
            .await
            .unwrap();
        if focused.as_bool() == Some(true) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("focus moves into the bell's dropdown when it opens");
}

async fn bell_says(person: &Person<'_>, name: &str) {
    let button = person.browser.find(Locator::Id("bell-button")).await.unwrap();
    let mut last = String::new();
    for _ in 0..50 {
        last = person.browser.find(Locator::Id("bell-label")).await.unwrap().text().await.unwrap_or_default();
        // The label is visually hidden: read its text content instead of rendered text.
        if last.is_empty() {
            last = person
                .browser
                .execute("return document.getElementById('bell-label').textContent;", vec![])
                .await
                .unwrap()
                .as_str()
                .unwrap_or_default()
                .to_owned();
        }
        if last == name {
            assert_eq!(button.attr("aria-labelledby").await.unwrap().as_deref(), Some("bell-label"));
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the bell says {last:?}, not {name:?}, after 5 s");
}

#[tokio::test]
async fn the_bell_shows_an_invitation_live_and_it_is_accepted_from_the_keyboard() {
    let Some(driver) = start_driver() else { return };
    let app = spawn_app().await;
    let slug = acme(&app).await;
    app.create_verified_user("Ada Lovelace", "ada@example.com").await;
    let olivia = Person { browser: open_browser_profile(&driver, true, "olivia").await, app: &app };
    let ada = Person { browser: open_browser_profile(&driver, true, "ada").await, app: &app };
    olivia.sign_in("olivia@acme.test").await;
    ada.sign_in("ada@example.com").await;
    bell_says(&ada, "Notifications").await;

    // The admin invites; Ada's open tab shows it within seconds, without a reload.
    app.invite(&slug, "ada@example.com", "member").await;
    bell_says(&ada, "Notifications, 1 unread").await;
    // Her Dashboard, open in that tab, shows the invitation too, without a reload.
    ada.sees("Invitations for you").await;
    assert!(ada.browser.find(Locator::XPath("//main//button[normalize-space()='Accept']")).await.is_ok());

    // From the keyboard: Tab to the bell, Enter opens it, focus moves inside.
    for _ in 0..30 {
        let active = ada.browser.active_element().await.unwrap();
        if active.attr("id").await.unwrap().as_deref() == Some("bell-button") {
            break;
        }
        active.send_keys(TAB).await.unwrap();
    }
    ada.type_keys(ENTER).await;
    bell_panel_shows(&ada, "Olivia Owner invited you to join Acme as Member.").await;
    let expanded = ada.browser.find(Locator::Id("bell-button")).await.unwrap().attr("aria-expanded").await.unwrap();
    assert_eq!(expanded.as_deref(), Some("true"));
    ada.screenshot("bell").await;
    let violations = accessibility_violations(&ada.browser, "#bell").await;
    assert!(violations.is_empty(), "axe-core: {violations:?}");

    // Escape closes it and gives focus back to the bell; Enter opens it again.
    ada.type_keys("\u{e00c}").await;
    let focused = ada.browser.active_element().await.unwrap();
    assert_eq!(focused.attr("id").await.unwrap().as_deref(), Some("bell-button"));
    assert_eq!(focused.attr("aria-expanded").await.unwrap().as_deref(), Some("false"));
    ada.type_keys(ENTER).await;
    bell_panel_shows(&ada, "Olivia Owner invited you to join Acme as Member.").await;

    // Tab to Accept and press Enter: the item is answered in place.
    let mut on_accept = false;
    for _ in 0..10 {
        let active = ada.browser.active_element().await.unwrap();
        if active.attr("aria-label").await.unwrap().as_deref() == Some("Accept the invitation to Acme") {
            on_accept = true;
            break;
        }
        active.send_keys(TAB).await.unwrap();
    }
    // The Dashboard's own Accept has the same name: this one must be the bell's.
    let in_bell: bool = ada
        .browser
        .execute("return document.getElementById('bell-panel').contains(document.activeElement);", vec![])
        .await
        .unwrap()
        .as_bool()
        .unwrap();
    assert!(on_accept && in_bell, "Tab reaches Accept in the bell");
    ada.type_keys(ENTER).await;
    // The item becomes its outcome, in the dropdown, which stays open with focus in it
    // (a busy machine answers slower than the Tab presses: the wait is generous).
    let answered = ada
        .browser
        .wait()
        .at_most(Duration::from_secs(15))
        .for_element(Locator::XPath("//div[@id='bell-panel']//li[contains(., 'You joined Acme as Member.')]"))
        .await
        .expect("the bell item says what happened");
    bell_says(&ada, "Notifications").await;
    let panel = ada.browser.find(Locator::Id("bell-panel")).await.unwrap();
    assert!(panel.is_displayed().await.unwrap(), "the dropdown stays open");
    let focused = ada.browser.active_element().await.unwrap();
    assert_eq!(focused.attr("id").await.unwrap(), answered.attr("id").await.unwrap(), "focus stays on the item");
    let inside = panel.find_all(Locator::Css("#dashboard-live, #orgs, #orgs-heading")).await.unwrap();
    assert!(inside.is_empty(), "the bell panel holds no Dashboard fragment");
    // Answered in the bell, it is gone from the Dashboard too, and Acme is listed there
    // and in the organization switcher.
    ada.browser
        .wait()
        .at_most(Duration::from_secs(5))
        .for_element(Locator::XPath("//main//section[@id='orgs']//a[normalize-space()='Acme']"))
        .await
        .expect("Acme appears on the Dashboard without a reload");
    for id in ["dashboard-live", "orgs", "orgs-heading"] {
        let count = ada.browser.find_all(Locator::Css(&format!("[id='{id}']"))).await.unwrap().len();
        assert_eq!(count, 1, "one element with id {id}");
    }
    let switcher = ada.browser.find(Locator::Id("switcher-orgs")).await.unwrap();
    let listed = switcher.find_all(Locator::XPath(".//a[starts-with(normalize-space(), 'Acme')]")).await.unwrap();
    assert_eq!(listed.len(), 1, "the switcher lists Acme without a reload");
    assert!(
        ada.browser.find(Locator::XPath("//main//button[normalize-space()='Accept']")).await.is_err(),
        "the Dashboard no longer offers Accept for an answered invitation"
    );
    assert_eq!(app.count("SELECT count(*) FROM memberships WHERE role = 'member'"), 1);

    // The admin's tab learns of the acceptance, live; with the mouse, the item leads to the members.
    bell_says(&olivia, "Notifications, 1 unread").await;
    olivia.browser.find(Locator::Id("bell-button")).await.unwrap().click().await.unwrap();
    olivia.sees("Ada Lovelace (ada@example.com) accepted your invitation to Acme").await;
    let violations = accessibility_violations(&olivia.browser, "#bell").await;
    assert!(violations.is_empty(), "axe-core: {violations:?}");
    olivia
        .browser
        .find(Locator::XPath("//div[@id='bell-panel']//button[contains(., 'accepted your invitation')]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    olivia.sees("Members").await;
    assert_eq!(olivia.heading().await, "Members");
    bell_says(&olivia, "Notifications").await;
    olivia.browser.close().await.unwrap();
    ada.browser.close().await.unwrap();
}

/// Pixels the page scrolls sideways (0 when it fits the window).
/// How many table rows on the page are cards, and the rows that are not (or whose
/// actions are not wholly on screen).
async fn cards(browser: &Client) -> (i64, Vec<String>) {
    let found = browser
        .execute(
            "const rows = Array.from(document.querySelectorAll('table:not(.permissions) > tbody > tr'));
             const width = document.documentElement.clientWidth;
             const bad = rows.filter(tr => {
               if (getComputedStyle(tr).display !== 'flex') return true;
               return Array.from(tr.querySelectorAll('.cell-actions button, .cell-actions summary, .cell-actions a'))
                 .filter(c => !c.closest('.menu-list'))
                 .some(c => { const r = c.getBoundingClientRect(); return r.width === 0 || r.left < 0 || r.right > width; });
             }).map(tr => tr.id + ': ' + tr.textContent.replace(/\\s+/g, ' ').trim().slice(0, 60));
             return [rows.length, bad];",
            vec![],
        )
        .await
        .unwrap();
    let rows = found[0].as_i64().unwrap();
    let bad = found[1].as_array().unwrap().iter().map(|v| v.as_str().unwrap().to_owned()).collect();
    (rows, bad)
}

async fn sideways_overflow(browser: &Client) -> i64 {
    let overflow = browser
        .execute("return document.documentElement.scrollWidth - document.documentElement.clientWidth;", vec![])
        .await
        .unwrap();
    overflow.as_i64().unwrap_or_default()
}

/// The tallest row of the page's table body, in pixels.
async fn tallest_row(browser: &Client) -> i64 {
    let height = browser
        .execute(
            "return Math.max(0, ...Array.from(document.querySelectorAll('main tbody tr')).map(r => Math.round(r.getBoundingClientRect().height)));",
            vec![],
        )
        .await
        .unwrap();
    height.as_i64().unwrap_or_default()
}

#[tokio::test]
async fn every_page_fits_a_phone_and_tables_keep_one_line_per_row_on_a_desktop() {
    let Some(driver) = start_driver() else { return };
    let app = spawn_app().await;
    let slug = acme(&app).await;
    app.member(&slug, "Ada Lovelace", "ada@example.com", "admin").await;
    app.member(&slug, "Katherine Johnson-Goble", "katherine.johnson@example.com", "member").await;
    app.invite(&slug, "grace.hopper@example.com, alan@example.com", "member").await;
    app.post_form(
        &format!("/orgs/{slug}/teams"),
        &[("name", "Platform"), ("description", "Runs the build and the servers")],
    )
    .await;
    app.post_form(
        &format!("/orgs/{slug}/teams/platform/members"),
        &[("member", "ada@example.com"), ("role", "maintainer")],
    )
    .await;
    app.post_form(&format!("/orgs/{slug}/projects"), &[("name", "API"), ("description", "The public API")]).await;
    app.post_form(
        &format!("/orgs/{slug}/projects/api/access"),
        &[("team", ""), ("member", "olivia@acme.test"), ("level", "admin")],
    )
    .await;
    app.post_form(
        &format!("/orgs/{slug}/settings/api-keys"),
        &[("name", "HR sync"), ("scopes", "members:read"), ("scopes", "invitations:write")],
    )
    .await;
    let person = Person { browser: open_browser(&driver).await, app: &app };
    person.sign_in("olivia@acme.test").await;
    let pages = [
        ("api", format!("/orgs/{slug}/api")),
        ("teams", format!("/orgs/{slug}/teams")),
        ("team-page", format!("/orgs/{slug}/teams/platform")),
        ("new-team", format!("/orgs/{slug}/teams/new")),
        ("projects", format!("/orgs/{slug}/projects")),
        ("project-page", format!("/orgs/{slug}/projects/api")),
        ("my-access", format!("/orgs/{slug}/access")),
        ("seat-usage", format!("/orgs/{slug}/seats")),
        ("invite-members", format!("/orgs/{slug}/invitations/new")),
        ("dashboard", "/dashboard".to_owned()),
        ("members", format!("/orgs/{slug}/members")),
        ("invitations", format!("/orgs/{slug}/invitations")),
        ("audit-log", format!("/orgs/{slug}/audit")),
        ("settings", format!("/orgs/{slug}/settings")),
        ("settings-danger-zone", format!("/orgs/{slug}/settings/danger-zone")),
        ("member-page", format!("/orgs/{slug}/members/{}", app.membership_id(&slug, "ada@example.com"))),
        ("overview", format!("/orgs/{slug}")),
        ("notifications", "/notifications".to_owned()),
        ("account", "/account".to_owned()),
        ("account-sessions", "/account#sessions".to_owned()),
        ("help", "/help".to_owned()),
        ("new-organization", "/orgs/new".to_owned()),
    ];
    for (width, height, suffix) in [(1280, 800, "desktop"), (390, 844, "phone"), (320, 640, "small-phone")] {
        person.browser.set_window_size(width, height).await.unwrap();
        for (name, path) in &pages {
            person.visit(path).await;
            person.sees("Roster").await;
            person.screenshot(&format!("{name}-{suffix}")).await;
            if width < 640 {
                let (rows, misplaced) = cards(&person.browser).await;
                assert!(
                    misplaced.is_empty(),
                    "{name} at {width} px: rows that are not cards, or actions out of sight: {misplaced:?}"
                );
                if ["members", "invitations", "team-page"].contains(name) {
                    assert!(rows > 0, "{name} shows its rows as cards");
                }
                if ["members", "invitations", "audit-log"].contains(name) {
                    let search = person.browser.find(Locator::Css("details.filter-fold form")).await.unwrap();
                    assert!(!search.is_displayed().await.unwrap(), "{name}: the filters are folded at {width} px");
                    let toggle = person.browser.find(Locator::Css("details.filter-fold > summary")).await.unwrap();
                    assert_eq!(toggle.text().await.unwrap(), "Filters", "{name}: the Filters button, no filter set");
                }
            }
            let wide = person.browser.execute("return Array.from(document.querySelectorAll('body *')).filter(e => e.getBoundingClientRect().right > document.documentElement.clientWidth + 1).slice(0, 12).map(e => e.tagName + '.' + e.className + '#' + e.id + ' ' + Math.round(e.getBoundingClientRect().right));", vec![]).await.unwrap();
            assert_eq!(sideways_overflow(&person.browser).await, 0, "{name} scrolls sideways at {width} px: {wide}");
            if width == 1280 && (*name == "members" || *name == "invitations") {
                let tallest = tallest_row(&person.browser).await;
                assert!(tallest <= 64, "{name}: a row is {tallest} px high at 1280 px, more than one line");
            }
            let violations = accessibility_violations(&person.browser, "body").await;
            assert!(violations.is_empty(), "axe-core on {name} at {width} px: {violations:?}");
        }
        // The invite dialog, with a refused entry: it fits, keeps what was typed, and
        // breaks no rule of the Content-Security-Policy.
        person.visit(&format!("/orgs/{slug}/invitations")).await;
        person
            .browser
            .execute(
                "window.cspViolations = []; document.addEventListener('securitypolicyviolation', function (e) { window.cspViolations.push(e.violatedDirective + ' ' + e.sourceFile + ':' + e.lineNumber + ' ' + e.sample); });",
                vec![],
            )
            .await
            .unwrap();
        person.follow_link("Invite Members").await;
        person.fill("Email addresses", "not-an-address").await;
        person.press_button("Send Invitations").await;
        person.sees("No valid address.").await;
        person.screenshot(&format!("invite-dialog-{suffix}")).await;
        assert_eq!(sideways_overflow(&person.browser).await, 0, "the invite dialog scrolls sideways at {width} px");
        let violations = accessibility_violations(&person.browser, "dialog[open]").await;
        assert!(violations.is_empty(), "axe-core on the invite dialog at {width} px: {violations:?}");
        let csp = person.browser.execute("return window.cspViolations;", vec![]).await.unwrap();
        assert_eq!(csp, serde_json::json!([]), "the Content-Security-Policy was broken at {width} px");
        person.type_keys("\u{e00c}").await;
    }
    // The pages of someone signed out, the invitation link's included.
    person.sign_out().await;
    let signed_out = [
        ("sign-in", "/sign-in".to_owned()),
        ("sign-up", "/sign-up".to_owned()),
        ("forgot-password", "/forgot-password".to_owned()),
        ("invitation-link", app.invitation_link("alan@example.com")),
    ];
    for (width, height, suffix) in [(1280, 800, "desktop"), (390, 844, "phone")] {
        person.browser.set_window_size(width, height).await.unwrap();
        for (name, path) in &signed_out {
            person.visit(path).await;
            person.sees("Roster").await;
            person.screenshot(&format!("{name}-{suffix}")).await;
            assert_eq!(sideways_overflow(&person.browser).await, 0, "{name} scrolls sideways at {width} px");
            let violations = accessibility_violations(&person.browser, "body").await;
            assert!(violations.is_empty(), "axe-core on {name} at {width} px: {violations:?}");
        }
    }
    person.sign_in("olivia@acme.test").await;

    // On a phone the navigation is behind its Menu button, and opens from it.
    person.visit(&format!("/orgs/{slug}/members")).await;
    let menu = person.browser.find(Locator::XPath("//nav[@aria-label='Main']//summary")).await.unwrap();
    assert!(menu.is_displayed().await.unwrap());
    let audit = person
        .browser
        .find(Locator::XPath("//nav[@aria-label='Main']//a[normalize-space()='Audit Log']"))
        .await
        .unwrap();
    assert!(!audit.is_displayed().await.unwrap(), "folded on a phone");
    menu.click().await.unwrap();
    audit.click().await.unwrap();
    person.sees("What happened").await;
    person.browser.close().await.unwrap();
}

/// Types `typed` into the type-ahead picker labelled `label`, then moves down its
/// suggestions with the arrow key to `option` and chooses it with Enter.
async fn pick(person: &Person<'_>, label: &str, typed: &str, option: &str) {
    let field = person.field(label).await;
    field.send_keys(typed).await.unwrap();
    let xpath = format!(
        "//ul[@role='listbox' and not(@hidden)]/li[@role='option'][span[@class='option-label' and normalize-space()='{option}']]"
    );
    let wanted = person
        .browser
        .wait()
        .at_most(Duration::from_secs(5))
        .for_element(Locator::XPath(&xpath))
        .await
        .unwrap_or_else(|_| panic!("{label:?} never suggested {option:?}"));
    for _ in 0..25 {
        field.send_keys(ARROW_DOWN).await.unwrap();
        if wanted.attr("aria-selected").await.unwrap().as_deref() == Some("true") {
            let active = field.attr("aria-activedescendant").await.unwrap();
            assert_eq!(active, wanted.attr("id").await.unwrap(), "the field points at the option it selects");
            field.send_keys(ENTER).await.unwrap();
            return;
        }
    }
    panic!("the arrow keys never reached {option:?} in {label:?}");
}

/// The chips of the multiple picker labelled `label`, in order. A page that is
/// replaced while they are read (a form answered without JavaScript loads a new
/// one) is read again.
async fn chips(person: &Person<'_>, label: &str) -> Vec<String> {
    let xpath =
        format!("//div[@data-picker][label[normalize-space()='{label}']]//li[@class='chip']/span[@class='chip-label']");
    for _ in 0..20 {
        match read_texts(&person.browser, &xpath).await {
            Ok(names) => return names,
            Err(e) if went_stale(&e) => tokio::time::sleep(Duration::from_millis(100)).await,
            Err(e) => panic!("reading the chips of {label:?}: {e}"),
        }
    }
    panic!("the chips of {label:?} kept going stale");
}

/// Waits (up to 5 s) until the chips of the picker labelled `label` are `expected`:
/// without JavaScript the answer is a new page, which may still be on its way.
async fn chips_are(person: &Person<'_>, label: &str, expected: &[&str], why: &str) {
    let mut seen = Vec::new();
    for _ in 0..50 {
        seen = chips(person, label).await;
        if seen == expected {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the chips of {label:?} are {seen:?}, not {expected:?}: {why}");
}

/// The texts of the elements at `xpath`, in order.
async fn read_texts(browser: &Client, xpath: &str) -> Result<Vec<String>, fantoccini::error::CmdError> {
    let mut names = Vec::new();
    for element in browser.find_all(Locator::XPath(xpath)).await? {
        names.push(element.text().await?);
    }
    Ok(names)
}

/// Chooses `option` in the select labelled `label`.
async fn choose(person: &Person<'_>, label: &str, option: &str) {
    let select = person.field(label).await;
    select.select_by_label(option).await.unwrap_or_else(|_| panic!("no option {option:?} in {label:?}"));
}

#[tokio::test]
async fn an_owner_builds_a_team_and_a_project_and_a_new_member_invited_into_the_team_sees_the_project_via_the_team() {
    let Some(driver) = start_driver() else { return };
    let app = spawn_app().await;
    let slug = acme(&app).await;
    let person = Person { browser: open_browser(&driver).await, app: &app };
    person.sign_in("olivia@acme.test").await;
    person.visit(&format!("/orgs/{slug}")).await;

    // A team and a project, and the team gets Write on the project.
    person.follow_link("Teams").await;
    person.sees("No teams yet.").await;
    person.follow_link("Create team").await;
    person.fill("Name", "Platform").await;
    person.fill("Description (optional)", "Runs the build and the servers").await;
    person.press_button("Create team").await;
    person.sees("Team Platform was created.").await;
    assert_eq!(person.heading().await, "Platform");
    person.follow_link("Projects").await;
    person.follow_link("Create project").await;
    person.fill("Name", "API").await;
    person.press_button("Create project").await;
    person.sees("Project API was created.").await;
    pick(&person, "Team", "plat", "Platform").await;
    choose(&person, "Level", "Write").await;
    person.press_button("Grant access").await;
    person.sees("Team Platform now has Write access to API.").await;
    person.row_shows("Platform", "Write").await;
    person.screenshot("project").await;

    // Straight into the team from its page.
    person.follow_link("Teams").await;
    person.screenshot("teams").await;
    person.follow_link("Platform").await;
    person.follow_link("Invite to team").await;
    let platform = person.field("Email addresses").await; // the form is there
    drop(platform);
    chips_are(&person, "Teams (optional)", &["Platform"], "Invite to team chooses the team").await;
    person.fill("Email addresses", "nia@example.com").await;
    person.press_button("Send Invitations").await;
    person.sees("1 sent.").await;
    // Invite to team opened the invite dialog, as Invite Members does everywhere: Close ends it.
    person.press_button("Close").await;
    person.sign_out().await;

    // Nia signs up from the emailed link and finds the project in My access.
    person.visit("/dev/mailbox").await;
    person
        .browser
        .find(Locator::XPath("//tr[td[normalize-space()='nia@example.com']]//a"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    person.sees("Accepting also gives you: team Platform.").await;
    person.browser.find(Locator::XPath("//main//a[contains(@href, '/invite/')]")).await.unwrap().click().await.unwrap();
    person.sees("Accepting also gives access to: team Platform.").await;
    person.follow_link("Create account and join Acme").await;
    person.fill("Name", "Nia Newton").await;
    person.fill("Password", PASSWORD).await;
    person.fill("Confirm password", PASSWORD).await;
    person.press_button("Create account and join Acme").await;
    person.sees("You joined Acme as Member, with team Platform.").await;
    person.follow_link("My access").await;
    person.row_shows("API", "Write via team Platform").await;
    person.screenshot("my-access").await;
    person.browser.close().await.unwrap();
}

#[tokio::test]
async fn a_maintainer_adds_a_member_to_their_team_from_the_keyboard_and_may_change_nothing_else() {
    let Some(driver) = start_driver() else { return };
    let app = spawn_app().await;
    let slug = acme(&app).await;
    app.member(&slug, "Mia Maintainer", "mia@example.com", "member").await;
    app.member(&slug, "Ada Lovelace", "ada@example.com", "member").await;
    app.post_form(&format!("/orgs/{slug}/teams"), &[("name", "Platform"), ("description", "")]).await;
    app.post_form(
        &format!("/orgs/{slug}/teams/platform/members"),
        &[("member", "mia@example.com"), ("role", "maintainer")],
    )
    .await;
    let person = Person { browser: open_browser(&driver).await, app: &app };
    person.sign_in("mia@example.com").await;
    person.visit(&format!("/orgs/{slug}/teams/platform")).await;
    // What she may not do is not offered.
    for absent in ["Delete team", "Save team", "Create team"] {
        let found =
            person.browser.find_all(Locator::XPath(&format!("//main//*[normalize-space()='{absent}']"))).await.unwrap();
        assert!(found.is_empty(), "{absent} is offered to a Maintainer");
    }
    // From the keyboard: type a name, choose the role, press Enter.
    person.tab_to("Organization member").await;
    person.type_keys("ada@example.com").await;
    person.tab_to("Team role").await;
    person.type_keys("Member").await;
    person.tab_to("Organization member").await;
    person.type_keys(ENTER).await;
    person.sees("Ada Lovelace (ada@example.com) was added to the team as Member.").await;
    person.row_shows("ada@example.com", "Member").await;
    person.screenshot("team").await;
    // A team role changes in place, from the row's More actions as on Members: the
    // row is swapped, the message announced.
    person.open_row_menu("ada@example.com").await;
    choose(&person, "Team role of ada@example.com", "Maintainer").await;
    person.screenshot("team-role-menu").await;
    person.press_in_row("ada@example.com", "Change role").await;
    person.sees("ada@example.com is now Maintainer of the team.").await;
    assert_eq!(app.count("SELECT count(*) FROM team_members WHERE role = 'maintainer'"), 2);
    let focused = person.browser.active_element().await.unwrap().attr("id").await.unwrap().unwrap_or_default();
    assert!(focused.starts_with("team-member-"), "focus lands on the updated row, not {focused:?}");
    let violations = accessibility_violations(&person.browser, "body").await;
    assert!(violations.is_empty(), "axe-core on the team page: {violations:?}");
    // The server refuses what the page does not offer.
    let refused = app.other_browser();
    refused.sign_in("mia@example.com", PASSWORD).await;
    let response = refused.post_form(&format!("/orgs/{slug}/teams/platform/delete"), &[]).await;
    assert_eq!(response.status(), reqwest::StatusCode::FORBIDDEN);
    assert_eq!(app.count("SELECT count(*) FROM teams"), 1);
    person.browser.close().await.unwrap();
}

/// Creating a team, adding a member and granting the team Write, from the keyboard
/// alone, with JavaScript on or off (then every step is a plain form).
async fn team_scenario_from_the_keyboard(javascript: bool) {
    let Some(driver) = start_driver() else { return };
    let app = spawn_app().await;
    let slug = acme(&app).await;
    app.member(&slug, "Ada Lovelace", "ada@example.com", "member").await;
    let person = Person { browser: open_browser_with(&driver, javascript).await, app: &app };
    person.sign_in("olivia@acme.test").await;

    person.visit(&format!("/orgs/{slug}/teams/new")).await;
    person.tab_to("Name").await;
    person.type_keys("Platform").await;
    person.type_keys(ENTER).await;
    person.sees("Team Platform was created.").await;

    person.tab_to("Organization member").await;
    person.type_keys("ada@example.com").await;
    person.type_keys(ENTER).await;
    person.sees("Ada Lovelace (ada@example.com) was added to the team as Member.").await;

    person.visit(&format!("/orgs/{slug}/projects/new")).await;
    person.tab_to("Name").await;
    person.type_keys("API").await;
    person.type_keys(ENTER).await;
    person.sees("Project API was created.").await;
    person.tab_to("Team").await;
    person.type_keys("Platform").await;
    person.tab_to("Level").await;
    person.type_keys("Write").await;
    person.type_keys(TAB).await;
    assert_eq!(person.browser.active_element().await.unwrap().text().await.unwrap(), "Grant access");
    person.type_keys(ENTER).await;
    person.sees("Team Platform now has Write access to API.").await;

    person.visit(&format!("/orgs/{slug}/members/{}", app.membership_id(&slug, "ada@example.com"))).await;
    person.row_shows("API", "Write via team Platform").await;
    if javascript {
        // axe-core is a script: it runs where scripts do.
        let violations = accessibility_violations(&person.browser, "body").await;
        assert!(violations.is_empty(), "axe-core on the member's Access: {violations:?}");
    }
    person.browser.close().await.unwrap();
}

#[tokio::test]
async fn the_team_scenario_works_from_the_keyboard() {
    team_scenario_from_the_keyboard(true).await;
}

#[tokio::test]
async fn the_team_scenario_works_without_javascript() {
    team_scenario_from_the_keyboard(false).await;
}

/// An organization with teams `Platform 1` … `Platform 30`.
async fn with_thirty_teams(app: &TestApp) -> String {
    let slug = acme(app).await;
    app.execute(&format!(
        "INSERT INTO teams (id, organization_id, name, slug) \
         SELECT gen_random_uuid(), o.id, 'Platform ' || i, 'platform-' || i \
           FROM organizations o, generate_series(1, 30) AS i WHERE o.slug = '{slug}'"
    ));
    slug
}

#[tokio::test]
async fn teams_are_picked_as_you_type_from_the_keyboard_and_backspace_removes_a_chip() {
    let Some(driver) = start_driver() else { return };
    let app = spawn_app().await;
    let slug = with_thirty_teams(&app).await;
    let person = Person { browser: open_browser(&driver).await, app: &app };
    person.sign_in("olivia@acme.test").await;
    person.visit(&format!("/orgs/{slug}/invitations")).await;
    person.follow_link("Invite Members").await;
    person.fill("Email addresses", "nia@example.com").await;

    // The field is a combobox whose suggestions come in natural order.
    let field = person.field("Teams (optional)").await;
    assert_eq!(field.attr("role").await.unwrap().as_deref(), Some("combobox"));
    pick(&person, "Teams (optional)", "platform 1", "Platform 1").await;
    assert_eq!(field.attr("aria-expanded").await.unwrap().as_deref(), Some("false"), "choosing closes the list");
    let violations = accessibility_violations(&person.browser, "dialog[open]").await;
    assert!(violations.is_empty(), "axe-core on the invite dialog with a chip: {violations:?}");
    field.send_keys("platform 2").await.unwrap();
    let options = person
        .browser
        .wait()
        .at_most(Duration::from_secs(5))
        .for_element(Locator::XPath("//ul[@role='listbox' and not(@hidden)]/li[@role='option'][span='Platform 29']"))
        .await;
    assert!(options.is_ok(), "the suggestions for “platform 2” arrive");
    let shown = person
        .browser
        .find_all(Locator::XPath(
            "//ul[@role='listbox' and not(@hidden)]/li[@role='option']/span[@class='option-label']",
        ))
        .await
        .unwrap();
    let mut names = Vec::new();
    for option in shown {
        names.push(option.text().await.unwrap());
    }
    let expected: Vec<String> = std::iter::once(2).chain(20..=29).map(|i| format!("Platform {i}")).collect();
    assert_eq!(names, expected, "Platform 2 before Platform 20");
    let violations = accessibility_violations(&person.browser, "dialog[open]").await;
    assert!(violations.is_empty(), "axe-core with the list open: {violations:?}");
    person.screenshot("invite-picker").await;
    // Escape closes the list and leaves the dialog open.
    field.send_keys("\u{e00c}").await.unwrap();
    assert_eq!(field.attr("aria-expanded").await.unwrap().as_deref(), Some("false"));
    assert!(person.browser.find(Locator::Css("dialog[open]")).await.is_ok(), "Escape closed only the list");
    field.clear().await.unwrap();
    pick(&person, "Teams (optional)", "platform 2", "Platform 20").await;
    chips_are(&person, "Teams (optional)", &["Platform 1", "Platform 20"], "").await;
    // Backspace in the empty field takes the last chip away.
    field.send_keys(BACKSPACE).await.unwrap();
    chips_are(&person, "Teams (optional)", &["Platform 1"], "").await;

    // Send Invitations is a few Tab presses away, whatever the number of teams.
    let mut presses = 0;
    while person.browser.active_element().await.unwrap().text().await.unwrap() != "Send Invitations" {
        person.type_keys(TAB).await;
        presses += 1;
        assert!(presses <= 6, "more than 6 presses of Tab from Teams to Send Invitations");
    }
    person.type_keys(ENTER).await;
    person.sees("1 sent.").await;
    assert_eq!(
        app.count(
            "SELECT count(*) FROM invitation_grants g JOIN teams t ON t.id = g.team_id WHERE t.name = 'Platform 1'"
        ),
        1
    );
    assert_eq!(app.count("SELECT count(*) FROM invitation_grants"), 1, "only the chip left");
    person.browser.close().await.unwrap();
}

#[tokio::test]
async fn teams_are_found_and_chosen_without_javascript() {
    let Some(driver) = start_driver() else { return };
    let app = spawn_app().await;
    let slug = with_thirty_teams(&app).await;
    let person = Person { browser: open_browser_with(&driver, false).await, app: &app };
    person.sign_in("olivia@acme.test").await;
    person.visit(&format!("/orgs/{slug}/invitations")).await;
    person.follow_link("Invite Members").await;
    person.fill("Email addresses", "nia@example.com").await;
    person.fill("Teams (optional)", "platform 1").await;
    person.press_button("Find").await;
    person.sees("Teams matching “platform 1”").await;
    person
        .browser
        .find(Locator::XPath("//label[normalize-space()='Platform 10']/input"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    person.press_button("Find").await;
    chips_are(&person, "Teams (optional)", &["Platform 10"], "a ticked team becomes a chip").await;
    // Enter in the field searches again; it never presses a chip's remove button.
    person.fill("Teams (optional)", "platform 2").await;
    person.type_keys(ENTER).await;
    person.sees("Teams matching “platform 2”").await;
    chips_are(&person, "Teams (optional)", &["Platform 10"], "Enter kept the chip").await;
    person.press_button("Send Invitations").await;
    person.sees("1 sent.").await;
    assert_eq!(
        app.count(
            "SELECT count(*) FROM invitation_grants g JOIN teams t ON t.id = g.team_id WHERE t.name = 'Platform 10'"
        ),
        1
    );
    person.browser.close().await.unwrap();
}

#[tokio::test]
async fn at_the_seat_limit_invitations_are_refused_with_the_numbers_and_a_revoke_on_seat_usage_frees_a_seat() {
    let Some(driver) = start_driver() else { return };
    let app = spawn_app().await;
    let slug = acme(&app).await;
    app.member(&slug, "Ada Lovelace", "ada@example.com", "admin").await;
    app.member(&slug, "Alan Turing", "alan@example.com", "member").await;
    app.member(&slug, "Grace Hopper", "grace@example.com", "member").await;
    let person = Person { browser: open_browser(&driver).await, app: &app };
    person.sign_in("olivia@acme.test").await;

    // The Owner sets a limit of 5 with 4 used.
    person.visit(&format!("/orgs/{slug}/settings/seats")).await;
    person.fill("Seat limit", "5").await;
    person.press_button("Change seat limit").await;
    person.sees("The seat limit is now 5. 4 / 5 seats used; 1 free.").await;

    // Two people do not fit; one does.
    person.visit(&format!("/orgs/{slug}/invitations")).await;
    person.follow_link("Invite Members").await;
    person.fill("Email addresses", "kate@example.com, edsger@example.com").await;
    person.press_button("Send Invitations").await;
    person.sees("Nothing was sent. Not enough seats: this needs 2 seats, 1 available.").await;
    person.fill("Email addresses", "kate@example.com").await;
    person.press_button("Send Invitations").await;
    person.sees("1 sent.").await;
    person.press_button("Close").await;
    person.sees("5 / 5 seats used").await;

    // Seat Usage: full, Invite Members disabled with its reason, and the way out.
    person.follow_link("Seat Usage").await;
    person.sees("5 / 5 seats used").await;
    person.sees("5 of 5 seats used — revoke a pending invitation, remove a member, or raise the limit.").await;
    let invite =
        person.browser.find(Locator::XPath("//main//button[normalize-space()='Invite Members']")).await.unwrap();
    assert!(!invite.is_enabled().await.unwrap(), "Invite Members is disabled at the limit");
    person.screenshot("seat-usage-full").await;
    let violations = accessibility_violations(&person.browser, "body").await;
    assert!(violations.is_empty(), "axe-core on Seat Usage at the limit: {violations:?}");
    person.press_in_row("kate@example.com", "Revoke").await;
    person.sees("Revoke the invitation to kate@example.com").await;
    person.press_button("Revoke").await;
    person.sees("4 / 5 seats used").await;
    let invite = person.browser.find(Locator::XPath("//main//a[normalize-space()='Invite Members']")).await.unwrap();
    assert!(invite.is_displayed().await.unwrap(), "a freed seat enables Invite Members again");
    person.screenshot("seat-usage").await;
    person.browser.close().await.unwrap();
}

#[tokio::test]
async fn a_domain_verified_against_a_loopback_dns_server_lets_a_new_sign_up_there_join_as_member() {
    let Some(driver) = start_driver() else { return };
    let token = "fedcba9876543210fedcba9876543210";
    let record = format!("roster-verification={token}");
    let (dns, _server) = start_dns(&[("_roster-verification.acme-corp.test.", &record)]).await;
    let app = spawn_app_with(|s| s.dns_server = Some(dns)).await;
    let slug = acme(&app).await;
    let person = Person { browser: open_browser(&driver).await, app: &app };
    person.sign_in("olivia@acme.test").await;

    // The Owner adds the domain and sees the record to create.
    person.visit(&format!("/orgs/{slug}/settings/domains")).await;
    person.fill("Domain", "Acme-Corp.test").await;
    person.press_button("Add domain").await;
    person.sees("acme-corp.test was added. Create its TXT record, then press Verify.").await;
    person.sees("_roster-verification.acme-corp.test").await;
    // (Its record was created with a token of the test's own.)
    app.execute(&format!("UPDATE organization_domains SET token = '{token}'"));
    person.visit(&format!("/orgs/{slug}/settings/domains")).await;
    person.sees(&record).await;
    let violations = accessibility_violations(&person.browser, "body").await;
    assert!(violations.is_empty(), "axe-core on Settings → Domains: {violations:?}");
    person.press_button("Verify").await;
    person.sees("acme-corp.test is verified.").await;
    person.screenshot("domains").await;
    person.sign_out().await;

    // A newcomer at the domain signs up, verifies from the dev mailbox, and is in.
    person.visit("/sign-up").await;
    person.fill("Name", "Nora Newcomer").await;
    person.fill("Email", "nora@acme-corp.test").await;
    person.fill("Password", PASSWORD).await;
    person.fill("Confirm password", PASSWORD).await;
    person.press_button("Create account").await;
    // The header links to the Dev mailbox on every page: wait for the next page before following it.
    person.sees("We sent a link to nora@acme-corp.test").await;
    person.follow_link("Dev mailbox").await;
    person.follow_link("Verify your email address for Roster").await;
    person
        .browser
        .find(Locator::XPath("//main//a[contains(@href, '/verify-email?token=')]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    // The link, in the browser that signed up, signs Nora in: her Dashboard lists Acme.
    person.press_button("Verify email address").await;
    // (Found again each time: the Dashboard refreshes itself when her bell changes.)
    person.row_shows("Acme", "Member").await;
    person.browser.close().await.unwrap();
}

#[tokio::test]
async fn an_admin_creates_an_api_key_from_the_keyboard_and_a_script_invites_with_its_secret() {
    let Some(driver) = start_driver() else { return };
    let app = spawn_app().await;
    let slug = acme(&app).await;
    app.member(&slug, "Ada Admin", "ada@acme.test", "admin").await;
    let person = Person { browser: open_browser(&driver).await, app: &app };
    person.browser.set_window_size(1280, 800).await.unwrap();
    person.sign_in("ada@acme.test").await;
    person.visit(&format!("/orgs/{slug}/settings/api-keys")).await;
    person.sees("No API keys yet.").await;

    // Name, two scopes and the button, by keyboard alone.
    person.tab_to("Name").await;
    person.type_keys("HR sync").await;
    for scope in ["members:read", "invitations:write"] {
        let xpath = format!("//input[@name='scopes' and @value='{scope}']");
        let checkbox = person.browser.find(Locator::XPath(&xpath)).await.unwrap();
        let id = format!("scope-{}", scope.replace(':', "-"));
        assert_eq!(checkbox.attr("id").await.unwrap().as_deref(), Some(id.as_str()));
        person.browser.execute(&format!("document.getElementById('{id}').focus();"), vec![]).await.unwrap();
        person.type_keys(" ").await;
    }
    person.type_keys(ENTER).await;
    person.sees("Copy the secret of “HR sync” now.").await;
    let secret = person.field("Secret of HR sync").await.prop("value").await.unwrap().unwrap();
    assert!(secret.starts_with("roster_"), "{secret}");
    person.screenshot("api-keys").await;
    let violations = accessibility_violations(&person.browser, "body").await;
    assert!(violations.is_empty(), "axe-core on Settings → API keys: {violations:?}");

    // A script invites with it; the list then shows the key as used.
    let response = reqwest::Client::new()
        .post(app.url("/api/v1/invitations"))
        .bearer_auth(&secret)
        .json(&serde_json::json!({ "emails": ["ann@example.com", "bob@example.com", "cy@example.com"] }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), reqwest::StatusCode::CREATED);
    person.visit(&format!("/orgs/{slug}/settings/api-keys")).await;
    person.row_shows("members:read", "just now").await;
    assert!(!person.browser.source().await.unwrap().contains(&secret), "the secret is shown once");
    person.visit(&format!("/orgs/{slug}/invitations")).await;
    person.row_shows("bob@example.com", "Pending").await;

    // Revoke asks first, then the key is refused.
    person.visit(&format!("/orgs/{slug}/settings/api-keys")).await;
    person
        .browser
        .find(Locator::XPath("//a[@aria-label='Revoke API key HR sync']"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    person.press_button("Revoke").await;
    person.sees("The API key “HR sync” was revoked.").await;
    let response = reqwest::Client::new().get(app.url("/api/v1/seats")).bearer_auth(&secret).send().await.unwrap();
    assert_eq!(response.status(), reqwest::StatusCode::UNAUTHORIZED);
    person.browser.close().await.unwrap();
}

#[tokio::test]
async fn an_owner_adds_a_webhook_and_its_delivery_log_shows_the_invitation_created_and_accepted() {
    let Some(driver) = start_driver() else { return };
    let receiver = common::receiver::Receiver::start();
    let app = spawn_app_with(|s| s.webhooks_allow_private = true).await;
    let slug = acme(&app).await;
    let person = Person { browser: open_browser(&driver).await, app: &app };
    person.browser.set_window_size(1280, 800).await.unwrap();
    person.sign_in("olivia@acme.test").await;
    person.visit(&format!("/orgs/{slug}/settings/webhooks")).await;
    person.sees("No webhooks yet.").await;
    person.fill("Endpoint URL", &receiver.url()).await;
    person.browser.find(Locator::Id("events-invitation")).await.unwrap().click().await.unwrap();
    person.press_button("Add endpoint").await;
    person.sees("Copy the signing secret").await;
    let secret =
        person.field(&format!("Signing secret of {}", receiver.url())).await.prop("value").await.unwrap().unwrap();
    assert!(secret.starts_with("whsec_"));

    // An invitation is sent and accepted; the receiver gets both, signed.
    app.member(&slug, "Ann", "ann@example.com", "member").await;
    for _ in 0..100 {
        if receiver.received().len() >= 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let got = receiver.received();
    assert_eq!(got.len(), 2);
    assert!(got.iter().all(|r| common::receiver::signature_is_valid(&secret, r)));
    person.visit(&format!("/orgs/{slug}/settings/webhooks")).await;
    person.screenshot("webhooks").await;
    let violations = accessibility_violations(&person.browser, "body").await;
    assert!(violations.is_empty(), "axe-core on Settings → Webhooks: {violations:?}");
    person.follow_link("Delivery log").await;
    person.row_shows("invitation.accepted", "Delivered").await;
    person.row_shows("invitation.created", "HTTP 200").await;
    person.screenshot("webhook-log").await;
    let violations = accessibility_violations(&person.browser, "body").await;
    assert!(violations.is_empty(), "axe-core on the delivery log: {violations:?}");
    person.press_in_row("invitation.created", "Redeliver").await;
    person.sees("is queued to be sent again").await;
    person.browser.set_window_size(390, 844).await.unwrap();
    person.screenshot("webhook-log-phone").await;
    assert_eq!(sideways_overflow(&person.browser).await, 0, "the delivery log scrolls sideways on a phone");
    person.browser.close().await.unwrap();
}

#[tokio::test]
async fn a_first_run_with_no_database_set_up_serves_the_demo_and_its_sign_in_works() {
    let Some(driver) = start_driver() else { return };
    // As on a machine with no DATABASE_URL and nothing at 127.0.0.1:5432 (CI runs a
    // server there, hence `always`): Roster runs a private PostgreSQL of its own.
    let home = common::process::scratch_dir();
    let env = vec![
        ("ROSTER_PRIVATE_POSTGRES", "always".to_owned()),
        ("ROSTER_DATA_DIR", home.join("data").display().to_string()),
    ];
    let roster = common::process::Roster::start(&home, &["--demo"], &env).await;
    assert!(roster.output().contains("Using a private PostgreSQL"), "{}", roster.output());

    let browser = open_browser(&driver).await;
    browser.goto(&format!("{}/sign-in", roster.address)).await.unwrap();
    for (label, value) in
        [("Email", roster::services::demo::DEMO_EMAIL), ("Password", roster::services::demo::DEMO_PASSWORD)]
    {
        let label = browser.find(Locator::XPath(&format!("//label[normalize-space()='{label}']"))).await.unwrap();
        let id = label.attr("for").await.unwrap().unwrap();
        browser.find(Locator::Id(&id)).await.unwrap().send_keys(value).await.unwrap();
    }
    browser.find(Locator::XPath("//main//button[normalize-space()='Sign in']")).await.unwrap().click().await.unwrap();
    let acme = browser.wait().at_most(Duration::from_secs(10)).for_element(Locator::LinkText("Acme")).await;
    let body = browser.find(Locator::Css("body")).await.unwrap().text().await.unwrap();
    assert!(acme.is_ok() && body.contains("Your organizations"), "the demo owner's Dashboard:\n{body}");
    browser.close().await.unwrap();

    let (stopped, output) = roster.finish().await;
    assert!(stopped.success(), "{output}");
    let _ = std::fs::remove_dir_all(&home);
}

/// The page people get while the database is stalled (every session read waits on a
/// lock here): the Busy right now page, within the bound, readable on a phone and a
/// desktop, with no accessibility violation.
#[tokio::test]
async fn the_busy_page_of_a_stalled_database_reads_well_on_a_phone_and_a_desktop() {
    use diesel::{Connection as _, RunQueryDsl as _};
    let Some(driver) = start_driver() else { return };
    let app = spawn_app_with(|s| s.request_timeout = Duration::from_secs(1)).await;
    acme(&app).await;
    let person = Person { browser: open_browser(&driver).await, app: &app };
    person.sign_in("olivia@acme.test").await;
    person.sees("Acme").await;

    let mut holder = app.db.conn();
    holder.begin_test_transaction().unwrap();
    diesel::sql_query("LOCK TABLE sessions IN ACCESS EXCLUSIVE MODE").execute(&mut holder).unwrap();
    for (width, height, suffix) in [(1280, 800, "desktop"), (390, 844, "phone")] {
        person.browser.set_window_size(width, height).await.unwrap();
        person.visit("/dashboard").await;
        person.sees("Busy right now").await;
        person.screenshot(&format!("busy-{suffix}")).await;
        assert_eq!(sideways_overflow(&person.browser).await, 0, "the busy page scrolls sideways at {width} px");
        let violations = accessibility_violations(&person.browser, "body").await;
        assert!(violations.is_empty(), "axe-core on the busy page at {width} px: {violations:?}");
    }
    drop(holder);
    person.visit("/dashboard").await;
    person.sees("Your organizations").await;
}

/// A page of another site (another origin on loopback) whose form posts to Roster.
async fn another_site(action: String) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = format!("http://{}", listener.local_addr().unwrap());
    let page = format!(
        "<!doctype html><title>Prizes</title><form method=post action=\"{action}\">\
         <input type=hidden name=name value=Forged><button>Claim your prize</button></form>"
    );
    tokio::spawn(async move {
        use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
        while let Ok((mut socket, _)) = listener.accept().await {
            let mut request = [0u8; 4096];
            let _ = socket.read(&mut request).await;
            let answer = format!(
                "HTTP/1.1 200 OK\r\ncontent-type: text/html\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{page}",
                page.len()
            );
            let _ = socket.write_all(answer.as_bytes()).await;
        }
    });
    address
}

/// Signs out and in again in a second tab, as a person does, and comes back to the first.
async fn sign_in_again_in_another_tab(person: &Person<'_>, email: &str) {
    let first = person.browser.window().await.unwrap();
    let second = person.browser.new_window(true).await.unwrap();
    person.browser.switch_to_window(second.handle).await.unwrap();
    person.visit("/dashboard").await;
    person.sign_out().await;
    person.sign_in(email).await;
    person.browser.close_window().await.unwrap();
    person.browser.switch_to_window(first).await.unwrap();
}

/// Whether Chromium shows Roster's page, not one of its own ("HTTP ERROR 403",
/// ERR_CONTENT_DECODING_FAILED), for the answer it just received.
async fn shows_rosters_page(person: &Person<'_>, title: &str) {
    person.sees(title).await;
    assert_eq!(person.browser.title().await.unwrap(), format!("{title} · Roster"));
    let url = person.browser.current_url().await.unwrap();
    assert!(url.as_str().starts_with(&person.app.url("/")), "Chromium left for {url}");
}

#[tokio::test]
async fn a_form_that_expired_in_another_tab_and_a_post_from_another_site_show_rosters_own_pages() {
    let Some(driver) = start_driver() else { return };
    let app = spawn_app().await;
    let slug = acme(&app).await;
    app.invite(&slug, "ada@example.com", "member").await;
    let person = Person { browser: open_browser(&driver).await, app: &app };
    person.sign_in("olivia@acme.test").await;

    // A plain form, then signing in again elsewhere: the page says the form expired
    // and leads back to it, where it works.
    person.visit("/orgs/new").await;
    person.fill("Organization name", "Globex").await;
    sign_in_again_in_another_tab(&person, "olivia@acme.test").await;
    person.press_button("Create organization").await;
    shows_rosters_page(&person, "This form has expired").await;
    person.sees("Nothing was saved").await;
    person.screenshot("form-expired").await;
    let violations = accessibility_violations(&person.browser, "body").await;
    assert!(violations.is_empty(), "axe-core: {violations:?}");
    assert_eq!(app.count("SELECT count(*) FROM organizations"), 1);
    person.follow_link("Reload the form").await;
    person.fill("Organization name", "Globex").await;
    person.press_button("Create organization").await;
    person.sees("Globex was created. You are its Owner.").await;

    // An htmx action (Resend) after the session changed: its sentence shows in the
    // page's alert region, and nothing is sent.
    person.visit(&format!("/orgs/{slug}/invitations")).await;
    person.row("ada@example.com").await;
    sign_in_again_in_another_tab(&person, "olivia@acme.test").await;
    person.press_in_row("ada@example.com", "Resend Invitation").await;
    let alert = person
        .browser
        .wait()
        .at_most(Duration::from_secs(5))
        .for_element(Locator::XPath("//div[@id='flash']/*[@role='alert' and contains(., 'This form has expired')]"))
        .await
        .expect("the refusal shows in the alert region");
    assert!(alert.text().await.unwrap().contains("Reload the page and try again."));
    assert_eq!(app.count("SELECT send_count::bigint AS count FROM invitations"), 1);

    // Another site's form posts to Roster: refused, with Roster's page saying why.
    let site = another_site(app.url("/orgs")).await;
    person.browser.goto(&site).await.unwrap();
    person
        .browser
        .find(Locator::XPath("//button[normalize-space()='Claim your prize']"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    shows_rosters_page(&person, "Sent from another site").await;
    assert_eq!(app.count("SELECT count(*) FROM organizations WHERE name = 'Forged'"), 0);
    person.browser.close().await.unwrap();
}

/// The left and right edges of the element `id`, and the window's width.
async fn edges(browser: &Client, id: &str) -> (i64, i64, i64) {
    let found = browser
        .execute(
            "var r = document.getElementById(arguments[0]).getBoundingClientRect(); \
             return [Math.round(r.left), Math.round(r.right), document.documentElement.clientWidth];",
            vec![serde_json::json!(id)],
        )
        .await
        .unwrap();
    let numbers: Vec<i64> = serde_json::from_value(found).unwrap();
    (numbers[0], numbers[1], numbers[2])
}

#[tokio::test]
async fn the_bell_dropdown_opens_within_the_screen_on_a_phone_and_a_desktop() {
    let Some(driver) = start_driver() else { return };
    let app = spawn_app().await;
    let slug = acme(&app).await;
    app.create_verified_user("Ada Lovelace", "ada@example.com").await;
    app.invite(&slug, "ada@example.com", "member").await;
    let ada = Person { browser: open_browser(&driver).await, app: &app };
    ada.sign_in("ada@example.com").await;
    for (width, height, suffix) in [(390, 844, "phone"), (1280, 800, "desktop")] {
        ada.browser.set_window_size(width, height).await.unwrap();
        ada.visit("/dashboard").await;
        ada.browser.find(Locator::Id("bell-button")).await.unwrap().click().await.unwrap();
        bell_panel_shows(&ada, "Olivia Owner invited you to join Acme as Member.").await;
        let (left, right, screen) = edges(&ada.browser, "bell-panel").await;
        ada.screenshot(&format!("bell-{suffix}")).await;
        assert!(left >= 0 && right <= screen, "at {width} px the dropdown spans {left}..{right} of 0..{screen}");
        let wide = ada.browser.execute("return [window.scrollX, document.documentElement.scrollWidth].concat(Array.from(document.querySelectorAll('body *')).filter(e => e.getBoundingClientRect().right + window.scrollX > document.documentElement.clientWidth + 1).slice(0, 12).map(e => e.tagName + '.' + e.className + '#' + e.id + ' ' + Math.round(e.getBoundingClientRect().left) + '..' + Math.round(e.getBoundingClientRect().right)));", vec![]).await.unwrap();
        assert_eq!(sideways_overflow(&ada.browser).await, 0, "the page scrolls sideways at {width} px: {wide}");
        let (_, button_right, _) = edges(&ada.browser, "bell-button").await;
        assert!(
            right >= button_right - 1,
            "the dropdown hangs below the bell, not beside it: {right} < {button_right}"
        );
        let violations = accessibility_violations(&ada.browser, "#bell").await;
        assert!(violations.is_empty(), "axe-core at {width} px: {violations:?}");
        ada.type_keys("\u{e00c}").await;
    }
    ada.browser.close().await.unwrap();
}

/// Which elements reach past the window's right edge, for a failure message.
async fn too_wide(browser: &Client) -> serde_json::Value {
    browser
        .execute(
            "return Array.from(document.querySelectorAll('body *')).filter(e => e.getBoundingClientRect().right + window.scrollX > document.documentElement.clientWidth + 1).slice(0, 12).map(e => e.tagName + '.' + e.className + ' ' + Math.round(e.getBoundingClientRect().right));",
            vec![],
        )
        .await
        .unwrap()
}

#[tokio::test]
async fn a_long_owner_address_and_the_dev_mailbox_fit_the_window_and_the_mailbox_knows_who_is_signed_in() {
    let Some(driver) = start_driver() else { return };
    let app = spawn_app().await;
    let long = "olivia.owner-of-the-organization.with-a-very-long-address@subsidiary.engineering.acme-holdings.example";
    let slug = app.owner_of("Acme", "Olivia Owner", long).await;
    app.invite(&slug, "a.person.with.a.rather.long.address@subsidiary.engineering.example.com", "member").await;
    let person = Person { browser: open_browser(&driver).await, app: &app };
    person.sign_in(long).await;
    for (width, height, suffix) in [(1280, 800, "desktop"), (390, 844, "phone")] {
        person.browser.set_window_size(width, height).await.unwrap();
        for (name, path) in [("overview-long-address", format!("/orgs/{slug}")), ("dev-mailbox", "/dev/mailbox".into())]
        {
            person.visit(&path).await;
            person.sees("Roster").await;
            person.screenshot(&format!("{name}-{suffix}")).await;
            let overflow = sideways_overflow(&person.browser).await;
            assert_eq!(overflow, 0, "{name} scrolls sideways at {width} px: {}", too_wide(&person.browser).await);
            let violations = accessibility_violations(&person.browser, "body").await;
            assert!(violations.is_empty(), "axe-core on {name} at {width} px: {violations:?}");
        }
        // Signed in, the mailbox's header is the usual one: the account menu, no `Sign in`.
        let header = person.browser.find(Locator::Css("header.topbar")).await.unwrap().text().await.unwrap();
        assert!(!header.contains("Sign in") && !header.contains("Create account"), "{header}");
        assert!(person
            .browser
            .find(Locator::XPath("//summary[@aria-label='Account menu for Olivia Owner']"))
            .await
            .is_ok());
        person.follow_link("Olivia Owner invited you to join Acme on Roster").await;
        person.sees("a.person.with.a.rather.long.address").await;
        person.screenshot(&format!("dev-mailbox-message-{suffix}")).await;
        assert_eq!(
            sideways_overflow(&person.browser).await,
            0,
            "a message at {width} px: {}",
            too_wide(&person.browser).await
        );
    }
    person.browser.close().await.unwrap();
}

/// The id, text and classes of the focused element.
async fn focused(browser: &Client) -> String {
    let active = browser.active_element().await.unwrap();
    let text = active.text().await.unwrap_or_default();
    let class = active.attr("class").await.unwrap().unwrap_or_default();
    format!("{} [{class}]", text.trim())
}

/// Opens a confirmation with `open`, then checks the one pattern: it opens on Cancel,
/// the destructive button (red) comes next and last, Tab stays inside, Escape gives
/// focus back to what opened it.
async fn check_confirmation(person: &Person<'_>, what: &str, button: &str) {
    let dialog = person
        .browser
        .wait()
        .at_most(Duration::from_secs(5))
        .for_element(Locator::Css("dialog[open]"))
        .await
        .unwrap_or_else(|_| panic!("{what}: no dialog"));
    let opener = person
        .browser
        .execute("return document.activeElement.closest('dialog') ? null : 'outside';", vec![])
        .await
        .unwrap();
    assert_eq!(opener, serde_json::Value::Null, "{what}: focus is in the dialog");
    assert_eq!(focused(&person.browser).await, "Cancel [button secondary]", "{what}: opens on Cancel");
    person.type_keys(TAB).await;
    assert_eq!(focused(&person.browser).await, format!("{button} [danger]"), "{what}: the destructive button next");
    person.type_keys(TAB).await;
    assert_eq!(focused(&person.browser).await, "Cancel [button secondary]", "{what}: Tab stays in the dialog");
    person.type_keys("\u{e008}\u{e004}").await; // Shift+Tab
    assert_eq!(focused(&person.browser).await, format!("{button} [danger]"), "{what}: Shift+Tab too");
    person.screenshot(&format!("confirm-{}", what.to_lowercase().replace(' ', "-"))).await;
    let violations = accessibility_violations(&person.browser, "dialog[open]").await;
    assert!(violations.is_empty(), "{what}: axe-core: {violations:?}");
    person.type_keys("\u{e00c}").await; // Escape
    assert!(dialog.attr("open").await.map_or(true, |open| open.is_none()), "{what}: Escape closes it");
}

#[tokio::test]
async fn destructive_controls_look_alike_and_confirm_alike_with_focus_kept_where_it_belongs() {
    let Some(driver) = start_driver() else { return };
    let receiver = common::receiver::Receiver::start();
    let app = spawn_app_with(|s| s.webhooks_allow_private = true).await;
    let slug = acme(&app).await;
    app.member(&slug, "Mia Member", "mia@example.com", "member").await;
    app.invite(&slug, "ada@example.com", "member").await;
    app.post_form(&format!("/orgs/{slug}/teams"), &[("name", "Platform"), ("description", "")]).await;
    app.post_form(&format!("/orgs/{slug}/projects"), &[("name", "API"), ("description", "")]).await;
    app.post_form(&format!("/orgs/{slug}/settings/api-keys"), &[("name", "HR sync"), ("scopes", "members:read")]).await;
    app.post_form(&format!("/orgs/{slug}/settings/webhooks"), &[("url", &receiver.url()), ("events", "member.*")])
        .await;
    let person = Person { browser: open_browser(&driver).await, app: &app };
    person.browser.set_window_size(1280, 800).await.unwrap();
    person.sign_in("olivia@acme.test").await;

    // Row actions under More actions.
    person.visit(&format!("/orgs/{slug}/members")).await;
    person.press_in_row("mia@example.com", "Remove").await;
    check_confirmation(&person, "Remove member", "Remove member").await;
    person.visit(&format!("/orgs/{slug}/invitations")).await;
    person.press_in_row("ada@example.com", "Revoke").await;
    check_confirmation(&person, "Revoke invitation", "Revoke").await;

    // Danger zones and Settings: every destructive trigger has the one red look.
    let red = "rgba(180, 35, 24, 1)";
    for (page, name, button) in [
        (format!("/orgs/{slug}/teams/platform"), "Delete team", "Delete team"),
        (format!("/orgs/{slug}/projects/api"), "Delete project", "Delete project"),
        (format!("/orgs/{slug}/settings/api-keys"), "Revoke", "Revoke"),
        (format!("/orgs/{slug}/settings/webhooks"), "Delete", "Delete"),
    ] {
        person.visit(&page).await;
        let trigger = person
            .browser
            .find(Locator::XPath(&format!("//main//a[normalize-space()='{name}']")))
            .await
            .unwrap_or_else(|_| panic!("no {name} on {page}"));
        let background = trigger.css_value("background-color").await.unwrap();
        assert_eq!(background, red, "{name} is red like every destructive control");
        trigger.click().await.unwrap();
        check_confirmation(&person, name, button).await;
        let back = person.browser.active_element().await.unwrap().text().await.unwrap();
        assert_eq!(back.trim(), name, "{name}: focus returns to the control that opened it");
    }
    assert_eq!(app.count("SELECT count(*) FROM teams"), 1, "nothing was deleted on the way");
    assert_eq!(app.count("SELECT count(*) FROM api_keys WHERE revoked_at IS NULL"), 1);

    // The invite dialog: after Send Invitations focus stays in it, on the summary, and
    // Escape returns it to Invite Members.
    person.visit(&format!("/orgs/{slug}/invitations")).await;
    person.follow_link("Invite Members").await;
    person.fill("Email addresses", "grace@example.com").await;
    person.press_button("Send Invitations").await;
    person.sees("1 sent.").await;
    let in_dialog =
        person.browser.execute("return !!document.activeElement.closest('dialog[open]');", vec![]).await.unwrap();
    assert_eq!(in_dialog, serde_json::json!(true), "focus stays in the dialog: {}", focused(&person.browser).await);
    person.type_keys("\u{e00c}").await;
    assert_eq!(focused(&person.browser).await, "Invite Members [button]", "Escape returns to Invite Members");

    // The bell opens on its first item, not on `Mark all as read`.
    let ada = Person { browser: open_browser_profile(&driver, true, "ada").await, app: &app };
    app.create_verified_user("Ada Lovelace", "ada@example.com").await;
    ada.sign_in("ada@example.com").await;
    ada.browser.find(Locator::Id("bell-button")).await.unwrap().click().await.unwrap();
    bell_panel_shows(&ada, "Olivia Owner invited you to join Acme as Member.").await;
    for _ in 0..20 {
        if focused(&ada.browser).await != "Loading… []" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let label = ada.browser.active_element().await.unwrap().attr("aria-label").await.unwrap();
    assert_eq!(label.as_deref(), Some("Accept the invitation to Acme"), "focus: {}", focused(&ada.browser).await);
    person.browser.close().await.unwrap();
    ada.browser.close().await.unwrap();
}

#[tokio::test]
async fn settings_with_an_api_key_and_a_webhook_name_each_landmark_once() {
    let Some(driver) = start_driver() else { return };
    let receiver = common::receiver::Receiver::start();
    let app = spawn_app_with(|s| s.webhooks_allow_private = true).await;
    let slug = acme(&app).await;
    app.post_form(&format!("/orgs/{slug}/settings/api-keys"), &[("name", "HR sync"), ("scopes", "members:read")]).await;
    app.post_form(&format!("/orgs/{slug}/settings/webhooks"), &[("url", &receiver.url()), ("events", "member.*")])
        .await;
    app.member(&slug, "Ada", "ada@example.com", "member").await;
    let person = Person { browser: open_browser(&driver).await, app: &app };
    person.sign_in("olivia@acme.test").await;
    for path in
        [format!("/orgs/{slug}/settings/api-keys"), format!("/orgs/{slug}/settings/webhooks"), "/notifications".into()]
    {
        person.visit(&path).await;
        person.sees("Roster").await;
        // With the bell open too: its region must not share a name with the page's.
        person.browser.find(Locator::Id("bell-button")).await.unwrap().click().await.unwrap();
        person.sees("All notifications").await;
        let violations = accessibility_violations(&person.browser, "body").await;
        assert!(violations.is_empty(), "axe-core on {path}: {violations:?}");
    }
    person.browser.close().await.unwrap();
}

/// Seeds the demo organization (Acme, its people and its history) in the database at `url`.
fn seed_demo(url: &str, base_url: &url::Url, key: &[u8]) {
    use diesel::Connection as _;
    let password = roster::domain::NewPassword::parse(PASSWORD, PASSWORD).unwrap();
    let hash = roster::services::passwords::hash(&password).unwrap();
    let links = roster::mail::Links::new(base_url, key);
    let tokens = roster::domain::token::TokenKey::derive_from(key);
    let ctx = roster::services::invitations::Context { links: &links, tokens: &tokens, ttl: time::Duration::days(7) };
    let mut conn = diesel::PgConnection::establish(url).unwrap();
    roster::services::demo::seed(&mut conn, &ctx, &hash).unwrap();
}

#[tokio::test]
async fn the_demo_reads_like_a_real_organization_on_every_page_at_both_widths_in_light_and_dark() {
    let Some(driver) = start_driver() else { return };
    let app = spawn_app().await;
    let url = app.db.url.clone();
    let (base_url, key) = (app.settings.base_url.clone(), app.settings.session_key.bytes.clone());
    tokio::task::spawn_blocking(move || seed_demo(&url, &base_url, &key)).await.unwrap();
    let member = app.membership_id("acme", "ada@acme.test");
    let pages = [
        ("overview", "/orgs/acme".to_owned()),
        ("members", "/orgs/acme/members".to_owned()),
        ("invitations", "/orgs/acme/invitations?status=all".to_owned()),
        ("teams", "/orgs/acme/teams".to_owned()),
        ("team", "/orgs/acme/teams/platform".to_owned()),
        ("projects", "/orgs/acme/projects".to_owned()),
        ("project", "/orgs/acme/projects/api".to_owned()),
        ("member-page", format!("/orgs/acme/members/{member}")),
        ("seat-usage", "/orgs/acme/seats".to_owned()),
        ("audit-log", "/orgs/acme/audit".to_owned()),
        ("settings", "/orgs/acme/settings".to_owned()),
        ("notifications", "/notifications".to_owned()),
        ("dashboard", "/dashboard".to_owned()),
    ];
    for scheme in ["light", "dark"] {
        let browser = if scheme == "dark" { open_dark_browser(&driver).await } else { open_browser(&driver).await };
        let person = Person { browser, app: &app };
        let dark = person.browser.execute("return matchMedia('(prefers-color-scheme: dark)').matches;", vec![]).await;
        assert_eq!(dark.unwrap(), serde_json::json!(scheme == "dark"), "the browser's colour scheme");
        person.sign_in(roster::services::demo::DEMO_EMAIL).await;
        for (width, height, suffix) in [(1280, 800, "desktop"), (390, 844, "phone")] {
            person.browser.set_window_size(width, height).await.unwrap();
            for (name, path) in &pages {
                person.visit(path).await;
                person.sees("Roster").await;
                person.screenshot(&format!("demo-{name}-{suffix}-{scheme}")).await;
                assert_eq!(
                    sideways_overflow(&person.browser).await,
                    0,
                    "{name} scrolls sideways at {width} px, {scheme}"
                );
                let violations = accessibility_violations(&person.browser, "body").await;
                assert!(violations.is_empty(), "axe-core on {name} at {width} px, {scheme}: {violations:?}");
            }
        }
        // A lived-in organization: people joined over months and were last active
        // at different times, some never; invitations are pending and expired.
        person.browser.set_window_size(1280, 800).await.unwrap();
        person.visit("/orgs/acme/members?sort=joined").await;
        let members = person.browser.find(Locator::Css("#members-table")).await.unwrap().text().await.unwrap();
        assert!(members.contains("Never") && members.contains("hours ago"), "{members}");
        let joined = person
            .browser
            .execute(
                "return new Set(Array.from(document.querySelectorAll('td[data-label=\"Joined\"] time')).map(t => t.textContent)).size;",
                vec![],
            )
            .await
            .unwrap();
        assert!(joined.as_i64().unwrap() >= 7, "members joined on different days: {members}");
        person.visit("/orgs/acme/invitations").await;
        person.sees("Expired").await;
        person.sees("Pending").await;
        // A Member's Overview is about their own access, and whom to ask for more.
        person.sign_out().await;
        person.sign_in("grace@acme.test").await;
        person.visit("/orgs/acme").await;
        person.sees("Need more access?").await;
        person.row_shows("API", "Read via team Design").await;
        person.screenshot(&format!("demo-overview-member-desktop-{scheme}")).await;
        let violations = accessibility_violations(&person.browser, "body").await;
        assert!(violations.is_empty(), "axe-core on a Member's Overview, {scheme}: {violations:?}");
        person.browser.close().await.unwrap();
    }
}

#[tokio::test]
async fn a_relative_time_gives_its_exact_date_on_hover_and_to_the_keyboard() {
    let Some(driver) = start_driver() else { return };
    let app = spawn_app().await;
    let slug = acme(&app).await;
    app.member(&slug, "Ada Lovelace", "ada@example.com", "member").await;
    let person = Person { browser: open_browser(&driver).await, app: &app };
    person.sign_in("olivia@acme.test").await;
    person.visit(&format!("/orgs/{slug}/members")).await;
    let row = format!("member-{}", app.membership_id(&slug, "ada@example.com"));
    let exact_shown = format!(
        "const t = document.querySelector('#{row} time[title]'); \
         return [t.title, t.textContent, getComputedStyle(t, '::after').content];"
    );
    let shown = |value: serde_json::Value| -> (String, String, String) {
        let parts: Vec<String> = value.as_array().unwrap().iter().map(|v| v.as_str().unwrap().to_owned()).collect();
        (parts[0].clone(), parts[1].clone(), parts[2].clone())
    };
    let (title, words, after) = shown(person.browser.execute(&exact_shown, vec![]).await.unwrap());
    assert_eq!(words, "just now", "the row says when in words");
    assert!(title.ends_with(" UTC") && title.contains(", "), "the exact time is there on hover: {title:?}");
    assert_eq!(after, "none", "and not drawn while the row has no focus");

    // Tab to the row's More actions: the row's times show their exact date.
    person.browser.find(Locator::Css("body")).await.unwrap().send_keys(TAB).await.unwrap();
    let mut reached = false;
    for _ in 0..60 {
        let active = person.browser.active_element().await.unwrap();
        if active.html(false).await.unwrap().contains("More actions for ada@example.com") {
            reached = true;
            break;
        }
        active.send_keys(TAB).await.unwrap();
    }
    assert!(reached, "Tab reaches Ada's More actions");
    let (title, _, after) = shown(person.browser.execute(&exact_shown, vec![]).await.unwrap());
    assert_eq!(after, format!("\"{title}\""), "the exact time shows to the keyboard");
    person.browser.close().await.unwrap();
}

/// Single sign-on, as people see it: the Owner sets up a real OpenID provider on
/// loopback in Settings, a person at the verified domain signs in through it with the
/// password left empty and lands in Acme as Member; after `Require SSO` a password no
/// longer signs anyone there in, except the Owner. Both widths, axe-core on each page.
#[tokio::test]
async fn a_person_at_a_verified_domain_signs_in_through_the_provider_and_require_sso_ends_passwords() {
    use common::provider::{Account, Provider, CLIENT_ID, CLIENT_SECRET};
    let Some(driver) = start_driver() else { return };
    let app = spawn_app_with(|s| s.sso_allow_private = true).await;
    let ada =
        Account { email: "ada@acme.test", name: "Ada Lovelace", verified: true, entra: false, userinfo_only: false };
    let Some(provider) = Provider::start(&app.url("/sign-in/sso/callback"), &[ada]).await else { return };
    let slug = acme(&app).await;
    app.execute(&format!(
        "INSERT INTO organization_domains (id, organization_id, domain, token, verified_at) \
         SELECT gen_random_uuid(), id, 'acme.test', '0123456789abcdef0123456789abcdef', now() \
         FROM organizations WHERE slug = '{slug}'"
    ));
    app.create_verified_user("Bob Builder", "bob@acme.test").await;

    // The Owner: Settings → Single sign-on.
    let olivia = Person { browser: open_browser_profile(&driver, true, "olivia").await, app: &app };
    olivia.sign_in("olivia@acme.test").await;
    olivia.visit(&format!("/orgs/{slug}/settings/sso")).await;
    let redirect = olivia.browser.find(Locator::Id("sso-redirect")).await.unwrap();
    assert_eq!(redirect.prop("value").await.unwrap().as_deref(), Some(app.url("/sign-in/sso/callback").as_str()));
    olivia.fill("Issuer URL", &provider.issuer).await;
    olivia.fill("Client ID", CLIENT_ID).await;
    olivia.fill("Client secret", CLIENT_SECRET).await;
    olivia.field("acme.test").await.click().await.unwrap();
    olivia.press_button("Save").await;
    olivia.sees("Single sign-on is saved.").await;
    olivia.press_button("Test connection").await;
    olivia.sees("Roster read the provider's discovery document").await;
    olivia.sees(&format!("{}/token", provider.issuer)).await;
    let violations = accessibility_violations(&olivia.browser, "body").await;
    assert!(violations.is_empty(), "axe-core on Single sign-on: {violations:?}");
    olivia.screenshots_at_both_widths("settings-sso").await;

    // Ada, at acme.test, with no Roster account: Email, no password, Sign in.
    let person = Person { browser: open_browser_profile(&driver, true, "ada").await, app: &app };
    for (width, height) in [(390, 844), (1280, 800)] {
        person.browser.set_window_size(width, height).await.unwrap();
        person.visit("/sign-in").await;
        person.sees("Leave the password empty").await;
        let violations = accessibility_violations(&person.browser, "body").await;
        assert!(violations.is_empty(), "axe-core on Sign in at {width} px: {violations:?}");
    }
    person.fill("Email", "ada@acme.test").await;
    person.press_button("Sign in").await;
    // The provider's own page (the form's redirect to it is allowed by the page's CSP).
    person.sees("Sign in to Test IdP").await;
    person.press_button("Sign in to Test IdP").await;
    person.sees("Your organizations").await;
    person.sees("Acme").await;
    assert_eq!(
        app.count(
            "SELECT count(*) AS count FROM memberships m JOIN users u ON u.id = m.user_id \
             WHERE u.email = 'ada@acme.test' AND m.role = 'member'"
        ),
        1
    );
    person.screenshots_at_both_widths("sso-signed-in").await;

    // The Owner requires SSO for acme.test, behind a confirmation.
    olivia.visit(&format!("/orgs/{slug}/settings/sso")).await;
    olivia.field("Require SSO").await.click().await.unwrap();
    olivia
        .browser
        .find(Locator::XPath("//button[@aria-label='Save Require SSO for acme.test']"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    olivia.sees("Require single sign-on for addresses at").await;
    let violations = accessibility_violations(&olivia.browser, "dialog").await;
    assert!(violations.is_empty(), "axe-core on the confirmation: {violations:?}");
    olivia.press_button("Require SSO").await;
    olivia.sees("now sign in only with single sign-on").await;
    for (width, height, suffix) in [(1280, 800, "desktop"), (390, 844, "phone")] {
        olivia.browser.set_window_size(width, height).await.unwrap();
        let scroll = "document.getElementById('require-sso-heading').scrollIntoView();";
        olivia.browser.execute(scroll, vec![]).await.unwrap();
        assert_eq!(sideways_overflow(&olivia.browser).await, 0, "Require SSO scrolls sideways at {width} px");
        olivia.screenshot(&format!("settings-require-sso-{suffix}")).await;
    }
    olivia.browser.set_window_size(1280, 800).await.unwrap();

    // Bob's password no longer signs him in: a sentence beside Email.
    let bob = Person { browser: open_browser_profile(&driver, true, "bob").await, app: &app };
    for (width, height, suffix) in [(1280, 800, "desktop"), (390, 844, "phone")] {
        bob.browser.set_window_size(width, height).await.unwrap();
        bob.visit("/sign-in").await;
        bob.fill("Email", "bob@acme.test").await;
        bob.fill("Password", PASSWORD).await;
        bob.press_button("Sign in").await;
        bob.sees("Acme signs in with single sign-on for addresses at acme.test").await;
        let alert = bob.browser.find(Locator::Css("#email-error[role='alert']")).await.unwrap();
        assert!(alert.text().await.unwrap().contains("leave the password empty"));
        let violations = accessibility_violations(&bob.browser, "body").await;
        assert!(violations.is_empty(), "axe-core on the refusal at {width} px: {violations:?}");
        bob.screenshot(&format!("sign-in-sso-required-{suffix}")).await;
    }

    // The Owner keeps her password.
    olivia.sign_out().await;
    olivia.sign_in("olivia@acme.test").await;
    for browser in [olivia.browser, person.browser, bob.browser] {
        browser.close().await.unwrap();
    }
}
