use reqwest::StatusCode;

use crate::common::{expect_page, location, spawn_app, TestApp};

const OWNER: &str = "olivia@acme.test";

async fn acme() -> (TestApp, String) {
    let app = spawn_app().await;
    let slug = app.owner_of("Acme", "Olivia Owner", OWNER).await;
    (app, slug)
}

fn notifications_of(app: &TestApp, email: &str) -> i64 {
    app.count(&format!(
        "SELECT count(*) FROM notifications n JOIN users u ON u.id = n.recipient_id WHERE u.email = '{email}'"
    ))
}

async fn count_text(person: &TestApp) -> String {
    let response =
        person.client.get(person.url("/notifications/count")).header("HX-Request", "true").send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    response.text().await.unwrap()
}

#[tokio::test]
async fn each_event_notifies_the_people_it_concerns_and_nobody_else() {
    let (app, slug) = acme().await;
    let adam = app.member(&slug, "Adam", "adam@example.com", "admin").await;
    assert_eq!(notifications_of(&app, OWNER), 1, "Olivia hears that Adam accepted");
    // Adam invites Ada; her answer goes to Adam, not to Olivia.
    adam.invite(&slug, "ada@example.com", "member").await;
    let ada = app.other_browser();
    ada.signed_in_user("Ada", "ada@example.com").await;
    ada.post_form(&format!("{}/decline", app.invitation_link("ada@example.com")), &[]).await;
    assert_eq!(notifications_of(&app, "adam@example.com"), 1);
    assert_eq!(notifications_of(&app, OWNER), 1);
    assert_eq!(notifications_of(&app, "ada@example.com"), 0);

    // A role change and a removal reach only the member concerned.
    let adam_id = app.membership_id(&slug, "adam@example.com");
    app.post_form(&format!("/orgs/{slug}/members/{adam_id}/role"), &[("role", "member")]).await;
    assert_eq!(notifications_of(&app, "adam@example.com"), 2);
    app.post_form(&format!("/orgs/{slug}/members/{adam_id}/remove"), &[]).await;
    assert_eq!(notifications_of(&app, "adam@example.com"), 3);
    assert_eq!(notifications_of(&app, OWNER), 1);

    let page =
        expect_page(adam.get("/notifications").await, StatusCode::OK, "Olivia Owner removed you from Acme.").await;
    assert!(page.contains("Olivia Owner changed your role in Acme from Admin to Member."));
    assert!(page.contains("ada@example.com declined your invitation to Acme."));
}

#[tokio::test]
async fn the_count_covers_pending_invitations_and_unread_notifications() {
    let (app, slug) = acme().await;
    let ada = app.other_browser();
    ada.signed_in_user("Ada", "ada@example.com").await;
    assert!(count_text(&ada).await.contains(">Notifications</span>"));
    app.invite(&slug, "ada@example.com", "member").await;
    let rival = app.other_browser();
    let rival_slug = rival.owner_of("Rival", "Rita", "rita@rival.test").await;
    rival.invite(&rival_slug, "ada@example.com", "member").await;
    assert!(count_text(&ada).await.contains("Notifications, 2 unread"));
    let (_, page) = ada.get_text("/dashboard").await;
    assert!(page.contains("Notifications, 2 unread"), "the header's bell has the same count");

    // Accepting from the bell (the same action as the Dashboard prompt) lowers it.
    let panel = expect_page(ada.get("/notifications/panel").await, StatusCode::OK, "invited you to join").await;
    assert!(panel.contains("Accept the invitation to Acme") && panel.contains("Accept the invitation to Rival"));
    let acme_invitation = {
        let button = panel.find("Accept the invitation to Acme").unwrap();
        let start = panel[..button].rfind("/invitations/").unwrap();
        panel[start + "/invitations/".len()..].split('/').next().unwrap().to_owned()
    };
    let token = ada.csrf_token().await;
    let response = ada
        .client
        .post(ada.url(&format!("/invitations/{acme_invitation}/accept")))
        .header("HX-Request", "true")
        .header("X-CSRF-Token", token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()["hx-trigger"], "bellChanged");
    assert!(count_text(&ada).await.contains("Notifications, 1 unread"));

    // Unread notifications count too, until marked read.
    assert!(count_text(&app).await.contains("Notifications, 1 unread"), "Olivia: Ada accepted");
    app.post_form("/notifications/read-all", &[]).await;
    assert!(count_text(&app).await.contains(">Notifications</span>"));
}

