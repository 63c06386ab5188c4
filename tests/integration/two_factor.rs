//! Two-factor authentication with an authenticator app and recovery codes.

use reqwest::StatusCode;

use crate::common::{expect_page, location, spawn_app, unescape, TestApp, PASSWORD};

/// The code an authenticator app with `secret` (base32, as the page shows it) shows
/// `offset` seconds from now.
pub(crate) fn code(secret: &str, offset: i64) -> String {
    let bytes = data_encoding::BASE32_NOPAD.decode(secret.replace(' ', "").as_bytes()).unwrap();
    let totp = totp_rs::Builder::new().with_secret(bytes).build().unwrap();
    let now = time::OffsetDateTime::now_utc().unix_timestamp() + offset;
    totp.generate(u64::try_from(now).unwrap()).to_string()
}

/// Sets up an authenticator app for the signed-in browser; returns its secret, the
/// recovery codes and the code that confirmed it.
pub(crate) async fn turn_on(app: &TestApp) -> (String, Vec<String>, String) {
    let page = expect_page(app.post_form("/account/two-factor/app", &[]).await, StatusCode::OK, "Scan this code").await;
    assert!(page.contains("<svg role=\"img\" aria-labelledby=\"qr-title\""), "a QR code drawn on the server");
    let at = page.find("<code class=\"secret\">").unwrap() + "<code class=\"secret\">".len();
    let secret = page[at..at + page[at..].find('<').unwrap()].to_owned();
    let first = code(&secret, 0);
    let response = app.post_form("/account/two-factor/app/confirm", &[("code", &first)]).await;
    let page = unescape(&expect_page(response, StatusCode::OK, "Your recovery codes").await);
    let codes: Vec<String> =
        page.split("<li><code>").skip(1).map(|rest| rest[..rest.find('<').unwrap()].to_owned()).collect();
    assert_eq!(codes.len(), 10, "{page}");
    (secret, codes, first)
}

#[tokio::test]
async fn an_authenticator_app_guards_the_sign_in_and_recovery_codes_work_once() {
    let app = spawn_app().await;
    app.signed_in_user("Ada Lovelace", "ada@example.com").await;
    let (secret, codes, first) = turn_on(&app).await;
    let (_, account) = app.get_text("/account").await;
    assert!(account.contains("Manage two-factor authentication"), "{account}");
    assert_eq!(app.count("SELECT count(*) FROM audit_events WHERE action = 'account.two_factor_enabled'"), 1);
    assert!(app.last_mail_to("ada@example.com").subject.contains("Two-factor authentication was turned on"));

    // The password alone now leads to the second step, and opens nothing.
    app.sign_out().await;
    let response = app.sign_in("ada@example.com", PASSWORD).await;
    assert_eq!(location(&response), "/sign-in/two-factor?next=%2Fdashboard");
    assert!(location(&app.get("/dashboard").await).starts_with("/sign-in?next="));
    let (status, page) = app.get_text("/sign-in/two-factor").await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("Code from your authenticator app"));
    // The code that turned it on was used already; a wrong one is refused; the next one signs in.
    let response = app.post_form("/sign-in/two-factor", &[("code", &first), ("next", "/dashboard")]).await;
    expect_page(response, StatusCode::UNPROCESSABLE_ENTITY, "That code was used already").await;
    let response = app.post_form("/sign-in/two-factor", &[("code", "000000"), ("next", "/dashboard")]).await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let response = app.post_form("/sign-in/two-factor", &[("code", &code(&secret, 30)), ("next", "/dashboard")]).await;
    assert_eq!(location(&response), "/dashboard");
    let (status, _) = app.get_text("/dashboard").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(app.count("SELECT count(*) FROM sessions WHERE sign_in_methods = '{password,totp}'"), 1);

    // A recovery code signs in once.
    app.sign_out().await;
    app.sign_in("ada@example.com", PASSWORD).await;
    let response = app
        .post_form("/sign-in/two-factor", &[("recovery_code", &codes[3].to_uppercase()), ("next", "/dashboard")])
        .await;
    assert_eq!(location(&response), "/dashboard");
    app.sign_out().await;
    app.sign_in("ada@example.com", PASSWORD).await;
    let response = app.post_form("/sign-in/two-factor", &[("recovery_code", &codes[3]), ("next", "/dashboard")]).await;
    expect_page(response, StatusCode::UNPROCESSABLE_ENTITY, "used already").await;
    let response = app.post_form("/sign-in/two-factor", &[("recovery_code", &codes[4]), ("next", "/dashboard")]).await;
    assert_eq!(location(&response), "/dashboard");
    let (_, page) = app.get_text("/account/two-factor").await;
    assert!(page.contains("8 of 10 recovery codes left"), "{page}");
    // The Security log says how each sign-in went, newest first.
    let (_, log) = app.get_text("/account/security-log").await;
    let log = unescape(&log);
    let recovered = log.find("Signed in with password and recovery code").expect("the recovery codes' sign-ins");
    let with_code = log.find("Signed in with password and authenticator app").expect("the code's sign-in");
    let turned_on = log.find("Turned on two-factor authentication with an authenticator app").expect("turned on");
    assert!(recovered < with_code && with_code < turned_on, "{log}");

    // Turning it off asks for the password.
    let response = app.post_form("/account/two-factor/off", &[("password", "not the password")]).await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let response = app.post_form("/account/two-factor/off", &[("password", PASSWORD)]).await;
    assert_eq!(location(&response), "/account/two-factor");
    app.sign_out().await;
    assert_eq!(location(&app.sign_in("ada@example.com", PASSWORD).await), "/dashboard");
    assert_eq!(app.count("SELECT count(*) FROM recovery_codes"), 0);
}

