use reqwest::StatusCode;

use crate::common::{expect_page, link_in, location, path_of, spawn_app, PASSWORD};

#[tokio::test]
async fn a_newcomer_signs_up_verifies_signs_in_creates_an_organization_and_signs_out() {
    let app = spawn_app().await;

    // After signing up: where the link is, not a sign-in form.
    let response = app.sign_up("Ada Lovelace", "Ada@Example.com", PASSWORD).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&response), "/sign-up/sent");
    let (_, page) = app.get_text("/sign-up/sent").await;
    assert!(page.contains("We sent a link to Ada@Example.com"), "{page}");
    assert!(page.contains("Check your email") && page.contains("it signs you in"), "{page}");

    // The verification link: opening it changes nothing, the button does.
    let mail = app.last_mail_to("ada@example.com");
    assert_eq!(mail.subject, "Verify your email address for Roster");
    let link = link_in(&mail, "/verify-email");
    assert!(link.starts_with(&app.address), "links use the configured base URL: {link}");
    let (status, page) = app.get_text(&path_of(&link)).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("Verify email address"));
    assert_eq!(app.count("SELECT count(*) FROM users WHERE email_verified_at IS NOT NULL"), 0);
    let token = link.split("token=").nth(1).unwrap();
    // Verifying in the browser that signed up signs it in: the Dashboard, no sign-in form.
    let response = app.post_form("/verify-email", &[("token", token)]).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&response), "/dashboard");
    assert_eq!(app.count("SELECT count(*) FROM users WHERE email_verified_at IS NOT NULL"), 1);
    let (status, page) = app.get_text("/dashboard").await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("Ada@Example.com is verified. Welcome to Roster."), "{page}");
    assert!(page.contains("You do not belong to any organization yet."));
    assert!(!page.contains("Resend verification email"), "verified users see no banner");

    let response = app.create_org("Analytical Engines").await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&response), "/orgs/analytical-engines");
    let (_, page) = app.get_text("/orgs/analytical-engines").await;
    assert!(page.contains("Analytical Engines was created. You are its Owner."));
    assert!(page.contains("1 / 100 seats used"));
    let (_, page) = app.get_text("/dashboard").await;
    assert!(page.contains(r#"<a href="/orgs/analytical-engines">Analytical Engines</a>"#));
    assert!(page.contains("Owner"));

    let response = app.sign_out().await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let response = app.get("/dashboard").await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&response), "/sign-in?next=%2Fdashboard");

    // Sign in again, case-insensitively.
    let response = app.sign_in("ada@EXAMPLE.com", PASSWORD).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&response), "/dashboard");
    assert_eq!(app.get("/dashboard").await.status(), StatusCode::OK);
}

/// Whoever signs up chooses the password: the inbox's owner opening the link
/// elsewhere verifies the address but is not signed in to an account someone else
/// may have made in their name; they sign in (or reset the password) as usual.
#[tokio::test]
async fn a_verification_link_opened_in_another_browser_verifies_without_signing_in() {
    let app = spawn_app().await;
    app.sign_up("Ada Lovelace", "ada@example.com", PASSWORD).await;
    let link = link_in(&app.last_mail_to("ada@example.com"), "/verify-email");
    let token = link.split("token=").nth(1).unwrap();
    let elsewhere = app.other_browser();
    let response = elsewhere.post_form("/verify-email", &[("token", token)]).await;
    assert_eq!(location(&response), "/sign-in");
    assert_eq!(app.count("SELECT count(*) FROM users WHERE email_verified_at IS NOT NULL"), 1);
    let (_, page) = elsewhere.get_text("/sign-in").await;
    assert!(page.contains("ada@example.com is verified. Sign in to continue."), "{page}");
    assert_eq!(location(&elsewhere.get("/dashboard").await), "/sign-in?next=%2Fdashboard");
}

