//! Single sign-on through a real OpenID provider on loopback (panva's oidc-provider,
//! started by each test): the Owner's settings, the trip to the provider and back,
//! just-in-time accounts and memberships, `Require SSO`, and every refusal as a sentence.

use reqwest::{Response, StatusCode};

use crate::common::provider::{Account, Provider, CLIENT_ID, CLIENT_SECRET};
use crate::common::{location, spawn_app_with, unescape, TestApp, PASSWORD};

const ADA: Account =
    Account { email: "ada@acme.test", name: "Ada Lovelace", verified: true, entra: false, userinfo_only: false };
const BOB: Account =
    Account { email: "bob@acme.test", name: "Bob Builder", verified: true, entra: false, userinfo_only: false };
const UNVERIFIED: Account =
    Account { email: "una@acme.test", name: "Una Unverified", verified: false, entra: false, userinfo_only: false };
const ELSEWHERE: Account =
    Account { email: "eve@elsewhere.test", name: "Eve Elsewhere", verified: true, entra: false, userinfo_only: false };
const USERINFO: Account =
    Account { email: "uli@acme.test", name: "Uli Info", verified: true, entra: false, userinfo_only: true };
const ENTRA: Account =
    Account { email: "erin@acme.test", name: "Erin Entra", verified: false, entra: true, userinfo_only: false };

/// Acme, whose Owner is signed in, with acme.test verified; and a provider on loopback.
struct Setup {
    app: TestApp,
    slug: String,
    domain: String,
    provider: Provider,
}

async fn acme() -> Option<Setup> {
    let app = spawn_app_with(|s| s.sso_allow_private = true).await;
    let provider =
        Provider::start(&app.url("/sign-in/sso/callback"), &[ADA, BOB, UNVERIFIED, ELSEWHERE, ENTRA, USERINFO]).await?;
    let slug = app.owner_of("Acme", "Olivia Owner", "olivia@acme.test").await;
    // The domain's verification by DNS has its own tests: here it is verified already.
    app.execute(&format!(
        "INSERT INTO organization_domains (id, organization_id, domain, token, verified_at) \
         SELECT gen_random_uuid(), id, 'acme.test', '0123456789abcdef0123456789abcdef', now() FROM organizations WHERE slug = '{slug}'"
    ));
    let domain = app.domain_id("acme.test");
    Some(Setup { app, slug, domain, provider })
}

impl Setup {
    /// The Owner saves the provider, covering acme.test.
    async fn configure(&self) {
        let response = self
            .app
            .post_form(
                &format!("/orgs/{}/settings/sso", self.slug),
                &[
                    ("issuer", &self.provider.issuer),
                    ("client_id", CLIENT_ID),
                    ("client_secret", CLIENT_SECRET),
                    ("domains", &self.domain),
                ],
            )
            .await;
        assert_eq!(response.status(), StatusCode::SEE_OTHER, "{}", response.text().await.unwrap());
    }

    /// Someone in `browser` types `typed` with no password, signs in at the provider as
    /// `at_provider`, and comes back: the callback's answer.
    async fn sign_in_as(&self, browser: &TestApp, typed: &str, at_provider: &str) -> Response {
        let started = browser.sign_in(typed, "").await;
        assert_eq!(started.status(), StatusCode::SEE_OTHER, "{}", started.text().await.unwrap());
        let to = location(&started);
        assert!(to.starts_with(&self.provider.issuer), "to the provider: {to}");
        let back = self.provider.sign_in_at(&browser.client, &to, at_provider).await;
        assert!(back.starts_with(&browser.url("/sign-in/sso/callback")), "back to Roster: {back}");
        browser.client.get(back).send().await.unwrap()
    }

    async fn sign_in(&self, browser: &TestApp, email: &str) -> Response {
        self.sign_in_as(browser, email, email).await
    }