#[tokio::test]
async fn opening_a_notification_marks_it_read_and_goes_where_it_is_about() {
    let (app, slug) = acme().await;
    app.member(&slug, "Ada", "ada@example.com", "member").await;
    let page =
        expect_page(app.get("/notifications?filter=unread").await, StatusCode::OK, "accepted your invitation to Acme")
            .await;
    let action = page
        .split("action=\"")
        .find_map(|rest| rest.split('"').next().filter(|h| h.starts_with("/notifications/") && h.ends_with("/open")))
        .unwrap()
        .to_owned();
    let href = action.trim_end_matches("/open").to_owned();
    // Following the link (a mail scanner, a prefetcher) leads there and changes nothing.
    let response = app.get(&href).await;
    assert_eq!(location(&response), format!("/orgs/{slug}/members"));
    assert_eq!(app.count("SELECT count(*) FROM notifications WHERE read_at IS NULL"), 1, "a GET marks nothing read");
    // Pressing it (a POST) marks it read and leads there.
    let response = app.post_form(&action, &[]).await;
    assert_eq!(location(&response), format!("/orgs/{slug}/members"));
    let (_, unread) = app.get_text("/notifications?filter=unread").await;
    assert!(unread.contains("No unread notifications."));
    let (_, all) = app.get_text("/notifications").await;
    assert!(all.contains("accepted your invitation to Acme"));

    // Someone else's notification is not found, and stays unread for its owner.
    app.execute("UPDATE notifications SET read_at = NULL");
    let stranger = app.other_browser();
    stranger.signed_in_user("Eve", "eve@example.com").await;
    assert_eq!(stranger.get(&href).await.status(), StatusCode::NOT_FOUND);
    assert_eq!(stranger.post_form(&action, &[]).await.status(), StatusCode::NOT_FOUND);
    stranger.post_form("/notifications/read-all", &[]).await;
    assert_eq!(app.count("SELECT count(*) FROM notifications WHERE read_at IS NULL"), 1);
}

