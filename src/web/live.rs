//! Live bell updates: PostgreSQL LISTEN/NOTIFY, fanned out to server-sent event streams.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use actix_web::web::Bytes;
use tokio::sync::broadcast;
use uuid::Uuid;

use crate::services::notifications::BellListener as Listener;

/// How often the listener checks its connection for notifications (no round trip:
/// it only reads what the server already sent).
const LISTEN_INTERVAL: Duration = Duration::from_millis(250);
/// Listener rounds between two pings (about 30 s).
const PING_EVERY: u32 = 120;
/// A comment line now and then keeps proxies from closing an idle stream.
const KEEPALIVE: Duration = Duration::from_secs(25);

/// Broadcasts the ids of users whose bell changed, to every open stream of this instance.
#[derive(Clone)]
pub struct BellHub {
    sender: broadcast::Sender<Uuid>,
}

impl BellHub {
    pub fn new() -> Self {
        let (sender, _) = broadcast::channel(1024);
        BellHub { sender }
    }

    /// Forwards NOTIFY messages to the hub for as long as the runtime runs;
    /// reconnects after a lost connection.
    pub async fn listen(self, database_url: String) {
        loop {
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
                tokio::time::sleep(LISTEN_INTERVAL).await;
            }
        }
    }
}

impl BellHub {
    /// Server-sent events for `user`: one `bell` event each time their bell changes
    /// (the page then fetches the count), and a comment now and then to keep it open.
    pub fn events_for(&self, user: Uuid) -> impl futures_util::Stream<Item = Result<Bytes, actix_web::Error>> {
        let receiver = self.sender.subscribe();
        futures_util::stream::unfold(
            (receiver, tokio::time::interval_at(tokio::time::Instant::now() + KEEPALIVE, KEEPALIVE)),
            move |(mut receiver, mut keepalive)| async move {
                loop {
                    tokio::select! {
                        event = receiver.recv() => match event {
                            Ok(changed) if changed == user => {
                                return Some((Ok::<_, actix_web::Error>(Bytes::from_static(b"event: bell\ndata: changed\n\n")), (receiver, keepalive)));
                            }
                            Ok(_) => continue,
                            // Missed some: tell the page to refresh anyway.
                            Err(broadcast::error::RecvError::Lagged(_)) => {
                                return Some((Ok(Bytes::from_static(b"event: bell\ndata: changed\n\n")), (receiver, keepalive)));
                            }
                            Err(broadcast::error::RecvError::Closed) => return None,
                        },
                        _ = keepalive.tick() => {
                            return Some((Ok(Bytes::from_static(b": keepalive\n\n")), (receiver, keepalive)));
                        }
                    }
                }
            },
        )
    }
}

impl Default for BellHub {
    fn default() -> Self {
        Self::new()
    }
}
