//! Every answer carries the `Content-Encoding` its body really has: a refusal or an
//! error page that says `br` over plain bytes is one a browser cannot show.

use std::io::Read as _;

use reqwest::{Method, Response, StatusCode};

use crate::common::{spawn_app, unescape, TestApp};

/// The body as a browser would read it: decoded as its `Content-Encoding` says,
/// failing the test (with `what`) when the bytes are not in that encoding.
pub async fn decoded(response: Response, what: &str) -> (StatusCode, String) {
    let status = response.status();
    let encoding = response.headers().get("content-encoding").map(|v| v.to_str().unwrap().to_owned());
    let raw = response.bytes().await.unwrap();
    let mut body = Vec::new();
    let read = match encoding.as_deref() {
        None | Some("identity") => {
            body = raw.to_vec();
            Ok(0)
        }
        Some("br") => brotli::Decompressor::new(&raw[..], 4096).read_to_end(&mut body),
        Some("gzip") => flate2::read::GzDecoder::new(&raw[..]).read_to_end(&mut body),
        Some("zstd") => zstd::stream::read::Decoder::new(&raw[..]).and_then(|mut d| d.read_to_end(&mut body)),
        Some(other) => panic!("{what}: unexpected content-encoding {other}"),
    };
    if let Err(error) = read {
        panic!(
            "{what} ({status}): content-encoding {encoding:?} but the body is not in it ({error}): {:?}",
            String::from_utf8_lossy(&raw[..raw.len().min(200)])
        );
    }
    (status, String::from_utf8(body).unwrap_or_else(|_| panic!("{what}: the body is not UTF-8")))
}

/// What browsers send with every request: Chromium's and Firefox's, brotli alone, gzip alone.
const ENCODINGS: [&str; 3] = ["gzip, deflate, br, zstd", "br", "gzip"];

#[tokio::test]
async fn a_refused_form_is_a_page_the_browser_can_decode_which_says_the_form_expired() {
    let app = spawn_app().await;
    app.owner_of("Acme", "Olivia Owner", "olivia@acme.test").await;
    // The token a tab read before the person signed in again elsewhere.
    let stale = app.csrf_token().await;
    app.sign_out().await;
    app.sign_in("olivia@acme.test", crate::common::PASSWORD).await;

    for encoding in ENCODINGS {
        let response = app
            .client
            .post(app.url("/orgs"))
            .header("Accept-Encoding", encoding)
            .form(&[("name", "Globex"), ("csrf_token", stale.as_str())])
            .send()
            .await
            .unwrap();
        let (status, page) = decoded(response, encoding).await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        let page = unescape(&page);
        assert!(page.contains("<h1 id=\"heading\">This form has expired</h1>"), "{page}");
        assert!(!page.contains("Not allowed"), "an expired form is not a refusal of rights: {page}");
        assert!(page.contains("Nothing was saved"), "{page}");
        assert!(page.contains(">Reload the form</a>"), "the way back: {page}");
    }
    assert_eq!(app.count("SELECT count(*) FROM organizations"), 1);
}

#[tokio::test]
async fn the_way_back_from_an_expired_form_is_the_page_it_was_sent_from_on_this_site_only() {
    let app = spawn_app().await;
    let slug = app.owner_of("Acme", "Olivia Owner", "olivia@acme.test").await;
    let settings = app.url(&format!("/orgs/{slug}/settings"));
    for (referer, back) in
        [(settings.as_str(), format!("/orgs/{slug}/settings")), ("https://evil.example/x", "/".into())]
    {
        let response = app
            .client
            .post(app.url(&format!("/orgs/{slug}/settings/general")))
            .header("Referer", referer)
            .form(&[("name", "Acme 2"), ("csrf_token", "stale")])
            .send()
            .await
            .unwrap();
        let (status, page) = decoded(response, referer).await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        assert!(
            page.contains(&format!("<a class=\"button\" href=\"{back}\">Reload the form</a>")),
            "{referer}: {page}"
        );
    }
}

#[tokio::test]
async fn an_htmx_refusal_is_a_decodable_sentence_for_the_alert_region() {
    let app = spawn_app().await;
    let slug = app.owner_of("Acme", "Olivia Owner", "olivia@acme.test").await;
    app.invite(&slug, "ada@example.com", "member").await;
    let id = app.invitation_id("ada@example.com");
    for encoding in ENCODINGS {
        let response = app
            .client
            .post(app.url(&format!("/orgs/{slug}/invitations/{id}/resend")))
            .header("Accept-Encoding", encoding)
            .header("HX-Request", "true")
            .header("X-CSRF-Token", "from-a-session-that-ended")
            .send()
            .await
            .unwrap();
        assert_eq!(response.headers()["hx-retarget"], "#flash");
        let (status, fragment) = decoded(response, encoding).await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        assert!(fragment.contains("role=\"alert\""), "{fragment}");
        assert!(unescape(&fragment).contains("This form has expired"), "{fragment}");
    }
    assert_eq!(app.count("SELECT send_count::bigint AS count FROM invitations"), 1, "nothing was sent again");
}