    /// What the sign-in page says after a refused sign-in through the provider.
    async fn refused(&self, browser: &TestApp, answer: Response) -> String {
        assert_eq!(answer.status(), StatusCode::SEE_OTHER);
        assert_eq!(location(&answer), "/sign-in");
        let (status, page) = browser.get_text("/sign-in").await;
        assert_eq!(status, StatusCode::OK);
        let page = unescape(&page);
        let alert = page
            .split("role=\"alert\">")
            .nth(1)
            .and_then(|rest| rest.split("</p>").next())
            .unwrap_or_else(|| panic!("the sign-in page says why, beside Email: {page}"))
            .to_owned();
        alert
    }

    fn refusals(&self, reason: &str) -> i64 {
        self.app.count(&format!(
            "SELECT count(*) AS count FROM audit_events WHERE action = 'sso.refused' AND after ->> 'reason' = '{reason}'"
        ))
    }
}

#[tokio::test]
async fn a_person_at_a_covered_domain_signs_in_through_the_provider_and_lands_in_the_organization_as_member() {
    let Some(setup) = acme().await else { return };
    setup.configure().await;
    let browser = setup.app.other_browser();

    let started = browser.sign_in("ada@acme.test", "").await;
    assert_eq!(started.status(), StatusCode::SEE_OTHER);
    let to = url::Url::parse(&location(&started)).unwrap();
    let asked: std::collections::HashMap<String, String> = to.query_pairs().into_owned().collect();
    assert_eq!(asked["response_type"], "code");
    assert_eq!(asked["client_id"], CLIENT_ID);
    assert_eq!(asked["scope"], "openid email profile");
    assert_eq!(asked["code_challenge_method"], "S256");
    assert_eq!(asked["login_hint"], "ada@acme.test");
    assert!(asked["state"].len() >= 16 && asked["nonce"].len() >= 16);
    assert_eq!(asked["redirect_uri"], browser.url("/sign-in/sso/callback"));
    assert_eq!(setup.app.count("SELECT count(*) AS count FROM sso_sign_ins"), 1, "kept in PostgreSQL");

    let back = setup.provider.sign_in_at(&browser.client, to.as_str(), "ada@acme.test").await;
    let answer = browser.client.get(back.clone()).send().await.unwrap();
    assert_eq!(answer.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&answer), "/dashboard");
    let (_, dashboard) = browser.get_text("/dashboard").await;
    assert!(dashboard.contains("Acme"), "{dashboard}");

    assert_eq!(
        setup.app.count(
            "SELECT count(*) AS count FROM users u JOIN memberships m ON m.user_id = u.id \
             WHERE u.email = 'ada@acme.test' AND u.password_hash IS NULL AND u.email_verified_at IS NOT NULL \
             AND u.name = 'Ada Lovelace' AND m.role = 'member'"
        ),
        1,
        "a verified account without a password, and a Member"
    );
    assert_eq!(setup.app.count("SELECT count(*) AS count FROM sso_identities WHERE subject = 'ada@acme.test'"), 1);
    assert_eq!(
        setup.app.count(
            "SELECT count(*) AS count FROM audit_events WHERE action = 'sso.sign_in' AND after ->> 'created' = 'true'"
        ),
        1
    );
    assert_eq!(
        setup
            .app
            .count("SELECT count(*) AS count FROM sessions WHERE 'sso' = ANY(sign_in_methods) AND user_id IS NOT NULL"),
        1
    );
    // The state is used once: the same answer again, even from a browser holding the
    // state's cookie, signs nobody in.
    let replay = setup.app.other_browser();
    let cookie = format!("roster_sso_state={}; Path=/", asked["state"]);
    replay.jar.add_cookie_str(&cookie, &url::Url::parse(&replay.url("/")).unwrap());
    let again = replay.client.get(back).send().await.unwrap();
    assert!(setup.refused(&replay, again).await.contains("expired or was started in another browser"));

    // The Audit Log says it in a sentence, and its filter finds it.
    let (_, audit) = setup.app.get_text(&format!("/orgs/{}/audit?action=sso.sign_in", setup.slug)).await;
    assert!(unescape(&audit).contains("signed in with single sign-on as"), "{audit}");

    // The second time, the identity is found by issuer and subject: no second account.
    browser.sign_out().await;
    let answer = setup.sign_in(&browser, "ada@acme.test").await;
    assert_eq!(location(&answer), "/dashboard");
    assert_eq!(setup.app.count("SELECT count(*) AS count FROM users WHERE email = 'ada@acme.test'"), 1);
}

