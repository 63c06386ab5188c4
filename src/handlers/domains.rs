//! The `domain_recheck` job: looks a verified domain's TXT record up again, on the shared runtime, and records what it found.

use uuid::Uuid;

use crate::db::jobs::Job;
use crate::db::Db;
use crate::dns::Dns;
use crate::error::AppError;
use crate::jobs::Handler;
use crate::services::domains::{self, RECHECK_JOB};

/// Runs `domain_recheck` jobs: reads the record's name, looks it up holding no
/// connection, then records what it found in its own transaction.
pub struct Recheck {
    /// Where the lookups go.
    pub dns: Dns,
}

#[async_trait::async_trait]
impl Handler for Recheck {
    fn kind(&self) -> &'static str {
        RECHECK_JOB
    }

    async fn handle(&self, db: &Db, job: &Job) -> Result<(), String> {
        let id = job
            .payload
            .get("domain")
            .and_then(|v| v.as_str())
            .and_then(|v| Uuid::parse_str(v).ok())
            .ok_or_else(|| format!("job {} names no domain", job.id))?;
        let name = db
            .run(move |conn| -> Result<_, AppError> { Ok(domains::record_name_of(conn, id)?) })
            .await
            .map_err(|e| format!("{e:?}"))?;
        let Some(name) = name else { return Ok(()) };
        let found = self.dns.txt(&name).await.map_err(|e| e.reason);
        db.run(move |conn| domains::record_recheck(conn, id, found)).await.map_err(|e| format!("{e:?}"))
    }
}