#[tokio::test]
async fn polling_stops_cleanly_once_signed_out() {
    let (app, _slug) = acme().await;
    app.sign_out().await;
    let response = app.client.get(app.url("/notifications/count")).header("HX-Request", "true").send().await.unwrap();
    assert_eq!(response.status().as_u16(), 286, "htmx stops polling on 286");
    assert_eq!(app.get("/notifications").await.status(), StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn the_stream_pushes_a_bell_event_when_something_arrives() {
    let (app, slug) = acme().await;
    let ada = app.other_browser();
    ada.signed_in_user("Ada", "ada@example.com").await;
    let response = ada.client.get(ada.url("/notifications/stream")).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["content-type"], "text/event-stream");
    let mut response = response;
    // Somebody else's event does not reach Ada's stream; hers does.
    app.invite(&slug, "bob@example.com", "member").await;
    app.invite(&slug, "ada@example.com", "member").await;
    let chunk = tokio::time::timeout(std::time::Duration::from_secs(10), response.chunk())
        .await
        .expect("an event within seconds")
        .unwrap()
        .expect("the stream stays open");
    assert_eq!(std::str::from_utf8(&chunk).unwrap(), "event: bell\ndata: changed\n\n");
    // Signed out elsewhere: a new stream is refused.
    ada.sign_out().await;
    assert_eq!(ada.get("/notifications/stream").await.status(), StatusCode::SEE_OTHER);
}

/// A stream asked for on a connection of its own is served beside actix-web (its
/// buffers are not kept per connection: web::connections): the same answer, the same
/// events, the same refusals, and it lets go of the stream when the browser leaves.
#[tokio::test]
async fn a_stream_on_a_connection_of_its_own_answers_as_any_other() {
    use reqwest::cookie::CookieStore as _;
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let app = crate::common::spawn_app_with(|s| s.metrics_token = Some(crate::health::METRICS_TOKEN.into())).await;
    let slug = app.owner_of("Acme", "Olivia Owner", OWNER).await;
    let ada = app.other_browser();
    ada.signed_in_user("Ada", "ada@example.com").await;
    let address = app.address.trim_start_matches("http://").to_owned();
    let cookies = ada.jar.cookies(&app.address.parse().unwrap()).unwrap().to_str().unwrap().to_owned();
    let open = |cookie: Option<String>| {
        let address = address.clone();
        async move {
            let mut connection = tokio::net::TcpStream::connect(&address).await.unwrap();
            let cookie = cookie.map(|c| format!("Cookie: {c}\r\n")).unwrap_or_default();
            let head = format!(
                "GET /notifications/stream HTTP/1.1\r\nHost: {address}\r\nAccept: text/event-stream\r\n{cookie}\r\n"
            );
            connection.write_all(head.as_bytes()).await.unwrap();
            let mut head = Vec::new();
            while !head.ends_with(b"\r\n\r\n") {
                let mut byte = [0u8; 1];
                assert_eq!(connection.read(&mut byte).await.unwrap(), 1, "the head ends: {head:?}");
                head.push(byte[0]);
            }
            (connection, String::from_utf8(head).unwrap().to_ascii_lowercase())
        }
    };

    let (mut stream, head) = open(Some(cookies.clone())).await;
    assert!(head.starts_with("http/1.1 200 ok\r\n"), "{head}");
    for line in [
        "content-type: text/event-stream",
        "content-encoding: identity",
        "cache-control: no-store",
        "x-frame-options: deny",
        "x-content-type-options: nosniff",
        "transfer-encoding: chunked",
    ] {
        assert!(head.contains(&format!("\r\n{line}\r\n")), "{line} in {head}");
    }
    crate::health::eventually_metric(&app, "roster_live_bell_streams", |n| n == 1.0).await;
    // Somebody else's event does not reach Ada's stream; hers does, as one chunk.
    app.invite(&slug, "bob@example.com", "member").await;
    app.invite(&slug, "ada@example.com", "member").await;
    let mut chunk = vec![0u8; 256];
    let read = tokio::time::timeout(std::time::Duration::from_secs(10), stream.read(&mut chunk))
        .await
        .expect("an event within seconds")
        .unwrap();
    assert_eq!(std::str::from_utf8(&chunk[..read]).unwrap(), "1b\r\nevent: bell\ndata: changed\n\n\r\n");
    let text = crate::health::eventually_metric(&app, "roster_live_bell_streams", |n| n == 1.0).await;
    assert!(
        text.lines()
            .any(|l| l.starts_with("roster_http_requests_total{") && l.contains("route=\"/notifications/stream\"")),
        "the stream is counted under its route:\n{text}"
    );
    // The browser goes away: the stream is let go.
    drop(stream);
    crate::health::eventually_metric(&app, "roster_live_bell_streams", |n| n == 0.0).await;
    // Nothing is sent on a stream's connection after its request: what is, ends it.
    let (mut stream, _) = open(Some(cookies.clone())).await;
    crate::health::eventually_metric(&app, "roster_live_bell_streams", |n| n == 1.0).await;
    stream.write_all(b"GET / HTTP/1.1\r\n\r\n").await.unwrap();
    let mut rest = Vec::new();
    tokio::time::timeout(std::time::Duration::from_secs(10), stream.read_to_end(&mut rest)).await.unwrap().unwrap();
    assert!(rest.is_empty(), "closed, nothing answered: {rest:?}");
    crate::health::eventually_metric(&app, "roster_live_bell_streams", |n| n == 0.0).await;

    // Without a session, or once signed out, the answer is the route's: to sign in.
    let (_, head) = open(None).await;
    assert!(head.starts_with("http/1.1 303 "), "{head}");
    ada.sign_out().await;
    let (_, head) = open(Some(cookies)).await;
    assert!(head.starts_with("http/1.1 303 "), "signed out: {head}");
}

/// A stream's head that stops halfway is answered as actix-web answers a slow head
/// (408, then closed) once a request's head time is up, and not held any longer.
#[tokio::test]
async fn a_stream_request_that_stops_halfway_is_timed_out_like_any_request() {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let (app, _slug) = acme().await;
    let address = app.address.trim_start_matches("http://").to_owned();
    let mut connection = tokio::net::TcpStream::connect(&address).await.unwrap();
    connection.write_all(b"GET /notifications/stream HTTP/1.1\r\nHost: x\r\n").await.unwrap();
    let started = std::time::Instant::now();
    let mut answer = Vec::new();
    tokio::time::timeout(std::time::Duration::from_secs(15), connection.read_to_end(&mut answer))
        .await
        .expect("answered and closed within the head's time")
        .unwrap();
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 408 Request Timeout\r\n"), "{answer}");
    let waited = started.elapsed();
    assert!(waited < std::time::Duration::from_secs(9), "held for {waited:?}, not a head's time plus actix-web's");
}

/// A connection opened ahead of need (a browser's preconnect, a client's pool) that
/// asks nothing is closed once a connection's keep-alive is up, without an answer:
/// an unasked 408 would be read by the client as the answer to the request it sends
/// as it closes.
#[tokio::test]
async fn a_connection_that_asks_nothing_is_closed_without_an_answer() {
    use tokio::io::AsyncReadExt as _;
    let app = crate::common::spawn_app_with(|s| s.keep_alive = std::time::Duration::from_secs(2)).await;
    let address = app.address.trim_start_matches("http://").to_owned();
    let mut connection = tokio::net::TcpStream::connect(&address).await.unwrap();
    let mut answer = Vec::new();
    tokio::time::timeout(std::time::Duration::from_secs(15), connection.read_to_end(&mut answer))
        .await
        .expect("closed once its keep-alive is up")
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&answer), "", "nothing was asked, so nothing is answered");
}