#[tokio::test]
async fn at_the_seat_limit_the_person_is_told_and_the_owner_and_admins_in_the_bell() {
    let Some(setup) = acme().await else { return };
    setup.configure().await;
    setup.app.execute(&format!("UPDATE organizations SET seat_limit = 1 WHERE slug = '{}'", setup.slug));
    let browser = setup.app.other_browser();
    let answer = setup.sign_in(&browser, "ada@acme.test").await;
    assert_eq!(location(&answer), "/dashboard", "signed in all the same");
    let (_, dashboard) = browser.get_text("/dashboard").await;
    assert!(unescape(&dashboard).contains("No seat is free in Acme (1 of 1 used)"), "{dashboard}");
    assert_eq!(setup.app.count("SELECT count(*) AS count FROM memberships"), 1, "only the Owner");
    assert_eq!(
        setup.app.count("SELECT count(*) AS count FROM notifications WHERE kind = 'member.domain_join_refused'"),
        1,
        "the Owner is told"
    );
}

#[tokio::test]
async fn require_sso_ends_passwords_resets_and_password_sessions_but_the_owner_keeps_a_password() {
    let Some(setup) = acme().await else { return };
    setup.configure().await;
    let slug = setup.slug.clone();
    // Bob had a password account, and is signed in with it in his browser.
    let bob = setup.app.other_browser();
    bob.signed_in_user("Bob Builder", "bob@acme.test").await;
    assert_eq!(bob.get("/dashboard").await.status(), StatusCode::OK);

    // Ticking Require SSO asks first; the confirmation applies it.
    let path = format!("/orgs/{slug}/settings/sso/domains/{}", setup.domain);
    let asked = setup.app.post_form(&path, &[("sso_required", "on")]).await;
    assert_eq!(asked.status(), StatusCode::OK);
    let question = unescape(&asked.text().await.unwrap());
    assert!(question.contains("Require single sign-on for addresses at") && question.contains("acme.test"));
    assert_eq!(setup.app.count("SELECT count(*) AS count FROM organization_domains WHERE sso_required"), 0);
    let confirmed = setup.app.post_form(&format!("{path}/require"), &[]).await;
    assert_eq!(confirmed.status(), StatusCode::SEE_OTHER);
    assert_eq!(setup.app.count("SELECT count(*) AS count FROM organization_domains WHERE sso_required"), 1);
    assert_eq!(
        setup.app.count(
            "SELECT count(*) AS count FROM audit_events WHERE action = 'sso.required_changed' \
             AND after ->> 'sessions_ended' = '1'"
        ),
        1
    );

    // Bob's password session ended; the Owner's did not.
    assert_eq!(bob.get("/dashboard").await.status(), StatusCode::SEE_OTHER);
    assert_eq!(setup.app.get("/dashboard").await.status(), StatusCode::OK);

    // His password no longer signs in, the form and a direct POST alike, right or wrong.
    for password in [PASSWORD, "a wrong password"] {
        let refused = bob.sign_in("bob@acme.test", password).await;
        assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let page = unescape(&refused.text().await.unwrap());
        assert!(page.contains("Acme signs in with single sign-on for addresses at acme.test"), "{page}");
        assert!(page.contains("role=\"alert\""));
    }
    assert_eq!(bob.get("/dashboard").await.status(), StatusCode::SEE_OTHER);
    // No reset link is sent (the page answers as always).
    let before = setup.app.mail_to("bob@acme.test").len();
    let asked = bob.post_form("/forgot-password", &[("email", "bob@acme.test")]).await;
    assert!(asked.status().is_redirection() || asked.status().is_success());
    assert_eq!(setup.app.mail_to("bob@acme.test").len(), before, "no reset link for bob");

    // Through the provider he signs in, linked to his account by its verified address.
    let answer = setup.sign_in(&bob, "bob@acme.test").await;
    assert_eq!(location(&answer), "/dashboard");
    assert_eq!(setup.app.count("SELECT count(*) AS count FROM users WHERE email = 'bob@acme.test'"), 1);

    // His Account page offers no password to set or change, and says why.
    let (_, account) = bob.get_text("/account").await;
    let account = unescape(&account);
    assert!(account.contains("You sign in with Acme's single sign-on"), "{account}");
    assert!(!account.contains("Change password") && !account.contains("Email me a link"));

    // The Owner keeps a break-glass password.
    let owner = setup.app.other_browser();
    let signed_in = owner.sign_in("olivia@acme.test", PASSWORD).await;
    assert_eq!(signed_in.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&signed_in), "/dashboard");

    // Unticking applies at once.
    let off = setup.app.post_form(&path, &[]).await;
    assert_eq!(off.status(), StatusCode::SEE_OTHER);
    assert_eq!(setup.app.count("SELECT count(*) AS count FROM organization_domains WHERE sso_required"), 0);
    let other = setup.app.other_browser();
    assert_eq!(location(&other.sign_in("bob@acme.test", PASSWORD).await), "/dashboard");
}

