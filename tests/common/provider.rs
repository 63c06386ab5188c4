//! A real OpenID provider on loopback for the single sign-on tests: panva's
//! oidc-provider (OpenID Certified), run by Node.js from `tests/oidc-provider`, its
//! packages installed by npm on first use. A test may ask it for the trouble a
//! provider can cause (see `tests/oidc-provider/provider.mjs`).

use std::io::{BufRead as _, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::time::Duration;

/// The client Roster is registered as at the provider.
pub const CLIENT_ID: &str = "roster-test";
pub const CLIENT_SECRET: &str = "a-client-secret-of-the-test-provider";

/// A person the provider knows: address, name, and whether it verified the address.
pub struct Account {
    pub email: &'static str,
    pub name: &'static str,
    pub verified: bool,
    /// Described as Microsoft Entra ID does: no `email_verified`, but `xms_edov: true`.
    pub entra: bool,
    /// The ID token names only the subject; the address is at the userinfo endpoint.
    pub userinfo_only: bool,
}

/// The provider process; stopped when dropped.
pub struct Provider {
    child: Child,
    pub issuer: String,
    client: reqwest::Client,
    config: PathBuf,
}

impl Drop for Provider {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_file(&self.config);
    }
}

fn directory() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/oidc-provider")
}

/// Installs the provider's packages once per test binary (npm ci, from the lock file).
fn install() -> Result<(), String> {
    static DONE: Mutex<bool> = Mutex::new(false);
    let mut done = DONE.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    if *done || directory().join("node_modules/oidc-provider/package.json").exists() {
        *done = true;
        return Ok(());
    }
    let status = Command::new("npm")
        .args(["ci", "--no-audit", "--no-fund", "--loglevel=error"])
        .current_dir(directory())
        .status()
        .map_err(|e| format!("npm: {e}"))?;
    if !status.success() {
        return Err(format!("npm ci in tests/oidc-provider failed: {status}"));
    }
    *done = true;
    Ok(())
}

/// Whether the tests may skip for want of Node.js (only outside CI, as with browsers).
fn required() -> bool {
    std::env::var("ROSTER_REQUIRE_BROWSER").is_ok_and(|v| v == "1")
}

impl Provider {
    /// Starts a provider that knows `accounts` and sends people back to `redirect_uri`;
    /// `None` (the test then skips) when Node.js is missing and CI did not ask for it.
    pub async fn start(redirect_uri: &str, accounts: &[Account]) -> Option<Provider> {
        Self::start_on(0, redirect_uri, accounts).await
    }

    async fn start_on(port: u16, redirect_uri: &str, accounts: &[Account]) -> Option<Provider> {
        if Command::new("node").arg("--version").stdout(Stdio::null()).status().is_err() {
            assert!(!required(), "Node.js is needed for the single sign-on tests (apt-get install nodejs npm)");
            eprintln!("skipped: Node.js is not installed");
            return None;
        }
        tokio::task::spawn_blocking(install).await.unwrap().expect("the test provider's packages");
        let config = serde_json::json!({
            "port": port,
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
            "redirect_uri": redirect_uri,
            "accounts": accounts.iter().map(|a| serde_json::json!({
                "email": a.email, "name": a.name, "email_verified": a.verified, "entra": a.entra,
                "userinfo_only": a.userinfo_only
            })).collect::<Vec<_>>(),
        });
        let file = std::env::temp_dir().join(format!("roster-provider-{}.json", uuid::Uuid::new_v4()));
        std::fs::write(&file, config.to_string()).unwrap();
        let mut child = Command::new("node")
            .arg(directory().join("provider.mjs"))
            .arg(&file)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("node provider.mjs");
        let stdout = child.stdout.take().unwrap();
        // The first line says where it listens; what it prints later is read and dropped
        // (a closed pipe would end the provider at its next message).
        let (first, line) = tokio::sync::oneshot::channel();
        std::thread::spawn(move || {
            let mut lines = BufReader::new(stdout).lines();
            let _ = first.send(lines.next().and_then(Result::ok).unwrap_or_default());
            for _ in lines {}
        });
        let line = tokio::time::timeout(Duration::from_secs(30), line)
            .await
            .expect("the provider starts within 30 s")
            .unwrap();
        let started: serde_json::Value = serde_json::from_str(&line).expect("the provider says where it listens");
        let issuer = started["issuer"].as_str().unwrap().to_owned();
        Some(Provider { child, issuer, client: reqwest::Client::new(), config: file })
    }

    /// What the token endpoint's next answers become: `normal`, `down`, `silent`,
    /// `expired`, `wrong-audience`, `wrong-issuer`, `wrong-nonce`, `tampered`, `unknown-key`.
    pub async fn fault(&self, fault: &str) {
        let response = self.client.post(format!("{}/test/fault", self.issuer)).body(fault.to_owned()).send().await;
        assert_eq!(response.unwrap().status(), 204);
    }

    /// A new signing key: tokens are signed with it, and the old one is no longer published.
    pub async fn rotate_keys(&self) {
        let response = self.client.post(format!("{}/test/rotate", self.issuer)).send().await;
        assert_eq!(response.unwrap().status(), 204);
    }

    /// Signs `email` in at the provider's own page, from the authorization URL Roster
    /// sent the browser to, with `client` (the browser's cookies); returns the URL the
    /// provider sends the browser back to (at once, when it has signed them in before).
    pub async fn sign_in_at(&self, client: &reqwest::Client, authorization_url: &str, email: &str) -> String {
        let mut url = authorization_url.to_owned();
        // The authorization endpoint, then the interaction: each a redirect.
        for _ in 0..5 {
            let response = client.get(&url).send().await.unwrap();
            if response.status().is_redirection() {
                url = self.absolute(response.headers()["location"].to_str().unwrap());
                if !url.starts_with(&self.issuer) {
                    // Signed in at the provider already: it sends the browser straight back.
                    return url;
                }
                continue;
            }
            let page = response.text().await.unwrap();
            assert!(page.contains("Sign in to Test IdP"), "the provider's sign-in page: {page}");
            break;
        }
        let login = format!("{url}/login");
        let mut response = client.post(&login).form(&[("login", email)]).send().await.unwrap();
        for _ in 0..5 {
            assert!(response.status().is_redirection(), "the provider redirects: {}", response.status());
            let next = self.absolute(response.headers()["location"].to_str().unwrap());
            if !next.starts_with(&self.issuer) {
                return next;
            }
            response = client.get(&next).send().await.unwrap();
        }
        panic!("the provider did not send the browser back");
    }

    fn absolute(&self, location: &str) -> String {
        if location.starts_with('/') {
            format!("{}{location}", self.issuer)
        } else {
            location.to_owned()
        }
    }
}