/// An idle connection, new or between two requests, waits for its next request for
/// `ROSTER_KEEP_ALIVE`, not a head's 5 s: a client that sends on a connection the
/// server is closing gets no answer at all (two such errors under 200 connections,
/// issue 32), and a load balancer keeps its idle connections for 60 s.
#[tokio::test]
async fn an_idle_connection_waits_for_its_next_request_past_a_heads_time() {
    use std::time::{Duration, Instant};
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let app = crate::common::spawn_app_with(|s| s.keep_alive = Duration::from_secs(9)).await;
    let address = app.address.trim_start_matches("http://").to_owned();
    let mut connection = tokio::net::TcpStream::connect(&address).await.unwrap();
    /// Sends a request for `/healthz` and reads its whole answer.
    async fn ask(connection: &mut tokio::net::TcpStream) -> String {
        connection.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n").await.unwrap();
        let mut answer = Vec::new();
        let mut buffer = [0u8; 4096];
        loop {
            let read = tokio::time::timeout(Duration::from_secs(10), connection.read(&mut buffer))
                .await
                .expect("answered")
                .unwrap();
            assert!(read > 0, "closed before the answer ended: {}", String::from_utf8_lossy(&answer));
            answer.extend_from_slice(&buffer[..read]);
            let text = String::from_utf8_lossy(&answer).into_owned();
            if let Some((head, body)) = text.split_once("\r\n\r\n") {
                let length = head
                    .lines()
                    .find_map(|l| l.to_ascii_lowercase().strip_prefix("content-length: ").map(str::to_owned))
                    .and_then(|n| n.trim().parse::<usize>().ok())
                    .expect("a length");
                if body.len() >= length {
                    return text;
                }
            }
        }
    }
    // Past a head's time before its first request, and again between two.
    tokio::time::sleep(Duration::from_secs(6)).await;
    assert!(ask(&mut connection).await.starts_with("HTTP/1.1 200 "), "the first request is answered");
    tokio::time::sleep(Duration::from_secs(6)).await;
    assert!(ask(&mut connection).await.starts_with("HTTP/1.1 200 "), "the next request is answered");
    // Then, left alone, it is closed without a word once its keep-alive is up.
    let idle = Instant::now();
    let mut rest = Vec::new();
    tokio::time::timeout(Duration::from_secs(20), connection.read_to_end(&mut rest)).await.expect("closed").unwrap();
    assert!(rest.is_empty(), "nothing more is answered: {}", String::from_utf8_lossy(&rest));
    assert!(idle.elapsed() >= Duration::from_secs(8), "kept for its keep-alive, not closed after {:?}", idle.elapsed());
}