#[tokio::test]
async fn every_refusal_is_a_sentence_beside_email_and_an_audit_line_never_a_server_error() {
    let Some(setup) = acme().await else { return };
    setup.configure().await;
    let cases = [
        ("expired", "expired", "arrived expired"),
        ("wrong-audience", "wrong_audience", "signed you in for another application"),
        ("wrong-issuer", "wrong_issuer", "did not come from"),
        ("wrong-nonce", "wrong_nonce", "belongs to another sign-in"),
        ("tampered", "bad_signature", "was changed on its way here"),
        ("unknown-key", "unknown_key", "signed with a key"),
        ("down", "provider_unavailable", "did not answer"),
        ("wrong-at-hash", "bad_signature", "was changed on its way here"),
    ];
    for (fault, reason, words) in cases {
        setup.provider.fault(fault).await;
        let before = setup.refusals(reason);
        let browser = setup.app.other_browser();
        let answer = setup.sign_in(&browser, "ada@acme.test").await;
        let said = setup.refused(&browser, answer).await;
        assert!(said.contains(words), "{fault}: {said}");
        assert_eq!(setup.refusals(reason), before + 1, "{fault} is audited as {reason}");
        assert_eq!(browser.get("/dashboard").await.status(), StatusCode::SEE_OTHER, "{fault}: not signed in");
    }
    setup.provider.fault("normal").await;

    // The provider has not verified the address.
    let browser = setup.app.other_browser();
    let answer = setup.sign_in(&browser, "una@acme.test").await;
    assert!(setup.refused(&browser, answer).await.contains("has not verified your email address"));
    assert_eq!(setup.refusals("address_not_verified"), 1);

    // Signed in at the provider with an address at a domain Acme's single sign-on does not cover.
    let browser = setup.app.other_browser();
    let answer = setup.sign_in_as(&browser, "ada@acme.test", "eve@elsewhere.test").await;
    assert!(setup.refused(&browser, answer).await.contains("does not cover"));
    assert_eq!(setup.refusals("domain_not_covered"), 1);
    assert_eq!(setup.app.count("SELECT count(*) AS count FROM users WHERE email LIKE 'eve@%'"), 0);

    // The answer brought to another browser (no state cookie there) signs nobody in.
    let browser = setup.app.other_browser();
    let started = browser.sign_in("ada@acme.test", "").await;
    let back = setup.provider.sign_in_at(&browser.client, &location(&started), "ada@acme.test").await;
    let thief = setup.app.other_browser();
    let answer = thief.client.get(back).send().await.unwrap();
    assert!(setup.refused(&thief, answer).await.contains("started in another browser"));

    // The Audit Log says each in words, and its filter finds them.
    let (_, audit) = setup.app.get_text(&format!("/orgs/{}/audit?action=sso.refused", setup.slug)).await;
    let audit = unescape(&audit);
    assert!(audit.contains("The ID token was made for another client"), "{audit}");
    assert!(audit.contains("The provider had not verified the address"), "{audit}");
    assert_eq!(setup.app.count("SELECT count(*) AS count FROM users WHERE email = 'ada@acme.test'"), 0);
}

