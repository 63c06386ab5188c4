//! The one outbound HTTP client: every private form of an address is refused as typed,
//! after resolution (names served by a real DNS server on loopback), and on every
//! redirect hop; an excepted loopback address shows the refusals are not blanket.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use reqwest::Method;
use roster::dns::Dns;
use roster::domain::address::{AddressPolicy, Refused};
use roster::outbound::{Outbound, OutboundError, Redirects};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

use crate::common::dns_server::start_dns_with;

/// The one loopback address the tests' clients may reach.
const ALLOWED: &str = "127.0.0.2";

/// A server on `ip` that answers every request with `status` (and `location`, when
/// given) and counts the requests it got.
async fn serve(ip: &str, status: u16, location: Option<String>) -> (SocketAddr, Arc<AtomicUsize>) {
    let listener = tokio::net::TcpListener::bind((ip, 0)).await.unwrap();
    let address = listener.local_addr().unwrap();
    let hits = Arc::new(AtomicUsize::new(0));
    let counted = hits.clone();
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            let (counted, location) = (counted.clone(), location.clone());
            tokio::spawn(async move {
                let mut head = Vec::new();
                let mut buf = [0u8; 1024];
                while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                    match stream.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => head.extend_from_slice(&buf[..n]),
                    }
                }
                counted.fetch_add(1, Ordering::SeqCst);
                let location = location.map(|l| format!("Location: {l}\r\n")).unwrap_or_default();
                let answer =
                    format!("HTTP/1.1 {status} X\r\n{location}Content-Length: 2\r\nConnection: close\r\n\r\nok");
                let _ = stream.write_all(answer.as_bytes()).await;
            });
        }
    });
    (address, hits)
}

/// A client that refuses what a strict policy refuses, except [`ALLOWED`].
fn outbound(dns: Option<SocketAddr>, redirects: Redirects) -> Outbound {
    let policy = AddressPolicy { allow_private: false, exceptions: vec![format!("{ALLOWED}/32").parse().unwrap()] };
    Outbound::new(policy, &Dns { server: dns }, redirects).unwrap()
}

async fn get(client: &Outbound, url: &str) -> Result<u16, OutboundError> {
    let request = client.request(Method::GET, url)?;
    Ok(client.send(request).await?.status().as_u16())
}

fn refused(address: &str) -> OutboundError {
    OutboundError::Refused(Refused(address.into()))
}