#[tokio::test]
async fn a_post_from_another_site_and_a_form_that_is_not_utf8_are_decodable_refusals() {
    let app = spawn_app().await;
    app.owner_of("Acme", "Olivia Owner", "olivia@acme.test").await;
    let token = app.csrf_token().await;
    for encoding in ENCODINGS {
        let response = app
            .client
            .post(app.url("/orgs"))
            .header("Accept-Encoding", encoding)
            .header("Sec-Fetch-Site", "cross-site")
            .form(&[("name", "Globex"), ("csrf_token", token.as_str())])
            .send()
            .await
            .unwrap();
        let (status, page) = decoded(response, encoding).await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        assert!(unescape(&page).contains("sent from another site"), "{page}");

        let response = app
            .client
            .post(app.url("/orgs"))
            .header("Accept-Encoding", encoding)
            .header("Content-Type", "application/x-www-form-urlencoded")
            .body(format!("name=Glob%FFex&csrf_token={token}"))
            .send()
            .await
            .unwrap();
        let (status, page) = decoded(response, encoding).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert!(page.contains("not valid UTF-8"), "{page}");
    }
    // `curl --compressed -X DELETE <base>/sign-in`
    let response = app
        .client
        .request(Method::DELETE, app.url("/sign-in"))
        .header("Accept-Encoding", "deflate, gzip, br, zstd")
        .send()
        .await
        .unwrap();
    let (status, _) = decoded(response, "DELETE /sign-in").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(app.count("SELECT count(*) FROM organizations"), 1);
}

#[tokio::test]
async fn a_page_comes_in_the_encoding_the_browser_prefers_and_reads_the_same_in_each() {
    let app = spawn_app().await;
    let slug = app.owner_of("Acme", "Olivia Owner", "olivia@acme.test").await;
    for n in 0..30 {
        app.invite(&slug, &format!("person{n}@example.com"), "member").await;
    }
    let path = format!("/orgs/{slug}/invitations");
    let plain = app.client.get(app.url(&path)).send().await.unwrap();
    assert_eq!(plain.headers().get("content-encoding"), None, "no Accept-Encoding: the page as it is");
    let plain = decoded(plain, "no Accept-Encoding").await.1;
    assert!(plain.contains("person29@example.com"), "{plain}");
    let masked = |page: &str| {
        let token = crate::common::csrf_field(page).unwrap();
        page.replace(&token, "TOKEN")
    };
    for (accepted, expected) in [
        ("gzip, deflate, br, zstd", Some("zstd")),
        ("gzip, deflate, br", Some("gzip")),
        ("br", Some("br")),
        ("gzip;q=0.5, br;q=1.0", Some("br")),
        ("identity", None),
    ] {
        let response = app.client.get(app.url(&path)).header("Accept-Encoding", accepted).send().await.unwrap();
        let encoding = response.headers().get("content-encoding").map(|v| v.to_str().unwrap().to_owned());
        assert_eq!(encoding.as_deref(), expected, "Accept-Encoding: {accepted}");
        let vary =
            response.headers().get_all("vary").iter().map(|v| v.to_str().unwrap().to_lowercase()).collect::<Vec<_>>();
        assert!(vary.iter().any(|v| v.contains("accept-encoding")), "Accept-Encoding {accepted}: Vary {vary:?}");
        let on_the_wire = response.content_length();
        let (status, page) = decoded(response, accepted).await;
        assert_eq!(status, StatusCode::OK);
        // The same page, but for the CSRF token, masked afresh each time.
        assert_eq!(masked(&page), masked(&plain), "Accept-Encoding: {accepted}");
        if expected.is_some() {
            let bytes = on_the_wire.expect("a whole page says its length");
            assert!(bytes * 4 < plain.len() as u64, "{accepted}: {bytes} bytes for {} of page", plain.len());
        }
    }
}

/// The console's routes, read from the route tables themselves so that a new route is walked too.
fn console_routes() -> Vec<(Method, String)> {
    let source = include_str!("../../src/web/mod.rs");
    let mut routes = Vec::new();
    let mut rest = source;
    while let Some(at) = rest.find(".route(") {
        rest = &rest[at + ".route(".len()..];
        let Some(path) = rest.trim_start().strip_prefix('"').and_then(|r| r.split('"').next()) else { continue };
        let after = &rest[rest.find("web::").map_or(0, |i| i + "web::".len())..];
        let method = match after.split('(').next().unwrap_or_default() {
            "get" => Method::GET,
            "post" => Method::POST,
            "head" => Method::HEAD,
            other => panic!("a route with method {other}"),
        };
        routes.push((method, path.to_owned()));
    }
    // The console's own table is a list the code declares (with each route's guard).
    for route in roster::web::ROUTES.iter().chain(roster::web::DEV_MAILBOX_ROUTES) {
        routes.push((Method::from_bytes(route.method.as_bytes()).unwrap(), route.path.to_owned()));
    }
    assert!(routes.len() > 90, "the route table was not read: {routes:?}");
    routes
}