/// DESIGN.md §6: one instance holds thousands of open bells (the benchmark opens
/// 10,000; CI a thousand). A change wakes each open stream of its user once and no
/// stream of anybody else; closed streams are let go.
#[tokio::test]
async fn a_thousand_open_streams_each_hear_their_own_users_changes_and_only_those() {
    use actix_web::web::Bytes;
    use futures_util::StreamExt as _;
    use std::time::Duration;
    // This process holds both ends of every stream.
    rlimit::increase_nofile_limit(8_192).unwrap();
    let app = crate::common::spawn_app_with(|s| s.metrics_token = Some(crate::health::METRICS_TOKEN.into())).await;
    let slug = app.owner_of("Acme", "Olivia Owner", OWNER).await;
    let (ada, bob) = (app.other_browser(), app.other_browser());
    ada.signed_in_user("Ada", "ada@example.com").await;
    bob.signed_in_user("Bob", "bob@example.com").await;
    let open = |person: &crate::common::TestApp, n: usize| {
        let (client, url) = (person.client.clone(), person.url("/notifications/stream"));
        futures_util::stream::iter(0..n)
            .map(move |_| {
                let (client, url) = (client.clone(), url.clone());
                async move { client.get(url).send().await.unwrap() }
            })
            .buffer_unordered(100)
            .collect::<Vec<_>>()
    };
    let mut adas = open(&ada, 900).await;
    let mut bobs = open(&bob, 100).await;
    assert!(adas.iter().chain(&bobs).all(|r| r.status() == StatusCode::OK));
    crate::health::eventually_metric(&app, "roster_live_bell_streams", |n| n == 1000.0).await;

    // What Ada is invited to reaches each of her 900 streams, once.
    app.invite(&slug, "ada@example.com", "member").await;
    /// The first chunk each stream sends within `wait`, if any.
    async fn first(responses: &mut [reqwest::Response], wait: Duration) -> Vec<Option<reqwest::Result<Option<Bytes>>>> {
        let waits = responses.iter_mut().map(|r| async move { tokio::time::timeout(wait, r.chunk()).await.ok() });
        futures_util::future::join_all(waits).await
    }
    let told = first(&mut adas, Duration::from_secs(10)).await;
    let bell = "event: bell\ndata: changed\n\n";
    assert!(told.iter().all(|chunk| matches!(chunk, Some(Ok(Some(c))) if c == bell)), "every stream of Ada's is told");
    // Bob's streams heard nothing of it; then his own change reaches all of them.
    assert!(first(&mut bobs, Duration::from_millis(500)).await.iter().all(Option::is_none), "Bob hears nothing");
    app.invite(&slug, "bob@example.com", "member").await;
    let told = first(&mut bobs, Duration::from_secs(10)).await;
    assert!(told.iter().all(|chunk| matches!(chunk, Some(Ok(Some(c))) if c == bell)), "every stream of Bob's is told");

    drop((adas, bobs));
    crate::health::eventually_metric(&app, "roster_live_bell_streams", |n| n == 0.0).await;
}