#[tokio::test]
async fn wrong_codes_are_limited_like_wrong_passwords() {
    let app = spawn_app().await;
    app.signed_in_user("Ada Lovelace", "ada@example.com").await;
    turn_on(&app).await;
    app.sign_out().await;
    app.sign_in("ada@example.com", PASSWORD).await;
    let mut statuses = Vec::new();
    for _ in 0..12 {
        let response = app.post_form("/sign-in/two-factor", &[("code", "000000"), ("next", "/dashboard")]).await;
        statuses.push(response.status());
    }
    assert!(statuses.contains(&StatusCode::TOO_MANY_REQUESTS), "{statuses:?}");
}

/// The grace date the Security form sends for `days` from today.
fn date_in(days: i64) -> String {
    let day = (time::OffsetDateTime::now_utc() + time::Duration::days(days)).date();
    format!("{:04}-{:02}-{:02}", day.year(), u8::from(day.month()), day.day())
}

#[tokio::test]
async fn an_organization_that_requires_two_factor_reminds_then_closes_to_members_without_it() {
    let owner = spawn_app().await;
    let slug = owner.owner_of("Acme", "Olivia Owner", "olivia@example.com").await;
    let ann = owner.member(&slug, "Ann Member", "ann@example.com", "member").await;
    let security = format!("/orgs/{slug}/settings/security");
    let required = "SELECT count(*) FROM organizations WHERE two_factor_required_from IS NOT NULL";

    // The Owner needs two-factor of their own first; a past date is refused; neither changes anything.
    let response = owner.post_form(&security, &[("two_factor_required", "on"), ("from", &date_in(14))]).await;
    expect_page(response, StatusCode::CONFLICT, "Set up two-factor authentication for your own account first").await;
    turn_on(&owner).await;
    let response = owner.post_form(&security, &[("two_factor_required", "on"), ("from", &date_in(-1))]).await;
    expect_page(response, StatusCode::UNPROCESSABLE_ENTITY, "Choose today or a later date").await;
    assert_eq!(owner.count(required), 0);
    // An Admin does not even see the section.
    let (status, _) = ann.get_text(&security).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // Required in 14 days: Ann, who has no two-factor, is told, and still gets in meanwhile.
    let response = owner.post_form(&security, &[("two_factor_required", "on"), ("from", &date_in(14))]).await;
    assert_eq!(location(&response), security);
    assert_eq!(owner.count("SELECT count(*) FROM audit_events WHERE action = 'organization.two_factor_required'"), 1);
    let told = "SELECT count(*) FROM notifications n JOIN users u ON u.id = n.recipient_id \
                WHERE n.kind = 'organization.two_factor_required' AND u.email = '{}'";
    assert_eq!(owner.count(&told.replace("{}", "ann@example.com")), 1);
    assert_eq!(owner.count(&told.replace("{}", "olivia@example.com")), 0, "the Owner has it");
    let (_, dashboard) = ann.get_text("/dashboard").await;
    assert!(dashboard.contains("<strong>Acme</strong> requires two-factor authentication from"), "{dashboard}");
    let (_, bell) = ann.get_text("/notifications").await;
    assert!(unescape(&bell).contains("Acme requires two-factor authentication from"), "{bell}");
    let (status, _) = ann.get_text(&format!("/orgs/{slug}")).await;
    assert_eq!(status, StatusCode::OK);

    // The Owner sees who lacks it, and so does a script with a key.
    let row = |email: &str| format!("id=\"member-{}\"", owner.membership_id(&slug, email));
    let (_, page) = owner.get_text(&format!("/orgs/{slug}/members?two_factor=off")).await;
    assert!(page.contains(&row("ann@example.com")) && !page.contains(&row("olivia@example.com")), "{page}");
    let (_, page) = owner.get_text(&format!("/orgs/{slug}/members")).await;
    assert!(page.contains(">Two-factor</th>"), "{page}");
    let key = crate::api::create_key(&owner, &slug, "HR sync", &["members:read"]).await;
    let listed: serde_json::Value = crate::api::api(&owner, reqwest::Method::GET, "/members?two_factor=off", &key)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let emails: Vec<&str> = listed["data"].as_array().unwrap().iter().map(|m| m["email"].as_str().unwrap()).collect();
    assert_eq!(emails, ["ann@example.com"]);
    assert_eq!(listed["data"][0]["two_factor"], "off");
    let response =
        crate::api::api(&owner, reqwest::Method::GET, "/members?two_factor=maybe", &key).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);

    // The date passes: the organization is closed to Ann, who stays a member with her seat.
    owner.execute("UPDATE organizations SET two_factor_required_from = now() - interval '1 minute'");
    let seats = "SELECT member_count::bigint AS count FROM organizations";
    let before = owner.count(seats);
    for path in [format!("/orgs/{slug}"), format!("/orgs/{slug}/members"), format!("/orgs/{slug}/teams")] {
        let (status, page) = ann.get_text(&path).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{path}");
        assert!(page.contains("Two-factor authentication required"), "{page}");
        assert!(page.contains(&format!("/account/two-factor?next=/orgs/{slug}")), "{page}");
    }
    let (_, dashboard) = ann.get_text("/dashboard").await;
    assert!(unescape(&dashboard).contains("it is closed to you until you set it up"), "{dashboard}");
    assert!(dashboard.contains("Two-factor required"), "{dashboard}");
    assert_eq!(
        owner.count(
            "SELECT count(*) FROM memberships m JOIN users u ON u.id = m.user_id WHERE u.email = 'ann@example.com'"
        ),
        1
    );
    assert_eq!(owner.count(seats), before, "the seat is kept");
    // API keys are not affected.
    let response = crate::api::api(&owner, reqwest::Method::GET, "/members", &key).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);

    // The setup leads back to Acme, which opens the moment the app is on.
    let (_, page) = ann.get_text(&format!("/account/two-factor?next=/orgs/{slug}")).await;
    assert!(page.contains(&format!("name=\"next\" value=\"/orgs/{slug}\"")), "{page}");
    turn_on(&ann).await;
    let (status, _) = ann.get_text(&format!("/orgs/{slug}")).await;
    assert_eq!(status, StatusCode::OK);

    // Turned off again, recorded.
    let response = owner.post_form(&security, &[("from", &date_in(14))]).await;
    assert_eq!(location(&response), security);
    assert_eq!(owner.count(required), 0);
    assert_eq!(
        owner.count("SELECT count(*) FROM audit_events WHERE action = 'organization.two_factor_not_required'"),
        1
    );
}