/// A route's path with each parameter filled in: the organization's real slug, else
/// values that match nothing (the error paths).
fn filled(path: &str, slug: &str, bad_uuid: bool) -> String {
    path.split('/')
        .map(|part| match part {
            "{slug}" => slug.to_owned(),
            p if p.starts_with('{') && bad_uuid => "not-an-id".to_owned(),
            "{name}" => "no-such-team".to_owned(),
            "{token}" => "no-such-token".to_owned(),
            "{answer}" => "accept".to_owned(),
            p if p.starts_with('{') => uuid::Uuid::new_v4().to_string(),
            p => p.to_owned(),
        })
        .collect::<Vec<_>>()
        .join("/")
}

async fn walk(who: &str, browser: &TestApp, routes: &[(Method, String)], slug: &str) -> usize {
    let token = browser.csrf_token().await;
    let mut errors = 0;
    for (method, pattern) in routes {
        // Signing out or ending sessions would change who walks the rest.
        let ends_session = pattern.starts_with("/sign-out") || pattern.contains("sessions");
        for bad_uuid in [false, true] {
            let path = filled(pattern, slug, bad_uuid);
            // Both encodings, and htmx's requests beside a browser's.
            for (encoding, htmx) in [(ENCODINGS[0], false), (ENCODINGS[1], true), (ENCODINGS[2], false)] {
                {
                    let mut requests = vec![("as sent", browser.client.request(method.clone(), browser.url(&path)))];
                    if *method == Method::POST {
                        requests = vec![
                            ("without a token", browser.client.post(browser.url(&path)).form(&[("x", "1")])),
                            (
                                "from another site",
                                browser.client.post(browser.url(&path)).header("Sec-Fetch-Site", "cross-site"),
                            ),
                            (
                                "not UTF-8",
                                browser
                                    .client
                                    .post(browser.url(&path))
                                    .header("Content-Type", "application/x-www-form-urlencoded")
                                    .body(format!("x=%FF&csrf_token={token}")),
                            ),
                        ];
                        let placeholders = pattern.matches('{').count() - usize::from(pattern.contains("{slug}"));
                        if !ends_session && placeholders > 0 {
                            // Past the CSRF layer, to the handler's own refusals (nothing exists).
                            requests.push((
                                "with a token",
                                browser.client.post(browser.url(&path)).form(&[("csrf_token", token.as_str())]),
                            ));
                        }
                    } else {
                        requests.push(("wrong method", browser.client.request(Method::PUT, browser.url(&path))));
                    }
                    for (how, request) in requests {
                        let request = request.header("Accept-Encoding", encoding);
                        let request = if htmx { request.header("HX-Request", "true") } else { request };
                        let what = format!("{who}: {method} {path} {how}, Accept-Encoding {encoding}, htmx {htmx}");
                        let response = request.send().await.unwrap();
                        if response.status().is_client_error() || response.status().is_server_error() {
                            errors += 1;
                        }
                        if how == "as sent" && (*method == Method::HEAD || pattern == "/notifications/stream") {
                            // No body to read (HEAD), or one that never ends (the live bell's
                            // stream, which is never compressed).
                            let encoding = response.headers().get("content-encoding");
                            assert!(encoding.is_none_or(|e| e == "identity"), "{what}: {encoding:?}");
                            continue;
                        }
                        decoded(response, &what).await;
                    }
                }
            }
        }
    }
    errors
}

#[tokio::test]
async fn no_answer_anywhere_carries_an_encoding_its_body_does_not_have() {
    let app = spawn_app().await;
    let slug = app.owner_of("Acme", "Olivia Owner", "olivia@acme.test").await;
    let member = app.member(&slug, "Mia Member", "mia@acme.test", "member").await;
    let stranger = app.other_browser();
    let routes = console_routes();
    let mut errors = 0;
    for (who, browser) in [("signed out", &stranger), ("a Member", &member), ("the Owner", &app)] {
        errors += walk(who, browser, &routes, &slug).await;
    }
    assert!(errors > 500, "the walk reached the error paths ({errors} error answers)");
    assert_eq!(app.count("SELECT count(*) FROM organizations"), 1);
    assert_eq!(app.count("SELECT count(*) FROM memberships"), 2, "nothing was changed on the way");
}

#[tokio::test]
async fn an_expired_answer_on_an_invitation_page_leads_back_to_that_invitation() {
    let app = spawn_app().await;
    let slug = app.owner_of("Acme", "Olivia Owner", "olivia@acme.test").await;
    app.invite(&slug, "ada@example.com", "member").await;
    let link = app.invitation_link("ada@example.com");
    // Invitation pages send no Referer (Referrer-Policy: no-referrer), so none comes.
    let response =
        app.client.post(app.url(&format!("{link}/accept"))).form(&[("csrf_token", "stale")]).send().await.unwrap();
    let (status, page) = decoded(response, "accept").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(page.contains(&format!("<a class=\"button\" href=\"{link}\">Reload the form</a>")), "{page}");
}
