//! DNS lookups for verified domains and outbound requests, through a real resolver (hickory): the
//! system's configuration, or the nameserver in `ROSTER_DNS_SERVER`. Lookups are
//! awaited (never blocking a worker thread) and never inside a database transaction.

use std::net::SocketAddr;
use std::time::Duration;

use hickory_resolver::config::{ConnectionConfig, NameServerConfig, ResolverConfig};
use hickory_resolver::net::runtime::TokioRuntimeProvider;
use hickory_resolver::proto::rr::RData;
use hickory_resolver::{ResolverBuilder, TokioResolver};

/// Where TXT lookups go.
#[derive(Debug, Clone, Default)]
pub struct Dns {
    /// `None`: the system's resolver configuration (/etc/resolv.conf).
    pub server: Option<SocketAddr>,
}

/// A lookup that got no answer (as opposed to an answer without records).
#[derive(Debug, thiserror::Error)]
#[error("The DNS lookup of {name} failed: {reason}")]
pub struct DnsError {
    pub name: String,
    pub reason: String,
}

impl Dns {
    /// A resolver builder for the configured nameserver.
    fn builder(&self) -> Result<ResolverBuilder<TokioRuntimeProvider>, String> {
        Ok(match self.server {
            Some(addr) => {
                let mut udp = ConnectionConfig::udp();
                udp.port = addr.port();
                let mut tcp = ConnectionConfig::tcp();
                tcp.port = addr.port();
                let server = NameServerConfig::new(addr.ip(), true, vec![udp, tcp]);
                TokioResolver::builder_with_config(
                    ResolverConfig::from_name_servers(vec![server]),
                    TokioRuntimeProvider::default(),
                )
            }
            None => TokioResolver::builder_tokio().map_err(|e| e.to_string())?,
        })
    }

    /// A resolver for one lookup, with no cache: `Verify` must see the record
    /// as it is now. (Built per lookup, so no resolver outlives the runtime it
    /// was made on.)
    fn resolver(&self) -> Result<TokioResolver, String> {
        let mut builder = self.builder()?;
        let options = builder.options_mut();
        options.cache_size = 0;
        options.timeout = Duration::from_secs(3);
        options.attempts = 2;
        builder.build().map_err(|e| e.to_string())
    }

    /// A resolver of host names to addresses, caching answers for their TTL, for the
    /// outbound HTTP client (which owns it for as long as the runtime it runs on).
    pub fn address_resolver(&self) -> Result<TokioResolver, String> {
        let mut builder = self.builder()?;
        let options = builder.options_mut();
        options.timeout = Duration::from_secs(2);
        options.attempts = 2;
        builder.build().map_err(|e| e.to_string())
    }

    /// The TXT strings at `name` (empty when the name has none or does not exist).
    pub async fn txt(&self, name: &str) -> Result<Vec<String>, DnsError> {
        let fail = |reason: String| DnsError { name: name.to_owned(), reason };
        let resolver = self.resolver().map_err(fail)?;
        let fqdn = format!("{}.", name.trim_end_matches('.'));
        match resolver.txt_lookup(fqdn).await {
            Ok(lookup) => Ok(lookup
                .answers()
                .iter()
                .filter_map(|record| match &record.data {
                    RData::TXT(txt) => Some(txt.txt_data.iter().map(|part| String::from_utf8_lossy(part)).collect()),
                    _ => None,
                })
                .collect()),
            Err(e) if e.is_no_records_found() || e.is_nx_domain() => Ok(Vec::new()),
            Err(e) => Err(fail(e.to_string())),
        }
    }
}