#[tokio::test]
async fn the_owner_resets_two_factor_only_for_addresses_at_a_verified_domain() {
    let owner = spawn_app().await;
    let slug = owner.owner_of("Acme", "Olivia Owner", "olivia@example.com").await;
    owner.execute(
        "INSERT INTO organization_domains (id, organization_id, domain, token, verified_at) \
         SELECT gen_random_uuid(), id, 'acme.test', 'fedcba9876543210fedcba9876543210', now() FROM organizations",
    );
    let ann = owner.member(&slug, "Ann Member", "ann@acme.test", "member").await;
    let bob = owner.member(&slug, "Bob Outside", "bob@example.com", "admin").await;
    turn_on(&ann).await;
    turn_on(&bob).await;
    let reset = |email: &str| format!("/orgs/{slug}/members/{}/reset-two-factor", owner.membership_id(&slug, email));

    // Bob's account is his alone: no reset is offered or done.
    let (_, page) =
        owner.get_text(&format!("/orgs/{slug}/members/{}", owner.membership_id(&slug, "bob@example.com"))).await;
    assert!(!page.contains("Reset two-factor"), "{page}");
    let (status, page) = owner.get_text(&reset("bob@example.com")).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(page.contains("only for addresses at a domain it verified"), "{page}");
    // Nor may an Admin reset anyone.
    let (status, _) = bob.get_text(&reset("ann@acme.test")).await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    // Ann's can be reset, after typing her address.
    let (_, page) =
        owner.get_text(&format!("/orgs/{slug}/members/{}", owner.membership_id(&slug, "ann@acme.test"))).await;
    assert!(page.contains("Reset two-factor"), "{page}");
    let response = owner.post_form(&reset("ann@acme.test"), &[("confirm", "ann@example.com")]).await;
    expect_page(response, StatusCode::UNPROCESSABLE_ENTITY, "Type ann@acme.test to confirm").await;
    assert_eq!(owner.count("SELECT count(*) FROM users WHERE two_factor = 'on'"), 2, "Ann and Bob");
    let response = owner.post_form(&reset("ann@acme.test"), &[("confirm", " Ann@Acme.test ")]).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(owner.count("SELECT count(*) FROM users WHERE email = 'ann@acme.test' AND two_factor = 'off'"), 1);
    assert_eq!(
        owner.count(
            "SELECT count(*) FROM memberships WHERE member_email = 'ann@acme.test' AND member_two_factor = 'off'"
        ),
        1
    );
    assert_eq!(
        owner.count(
            "SELECT count(*) FROM recovery_codes r JOIN users u ON u.id = r.user_id WHERE u.email = 'ann@acme.test'"
        ),
        0
    );
    assert_eq!(owner.count("SELECT count(*) FROM audit_events WHERE action = 'member.two_factor_reset'"), 1);
    assert!(owner.last_mail_to("ann@acme.test").subject.contains("Your two-factor authentication was reset"));
    // Her sessions ended: her browser is signed out, and she is told when she signs in again.
    assert!(location(&ann.get("/dashboard").await).starts_with("/sign-in"));
    let response = ann.sign_in("ann@acme.test", PASSWORD).await;
    assert_eq!(location(&response), "/dashboard", "the password alone signs in now");
    let (_, bell) = ann.get_text("/notifications").await;
    assert!(unescape(&bell).contains("Olivia Owner reset your two-factor authentication in Acme"), "{bell}");
}