#[tokio::test]
async fn the_outbound_client_refuses_each_private_form_of_an_address_as_typed() {
    // Something listens on 127.0.0.1: none of its spellings reaches it.
    let (loopback, hits) = serve("127.0.0.1", 200, None).await;
    let port = loopback.port();
    let client = outbound(None, Redirects::Checked(5));
    for (url, address) in [
        (format!("http://127.0.0.1:{port}/"), "127.0.0.1"),
        (format!("http://2130706433:{port}/"), "127.0.0.1"),
        (format!("http://0x7f.0.0.1:{port}/"), "127.0.0.1"),
        (format!("http://0177.0.0.1:{port}/"), "127.0.0.1"),
        (format!("http://127.1:{port}/"), "127.0.0.1"),
        (format!("http://[::1]:{port}/"), "::1"),
        (format!("http://[::ffff:127.0.0.1]:{port}/"), "::ffff:127.0.0.1"),
        (format!("http://[64:ff9b::7f00:1]:{port}/"), "64:ff9b::7f00:1"),
        (format!("http://[2002:7f00:1::]:{port}/"), "2002:7f00:1::"),
        ("http://[2001:0:4136:e378:8000:63bf:3fff:fdd2]/".into(), "2001:0:4136:e378:8000:63bf:3fff:fdd2"),
        ("http://10.0.0.1/".into(), "10.0.0.1"),
        ("http://172.16.0.1/".into(), "172.16.0.1"),
        ("http://192.168.0.1/".into(), "192.168.0.1"),
        ("http://169.254.169.254/latest/meta-data/".into(), "169.254.169.254"),
        ("http://100.64.0.1/".into(), "100.64.0.1"),
        ("http://[fe80::1]/".into(), "fe80::1"),
        ("http://[fc00::1]/".into(), "fc00::1"),
        (format!("http://localhost:{port}/"), "localhost"),
        (format!("http://a.localhost:{port}/"), "a.localhost"),
        (format!("http://0.0.0.0:{port}/"), "0.0.0.0"),
    ] {
        let error = get(&client, &url).await.expect_err(&url);
        assert_eq!(error, refused(address), "{url}");
        assert_eq!(
            error.to_string(),
            format!("Not sent: {address} is a private, loopback or link-local address; Roster does not send webhooks there."),
        );
    }
    // A request built elsewhere is checked again when it is sent.
    let foreign = reqwest::Client::new().get(format!("http://127.1:{port}/"));
    assert_eq!(client.send(foreign).await.err(), Some(refused("127.0.0.1")));
    assert_eq!(hits.load(Ordering::SeqCst), 0, "nothing reached the loopback server");

    // The excepted address is reached: the refusals above are the policy's, not the network's.
    let (allowed, allowed_hits) = serve(ALLOWED, 200, None).await;
    assert_eq!(get(&client, &format!("http://{allowed}/")).await, Ok(200));
    assert_eq!(allowed_hits.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn the_outbound_client_refuses_names_that_resolve_to_private_addresses() {
    let (loopback, hits) = serve("127.0.0.1", 200, None).await;
    let (allowed, allowed_hits) = serve(ALLOWED, 200, None).await;
    let (dns, _server) = start_dns_with(
        &[],
        &[
            ("loop.test.", "127.0.0.1"),
            ("ten.test.", "10.0.0.1"),
            ("six.test.", "::1"),
            ("nat64.test.", "64:ff9b::7f00:1"),
            ("metadata.test.", "169.254.169.254"),
            ("ok.test.", ALLOWED),
            // Of a private and an allowed address, only the allowed one is connected to.
            ("both.test.", "10.0.0.1"),
            ("both.test.", ALLOWED),
        ],
    )
    .await;
    let client = outbound(Some(dns), Redirects::Checked(5));
    let port = loopback.port();
    for (name, address) in [
        ("loop.test", "127.0.0.1"),
        ("ten.test", "10.0.0.1"),
        ("six.test", "::1"),
        ("nat64.test", "64:ff9b::7f00:1"),
        ("metadata.test", "169.254.169.254"),
    ] {
        let error = get(&client, &format!("http://{name}:{port}/")).await.expect_err(name);
        assert_eq!(error, refused(address), "{name}");
        assert!(error.to_string().contains("is a private, loopback or link-local address"), "{error}");
    }
    assert_eq!(hits.load(Ordering::SeqCst), 0, "nothing reached the loopback server");

    assert_eq!(get(&client, &format!("http://ok.test:{}/", allowed.port())).await, Ok(200));
    assert_eq!(get(&client, &format!("http://both.test:{}/", allowed.port())).await, Ok(200));
    assert_eq!(allowed_hits.load(Ordering::SeqCst), 2);
    assert_eq!(get(&client, "http://missing.test/").await, Err(OutboundError::NoAddress));
}

#[tokio::test]
async fn the_outbound_client_follows_no_redirect_to_a_private_address() {
    let (loopback, hits) = serve("127.0.0.1", 200, None).await;
    let (landing, landing_hits) = serve(ALLOWED, 200, None).await;
    let (dns, _server) = start_dns_with(&[], &[("loop.test.", "127.0.0.1"), ("ok.test.", ALLOWED)]).await;
    let port = loopback.port();
    let client = outbound(Some(dns), Redirects::Checked(5));

    for (status, location, error) in [
        (302, format!("http://127.0.0.1:{port}/"), OutboundError::RedirectRefused(Refused("127.0.0.1".into()))),
        (307, format!("http://2130706433:{port}/"), OutboundError::RedirectRefused(Refused("127.0.0.1".into()))),
        (308, format!("http://[::1]:{port}/"), OutboundError::RedirectRefused(Refused("::1".into()))),
        (301, format!("http://localhost:{port}/"), OutboundError::RedirectRefused(Refused("localhost".into()))),
        // A name is checked when it resolves, as on the first hop.
        (307, format!("http://loop.test:{port}/"), refused("127.0.0.1")),
    ] {
        let (redirector, _) = serve(ALLOWED, status, Some(location.clone())).await;
        assert_eq!(get(&client, &format!("http://{redirector}/")).await, Err(error), "{status} to {location}");
    }
    assert_eq!(hits.load(Ordering::SeqCst), 0, "no redirect reached the loopback server");

    // A redirect to an allowed place is followed, by address and by name.
    for location in [format!("http://{landing}/landing"), format!("http://ok.test:{}/landing", landing.port())] {
        let (redirector, _) = serve(ALLOWED, 302, Some(location)).await;
        assert_eq!(get(&client, &format!("http://{redirector}/")).await, Ok(200));
    }
    assert_eq!(landing_hits.load(Ordering::SeqCst), 2);

    // A client told to follow none (webhooks) returns the redirect itself.
    let webhooks = outbound(Some(dns), Redirects::None);
    let (redirector, redirector_hits) = serve(ALLOWED, 307, Some(format!("http://{landing}/landing"))).await;
    assert_eq!(get(&webhooks, &format!("http://{redirector}/")).await, Ok(307));
    assert_eq!(redirector_hits.load(Ordering::SeqCst), 1);
    assert_eq!(landing_hits.load(Ordering::SeqCst), 2, "not followed");

    // Nor does a checked client follow a redirect loop for ever.
    let (looping, looping_hits) = serve(ALLOWED, 302, Some("/again".into())).await;
    assert_eq!(get(&client, &format!("http://{looping}/")).await, Err(OutboundError::TooManyRedirects(5)));
    assert_eq!(looping_hits.load(Ordering::SeqCst), 6, "the first request and five redirects");
}
