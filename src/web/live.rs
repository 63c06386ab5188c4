//! Live bell updates: PostgreSQL LISTEN/NOTIFY, fanned out to server-sent event streams.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use actix_web::web::Bytes;
use prometheus::IntGauge;
use tokio::sync::broadcast;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use crate::services::notifications::BellListener as Listener;

/// How often the listener checks its connection for notifications (no round trip:
/// it only reads what the server already sent).
const LISTEN_INTERVAL: Duration = Duration::from_millis(250);
/// Listener rounds between two pings (about 30 s).
const PING_EVERY: u32 = 120;
/// A comment line now and then keeps proxies from closing an idle stream.
const KEEPALIVE: Duration = Duration::from_secs(25);
/// Sent as a stream closes for a shutdown: the browser reconnects in a few seconds, to
/// another instance or to this one restarted, and the page then refreshes its count.
const CLOSING: &[u8] = b"retry: 3000\n\n";

/// Broadcasts the ids of users whose bell changed, to every open stream of this instance.
#[derive(Clone)]
pub struct BellHub {
    sender: broadcast::Sender<Uuid>,
    /// Cancelled when the server shuts down: every stream then ends.
    closing: CancellationToken,
    /// Open streams, for `/metrics`.
    open: IntGauge,
}

impl BellHub {
    /// A hub whose streams end when `closing` is cancelled, counted in `open`.
    pub fn new(closing: CancellationToken, open: IntGauge) -> Self {
        let (sender, _) = broadcast::channel(1024);
        BellHub { sender, closing, open }
    }

    /// Forwards NOTIFY messages to the hub for as long as the runtime runs;
    /// reconnects after a lost connection.
    pub async fn listen(self, database_url: String) {
        while !self.closing.is_cancelled() {
            let url = database_url.clone();
            let listener = match tokio::task::spawn_blocking(move || Listener::connect(&url)).await {
                Ok(Ok(listener)) => Arc::new(Mutex::new(listener)),
                outcome => {
                    let error = outcome.err().map(|e| e.to_string()).unwrap_or_else(|| "connection refused".into());
                    tracing::warn!(%error, "bell listener could not connect; retrying");
                    tokio::time::sleep(Duration::from_secs(5)).await;
                    continue;
                }
            };
            let mut rounds: u32 = 0;
            loop {
                let shared = listener.clone();
                rounds = rounds.wrapping_add(1);
                let ping = rounds.is_multiple_of(PING_EVERY);
                let drained = tokio::task::spawn_blocking(move || match shared.lock() {
                    Ok(mut listener) => {
                        if ping {
                            listener.ping()?;
                        }
                        listener.drain()
                    }
                    Err(_) => Err(anyhow::anyhow!("listener lock poisoned")),
                })
                .await
                .unwrap_or_else(|e| Err(anyhow::anyhow!("listener task failed: {e}")));
                match drained {
                    Ok(users) => {
                        for user in users {
                            // No receivers is fine: nobody has a tab open.
                            let _ = self.sender.send(user);
                        }
                    }
                    Err(error) => {
                        tracing::warn!(%error, "bell listener lost its connection; reconnecting");
                        break;
                    }
                }
                tokio::select! {
                    _ = tokio::time::sleep(LISTEN_INTERVAL) => {}
                    _ = self.closing.cancelled() => return,
                }
            }
        }
    }
}

impl BellHub {
    /// Server-sent events for `user`: one `bell` event each time their bell changes
    /// (the page then fetches the count), and a comment now and then to keep it open.
    /// At shutdown the stream says when to reconnect, and ends.
    pub fn events_for(&self, user: Uuid) -> impl futures_util::Stream<Item = Result<Bytes, actix_web::Error>> {
        let receiver = self.sender.subscribe();
        let open = OpenStream::new(self.open.clone());
        let closing = self.closing.clone();
        futures_util::stream::unfold(
            (receiver, tokio::time::interval_at(tokio::time::Instant::now() + KEEPALIVE, KEEPALIVE), Some(open)),
            move |(mut receiver, mut keepalive, mut open)| {
                let closing = closing.clone();
                async move {
                    open.as_ref()?; // closed: the stream ends
                    loop {
                        tokio::select! {
                            _ = closing.cancelled() => {
                                open = None;
                                return Some((Ok(Bytes::from_static(CLOSING)), (receiver, keepalive, open)));
                            }
                            event = receiver.recv() => match event {
                                Ok(changed) if changed == user => {
                                    return Some((Ok::<_, actix_web::Error>(Bytes::from_static(b"event: bell\ndata: changed\n\n")), (receiver, keepalive, open)));
                                }
                                Ok(_) => continue,
                                // Missed some: tell the page to refresh anyway.
                                Err(broadcast::error::RecvError::Lagged(_)) => {
                                    return Some((Ok(Bytes::from_static(b"event: bell\ndata: changed\n\n")), (receiver, keepalive, open)));
                                }
                                Err(broadcast::error::RecvError::Closed) => return None,
                            },
                            _ = keepalive.tick() => {
                                return Some((Ok(Bytes::from_static(b": keepalive\n\n")), (receiver, keepalive, open)));
                            }
                        }
                    }
                }
            },
        )
    }
}

/// Counts a stream as open for as long as it lives (a client that goes away drops it).
struct OpenStream(IntGauge);

impl OpenStream {
    fn new(gauge: IntGauge) -> Self {
        gauge.inc();
        OpenStream(gauge)
    }
}

impl Drop for OpenStream {
    fn drop(&mut self) {
        self.0.dec();
    }
}
