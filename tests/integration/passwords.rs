use reqwest::StatusCode;

use crate::common::{link_in, location, path_of, spawn_app, PASSWORD};

const NEW_PASSWORD: &str = "a brand new passphrase";

#[tokio::test]
async fn forgot_password_answers_the_same_for_unknown_addresses_and_mails_only_real_ones() {
    let app = spawn_app().await;
    app.create_verified_user("Ada", "ada@example.com").await;
    let known = app.post_form("/forgot-password", &[("email", "ada@example.com")]).await;
    let unknown = app.post_form("/forgot-password", &[("email", "nobody@example.com")]).await;
    assert_eq!(known.status(), StatusCode::OK);
    assert_eq!(unknown.status(), StatusCode::OK);
    let (known, unknown) = (known.text().await.unwrap(), unknown.text().await.unwrap());
    assert!(known.contains("If ada@example.com belongs to a Roster account"));
    assert_eq!(
        crate::common::unmasked(&known).replace("ada@example.com", "X"),
        crate::common::unmasked(&unknown).replace("nobody@example.com", "X")
    );
    assert_eq!(app.mail_to("ada@example.com").len(), 1);
    assert!(app.mail_to("nobody@example.com").is_empty());

    let response = app.post_form("/forgot-password", &[("email", "nonsense")]).await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(response.text().await.unwrap().contains("An email address needs one @"));
}

#[tokio::test]
async fn a_reset_link_sets_a_new_password_once_and_signs_out_every_device() {
    let app = spawn_app().await;
    app.signed_in_user("Ada", "ada@example.com").await;
    let laptop = app.other_browser();
    laptop.sign_in("ada@example.com", PASSWORD).await;
    assert_eq!(laptop.get("/dashboard").await.status(), StatusCode::OK);

    app.post_form("/forgot-password", &[("email", "ada@example.com")]).await;
    let mail = app.last_mail_to("ada@example.com");
    assert_eq!(mail.subject, "Reset your Roster password");
    let link = link_in(&mail, "/reset-password");
    let token = link.split("token=").nth(1).unwrap().to_owned();

    // Opening the link changes nothing; bad input is refused and the link survives.
    let (status, page) = app.get_text(&path_of(&link)).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("Choose a new password"));
    let response = app
        .post_form("/reset-password", &[("token", &token), ("password", "short"), ("password_confirmation", "short")])
        .await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(response.text().await.unwrap().contains("Use at least 10 characters."));

    let response = app
        .post_form(
            "/reset-password",
            &[("token", &token), ("password", NEW_PASSWORD), ("password_confirmation", NEW_PASSWORD)],
        )
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&response), "/sign-in?password_reset=1");
    assert_eq!(app.count("SELECT count(*) FROM sessions WHERE user_id IS NOT NULL"), 0);
    assert_eq!(laptop.get("/dashboard").await.status(), StatusCode::SEE_OTHER, "the laptop was signed out");

    assert_eq!(app.sign_in("ada@example.com", PASSWORD).await.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(app.sign_in("ada@example.com", NEW_PASSWORD).await.status(), StatusCode::SEE_OTHER);

    let again = app
        .post_form("/reset-password", &[("token", &token), ("password", PASSWORD), ("password_confirmation", PASSWORD)])
        .await;
    assert_eq!(again.status(), StatusCode::GONE);
    assert!(again.text().await.unwrap().contains("This password reset link does not work"));
}

#[tokio::test]
async fn a_reset_link_verifies_the_address_it_was_sent_to() {
    let app = spawn_app().await;
    app.sign_up("Ada", "ada@example.com", PASSWORD).await;
    app.post_form("/forgot-password", &[("email", "ada@example.com")]).await;
    let token =
        link_in(&app.last_mail_to("ada@example.com"), "/reset-password").split("token=").nth(1).unwrap().to_owned();
    app.post_form(
        "/reset-password",
        &[("token", &token), ("password", NEW_PASSWORD), ("password_confirmation", NEW_PASSWORD)],
    )
    .await;
    assert_eq!(app.count("SELECT count(*) FROM users WHERE email_verified_at IS NOT NULL"), 1);
}

