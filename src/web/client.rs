//! Where a request comes from: the client's address behind the configured proxies,
//! and its network, for per-IP limits and the Sessions list.

use std::net::IpAddr;

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest};

/// The address the request came from, for per-IP rate limits. `X-Forwarded-For`
/// is believed only when the connection comes from a proxy listed in
/// `ROSTER_TRUSTED_PROXIES`: then the client is the rightmost address that is not
/// one of those proxies.
#[derive(Debug, Clone)]
pub struct ClientIp(pub String);

/// Every `X-Forwarded-For` value of a request, joined in order (some proxies add a
/// header line of their own instead of appending to the client's).
pub fn forwarded_for(req: &HttpRequest) -> String {
    req.headers().get_all("X-Forwarded-For").filter_map(|v| v.to_str().ok()).collect::<Vec<_>>().join(",")
}

/// The client address of a request that reached us from `peer`. IPv4-mapped IPv6
/// addresses count as the IPv4 address they carry.
pub fn client_ip(peer: IpAddr, forwarded_for: &str, trusted: &[IpAddr]) -> IpAddr {
    let peer = peer.to_canonical();
    let is_trusted = |ip: &IpAddr| trusted.iter().any(|t| t.to_canonical() == *ip);
    if !is_trusted(&peer) {
        return peer;
    }
    forwarded_for
        .split(',')
        .rev()
        .filter_map(|part| part.trim().parse::<IpAddr>().ok())
        .map(|ip| ip.to_canonical())
        .find(|ip| !is_trusted(ip))
        .unwrap_or(peer)
}

impl FromRequest for ClientIp {
    type Error = actix_web::Error;
    type Future = std::future::Ready<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        std::future::ready(Ok(ClientIp::of(req)))
    }
}

/// The network `ip` belongs to, for limits that more addresses of one customer must
/// not multiply: IPv4 by /24, IPv6 by /64 (what a provider usually gives one
/// customer). IPv4-mapped IPv6 addresses count as their IPv4 address.
pub fn network_of(ip: IpAddr) -> String {
    match ip.to_canonical() {
        IpAddr::V4(v4) => ipnet::Ipv4Net::new_assert(v4, 24).trunc().to_string(),
        IpAddr::V6(v6) => ipnet::Ipv6Net::new_assert(v6, 64).trunc().to_string(),
    }
}

impl ClientIp {
    /// The client's network ([`network_of`]), or its address when that cannot be read.
    pub fn network(&self) -> String {
        self.0.parse().map_or_else(|_| self.0.clone(), network_of)
    }

    /// The client address of `req`, behind the configured proxies.
    pub fn of(req: &HttpRequest) -> Self {
        let peer = req.peer_addr().map(|a| a.ip()).unwrap_or(IpAddr::from([0, 0, 0, 0]));
        let state = req.app_data::<actix_web::web::Data<super::state::AppState>>();
        let trusted = state.map(|state| state.settings.trusted_proxies.as_slice()).unwrap_or_default();
        ClientIp(client_ip(peer, &forwarded_for(req), trusted).to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::{client_ip, network_of};

    #[test]
    fn addresses_count_by_network_ipv4_by_24_and_ipv6_by_64() {
        let net = |ip: &str| network_of(ip.parse().unwrap());
        assert_eq!(net("203.0.113.9"), "203.0.113.0/24");
        assert_eq!(net("203.0.113.250"), net("203.0.113.1"), "one /24");
        assert_ne!(net("203.0.114.1"), net("203.0.113.1"));
        assert_eq!(net("2001:db8:1:2:aaaa::1"), "2001:db8:1:2::/64");
        assert_eq!(net("2001:db8:1:2:ffff::9"), net("2001:db8:1:2::1"), "one /64");
        assert_ne!(net("2001:db8:1:3::1"), net("2001:db8:1:2::1"));
        assert_eq!(net("::ffff:203.0.113.7"), "203.0.113.0/24", "IPv4-mapped");
    }

    #[test]
    fn forwarded_addresses_count_only_behind_a_trusted_proxy() {
        let proxy = "10.0.0.2".parse().unwrap();
        let client = "203.0.113.9".parse().unwrap();
        let spoofed = "198.51.100.1, 203.0.113.9";
        assert_eq!(client_ip(client, spoofed, &[proxy]), client, "a direct client cannot claim another address");
        assert_eq!(client_ip(proxy, spoofed, &[proxy]), client, "the rightmost untrusted address");
        assert_eq!(client_ip(proxy, "", &[proxy]), proxy);
        assert_eq!(client_ip(proxy, spoofed, &[]), proxy, "no proxies configured: forwarded headers ignored");
        let mapped: std::net::IpAddr = "::ffff:10.0.0.2".parse().unwrap();
        assert_eq!(client_ip(mapped, spoofed, &[proxy]), client, "an IPv4-mapped proxy address is the proxy");
    }
}
