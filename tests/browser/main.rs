//! Browser tests: real headless Chromium through chromedriver, against the real
//! application, finding elements the way a person does (labels, roles, visible text).
//! They skip when Chromium is missing, unless ROSTER_REQUIRE_BROWSER=1.

#[path = "../common/mod.rs"]
mod common;

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use fantoccini::elements::Element;
use fantoccini::{Client, ClientBuilder, Locator};

use common::{spawn_app, TestApp, PASSWORD};

const TAB: &str = "\u{e004}";
const ENTER: &str = "\u{e007}";

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
        let found = Command::new("sh")
            .arg("-c")
            .arg(format!("command -v {name}"))
            .output()
            .ok()?;
        found
            .status
            .success()
            .then(|| String::from_utf8_lossy(&found.stdout).trim().to_owned())
    })
}

/// Starts chromedriver, or says why not: `None` means "skip", unless browsers are required.
fn start_driver() -> Option<Driver> {
    let required = std::env::var("ROSTER_REQUIRE_BROWSER").is_ok_and(|v| v == "1");
    let (Some(driver), Some(_)) = (
        find_program(&["chromedriver"]),
        find_program(&["chromium", "chromium-browser", "google-chrome"]),
    ) else {
        assert!(
            !required,
            "ROSTER_REQUIRE_BROWSER=1 but chromium or chromedriver is not installed"
        );
        eprintln!("skipping browser test: chromium and chromedriver are not installed (apt-get install chromium chromium-driver)");
        return None;
    };
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = Command::new(driver)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start chromedriver");
    let profile =
        std::env::temp_dir().join(format!("roster-chromium-{}", uuid::Uuid::new_v4().simple()));
    Some(Driver {
        child,
        port,
        _profile: TempDir(profile),
    })
}

async fn open_browser(driver: &Driver) -> Client {
    let chromium = find_program(&["chromium", "chromium-browser", "google-chrome"]).unwrap();
    let mut capabilities = serde_json::Map::new();
    capabilities.insert(
        "goog:chromeOptions".into(),
        serde_json::json!({
            "binary": chromium,
            "args": [
                "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--no-first-run", "--window-size=1280,900",
                format!("--user-data-dir={}", driver._profile.0.display()),
            ]
        }),
    );
    let url = format!("http://127.0.0.1:{}", driver.port);
    for _ in 0..50 {
        match ClientBuilder::native()
            .capabilities(capabilities.clone())
            .connect(&url)
            .await
        {
            Ok(client) => return client,
            Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
        }
    }
    panic!("could not connect to chromedriver at {url}");
}

