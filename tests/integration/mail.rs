use std::time::Duration;

use mailparse::{addrparse_header, dateparse, parse_mail, MailHeaderMap as _, ParsedMail};
use reqwest::StatusCode;
use roster::mail::transport::Transport;
use tokio::io::{AsyncBufReadExt as _, AsyncWriteExt as _, BufReader};
use tokio::net::TcpListener;
use tokio::sync::mpsc;

use crate::common::{link_in, path_of, spawn_app, spawn_app_with, PASSWORD};

/// Waits (bounded) until `check` holds; the worker runs in the background.
async fn eventually(mut check: impl FnMut() -> bool) -> bool {
    for _ in 0..100 {
        if check() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    false
}

#[tokio::test]
async fn the_dev_mailbox_shows_each_message_with_clickable_links() {
    let app = spawn_app().await;
    app.sign_up("Ada", "ada@example.com", PASSWORD).await;
    let (status, page) = app.get_text("/dev/mailbox").await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("ada@example.com") && page.contains("Verify your email address for Roster"));
    let message = app.last_mail_to("ada@example.com");
    let (status, page) = app.get_text(&format!("/dev/mailbox/{}", message.id)).await;
    assert_eq!(status, StatusCode::OK);
    let link = link_in(&message, "/verify-email");
    assert!(page.contains(&format!(r#"<a href="{link}">"#)), "{page}");
    // The worker delivers to the mailbox: the message is marked sent.
    assert!(eventually(|| app.last_mail_to("ada@example.com").status == "sent").await);
}

#[tokio::test]
async fn with_smtp_configured_there_is_no_dev_mailbox() {
    let app = spawn_app_with(|s| s.smtp_url = Some("smtp://127.0.0.1:9".into())).await;
    assert_eq!(app.get("/dev/mailbox").await.status(), StatusCode::NOT_FOUND);
}

/// A minimal SMTP server on loopback that hands each received message to the test.
async fn start_smtp_server() -> (u16, mpsc::UnboundedReceiver<String>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    (port, serve_smtp(listener))
}

/// Answers SMTP on `listener`, handing each received message to the test.
fn serve_smtp(listener: TcpListener) -> mpsc::UnboundedReceiver<String> {
    let (sender, receiver) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            let sender = sender.clone();
            tokio::spawn(async move {
                let (read, mut write) = socket.into_split();
                let mut lines = BufReader::new(read).lines();
                write.write_all(b"220 test.local ESMTP\r\n").await.unwrap();
                let mut in_data = false;
                let mut data = String::new();
                while let Ok(Some(line)) = lines.next_line().await {
                    if in_data {
                        if line == "." {
                            in_data = false;
                            let _ = sender.send(std::mem::take(&mut data));
                            write.write_all(b"250 2.0.0 queued\r\n").await.unwrap();
                        } else {
                            data.push_str(line.strip_prefix('.').unwrap_or(&line));
                            data.push('\n');
                        }
                        continue;
                    }
                    let verb = line.split_whitespace().next().unwrap_or("").to_ascii_uppercase();
                    let reply: &[u8] = match verb.as_str() {
                        "EHLO" | "HELO" => b"250-test.local\r\n250 8BITMIME\r\n",
                        "DATA" => {
                            in_data = true;
                            b"354 end with .\r\n"
                        }
                        "QUIT" => {
                            write.write_all(b"221 bye\r\n").await.unwrap();
                            break;
                        }
                        _ => b"250 OK\r\n",
                    };
                    write.write_all(reply).await.unwrap();
                }
            });
        }
    });
    receiver
}

