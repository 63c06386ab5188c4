//! A webhook receiver on loopback for the tests, and the Standard Webhooks signature
//! check written out from the specification (independent of the crate Roster signs with).

use std::io::{Read as _, Write as _};
use std::net::{SocketAddr, TcpListener};
use std::sync::atomic::{AtomicBool, AtomicU16, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use hmac::Mac as _;
use serde_json::Value;

/// One request a receiver got.
#[derive(Debug, Clone)]
pub struct Received {
    pub id: String,
    pub timestamp: String,
    pub signature: String,
    pub body: String,
}

impl Received {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap()
    }
}

/// A webhook receiver on loopback: plain HTTP/1.1, answering `status` to each request.
pub struct Receiver {
    pub address: SocketAddr,
    got: Arc<Mutex<Vec<Received>>>,
    pub status: Arc<AtomicU16>,
    /// Where a 302 answer points.
    location: Arc<Mutex<String>>,
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Receiver {
    pub fn start() -> Receiver {
        Self::start_on(TcpListener::bind("127.0.0.1:0").unwrap(), Default::default())
    }

    /// A receiver on a loopback address of its own (127.x.y.z), for a test that stops
    /// and restarts it: while it is stopped, another test's server may be given its
    /// port on 127.0.0.1 and answer in its place, but not on this address.
    pub fn start_apart() -> Receiver {
        let mut octets = [0u8; 3];
        for octet in &mut octets {
            *octet = u8::try_from(rand_byte() % 250).unwrap() + 2;
        }
        let address = format!("127.{}.{}.{}:0", octets[0], octets[1], octets[2]);
        Self::start_on(TcpListener::bind(address).unwrap(), Default::default())
    }

    fn start_on(listener: TcpListener, got: Arc<Mutex<Vec<Received>>>) -> Receiver {
        listener.set_nonblocking(true).unwrap();
        let address = listener.local_addr().unwrap();
        let (status, stop) = (Arc::new(AtomicU16::new(200)), Arc::new(AtomicBool::new(false)));
        let location = Arc::new(Mutex::new("http://127.0.0.1:1/elsewhere".to_owned()));
        let (got2, status2, stop2, location2) = (got.clone(), status.clone(), stop.clone(), location.clone());
        let thread = std::thread::spawn(move || {
            while !stop2.load(Ordering::SeqCst) {
                match listener.accept() {
                    Ok((mut stream, _)) => {
                        stream.set_nonblocking(false).unwrap();
                        stream.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
                        if let Some(received) = read_request(&mut stream) {
                            got2.lock().unwrap().push(received);
                        }
                        let code = status2.load(Ordering::SeqCst);
                        let body = if code == 200 { "thanks" } else { "not now" };
                        let extra = if code == 302 {
                            format!("Location: {}\r\n", location2.lock().unwrap())
                        } else {
                            String::new()
                        };
                        let _ = write!(
                            stream,
                            "HTTP/1.1 {code} X\r\n{extra}Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
                            body.len()
                        );
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(10)),
                }
            }
        });
        Receiver { address, got, status, location, stop, thread: Some(thread) }
    }

    pub fn url(&self) -> String {
        format!("http://{}/hooks/roster", self.address)
    }

    /// Where its 302 answers point from now on.
    pub fn location(&self, url: &str) {
        *self.location.lock().unwrap() = url.to_owned();
    }

    pub fn received(&self) -> Vec<Received> {
        self.got.lock().unwrap().clone()
    }

    /// Stops listening: the port refuses connections until [`Receiver::restart`].
    pub fn stop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(thread) = self.thread.take() {
            thread.join().unwrap();
        }
    }

    pub fn restart(&mut self) {
        let listener = TcpListener::bind(self.address).unwrap();
        *self = Self::start_on(listener, self.got.clone());
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.stop();
    }
}

fn read_request(stream: &mut std::net::TcpStream) -> Option<Received> {
    let mut data = Vec::new();
    let mut buf = [0u8; 4096];
    let head_end = loop {
        let n = stream.read(&mut buf).ok()?;
        if n == 0 {
            return None;
        }
        data.extend_from_slice(&buf[..n]);
        if let Some(at) = data.windows(4).position(|w| w == b"\r\n\r\n") {
            break at + 4;
        }
    };
    let head = String::from_utf8_lossy(&data[..head_end]).to_string();
    let header = |name: &str| {
        head.lines()
            .find_map(|l| {
                l.split_once(':').filter(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.trim().to_owned())
            })
            .unwrap_or_default()
    };
    let length: usize = header("content-length").parse().unwrap_or(0);
    while data.len() < head_end + length {
        let n = stream.read(&mut buf).ok()?;
        if n == 0 {
            break;
        }
        data.extend_from_slice(&buf[..n]);
    }
    Some(Received {
        id: header("webhook-id"),
        timestamp: header("webhook-timestamp"),
        signature: header("webhook-signature"),
        body: String::from_utf8_lossy(&data[head_end..]).to_string(),
    })
}

/// The Standard Webhooks signature check, written out from the specification:
/// base64(HMAC-SHA256(base64-decoded secret, "{id}.{timestamp}.{body}")), sent as `v1,<signature>`.
pub fn signature_is_valid(secret: &str, received: &Received) -> bool {
    let key = STANDARD.decode(secret.strip_prefix("whsec_").unwrap()).unwrap();
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(&key).unwrap();
    mac.update(format!("{}.{}.{}", received.id, received.timestamp, received.body).as_bytes());
    let expected = STANDARD.encode(mac.finalize().into_bytes());
    received.signature.split(' ').any(|s| s == format!("v1,{expected}"))
}

/// A byte that differs from test to test (a fresh UUID's first).
fn rand_byte() -> u16 {
    u16::from(uuid::Uuid::new_v4().as_bytes()[0])
}
