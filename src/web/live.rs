//! Live bell updates: PostgreSQL LISTEN/NOTIFY, fanned out to server-sent event streams.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use actix_web::web::Bytes;
use prometheus::IntGauge;
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use crate::services::notifications::BellListener as Listener;

/// How often the listener checks its connection for notifications (no round trip:
/// it only reads what the server already sent). Diesel gives no socket to wait on,
/// so this bounds how late a change is seen: 50 ms of the one-second budget for a
/// badge (DESIGN.md §6), for twenty non-blocking reads a second.
const LISTEN_INTERVAL: Duration = Duration::from_millis(50);
/// Listener rounds between two pings (about 30 s).
const PING_EVERY: u32 = 600;
/// A comment line now and then keeps proxies from closing an idle stream.
const KEEPALIVE: Duration = Duration::from_secs(25);
/// Sent as a stream closes for a shutdown: the browser reconnects in a few seconds, to
/// another instance or to this one restarted, and the page then refreshes its count.
const CLOSING: &[u8] = b"retry: 3000\n\n";

/// The headers of a live bell's response, wherever it is served (`bell_stream`,
/// `web::connections`): never compressed, since a compressor holds events back until
/// it has enough to send, never stored, never buffered by a proxy in front.
pub const STREAM_HEADERS: [(&str, &str); 4] = [
    ("content-type", "text/event-stream"),
    ("content-encoding", "identity"),
    ("cache-control", "no-store"),
    ("x-accel-buffering", "no"),
];

/// Each user with a stream open, and the channel that wakes their streams.
type Watchers = Arc<Mutex<HashMap<Uuid, watch::Sender<()>>>>;

/// Tells each open stream of this instance when its user's bell changed.
///
/// One watch channel per user with a stream open, shared by that user's streams (tabs,
/// browsers): a change wakes those streams and no other, so the cost of a change does
/// not grow with the number of streams open, and changes that arrive faster than a
/// stream sends coalesce into one event instead of queueing.
#[derive(Clone)]
pub struct BellHub {
    watchers: Watchers,
    /// Cancelled when the server shuts down: every stream then ends.
    closing: CancellationToken,
    /// Open streams, for `/metrics`.
    open: IntGauge,
}

impl BellHub {
    /// A hub whose streams end when `closing` is cancelled, counted in `open`.
    pub fn new(closing: CancellationToken, open: IntGauge) -> Self {
        BellHub { watchers: Arc::default(), closing, open }
    }

    /// Wakes the open streams of `user`, if any.
    fn changed(&self, user: Uuid) {
        if let Some(sender) = lock(&self.watchers).get(&user) {
            sender.send_replace(());
        }
    }

    /// A receiver that sees every change of `user`'s bell from now on.
    fn watch(&self, user: Uuid) -> Watching {
        let receiver = lock(&self.watchers).entry(user).or_insert_with(|| watch::channel(()).0).subscribe();
        Watching {
            user,
            receiver: Some(receiver),
            watchers: self.watchers.clone(),
            _open: OpenStream::new(self.open.clone()),
        }
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
                            self.changed(user);
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
        let watching = self.watch(user);
        let closing = self.closing.clone();
        let keepalive = tokio::time::interval_at(tokio::time::Instant::now() + KEEPALIVE, KEEPALIVE);
        futures_util::stream::unfold(Some((watching, keepalive)), move |state| {
            let closing = closing.clone();
            async move {
                let (mut watching, mut keepalive) = state?; // closed: the stream ends
                let receiver = watching.receiver.as_mut()?;
                let chunk: &'static [u8] = tokio::select! {
                    _ = closing.cancelled() => return Some((Ok(Bytes::from_static(CLOSING)), None)),
                    changed = receiver.changed() => match changed {
                        Ok(()) => b"event: bell\ndata: changed\n\n",
                        Err(_) => return None, // the hub is gone
                    },
                    _ = keepalive.tick() => b": keepalive\n\n",
                };
                Some((Ok::<_, actix_web::Error>(Bytes::from_static(chunk)), Some((watching, keepalive))))
            }
        })
    }
}

/// One stream's view of its user's bell; the last one of a user to close takes the
/// user's channel away with it.
struct Watching {
    user: Uuid,
    receiver: Option<watch::Receiver<()>>,
    watchers: Watchers,
    _open: OpenStream,
}

impl Drop for Watching {
    fn drop(&mut self) {
        drop(self.receiver.take());
        let mut watchers = lock(&self.watchers);
        // Under the lock, so a stream opening meanwhile either finds the channel or makes one.
        if watchers.get(&self.user).is_some_and(|sender| sender.receiver_count() == 0) {
            watchers.remove(&self.user);
        }
    }
}

/// The map stays usable even if a thread panicked while holding it: every change
/// to it is a single insert or remove.
fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
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
