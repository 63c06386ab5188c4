//! A streaming replica (PostgreSQL's own physical replication) for the reads that
//! tolerate lag: how far behind it is, watched every second against the primary's
//! write-ahead log, and whether reads go to it now. Its pool lives beside this
//! state in [`super::Db`].

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use diesel::pg::PgConnection;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Nullable};

/// How often the lag is measured.
pub const WATCH_EVERY: Duration = Duration::from_secs(1);

/// What the last look at the replica found, and what was read from it.
pub struct Replica {
    max_lag: Duration,
    /// Whether reads go to it: it answered the last look, lagging no more than `max_lag`.
    in_use: AtomicBool,
    /// Whether it answered the last look (or the last read).
    up: AtomicBool,
    /// Its lag at the last look, in milliseconds.
    lag_ms: AtomicU64,
    /// Reads served by it, and reads meant for it that went to the primary because
    /// it lagged, was down, or failed while reading.
    reads: AtomicU64,
    fallbacks: AtomicU64,
    /// Writers without a cookie to carry their mark (API keys, by a digest of their
    /// credentials), and when they last wrote.
    writers: Mutex<HashMap<[u8; 32], Instant>>,
}

impl Replica {
    /// A replica allowed to lag `max_lag`, out of use until its first look.
    pub fn new(max_lag: Duration) -> Replica {
        Replica {
            max_lag,
            in_use: AtomicBool::new(false),
            up: AtomicBool::new(false),
            lag_ms: AtomicU64::new(0),
            reads: AtomicU64::new(0),
            fallbacks: AtomicU64::new(0),
            writers: Mutex::default(),
        }
    }

    /// Notes that `writer` changed something now: its reads go to the primary for
    /// `max_lag`. Marks older than that are dropped as new ones come.
    pub fn note_write(&self, writer: [u8; 32]) {
        let now = Instant::now();
        let mut writers = self.writers.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        writers.retain(|_, at| now.duration_since(*at) < self.max_lag);
        writers.insert(writer, now);
    }

    /// Whether `writer` changed something within `max_lag`.
    pub fn wrote_recently(&self, writer: &[u8; 32]) -> bool {
        let writers = self.writers.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        writers.get(writer).is_some_and(|at| at.elapsed() < self.max_lag)
    }

    pub fn in_use(&self) -> bool {
        self.in_use.load(Ordering::Relaxed)
    }

    pub fn up(&self) -> bool {
        self.up.load(Ordering::Relaxed)
    }

    /// The lag measured last (zero while it was down).
    pub fn lag(&self) -> Duration {
        Duration::from_millis(self.lag_ms.load(Ordering::Relaxed))
    }

    pub fn reads(&self) -> u64 {
        self.reads.load(Ordering::Relaxed)
    }

    pub fn fallbacks(&self) -> u64 {
        self.fallbacks.load(Ordering::Relaxed)
    }

    pub(super) fn served(&self) {
        self.reads.fetch_add(1, Ordering::Relaxed);
    }

    pub(super) fn fell_back(&self) {
        self.fallbacks.fetch_add(1, Ordering::Relaxed);
    }

    /// A read found it unreachable: out of use until a look finds it back.
    pub(super) fn lost(&self) {
        if self.in_use.swap(false, Ordering::Relaxed) {
            tracing::warn!("the read replica failed a read: reads go to the primary until it answers again");
        }
        self.up.store(false, Ordering::Relaxed);
    }

    /// Records a look: `lag` when it answered, `None` when it did not.
    fn looked(&self, lag: Option<Duration>) {
        let in_use = lag.is_some_and(|lag| lag <= self.max_lag);
        self.up.store(lag.is_some(), Ordering::Relaxed);
        self.lag_ms.store(lag.map_or(0, |l| u64::try_from(l.as_millis()).unwrap_or(u64::MAX)), Ordering::Relaxed);
        let was = self.in_use.swap(in_use, Ordering::Relaxed);
        match (was, in_use, lag) {
            (false, true, Some(lag)) => tracing::info!(?lag, "reads that tolerate lag go to the read replica"),
            (true, false, Some(lag)) => {
                tracing::warn!(?lag, max = ?self.max_lag, "the read replica lags: its reads go to the primary")
            }
            (true, false, None) => tracing::warn!("the read replica does not answer: its reads go to the primary"),
            _ => {}
        }
    }
}

/// Where the primary's write-ahead log stood at moments of the last few looks.
#[derive(Default)]
pub struct Positions {
    seen: VecDeque<(Instant, i64)>,
}