#[tokio::test]
async fn taking_the_last_seat_tells_the_owner_and_admins() {
    let (app, slug) = acme().await;
    let adam = app.member(&slug, "Adam", "adam@example.com", "admin").await;
    app.member(&slug, "Mia", "mia@example.com", "member").await;
    app.execute("UPDATE organizations SET seat_limit = 5");
    adam.invite(&slug, "a@example.com", "member").await;
    assert_eq!(app.count("SELECT count(*) FROM notifications WHERE kind = 'seats.limit_reached'"), 0);
    adam.invite(&slug, "b@example.com", "member").await;
    assert_eq!(
        app.count("SELECT count(*) FROM notifications WHERE kind = 'seats.limit_reached'"),
        2,
        "Owner and Admin"
    );
    assert_eq!(notifications_of(&app, "mia@example.com"), 0);
    let page = expect_page(app.get("/notifications").await, StatusCode::OK, "Acme has used all 5 seats.").await;
    assert!(page.contains("Revoke stale invitations"));
}

#[tokio::test]
async fn the_bell_count_ends_with_the_session_on_the_server_and_ignores_forged_cookies() {
    let (app, _slug) = acme().await;
    let count = |app: &crate::common::TestApp| {
        let request = app.client.get(app.url("/notifications/count")).header("HX-Request", "true");
        async move { request.send().await.unwrap().status().as_u16() }
    };
    assert_eq!(count(&app).await, 200);
    app.execute("UPDATE sessions SET expires_at = now() - interval '1 second'");
    assert_eq!(count(&app).await, 286, "an expired session counts nothing");
    app.execute("UPDATE sessions SET expires_at = now() + interval '1 day'");
    assert_eq!(count(&app).await, 200);
    app.execute("DELETE FROM sessions");
    assert_eq!(count(&app).await, 286, "a session ended elsewhere counts nothing");

    let forged = reqwest::Client::new()
        .get(app.url("/notifications/count"))
        .header("Cookie", "roster_session=c29tZXRoaW5nLWZvcmdlZA")
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status().as_u16(), 286);
}

#[tokio::test]
async fn each_poll_tells_the_count_as_it_is_now_whoever_changed_it_and_when_an_invitation_expires() {
    let app = crate::common::spawn_app_with(|s| s.invitation_ttl = std::time::Duration::from_secs(3)).await;
    let slug = app.owner_of("Acme", "Olivia Owner", OWNER).await;
    let ada = app.other_browser();
    ada.signed_in_user("Ada", "ada@example.com").await;
    assert!(count_text(&ada).await.contains(">Notifications</span>"));
    assert!(count_text(&ada).await.contains(">Notifications</span>"), "asked again, unchanged");

    // Changes written by anyone, here another process straight into the database,
    // show in the very next poll.
    let ada_id = "(SELECT id FROM users WHERE email = 'ada@example.com')";
    app.count(&format!(
        "WITH added AS (INSERT INTO notifications (id, recipient_id, kind) \
         SELECT gen_random_uuid(), {ada_id}, 'member.role_changed' FROM generate_series(1, 2) RETURNING 1) \
         SELECT count(*) FROM added"
    ));
    assert!(count_text(&ada).await.contains("Notifications, 2 unread"));
    app.count(&format!(
        "WITH read AS (UPDATE notifications SET read_at = now() WHERE recipient_id = {ada_id} RETURNING 1) \
         SELECT count(*) FROM read"
    ));
    assert!(count_text(&ada).await.contains(">Notifications</span>"));

    // An invitation counts until it expires, which changes nothing in the database.
    app.invite(&slug, "ada@example.com", "member").await;
    assert!(count_text(&ada).await.contains("Notifications, 1 unread"));
    assert!(count_text(&ada).await.contains("Notifications, 1 unread"), "asked again, unchanged");
    tokio::time::sleep(std::time::Duration::from_millis(3200)).await;
    assert!(count_text(&ada).await.contains(">Notifications</span>"), "expired: no longer counted");

    // Which invitations count depends on the address being verified.
    app.count(
        "WITH renewed AS (UPDATE invitations SET expires_at = now() + interval '1 hour' \
         WHERE email = 'ada@example.com' RETURNING 1) SELECT count(*) FROM renewed",
    );
    assert!(count_text(&ada).await.contains("Notifications, 1 unread"));
    app.count(&format!(
        "WITH changed AS (UPDATE users SET email_verified_at = NULL WHERE id = {ada_id} RETURNING 1) \
         SELECT count(*) FROM changed"
    ));
    assert!(count_text(&ada).await.contains(">Notifications</span>"), "unverified: invitations not counted");
}