#[tokio::test]
async fn a_provider_that_does_not_answer_is_a_sentence_within_the_time_limit() {
    let Some(setup) = acme().await else { return };
    setup.configure().await;
    setup.provider.fault("silent").await;
    let browser = setup.app.other_browser();
    let answer = setup.sign_in(&browser, "ada@acme.test").await;
    assert!(setup.refused(&browser, answer).await.contains("did not answer"));
    assert_eq!(setup.refusals("provider_unavailable"), 1);
}

#[tokio::test]
async fn after_the_provider_rotates_its_signing_key_people_sign_in_with_the_new_one() {
    let Some(setup) = acme().await else { return };
    setup.configure().await;
    let browser = setup.app.other_browser();
    assert_eq!(location(&setup.sign_in(&browser, "ada@acme.test").await), "/dashboard");

    setup.provider.rotate_keys().await;
    // Within a minute of the last fetch the keys are not fetched again (a token naming
    // an unknown key must not make Roster hammer the provider)...
    let browser = setup.app.other_browser();
    let answer = setup.sign_in(&browser, "ada@acme.test").await;
    assert!(setup.refused(&browser, answer).await.contains("signed with a key"));
    // ...and a minute later they are, and the new key signs in.
    setup.app.execute("UPDATE sso_connections SET jwks_fetched_at = now() - interval '2 minutes'");
    let browser = setup.app.other_browser();
    assert_eq!(location(&setup.sign_in(&browser, "ada@acme.test").await), "/dashboard");
}

#[tokio::test]
async fn a_sign_in_started_on_one_instance_finishes_on_another() {
    let Some(setup) = acme().await else { return };
    setup.configure().await;
    let base_url = setup.app.settings.base_url.clone();
    // A second instance behind the same public URL, with the browser's cookies.
    let browser = setup.app.other_browser();
    let second = browser
        .another_instance(|s| {
            s.base_url = base_url;
            s.base_url_from_bind = false;
        })
        .await;
    let started = browser.sign_in("ada@acme.test", "").await;
    let back = setup.provider.sign_in_at(&browser.client, &location(&started), "ada@acme.test").await;
    let on_second = back.replace(&browser.address, &second.address);
    assert_ne!(on_second, back);
    let answer = second.client.get(on_second).send().await.unwrap();
    assert_eq!(location(&answer), "/dashboard");
    assert_eq!(second.get("/dashboard").await.status(), StatusCode::OK);
}