#[tokio::test]
async fn passkeys_need_a_domain_name_and_their_ceremonies_are_used_once() {
    // Reached by an IP address, Roster offers no passkeys and says why.
    let by_ip = spawn_app().await;
    let (_, page) = by_ip.get_text("/sign-in").await;
    assert!(!page.contains("Sign in with a passkey"), "{page}");
    by_ip.signed_in_user("Ada Lovelace", "ada@example.com").await;
    let (_, page) = by_ip.get_text("/account/two-factor").await;
    assert!(page.contains("Passkeys work when Roster is opened at a domain name"), "{page}");
    assert_eq!(by_ip.post_form("/account/passkeys/options", &[]).await.status(), StatusCode::CONFLICT);

    let app = crate::common::spawn_app_with(|s| s.base_url = url::Url::parse("http://localhost:0").unwrap()).await;
    let (_, page) = app.get_text("/sign-in").await;
    assert!(page.contains("Sign in with a passkey"), "{page}");

    // Registration asks for a discoverable passkey, named for the account.
    app.signed_in_user("Ada Lovelace", "ada@example.com").await;
    let response = app.post_form("/account/passkeys/options", &[]).await;
    assert_eq!(response.status(), StatusCode::OK);
    let started: serde_json::Value = response.json().await.unwrap();
    let options = &started["options"]["publicKey"];
    assert_eq!(options["rp"]["id"], "localhost");
    assert_eq!(options["user"]["name"], "ada@example.com");
    assert_eq!(options["authenticatorSelection"]["residentKey"], "required");
    assert_eq!(options["authenticatorSelection"]["userVerification"], "required");
    // Without a script the form arrives empty, and the page says what is missing.
    let response =
        app.post_form("/account/passkeys", &[("name", "Laptop"), ("credential", ""), ("ceremony", "")]).await;
    expect_page(response, StatusCode::CONFLICT, "Passkeys need JavaScript").await;
    app.sign_out().await;

    // A made-up credential signs nobody in, and its ceremony cannot be tried again.
    let started: serde_json::Value = app.post_form("/sign-in/passkey/options", &[]).await.json().await.unwrap();
    let ceremony = started["ceremony"].as_str().unwrap().to_owned();
    assert!(started["options"]["publicKey"]["challenge"].as_str().is_some_and(|c| c.len() >= 43));
    let forged = serde_json::json!({
        "id": "AAAA", "rawId": "AAAA", "type": "public-key",
        "response": { "authenticatorData": "AAAA", "clientDataJSON": "AAAA", "signature": "AAAA",
                      "userHandle": "AAAAAAAAAAAAAAAAAAAAAA" }
    })
    .to_string();
    let fields = [("credential", forged.as_str()), ("ceremony", ceremony.as_str()), ("next", "/dashboard")];
    let response = app.post_form("/sign-in/passkey", &fields).await;
    assert_eq!(location(&response), "/sign-in?next=%2Fdashboard");
    let (_, page) = app.get_text("/sign-in?next=%2Fdashboard").await;
    assert!(page.contains("That passkey is not one of a Roster account here"), "{page}");
    let response = app.post_form("/sign-in/passkey", &fields).await;
    assert_eq!(location(&response), "/sign-in?next=%2Fdashboard");
    let (_, page) = app.get_text("/sign-in?next=%2Fdashboard").await;
    assert!(page.contains("That passkey request expired"), "{page}");
    assert!(location(&app.get("/dashboard").await).starts_with("/sign-in"));
    assert_eq!(app.count("SELECT count(*) FROM passkey_ceremonies WHERE kind = 'sign_in'"), 0, "taken once");

    // Anyone may start one, so one address may start only so many: 60 in 15 minutes.
    for _ in 1..60 {
        assert_eq!(app.post_form("/sign-in/passkey/options", &[]).await.status(), StatusCode::OK);
    }
    let refused = app.post_form("/sign-in/passkey/options", &[]).await;
    assert_eq!(refused.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(refused.headers().contains_key("retry-after"));
    assert_eq!(app.count("SELECT count(*) FROM passkey_ceremonies WHERE kind = 'sign_in'"), 59);
}

#[tokio::test]
async fn recovery_codes_shown_once_can_be_downloaded_as_text() {
    let app = spawn_app().await;
    app.signed_in_user("Ada Lovelace", "ada@example.com").await;
    let (_, codes, _) = turn_on(&app).await;
    let mut posted = codes.join("\n");
    posted.push_str("\n=HYPERLINK(\"http://evil.example\")\n");
    let response = app.post_form("/account/two-factor/recovery-codes/download", &[("codes", &posted)]).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["content-disposition"], "attachment; filename=\"roster-recovery-codes.txt\"");
    let text = response.text().await.unwrap();
    assert!(text.starts_with("Roster recovery codes for ada@example.com"), "{text}");
    assert!(codes.iter().all(|code| text.contains(code.as_str())), "{text}");
    assert!(!text.contains("HYPERLINK"), "only recovery codes are written: {text}");
    let response = app.post_form("/account/two-factor/recovery-codes/download", &[("codes", "")]).await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
}