#[tokio::test]
async fn accepting_in_the_bell_answers_the_bell_item_and_sends_the_switcher_out_of_band() {
    let (app, slug) = acme().await;
    let ada = app.other_browser();
    ada.signed_in_user("Ada", "ada@example.com").await;
    app.invite(&slug, "ada@example.com", "member").await;
    let id = app.invitation_id("ada@example.com");
    let (_, panel) = ada.get_text("/notifications/panel").await;
    assert!(panel.contains("name=\"from\" value=\"bell\""), "the bell's forms say where they are: {panel}");

    let token = ada.csrf_token().await;
    let response = ada
        .client
        .post(ada.url(&format!("/invitations/{id}/accept")))
        .header("HX-Request", "true")
        .header("X-CSRF-Token", token)
        .form(&[("from", "bell")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["hx-trigger"], "bellChanged, bellStream", "the badge and an open Dashboard follow");
    let fragment = response.text().await.unwrap();
    // The item itself, answered: one line, and nothing of the Dashboard.
    assert!(fragment.trim_start().contains(&format!("<li id=\"bell-invitation-{id}\"")), "{fragment}");
    assert!(fragment.contains("You joined Acme as Member."), "{fragment}");
    for dashboard_id in ["dashboard-live", "id=\"orgs\"", "orgs-heading", "invitations-heading"] {
        assert!(!fragment.contains(dashboard_id), "{dashboard_id} would be duplicated: {fragment}");
    }
    // The header's organization switcher, out of band, now lists Acme.
    let switcher = fragment.split("id=\"switcher-orgs\"").nth(1).expect("the switcher, out of band");
    assert!(switcher.starts_with(" hx-swap-oob=\"true\""), "{fragment}");
    assert!(switcher.contains("href=\"/orgs/acme\""), "{fragment}");
    assert_eq!(app.count("SELECT count(*) FROM memberships"), 2);

    // On the Dashboard the same answer comes back as the Dashboard, with the switcher too.
    let rival = app.other_browser();
    let rival_slug = rival.owner_of("Rival", "Rita", "rita@rival.test").await;
    rival.invite(&rival_slug, "ada@example.com", "member").await;
    let id = rival.invitation_id("ada@example.com");
    let response = ada
        .client
        .post(ada.url(&format!("/invitations/{id}/accept")))
        .header("HX-Request", "true")
        .header("X-CSRF-Token", ada.csrf_token().await)
        .send()
        .await
        .unwrap();
    let fragment = response.text().await.unwrap();
    assert!(fragment.contains("id=\"dashboard-live\""), "{fragment}");
    assert!(fragment.contains("id=\"switcher-orgs\" hx-swap-oob=\"true\""), "{fragment}");
    assert!(fragment.contains("href=\"/orgs/rival\""), "{fragment}");
}

#[tokio::test]
async fn the_notifications_page_groups_by_day_marks_unread_with_a_dot_and_says_when_in_words() {
    let (app, slug) = acme().await;
    app.member(&slug, "Ada", "ada@example.com", "member").await;
    app.member(&slug, "Bob", "bob@example.com", "member").await;
    // Bob's acceptance arrived four days ago (noon UTC, so the date is the same in every zone of the test).
    app.execute(
        "UPDATE notifications SET created_at = date_trunc('day', now()) - interval '4 days' + interval '12 hours' \
         WHERE payload::text LIKE '%bob@example.com%'",
    );
    app.execute("UPDATE notifications SET read_at = now() WHERE payload::text LIKE '%bob@example.com%'");
    let (_, page) = app.get_text("/notifications").await;
    let four_days_ago = roster::web::format::format_date(time::OffsetDateTime::now_utc() - time::Duration::days(4));
    let (today, earlier) = (page.find(">Today</h2>").unwrap(), page.find(&format!(">{four_days_ago}</h2>")).unwrap());
    let (ada, bob) = (page.find("ada@example.com) accepted").unwrap(), page.find("bob@example.com) accepted").unwrap());
    assert!(today < ada && ada < earlier && earlier < bob, "newest day first, each under its day: {page}");
    assert!(page.contains(">4 days ago</time>") && page.contains(">just now</time>"), "{page}");
    // Ada's is unread: a dot and words for screen readers; Bob's is read: neither.
    let ada_item = &page[page[..ada].rfind("<li").unwrap()..ada];
    assert!(ada_item.contains("class=\"unread\"") && ada_item.contains("Unread: "), "{ada_item}");
    let bob_item = &page[page[..bob].rfind("<li").unwrap()..bob];
    assert!(!bob_item.contains("unread") && !bob_item.contains("Unread: "), "{bob_item}");
}

/// Users whose kept count of unread notifications (migration 50) differs from a count
/// of their unread notifications; and the sum of the kept counts.
fn unread_kept_wrong_and_sum(app: &TestApp) -> (i64, i64) {
    (
        app.count(
            "SELECT count(*) FROM users u WHERE coalesce((SELECT v.unread FROM bell_versions v WHERE v.user_id = u.id), 0) \
               <> (SELECT count(*) FROM notifications n WHERE n.recipient_id = u.id AND n.read_at IS NULL)",
        ),
        app.count("SELECT coalesce(sum(unread), 0)::bigint AS count FROM bell_versions"),
    )
}

#[tokio::test]
async fn the_bell_keeps_each_persons_unread_count_as_notifications_arrive_are_read_move_and_go() {
    let (app, slug) = acme().await;
    let ada = app.member(&slug, "Ada", "ada@example.com", "member").await;
    app.member(&slug, "Bob", "bob@example.com", "member").await;
    assert!(count_text(&app).await.contains("Notifications, 2 unread"), "Olivia: Ada and Bob accepted");
    assert_eq!(unread_kept_wrong_and_sum(&app), (0, 2));

    // Ada is made an Admin: her bell says so, and Olivia's count is unchanged.
    let ada_membership = app.membership_id(&slug, "ada@example.com");
    app.post_form(&format!("/orgs/{slug}/members/{ada_membership}/role"), &[("role", "admin")]).await;
    assert!(count_text(&ada).await.contains("Notifications, 1 unread"));
    assert_eq!(unread_kept_wrong_and_sum(&app), (0, 3));

    // Olivia opens one notification, then marks the rest read.
    let page = app.get_text("/notifications?filter=unread").await.1;
    let open = page
        .split("action=\"")
        .find_map(|rest| rest.split('"').next().filter(|h| h.starts_with("/notifications/") && h.ends_with("/open")))
        .unwrap()
        .to_owned();
    app.post_form(&open, &[]).await;
    assert!(count_text(&app).await.contains("Notifications, 1 unread"));
    assert_eq!(unread_kept_wrong_and_sum(&app), (0, 2));
    app.post_form("/notifications/read-all", &[]).await;
    assert!(count_text(&app).await.contains(">Notifications</span>"));
    assert_eq!(unread_kept_wrong_and_sum(&app), (0, 1));

    // Statements the console does not make, which the database still counts right:
    // unread again in one statement, moved to another person, and deleted.
    app.execute("UPDATE notifications SET read_at = NULL");
    assert_eq!(unread_kept_wrong_and_sum(&app), (0, 3));
    app.execute(
        "UPDATE notifications SET recipient_id = (SELECT id FROM users WHERE email = 'bob@example.com') \
          WHERE recipient_id = (SELECT id FROM users WHERE email = 'ada@example.com')",
    );
    assert!(count_text(&ada).await.contains(">Notifications</span>"));
    assert_eq!(unread_kept_wrong_and_sum(&app), (0, 3));
    app.execute(
        "DELETE FROM notifications WHERE recipient_id = (SELECT id FROM users WHERE email = 'bob@example.com')",
    );
    assert_eq!(unread_kept_wrong_and_sum(&app), (0, 2));
    assert!(count_text(&app).await.contains("Notifications, 2 unread"));
}