#[tokio::test]
async fn the_owner_sets_it_up_with_clear_messages_and_test_connection_shows_what_it_found() {
    let Some(setup) = acme().await else { return };
    let path = format!("/orgs/{}/settings/sso", setup.slug);
    let (status, page) = setup.app.get_text(&path).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains(&setup.app.url("/sign-in/sso/callback")), "the redirect URL to register");
    assert!(page.contains("acme.test"), "the verified domain, to cover");

    // Bad input: a clear message beside the field, and nothing saved.
    let cases: [(&[(&str, &str)], &str); 3] = [
        (&[("issuer", "not a url"), ("client_id", CLIENT_ID), ("client_secret", "s")], "Enter a full URL"),
        (&[("issuer", &setup.provider.issuer), ("client_id", ""), ("client_secret", "s")], "Enter the Client ID"),
        (&[("issuer", &setup.provider.issuer), ("client_id", CLIENT_ID)], "Enter the client secret"),
    ];
    for (fields, words) in cases {
        let refused = setup.app.post_form(&path, fields).await;
        assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert!(unescape(&refused.text().await.unwrap()).contains(words), "{words}");
    }
    assert_eq!(setup.app.count("SELECT count(*) AS count FROM sso_connections"), 0);

    // Test connection reads the discovery document now and lists what it found.
    let tested = setup.app.post_form(&format!("{path}/test"), &[("issuer", &setup.provider.issuer)]).await;
    assert_eq!(tested.status(), StatusCode::OK);
    let page = unescape(&tested.text().await.unwrap());
    assert!(page.contains(&format!("{}/token", setup.provider.issuer)), "{page}");
    assert!(page.contains(&format!("{}/jwks", setup.provider.issuer)), "{page}");
    let nobody = setup.app.post_form(&format!("{path}/test"), &[("issuer", "http://127.0.0.1:9")]).await;
    let page = unescape(&nobody.text().await.unwrap());
    assert!(page.contains("Roster could not use http://127.0.0.1:9: No connection"), "{page}");

    setup.configure().await;
    // The secret is sealed, never shown back; saving again without one keeps it.
    let (_, page) = setup.app.get_text(&path).await;
    assert!(!page.contains(CLIENT_SECRET));
    let kept = setup
        .app
        .post_form(&path, &[("issuer", &setup.provider.issuer), ("client_id", CLIENT_ID), ("domains", &setup.domain)])
        .await;
    assert_eq!(kept.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        setup.app.count(&format!(
            "SELECT count(*) AS count FROM sso_connections WHERE position('{CLIENT_SECRET}' IN encode(client_secret_sealed, 'escape')) = 0"
        )),
        1
    );
    assert_eq!(setup.app.count("SELECT count(*) AS count FROM audit_events WHERE action = 'sso.configured'"), 2);

    // The sign-in page lets its form lead to the provider.
    let page = setup.app.other_browser().get("/sign-in").await;
    let policy = page.headers()["content-security-policy"].to_str().unwrap().to_owned();
    assert!(policy.contains(&format!("form-action 'self' {}", setup.provider.issuer)), "{policy}");

    // Without ROSTER_SSO_ALLOW_PRIVATE, a provider on loopback is refused.
    let strict = setup.app.another_instance(|s| s.sso_allow_private = false).await;
    let refused = strict
        .post_form(&path, &[("issuer", &setup.provider.issuer), ("client_id", CLIENT_ID), ("client_secret", "x")])
        .await;
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(unescape(&refused.text().await.unwrap()).contains("Use an https URL"));
}

#[tokio::test]
async fn only_the_owner_sees_and_changes_single_sign_on() {
    let Some(setup) = acme().await else { return };
    let admin = setup.app.member(&setup.slug, "Adam Admin", "adam@acme.test", "admin").await;
    let path = format!("/orgs/{}/settings/sso", setup.slug);
    assert_eq!(admin.get(&path).await.status(), StatusCode::NOT_FOUND);
    let refused = admin
        .post_form(&path, &[("issuer", &setup.provider.issuer), ("client_id", CLIENT_ID), ("client_secret", "x")])
        .await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    let tested = admin.post_form(&format!("{path}/test"), &[("issuer", &setup.provider.issuer)]).await;
    assert_eq!(tested.status(), StatusCode::FORBIDDEN);
    assert_eq!(setup.app.count("SELECT count(*) AS count FROM sso_connections"), 0);
}