#[tokio::test]
async fn changing_the_password_needs_the_current_one_and_signs_out_other_devices() {
    let app = spawn_app().await;
    app.signed_in_user("Ada", "ada@example.com").await;
    let phone = app.other_browser();
    phone.sign_in("ada@example.com", PASSWORD).await;

    let response = app
        .post_form(
            "/account/password",
            &[("current_password", "wrong one"), ("password", NEW_PASSWORD), ("password_confirmation", NEW_PASSWORD)],
        )
        .await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(response.text().await.unwrap().contains("That is not your current password."));
    let response = app
        .post_form(
            "/account/password",
            &[("current_password", PASSWORD), ("password", NEW_PASSWORD), ("password_confirmation", "typo")],
        )
        .await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(response.text().await.unwrap().contains("The two passwords do not match."));
    assert_eq!(phone.get("/dashboard").await.status(), StatusCode::OK, "nothing changed yet");

    let response = app
        .post_form(
            "/account/password",
            &[("current_password", PASSWORD), ("password", NEW_PASSWORD), ("password_confirmation", NEW_PASSWORD)],
        )
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let (status, page) = app.get_text("/account").await;
    assert_eq!(status, StatusCode::OK, "this browser stays signed in");
    assert!(page.contains("Your password has been changed."));
    assert_eq!(phone.get("/dashboard").await.status(), StatusCode::SEE_OTHER, "the phone was signed out");
    assert_eq!(app.count("SELECT count(*) FROM sessions WHERE user_id IS NOT NULL"), 1);
}

#[tokio::test]
async fn a_password_hashed_with_older_settings_signs_in_and_is_hashed_again_with_todays() {
    use argon2::password_hash::{rand_core::OsRng, PasswordHasher, SaltString};
    use diesel::prelude::*;

    let app = spawn_app().await;
    app.create_verified_user("Ada", "ada@example.com").await;
    // The hash an earlier Roster made (m=12 MiB, t=3).
    let older = argon2::Argon2::new(
        argon2::Algorithm::Argon2id,
        argon2::Version::V0x13,
        argon2::Params::new(12 * 1024, 3, 1, None).unwrap(),
    )
    .hash_password(PASSWORD.as_bytes(), &SaltString::generate(&mut OsRng))
    .unwrap()
    .to_string();
    #[derive(QueryableByName)]
    struct Stored {
        #[diesel(sql_type = diesel::sql_types::Text)]
        password_hash: String,
    }
    let stored = |conn: &mut diesel::PgConnection| {
        diesel::sql_query("SELECT password_hash FROM users WHERE lower(email) = 'ada@example.com'")
            .get_result::<Stored>(conn)
            .unwrap()
            .password_hash
    };
    let mut conn = app.db.conn();
    diesel::sql_query("UPDATE users SET password_hash = $1 WHERE lower(email) = 'ada@example.com'")
        .bind::<diesel::sql_types::Text, _>(&older)
        .execute(&mut conn)
        .unwrap();

    assert_eq!(app.sign_in("ada@example.com", "not the password").await.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(stored(&mut conn), older, "a wrong password changes nothing");
    assert_eq!(app.sign_in("ada@example.com", PASSWORD).await.status(), StatusCode::SEE_OTHER);
    let renewed = stored(&mut conn);
    assert!(renewed.starts_with("$argon2id$v=19$m=7168,t=5,p=1$"), "{renewed}");
    let laptop = app.other_browser();
    assert_eq!(laptop.sign_in("ada@example.com", PASSWORD).await.status(), StatusCode::SEE_OTHER);
    assert_eq!(stored(&mut conn), renewed, "hashed again once");
}