/// Undoes quoted-printable encoding (soft line breaks and =XX escapes).
fn decode_quoted_printable(text: &str) -> String {
    let joined = text.replace("=\r\n", "").replace("=\n", "");
    let bytes = joined.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'=' && i + 2 < bytes.len() {
            if let Ok(byte) = u8::from_str_radix(&joined[i + 1..i + 3], 16) {
                out.push(byte);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[tokio::test]
async fn mail_goes_through_smtp_and_its_link_works() {
    let (port, mut inbox) = start_smtp_server().await;
    let app = spawn_app_with(|s| s.smtp_url = Some(format!("smtp://127.0.0.1:{port}"))).await;
    app.sign_up("Ada", "ada@example.com", PASSWORD).await;

    let raw = tokio::time::timeout(Duration::from_secs(20), inbox.recv()).await.expect("mail arrives").unwrap();
    let raw = decode_quoted_printable(&raw);
    // Sign-up knows the name, so `To` carries it (issue 13); invitations stay bare.
    assert!(raw.contains("To: Ada <ada@example.com>"), "{raw}");
    assert!(raw.contains("From: Roster <roster@localhost>"));
    assert!(raw.contains("Subject: Verify your email address for Roster"));
    assert!(raw.contains("multipart/alternative") && raw.contains("text/html"));
    let link = raw
        .split_whitespace()
        .find(|w| w.starts_with(&format!("{}/verify-email?token=", app.address)))
        .expect("a verification link in the text part")
        .to_owned();
    let (status, page) = app.get_text(&path_of(&link)).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("Confirm that <strong>ada@example.com</strong> is your address."));
    assert!(eventually(|| app.last_mail_to("ada@example.com").status == "sent").await);
}

/// The next message the SMTP server receives, as it arrived.
async fn next_mail(inbox: &mut mpsc::UnboundedReceiver<String>) -> String {
    tokio::time::timeout(Duration::from_secs(20), inbox.recv()).await.expect("mail arrives").unwrap()
}

/// A header's value, as a mail client reads it (encoded words decoded).
fn header(mail: &ParsedMail<'_>, name: &str) -> String {
    mail.headers.get_first_value(name).unwrap_or_else(|| panic!("no {name} header"))
}

#[tokio::test]
async fn delivered_mail_has_what_spam_filters_look_for() {
    let (port, mut inbox) = start_smtp_server().await;
    let app = spawn_app_with(|s| {
        s.smtp_url = Some(format!("smtp://127.0.0.1:{port}"));
        s.base_url = "https://roster.example.com".parse().unwrap();
        s.base_url_from_bind = false;
    })
    .await;
    // A name the header has to quote (the quotes, the comma) and encode (é).
    let name = r#"Ada "Countess" Lovelace, née Byron"#;
    app.sign_up(name, "ada@example.com", PASSWORD).await;

    let raw = next_mail(&mut inbox).await;
    let mail = parse_mail(raw.as_bytes()).unwrap();
    let outbox_id = app.last_mail_to("ada@example.com").id;
    let message_id = header(&mail, "Message-ID");
    assert_eq!(message_id, format!("<{outbox_id}@roster.example.com>"), "on the base URL's host: {raw}");
    let to = addrparse_header(mail.headers.get_first_header("To").unwrap()).unwrap().extract_single_info().unwrap();
    assert_eq!((to.display_name.as_deref(), to.addr.as_str()), (Some(name), "ada@example.com"), "{raw}");
    assert_eq!(header(&mail, "Auto-Submitted"), "auto-generated");
    let date = dateparse(&header(&mail, "Date")).unwrap();
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64;
    assert!((now - date).abs() < 600, "Date is the time of sending: {raw}");

    assert_eq!(mail.ctype.mimetype, "multipart/alternative");
    let types: Vec<&str> = mail.subparts.iter().map(|p| p.ctype.mimetype.as_str()).collect();
    assert_eq!(types, ["text/plain", "text/html"]);
    assert!(mail.subparts[0].get_body().unwrap().contains("/verify-email?token="));
    let html = mail.subparts[1].get_body().unwrap();
    assert!(html.starts_with("<!DOCTYPE html>"), "{html}");
    assert!(html.contains("<title>Verify your email address for Roster</title>"), "{html}");
    assert!(html.contains("/verify-email?token=") && html.trim_end().ends_with("</html>"), "{html}");

    // Another message gets another ID...
    app.sign_up("Grace Hopper", "grace@example.com", PASSWORD).await;
    let other = next_mail(&mut inbox).await;
    let other_id = header(&parse_mail(other.as_bytes()).unwrap(), "Message-ID");
    assert!(other_id.ends_with("@roster.example.com>") && other_id != message_id, "{other_id} {message_id}");
    // ...while the same message sent again, as a retry sends it, keeps its ID: a
    // client that got both shows one.
    // (Delivered, the row keeps no body: the retry sends another text under the same ID.)
    let mut row = roster::db::outbox::find(&mut app.db.conn(), outbox_id).unwrap().unwrap();
    for _ in 0..100 {
        if row.status == "sent" {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        row = roster::db::outbox::find(&mut app.db.conn(), outbox_id).unwrap().unwrap();
    }
    assert_eq!(row.status, "sent");
    assert!(row.sealed_body.is_none() && row.bodies(&app.sealing_key()).is_none());
    let bodies = roster::db::outbox::Bodies { text: "Again".into(), html: "<p>Again</p>".into() };
    let smtp = format!("smtp://127.0.0.1:{port}");
    Transport::from_settings(Some(&smtp), "Roster <roster@localhost>", "roster.example.com")
        .unwrap()
        .send(&row, &bodies)
        .await
        .unwrap();
    let again = next_mail(&mut inbox).await;
    assert_eq!(header(&parse_mail(again.as_bytes()).unwrap(), "Message-ID"), message_id);
}

#[tokio::test]
async fn failed_deliveries_are_retried_later_with_the_error_kept() {
    // Nothing listens on port 9 of loopback: every attempt fails.
    let app = spawn_app_with(|s| s.smtp_url = Some("smtp://127.0.0.1:9".into())).await;
    app.sign_up("Ada", "ada@example.com", PASSWORD).await;
    assert!(eventually(|| app.last_mail_to("ada@example.com").attempts == 1).await);
    let message = app.last_mail_to("ada@example.com");
    assert_eq!(message.status, "pending");
    assert!(message.last_error.is_some());
    assert!(message.next_attempt_at > time::OffsetDateTime::now_utc() + time::Duration::seconds(20));
}

/// The mail server is down while people are invited: the invitations are made and
/// say their emails are queued; once it is back, each is delivered exactly once.
#[tokio::test]
async fn invitations_made_while_the_mail_server_is_down_are_each_delivered_once_when_it_is_back() {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let app = spawn_app_with(|s| s.smtp_url = Some(format!("smtp://127.0.0.1:{port}"))).await;
    let slug = app.owner_of("Acme", "Olivia Owner", "olivia@acme.test").await;
    let invited = ["ann@example.com", "ben@example.com", "cat@example.com"];
    let page =
        crate::common::expect_page(app.invite(&slug, &invited.join(" "), "member").await, StatusCode::OK, "3 sent.")
            .await;
    assert!(page.contains("The emails are queued and go out in the background"), "{page}");
    for address in invited {
        // The attempt counts when the worker claims the message; its failure is written
        // once the connection is refused: wait for both.
        let tried = || {
            let message = app.last_mail_to(address);
            message.attempts >= 1 && message.last_error.is_some()
        };
        assert!(eventually(tried).await, "{address} was tried and its failure kept");
        let waiting = app.last_mail_to(address);
        assert_eq!(waiting.status, "pending");
        assert!(waiting.last_error.is_some(), "the failure is kept");
    }
    assert_eq!(app.count("SELECT count(*) FROM invitations WHERE status = 'pending'"), 3);

    // The server comes back on its port; the retries are brought forward (they back off for minutes).
    let mut inbox = serve_smtp(TcpListener::bind(("127.0.0.1", port)).await.unwrap());
    app.execute("UPDATE jobs SET run_at = now() WHERE kind = 'mail'");
    let mut received = Vec::new();
    for _ in invited {
        let message = tokio::time::timeout(std::time::Duration::from_secs(20), inbox.recv()).await.unwrap().unwrap();
        received.push(invited.iter().find(|a| message.contains(&format!("To: {a}"))).copied().unwrap_or("?"));
    }
    tokio::time::sleep(std::time::Duration::from_secs(3)).await;
    assert!(inbox.try_recv().is_err(), "no message twice");
    received.sort();
    assert_eq!(received, invited);
    assert!(invited.iter().all(|a| app.last_mail_to(a).status == "sent"));
}

#[tokio::test]
async fn an_invitation_goes_through_smtp_and_its_link_opens_the_invitation() {
    let (port, mut inbox) = start_smtp_server().await;
    let app = spawn_app_with(|s| s.smtp_url = Some(format!("smtp://127.0.0.1:{port}"))).await;
    let slug = app.owner_of("Acme", "Olivia Owner", "olivia@acme.test").await;
    app.invite(&slug, "ada@example.com", "member").await;

    let mut raw = String::new();
    while !raw.contains("invited you to join Acme") {
        raw = decode_quoted_printable(
            &tokio::time::timeout(Duration::from_secs(20), inbox.recv()).await.expect("mail arrives").unwrap(),
        );
    }
    assert!(raw.contains("To: ada@example.com"), "{raw}");
    assert!(raw.contains("Subject: Olivia Owner invited you to join Acme on Roster"));
    let link = raw
        .split_whitespace()
        .find(|w| w.starts_with(&format!("{}/invite/", app.address)))
        .expect("the invitation link, built from the base URL")
        .to_owned();
    let ada = app.other_browser();
    let (status, page) = ada.get_text(&path_of(&link)).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("Olivia Owner invited <strong>ada@example.com</strong> to join <strong>Acme</strong> as <strong>Member</strong>."));
}

#[tokio::test]
async fn a_public_roster_without_smtp_never_shows_its_mail() {
    let app = spawn_app_with(|s| {
        s.base_url = "https://roster.example.com".parse().unwrap();
        s.base_url_from_bind = false;
    })
    .await;
    app.sign_up("Ada", "ada@example.com", PASSWORD).await;
    assert_eq!(app.get("/dev/mailbox").await.status(), StatusCode::NOT_FOUND);
    let message = app.last_mail_to("ada@example.com");
    assert!(link_in(&message, "/verify-email").starts_with("https://roster.example.com/verify-email?token="));
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(app.last_mail_to("ada@example.com").status, "pending", "it waits for an SMTP server");
}

#[tokio::test]
async fn a_claimed_message_is_sent_by_one_worker_only_until_its_lease_runs_out() {
    // Without SMTP and on a public address no worker runs, so this test is the only claimer.
    let app = spawn_app_with(|s| {
        s.base_url = "https://roster.example.com".parse().unwrap();
        s.base_url_from_bind = false;
    })
    .await;
    app.sign_up("Ada", "ada@example.com", PASSWORD).await;
    let (mut first, mut second) = (app.db.conn(), app.db.conn());
    let mail = &[roster::db::outbox::MAIL_JOB];
    let claimed = roster::db::jobs::claim_due(&mut first, mail, 10, 300).unwrap();
    assert_eq!(claimed.len(), 1);
    assert_eq!(claimed[0].attempts, 1);
    assert!(roster::db::jobs::claim_due(&mut second, mail, 10, 300).unwrap().is_empty(), "leased to the first worker");
    // The first worker died without a word: once the lease is over, another one retries.
    app.execute("UPDATE jobs SET run_at = now() - interval '1 second'");
    let retried = roster::db::jobs::claim_due(&mut second, mail, 10, 300).unwrap();
    assert_eq!((retried.len(), retried[0].attempts), (1, 2));
}

/// Runs `roster check-mail --to ADDRESS` with the given mail settings.
fn check_mail(smtp_url: Option<&str>, to: &str) -> std::process::Output {
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_roster"));
    command.args(["check-mail", "--to", to]).env("RUST_LOG", "error").env_remove("ROSTER_SMTP_URL");
    if let Some(url) = smtp_url {
        command.env("ROSTER_SMTP_URL", url);
    }
    command.output().expect("run roster")
}

#[tokio::test]
async fn check_mail_sends_one_test_message_or_says_in_a_sentence_why_not() {
    let (port, mut received) = start_smtp_server().await;
    let url = format!("smtp://127.0.0.1:{port}");
    let out = tokio::task::spawn_blocking(move || check_mail(Some(&url), "ops@example.com")).await.unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(said.contains("The SMTP server accepted a test message to ops@example.com"), "{said}");
    let message = tokio::time::timeout(std::time::Duration::from_secs(10), received.recv()).await.unwrap().unwrap();
    assert!(message.contains("Subject: Roster mail check"), "{message}");
    // The test message carries the headers real mail does.
    let parsed = parse_mail(message.as_bytes()).unwrap();
    let id = header(&parsed, "Message-ID");
    assert!(id.starts_with('<') && id.ends_with('>') && id.contains('@'), "{message}");
    assert!(dateparse(&header(&parsed, "Date")).is_ok(), "{message}");
    assert_eq!(header(&parsed, "Auto-Submitted"), "auto-generated");

    for (url, expected) in [
        (Some("smtp://127.0.0.1:9"), "Could not talk to the SMTP server"),
        (None, "No mail server is configured: ROSTER_SMTP_URL is unset"),
    ] {
        let out = tokio::task::spawn_blocking(move || check_mail(url, "ops@example.com")).await.unwrap();
        assert!(!out.status.success());
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains(expected), "{stderr}");
        assert!(!stderr.contains("panicked"));
    }
    let out = tokio::task::spawn_blocking(|| check_mail(Some("smtp://127.0.0.1:9"), "not an address")).await.unwrap();
    assert!(String::from_utf8_lossy(&out.stderr).contains("--to is not an email address"));
}

/// The database as `pg_dump` writes it, in plain SQL.
fn dump(app: &crate::common::TestApp) -> String {
    let output = std::process::Command::new("pg_dump")
        .args(["--data-only", "--dbname", &app.db.url])
        .output()
        .expect("pg_dump runs");
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8(output.stdout).unwrap()
}

#[tokio::test]
async fn no_working_link_is_left_in_the_database_or_its_backup_waiting_or_delivered() {
    // SMTP down: the reset mail waits in the outbox, sealed.
    let app = spawn_app_with(|s| s.smtp_url = Some("smtp://127.0.0.1:9".into())).await;
    app.create_verified_user("Ada", "ada@example.com").await;
    app.post_form("/forgot-password", &[("email", "ada@example.com")]).await;
    assert!(eventually(|| app.last_mail_to("ada@example.com").attempts >= 1).await);
    // The server's key opens it, for the delivery to come...
    let waiting = app.last_mail_to("ada@example.com");
    let link = link_in(&waiting, "/reset-password");
    let token = link.split("token=").nth(1).unwrap().to_owned();
    // ...but neither the database nor its backup shows the link.
    let backup = dump(&app);
    assert!(backup.contains("Reset your Roster password"), "the metadata is kept");
    assert!(!backup.contains(&token) && !backup.contains("reset-password?token"), "no link at rest");
    assert_eq!(app.count("SELECT count(*) FROM outbox WHERE text_body IS NOT NULL OR html_body IS NOT NULL"), 0);
    // A body moved to another recipient does not open, so it is never sent there.
    app.count(
        "WITH moved AS (UPDATE outbox SET to_address = 'mallory@example.com' RETURNING 1) SELECT count(*) FROM moved",
    );
    assert!(app.last_mail_to("mallory@example.com").text_body.is_empty());

    // SMTP up: once delivered, the body is gone; the link still works for its reader.
    let (port, mut inbox) = start_smtp_server().await;
    let app = spawn_app_with(|s| s.smtp_url = Some(format!("smtp://127.0.0.1:{port}"))).await;
    app.create_verified_user("Ada", "ada@example.com").await;
    app.post_form("/forgot-password", &[("email", "ada@example.com")]).await;
    let raw = decode_quoted_printable(&next_mail(&mut inbox).await);
    let link = raw.split_whitespace().find(|w| w.contains("/reset-password?token=")).expect("a reset link").to_owned();
    let token = link.split("token=").nth(1).unwrap().to_owned();
    assert!(eventually(|| app.last_mail_to("ada@example.com").status == "sent").await);
    let backup = dump(&app);
    assert!(!backup.contains(&token) && !backup.contains("reset-password?token"), "no link after delivery");
    assert_eq!(app.count("SELECT count(*) FROM outbox WHERE sealed_body IS NOT NULL"), 0);
    let (status, page) = app.get_text(&path_of(&link)).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("Choose a new password"));
}