#[tokio::test]
async fn an_address_no_provider_covers_is_asked_for_its_password() {
    let Some(setup) = acme().await else { return };
    setup.configure().await;
    let browser = setup.app.other_browser();
    let answer = browser.sign_in("someone@elsewhere.test", "").await;
    assert_eq!(answer.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(answer.text().await.unwrap().contains("Enter your password."));
}

#[tokio::test]
async fn an_entra_id_account_counts_as_verified_by_its_xms_edov_claim() {
    let Some(setup) = acme().await else { return };
    setup.configure().await;
    let browser = setup.app.other_browser();
    let answer = setup.sign_in(&browser, "erin@acme.test").await;
    assert_eq!(location(&answer), "/dashboard");
    assert_eq!(
        setup.app.count(
            "SELECT count(*) AS count FROM users WHERE email = 'erin@acme.test' AND email_verified_at IS NOT NULL"
        ),
        1
    );
}

#[tokio::test]
async fn at_a_suggest_domain_the_first_sign_in_offers_join_on_the_dashboard() {
    let Some(setup) = acme().await else { return };
    setup.app.execute("UPDATE organization_domains SET policy = 'suggest'");
    setup.configure().await;
    let browser = setup.app.other_browser();
    assert_eq!(location(&setup.sign_in(&browser, "ada@acme.test").await), "/dashboard");
    let (_, dashboard) = browser.get_text("/dashboard").await;
    assert!(unescape(&dashboard).contains("Join Acme"), "{dashboard}");
    assert_eq!(setup.app.count("SELECT count(*) AS count FROM memberships"), 1, "not joined until they choose");
}

#[tokio::test]
async fn an_account_someone_made_at_the_address_without_proving_it_keeps_nothing_of_theirs() {
    let Some(setup) = acme().await else { return };
    setup.configure().await;
    // Mallory signs up as ada@acme.test first, with her own password, and never verifies it.
    let mallory = setup.app.other_browser();
    mallory.sign_up("Ada Lovelace", "ada@acme.test", PASSWORD).await;
    assert_eq!(setup.app.count("SELECT count(*) AS count FROM users WHERE email = 'ada@acme.test'"), 1);
    // Ada signs in through the provider: the same account, verified, and Mallory's password is gone.
    let ada = setup.app.other_browser();
    assert_eq!(location(&setup.sign_in(&ada, "ada@acme.test").await), "/dashboard");
    assert_eq!(
        setup.app.count(
            "SELECT count(*) AS count FROM users WHERE email = 'ada@acme.test' \
             AND email_verified_at IS NOT NULL AND password_hash IS NULL"
        ),
        1
    );
    let refused = setup.app.other_browser().sign_in("ada@acme.test", PASSWORD).await;
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn a_token_signed_with_the_client_secret_or_not_signed_at_all_is_refused() {
    let Some(setup) = acme().await else { return };
    setup.configure().await;
    for fault in ["hs256", "alg-none"] {
        setup.provider.fault(fault).await;
        let browser = setup.app.other_browser();
        let answer = setup.sign_in(&browser, "ada@acme.test").await;
        let said = setup.refused(&browser, answer).await;
        assert!(
            said.contains("was changed on its way here") || said.contains("does not understand"),
            "{fault}: {said}"
        );
        assert_eq!(browser.get("/dashboard").await.status(), StatusCode::SEE_OTHER, "{fault}: not signed in");
    }
    assert_eq!(setup.app.count("SELECT count(*) AS count FROM users WHERE email = 'ada@acme.test'"), 0);
}

#[tokio::test]
async fn an_account_linked_to_one_identity_is_not_taken_over_by_another_with_its_address() {
    let Some(setup) = acme().await else { return };
    setup.configure().await;
    let browser = setup.app.other_browser();
    assert_eq!(location(&setup.sign_in(&browser, "ada@acme.test").await), "/dashboard");
    // The provider now gives ada@acme.test to someone else: another subject.
    setup.app.execute("UPDATE sso_identities SET subject = 'the-first-ada'");
    let browser = setup.app.other_browser();
    let answer = setup.sign_in(&browser, "ada@acme.test").await;
    assert!(setup.refused(&browser, answer).await.contains("linked to another"));
    assert_eq!(setup.refusals("linked_elsewhere"), 1);
}

#[tokio::test]
async fn a_change_of_address_begun_before_verification_dies_when_its_owner_signs_in_through_the_provider() {
    let Some(setup) = acme().await else { return };
    setup.configure().await;
    // Mallory signs up as ada@acme.test, never verifies it, and asks to move the account to her address.
    let mallory = setup.app.other_browser();
    mallory.sign_up("Ada Lovelace", "ada@acme.test", PASSWORD).await;
    assert_eq!(location(&mallory.sign_in("ada@acme.test", PASSWORD).await), "/dashboard");
    let asked =
        mallory.post_form("/account/email", &[("new_email", "mallory@evil.test"), ("email_password", PASSWORD)]).await;
    assert_eq!(asked.status(), StatusCode::SEE_OTHER, "{}", asked.text().await.unwrap());
    let link = crate::common::link_in(&setup.app.last_mail_to("mallory@evil.test"), "/verify-email");
    let token = link.split("token=").nth(1).unwrap().to_owned();

    let ada = setup.app.other_browser();
    assert_eq!(location(&setup.sign_in(&ada, "ada@acme.test").await), "/dashboard");
    // Mallory's link no longer moves the account to her address.
    let moved = setup.app.other_browser().post_form("/verify-email", &[("token", &token)]).await;
    assert_ne!(moved.status(), StatusCode::SEE_OTHER, "the link is dead");
    assert_eq!(setup.app.count("SELECT count(*) AS count FROM users WHERE email = 'ada@acme.test'"), 1);
}

#[tokio::test]
async fn at_a_domain_that_requires_sso_no_other_way_in_completes_a_sign_in() {
    let Some(setup) = acme().await else { return };
    setup.configure().await;
    setup.app.execute("UPDATE organization_domains SET sso_required = true");
    // A verification link opened in the browser that signed up would sign in with the password.
    let newcomer = setup.app.other_browser();
    newcomer.sign_up("Nora New", "nora@acme.test", PASSWORD).await;
    let link = crate::common::link_in(&setup.app.last_mail_to("nora@acme.test"), "/verify-email");
    let token = link.split("token=").nth(1).unwrap().to_owned();
    let verified = newcomer.post_form("/verify-email", &[("token", &token)]).await;
    assert_eq!(verified.status(), StatusCode::FORBIDDEN, "{}", verified.text().await.unwrap());
    assert_eq!(newcomer.get("/dashboard").await.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        setup.app.count(
            "SELECT count(*) AS count FROM users WHERE email = 'nora@acme.test' AND email_verified_at IS NOT NULL"
        ),
        1,
        "the address is verified all the same"
    );
}

#[tokio::test]
async fn an_address_the_provider_gives_only_at_its_userinfo_endpoint_is_read_there() {
    let Some(setup) = acme().await else { return };
    setup.configure().await;
    let browser = setup.app.other_browser();
    assert_eq!(location(&setup.sign_in(&browser, "uli@acme.test").await), "/dashboard");
    assert_eq!(
        setup.app.count("SELECT count(*) AS count FROM users WHERE email = 'uli@acme.test' AND name = 'Uli Info'"),
        1
    );
}

#[tokio::test]
async fn an_account_that_moves_to_a_domain_requiring_sso_keeps_no_password_session() {
    let Some(setup) = acme().await else { return };
    setup.configure().await;
    setup.app.execute("UPDATE organization_domains SET sso_required = true");
    let carl = setup.app.other_browser();
    carl.signed_in_user("Carl Changer", "carl@elsewhere.test").await;
    let asked =
        carl.post_form("/account/email", &[("new_email", "carl@acme.test"), ("email_password", PASSWORD)]).await;
    assert_eq!(asked.status(), StatusCode::SEE_OTHER);
    let link = crate::common::link_in(&setup.app.last_mail_to("carl@acme.test"), "/verify-email");
    let token = link.split("token=").nth(1).unwrap().to_owned();
    carl.post_form("/verify-email", &[("token", &token)]).await;
    assert_eq!(setup.app.count("SELECT count(*) AS count FROM users WHERE email = 'carl@acme.test'"), 1);
    assert_eq!(carl.get("/dashboard").await.status(), StatusCode::SEE_OTHER, "signed out: SSO from now on");
}