/// What a person sees and does.
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
            .for_element(Locator::XPath(&format!(
                "//label[normalize-space()='{label}']"
            )))
            .await
            .unwrap_or_else(|_| panic!("no field labelled {label:?}"));
        let id = label_element
            .attr("for")
            .await
            .unwrap()
            .expect("label has a for attribute");
        self.browser.find(Locator::Id(&id)).await.unwrap()
    }

    async fn fill(&self, label: &str, value: &str) {
        let field = self.field(label).await;
        field.clear().await.unwrap();
        field.send_keys(value).await.unwrap();
    }

    async fn press_button(&self, name: &str) {
        let button = self
            .browser
            .wait()
            .at_most(Duration::from_secs(5))
            .for_element(Locator::XPath(&format!(
                "//main//button[normalize-space()='{name}']"
            )))
            .await
            .unwrap_or_else(|_| panic!("no button {name:?}"));
        button.click().await.unwrap();
    }

    async fn follow_link(&self, text: &str) {
        let link = self
            .browser
            .wait()
            .at_most(Duration::from_secs(5))
            .for_element(Locator::XPath(&format!(
                "//a[normalize-space()='{text}' and not(ancestor::details[not(@open)])]"
            )))
            .await
            .unwrap_or_else(|_| panic!("no visible link {text:?}"));
        link.click().await.unwrap();
    }

    /// Waits until the page shows `text`.
    async fn sees(&self, text: &str) {
        let xpath = format!("//*[contains(normalize-space(.), \"{text}\")]");
        if self
            .browser
            .wait()
            .at_most(Duration::from_secs(5))
            .for_element(Locator::XPath(&xpath))
            .await
            .is_err()
        {
            let body = self
                .browser
                .find(Locator::Css("body"))
                .await
                .unwrap()
                .text()
                .await
                .unwrap();
            panic!("the page does not show {text:?}; it shows:\n{body}");
        }
    }

    async fn heading(&self) -> String {
        self.browser
            .find(Locator::Css("main h1"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
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

    async fn type_keys(&self, keys: &str) {
        self.browser
            .active_element()
            .await
            .unwrap()
            .send_keys(keys)
            .await
            .unwrap();
    }
}

#[tokio::test]
async fn a_newcomer_signs_up_verifies_through_the_dev_mailbox_and_creates_an_organization() {
    let Some(driver) = start_driver() else { return };
    let app = spawn_app().await;
    let person = Person {
        browser: open_browser(&driver).await,
        app: &app,
    };

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

    person.follow_link("Dev mailbox").await;
    person
        .follow_link("Verify your email address for Roster")
        .await;
    let link = person
        .browser
        .find(Locator::XPath(
            "//main//a[contains(@href, '/verify-email?token=')]",
        ))
        .await
        .unwrap();
    link.click().await.unwrap();
    person
        .sees("Confirm that ada@example.com is your address.")
        .await;
    person.press_button("Verify email address").await;
    person
        .sees("ada@example.com is verified. Sign in to continue.")
        .await;

    person.fill("Email", "ada@example.com").await;
    person.fill("Password", PASSWORD).await;
    person.press_button("Sign in").await;
    person
        .sees("You do not belong to any organization yet.")
        .await;
    assert_eq!(person.heading().await, "Dashboard");

    person.follow_link("Create organization").await;
    person.fill("Organization name", "Babbage & Co").await;
    person.press_button("Create organization").await;
    person
        .sees("Babbage & Co was created. You are its Owner.")
        .await;
    assert_eq!(person.heading().await, "Babbage & Co");
    person.sees("1 / 100 seats used").await;
    person.screenshot("organization-overview").await;

    person.follow_link("Dashboard").await;
    person.sees("Your organizations").await;
    let row = person
        .browser
        .find(Locator::XPath(
            "//table//tr[td/a[normalize-space()='Babbage & Co']]",
        ))
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
    app.create_verified_user("Grace Hopper", "grace@example.com")
        .await;
    let person = Person {
        browser: open_browser(&driver).await,
        app: &app,
    };

    person.visit("/sign-in").await;
    person.tab_to("Email").await;
    person.type_keys("grace@example.com").await;
    person.type_keys(TAB).await;
    person.type_keys(PASSWORD).await;
    person.type_keys(ENTER).await;
    person.sees("Your organizations").await;

    // The account menu opens with Enter and closes with Escape, focus back on it.
    let summary = person
        .browser
        .find(Locator::XPath(
            "//summary[@aria-label='Account menu for Grace Hopper']",
        ))
        .await
        .unwrap();
    summary.send_keys(ENTER).await.unwrap();
    person.sees("Signed in as").await;
    let menu = person
        .browser
        .find(Locator::Css("details.account"))
        .await
        .unwrap();
    assert!(
        menu.attr("open").await.unwrap().is_some(),
        "Enter opens the menu"
    );
    person.type_keys("\u{e00c}").await; // Escape
    assert!(
        menu.attr("open").await.unwrap().is_none(),
        "Escape closes the menu"
    );
    let focused = person.browser.active_element().await.unwrap();
    assert_eq!(
        focused.attr("aria-label").await.unwrap().as_deref(),
        Some("Account menu for Grace Hopper")
    );

    summary.send_keys(ENTER).await.unwrap();
    for _ in 0..3 {
        let active = person.browser.active_element().await.unwrap();
        if active.text().await.unwrap() == "Sign out" {
            break;
        }
        active.send_keys(TAB).await.unwrap();
    }
    assert_eq!(
        person
            .browser
            .active_element()
            .await
            .unwrap()
            .text()
            .await
            .unwrap(),
        "Sign out"
    );
    person.type_keys(ENTER).await;
    person.sees("You have signed out.").await;
    person.browser.close().await.unwrap();
}