impl Positions {
    /// Notes the primary's position `lsn` now, keeping what a lag up to `keep` needs.
    fn note(&mut self, at: Instant, lsn: i64, keep: Duration) {
        self.seen.push_back((at, lsn));
        while self.seen.len() > 1 && self.seen.front().is_some_and(|(t, _)| at.duration_since(*t) > keep) {
            self.seen.pop_front();
        }
    }

    /// How far behind a replica that has replayed up to `replayed` is at `now`:
    /// zero if it has replayed what the primary had at the last look; else the time
    /// since the earliest look at which the primary had something it has not.
    /// Measured this way an idle primary shows no lag, and a replica that stopped
    /// replaying shows a lag that grows by the second.
    fn lag(&self, replayed: i64, now: Instant) -> Duration {
        self.seen.iter().find(|(_, lsn)| *lsn > replayed).map_or(Duration::ZERO, |(at, _)| now.duration_since(*at))
    }
}

#[derive(QueryableByName)]
struct Position {
    #[diesel(sql_type = Nullable<BigInt>)]
    lsn: Option<i64>,
}

/// Where the primary (`conn`) is writing its write-ahead log, in bytes.
pub fn written(conn: &mut PgConnection) -> QueryResult<Option<i64>> {
    diesel::sql_query("SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), '0/0')::int8 AS lsn")
        .get_result::<Position>(conn)
        .map(|p| p.lsn)
}

/// How far the replica (`conn`) has replayed the primary's log, in bytes; `None`
/// when it is not in recovery (a primary, or a replica since promoted).
pub fn replayed(conn: &mut PgConnection) -> QueryResult<Option<i64>> {
    diesel::sql_query("SELECT pg_wal_lsn_diff(pg_last_wal_replay_lsn(), '0/0')::int8 AS lsn")
        .get_result::<Position>(conn)
        .map(|p| p.lsn)
}

impl Replica {
    /// Records one look: the primary's position `written` at `at` (`None`: it did
    /// not answer, and there is nothing to measure against, so the state stays),
    /// then the replica's `replayed` position (`None`: it did not answer).
    pub fn look(&self, at: Instant, written: Option<i64>, replayed: Option<Option<i64>>, positions: &mut Positions) {
        let Some(written) = written else { return };
        positions.note(at, written, self.max_lag * 2 + WATCH_EVERY);
        match replayed {
            Some(Some(replayed)) => self.looked(Some(positions.lag(replayed, Instant::now()))),
            Some(None) => {
                // Not in recovery: its data may have parted from ours; reads stay away.
                tracing::warn!("ROSTER_READ_DATABASE_URL names a server that is not a streaming replica");
                self.looked(None);
            }
            None => self.looked(None),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEEP: Duration = Duration::from_secs(11);

    /// Positions noted once a second from `start`, for the seconds `from..to`: the
    /// primary at `lsn(second)`.
    fn noted(positions: &mut Positions, start: Instant, seconds: std::ops::Range<u64>, lsn: impl Fn(u64) -> i64) {
        for s in seconds {
            positions.note(start + Duration::from_secs(s), lsn(s), KEEP);
        }
    }

    #[test]
    fn a_replica_that_replayed_the_last_position_seen_has_no_lag() {
        let (start, mut positions) = (Instant::now(), Positions::default());
        noted(&mut positions, start, 0..5, |s| 100 + s as i64);
        assert_eq!(positions.lag(104, start + Duration::from_secs(5)), Duration::ZERO);
        assert_eq!(positions.lag(200, start + Duration::from_secs(5)), Duration::ZERO);
    }

    #[test]
    fn a_replica_behind_lags_by_the_time_since_the_primary_first_had_what_it_misses() {
        let (start, mut positions) = (Instant::now(), Positions::default());
        noted(&mut positions, start, 0..5, |s| 100 + s as i64);
        // It has replayed up to what the primary had at second 1: it misses second 2's.
        assert_eq!(positions.lag(101, start + Duration::from_secs(5)), Duration::from_secs(3));
        // An idle primary (the same position for a while) shows no lag once replayed.
        noted(&mut positions, start, 5..9, |_| 104);
        assert_eq!(positions.lag(104, start + Duration::from_secs(9)), Duration::ZERO);
    }

    #[test]
    fn a_replica_that_stopped_replaying_lags_at_least_as_long_as_the_positions_kept() {
        let (start, mut positions) = (Instant::now(), Positions::default());
        noted(&mut positions, start, 0..30, |s| 100 + s as i64);
        assert!(positions.seen.len() <= 12, "only what an 11 s lag needs is kept");
        assert!(positions.lag(50, start + Duration::from_secs(30)) >= KEEP);
    }
}