#[tokio::test]
async fn a_used_verification_link_stops_working() {
    let app = spawn_app().await;
    app.sign_up("Ada", "ada@example.com", PASSWORD).await;
    let link = link_in(&app.last_mail_to("ada@example.com"), "/verify-email");
    let token = link.split("token=").nth(1).unwrap().to_owned();
    app.post_form("/verify-email", &[("token", &token)]).await;
    let response = app.post_form("/verify-email", &[("token", &token)]).await;
    assert_eq!(response.status(), StatusCode::GONE);
    let (status, page) = app.get_text(&path_of(&link)).await;
    assert_eq!(status, StatusCode::GONE);
    assert!(page.contains("This verification link does not work"));
    let (status, _) = app.get_text("/verify-email?token=garbage").await;
    assert_eq!(status, StatusCode::GONE);
}

#[tokio::test]
async fn signing_up_with_a_taken_address_reveals_nothing_and_mails_the_owner() {
    let app = spawn_app().await;
    app.create_verified_user("Ada", "ada@example.com").await;
    let response = app.sign_up("Impostor", "ADA@example.com", "another password").await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&response), "/sign-up/sent", "as for a new address");
    let (_, page) = app.get_text("/sign-up/sent").await;
    assert!(page.contains("We sent a link to ADA@example.com"));
    assert!(page.contains("Check your email"));
    assert_eq!(location(&app.get("/dashboard").await), "/sign-in?next=%2Fdashboard", "as for a new address");
    assert_eq!(app.count("SELECT count(*) FROM users"), 1);
    let mail = app.last_mail_to("ada@example.com");
    assert_eq!(mail.subject, "You already have a Roster account");
    // The old password still works; the impostor's does not.
    assert_eq!(app.sign_in("ada@example.com", "another password").await.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(app.sign_in("ada@example.com", PASSWORD).await.status(), StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn bad_sign_up_input_gets_messages_beside_the_fields_and_creates_nothing() {
    let app = spawn_app().await;
    let cases: &[(&[(&str, &str)], &str)] = &[
        (
            &[("name", " "), ("email", "a@example.com"), ("password", PASSWORD), ("password_confirmation", PASSWORD)],
            "Enter a name.",
        ),
        (
            &[("name", "Ada"), ("email", "not-an-email"), ("password", PASSWORD), ("password_confirmation", PASSWORD)],
            "An email address needs one @",
        ),
        (
            &[("name", "Ada"), ("email", "a@example.com"), ("password", "short"), ("password_confirmation", "short")],
            "Use at least 10 characters.",
        ),
        (
            &[
                ("name", "Ada"),
                ("email", "a@example.com"),
                ("password", PASSWORD),
                ("password_confirmation", "something else"),
            ],
            "The two passwords do not match.",
        ),
        (&[], "Enter a name."),
    ];
    for (fields, message) in cases {
        let response = app.post_form("/sign-up", fields).await;
        assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY, "{fields:?}");
        let page = response.text().await.unwrap();
        assert!(page.contains(message), "expected {message:?} for {fields:?}");
        assert!(page.contains(r#"aria-invalid="true""#));
    }
    // What was typed is kept, except passwords.
    let response = app
        .post_form(
            "/sign-up",
            &[("name", "Ada"), ("email", "bad@"), ("password", PASSWORD), ("password_confirmation", PASSWORD)],
        )
        .await;
    let page = response.text().await.unwrap();
    assert!(page.contains(r#"value="Ada""#) && page.contains(r#"value="bad@""#));
    assert!(!page.contains(PASSWORD));
    assert_eq!(app.count("SELECT count(*) FROM users"), 0);
    assert_eq!(app.count("SELECT count(*) FROM outbox"), 0);
}

#[tokio::test]
async fn a_wrong_password_and_an_unknown_address_get_the_same_answer() {
    let app = spawn_app().await;
    app.create_verified_user("Ada", "ada@example.com").await;
    let wrong = app.sign_in("ada@example.com", "wrong password").await;
    assert_eq!(wrong.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let wrong = wrong.text().await.unwrap();
    let unknown = app.sign_in("nobody@example.com", "wrong password").await;
    assert_eq!(unknown.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let unknown = unknown.text().await.unwrap();
    assert!(wrong.contains("Incorrect email or password."));
    assert_eq!(
        crate::common::unmasked(&wrong).replace("ada@example.com", "X"),
        crate::common::unmasked(&unknown).replace("nobody@example.com", "X")
    );
    let response = app.sign_in("", "").await;
    let page = response.text().await.unwrap();
    assert!(page.contains("Enter an email address.") && page.contains("Enter your password."));
    assert!(app.cookie("roster_session").is_none(), "no session for failed sign-ins");
}

/// The Kelvin sign (U+212A) looks like "K" and PostgreSQL's lower() made it "k":
/// the look-alike address signed in to Kelly's account and could not be signed up.
#[tokio::test]
async fn a_look_alike_address_is_another_account() {
    let app = spawn_app().await;
    app.create_verified_user("Kelly", "kelly@example.com").await;
    let look_alike = "\u{212A}elly@example.com";
    let response = app.sign_in(look_alike, PASSWORD).await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(response.text().await.unwrap().contains("Incorrect email or password."));
    assert_eq!(app.get("/dashboard").await.status(), StatusCode::SEE_OTHER, "not signed in");

    let other = app.other_browser();
    assert_eq!(other.sign_up("Mallory", look_alike, PASSWORD).await.status(), StatusCode::SEE_OTHER);
    assert_eq!(app.count("SELECT count(*) FROM users"), 2);
    assert_eq!(app.count("SELECT count(*) FROM users WHERE email_key = 'kelly@example.com'"), 1);
    // ASCII letter case still does not make another account.
    let again = app.other_browser().sign_up("Kelly", "KELLY@example.com", PASSWORD).await;
    assert_eq!(again.status(), StatusCode::SEE_OTHER, "answered like any sign-up");
    assert_eq!(app.count("SELECT count(*) FROM users"), 2);
    assert_eq!(app.sign_in("Kelly@Example.com", PASSWORD).await.status(), StatusCode::SEE_OTHER);
}

/// During a rolling upgrade an instance of the previous release writes addresses
/// without their key: the database fills it in, so the account is found as usual.
#[tokio::test]
async fn an_address_written_without_its_key_by_an_older_release_gets_one() {
    let app = spawn_app().await;
    app.execute(
        "INSERT INTO users (id, name, email, email_verified_at, password_hash) \
         VALUES (gen_random_uuid(), 'Old', 'Old.Timer@Example.com', now(), 'x')",
    );
    assert_eq!(app.count("SELECT count(*) FROM users WHERE email_key = 'old.timer@example.com'"), 1);
    app.execute("UPDATE users SET email = 'New@Example.com' WHERE email_key = 'old.timer@example.com'");
    assert_eq!(app.count("SELECT count(*) FROM users WHERE email_key = 'new@example.com'"), 1);
}

#[tokio::test]
async fn sign_in_is_rate_limited_per_account_with_a_clear_message() {
    let app = spawn_app().await;
    app.create_verified_user("Ada", "ada@example.com").await;
    for _ in 0..10 {
        assert_eq!(app.sign_in("ada@example.com", "wrong password").await.status(), StatusCode::UNPROCESSABLE_ENTITY);
    }
    let response = app.sign_in("ada@example.com", PASSWORD).await;
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    let page = response.text().await.unwrap();
    assert!(page.contains("Too many attempts. Wait 15 minutes and try again."), "{page}");
    assert!(app.cookie("roster_session").is_none());
}

#[tokio::test]
async fn after_sign_in_people_return_where_they_were_going_but_never_off_site() {
    let app = spawn_app().await;
    app.create_verified_user("Ada", "ada@example.com").await;
    let response =
        app.post_form("/sign-in", &[("email", "ada@example.com"), ("password", PASSWORD), ("next", "/account")]).await;
    assert_eq!(location(&response), "/account");
    app.sign_out().await;
    let response = app
        .post_form("/sign-in", &[("email", "ada@example.com"), ("password", PASSWORD), ("next", "//evil.example/x")])
        .await;
    assert_eq!(location(&response), "/dashboard");
}

#[tokio::test]
async fn signing_out_ends_the_session_on_the_server_not_only_in_the_browser() {
    let app = spawn_app().await;
    app.signed_in_user("Ada", "ada@example.com").await;
    let stolen = app.cookie("roster_session").unwrap();
    assert_eq!(app.count("SELECT count(*) FROM sessions WHERE user_id IS NOT NULL"), 1);
    app.sign_out().await;
    assert_eq!(app.count("SELECT count(*) FROM sessions WHERE user_id IS NOT NULL"), 0);
    // Replaying the old cookie gets nowhere.
    let response = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .get(app.url("/dashboard"))
        .header("Cookie", format!("roster_session={stolen}"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert!(location(&response).starts_with("/sign-in"));
}

#[tokio::test]
async fn an_unverified_user_can_sign_in_sees_the_banner_and_can_resend_the_link() {
    let app = spawn_app().await;
    app.sign_up("Ada", "ada@example.com", PASSWORD).await;
    let first = link_in(&app.last_mail_to("ada@example.com"), "/verify-email");
    assert_eq!(app.sign_in("ada@example.com", PASSWORD).await.status(), StatusCode::SEE_OTHER);
    let (_, page) = app.get_text("/dashboard").await;
    assert!(page.contains("Verify your email address <strong>ada@example.com</strong>"));
    assert!(page.contains("Resend verification email"));

    let response = app.post_form("/account/resend-verification", &[]).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let (_, page) = app.get_text("/dashboard").await;
    assert!(page.contains("We sent a new verification link to ada@example.com"));
    let second = link_in(&app.last_mail_to("ada@example.com"), "/verify-email");
    assert_ne!(first, second);
    assert_eq!(app.get(&path_of(&first)).await.status(), StatusCode::GONE, "the old link died");
    assert_eq!(app.get(&path_of(&second)).await.status(), StatusCode::OK);

    // Mail to one address is limited to 5 an hour, sign-up mail included.
    for _ in 0..4 {
        app.post_form("/account/resend-verification", &[]).await;
    }
    let (_, page) = app.get_text("/dashboard").await;
    assert!(page.contains("Too many attempts."), "{page}");
    assert_eq!(app.mail_to("ada@example.com").len(), 5);
}

#[tokio::test]
async fn a_password_error_replaces_the_hint_instead_of_repeating_it() {
    let app = spawn_app().await;
    let fields =
        [("name", "Ada"), ("email", "a@example.com"), ("password", "short"), ("password_confirmation", "short")];
    let page = expect_page(
        app.post_form("/sign-up", &fields).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "Use at least 10 characters.",
    )
    .await;
    assert!(!page.contains("At least 10 characters."), "hint and error both shown");
    let (_, form) = app.get_text("/sign-up").await;
    assert!(form.contains("At least 10 characters."), "the hint shows until there is an error");
}

#[tokio::test]
async fn nobody_locks_anyone_out_a_failing_client_is_refused_and_the_owner_of_the_account_signs_in() {
    let app = crate::common::spawn_app_with(|s| s.trusted_proxies = vec!["127.0.0.1".parse().unwrap()]).await;
    app.create_verified_user("Ada", "ada@example.com").await;
    let attempt = |ip: &'static str, password: &'static str| {
        let browser = app.other_browser();
        async move {
            let token = browser.csrf_token().await;
            let response = browser
                .client
                .post(browser.url("/sign-in"))
                .header("X-Forwarded-For", ip)
                .form(&[("email", "ada@example.com"), ("password", password), ("csrf_token", token.as_str())])
                .send()
                .await
                .unwrap();
            response.status()
        }
    };
    // Someone guesses from one network: ten wrong passwords...
    for _ in 0..10 {
        assert_eq!(attempt("203.0.113.66", "wrong password").await, StatusCode::UNPROCESSABLE_ENTITY);
    }
    // ...and that network is refused for this account, even with the right password.
    assert_eq!(attempt("203.0.113.66", PASSWORD).await, StatusCode::TOO_MANY_REQUESTS);
    // Ada, from her own network, signs in: slowed down while her account is guessed at, never refused.
    let started = std::time::Instant::now();
    assert_eq!(attempt("198.51.100.5", PASSWORD).await, StatusCode::SEE_OTHER);
    assert!(started.elapsed() >= std::time::Duration::from_millis(500), "held back: {:?}", started.elapsed());
    // Wrong passwords from many networks never lock the account either.
    for n in 0..12 {
        let ip: &'static str = Box::leak(format!("192.0.2.{n}").into_boxed_str());
        assert_eq!(attempt(ip, "wrong password").await, StatusCode::UNPROCESSABLE_ENTITY);
    }
    assert_eq!(attempt("198.51.100.5", PASSWORD).await, StatusCode::SEE_OTHER);
}
