//! Which network addresses Roster's outbound requests may reach: private, loopback, link-local and their disguises are refused unless the operator allows them.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use ipnet::IpNet;
use url::{Host, Url};

/// Where outbound requests may go: nowhere [`is_forbidden`] names, unless private
/// addresses are allowed altogether or the address is in one of the `exceptions`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AddressPolicy {
    /// Everything is allowed (`ROSTER_WEBHOOKS_ALLOW_PRIVATE`: receivers inside an
    /// operator's own network, and tests).
    pub allow_private: bool,
    /// Networks allowed although forbidden, such as one loopback address a test
    /// receiver listens on while the rest of loopback stays refused.
    pub exceptions: Vec<IpNet>,
}

/// What a policy refused, as a person would recognise it: the address, or the name as typed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0} is a private, loopback or link-local address")]
pub struct Refused(pub String);

impl AddressPolicy {
    /// The policy that refuses every forbidden address, with no exception.
    pub fn strict() -> Self {
        Self::default()
    }

    /// Whether a request may connect to `ip`.
    pub fn allows(&self, ip: IpAddr) -> bool {
        let ip = ip.to_canonical();
        self.allow_private || !is_forbidden(ip) || self.exceptions.iter().any(|net| net.contains(&ip))
    }

    /// Checks a URL's host as typed, before any lookup: an address literal in any
    /// spelling the URL parser accepts (`2130706433`, `0x7f.1`, `0177.0.0.1`, `127.1`,
    /// `[::ffff:127.0.0.1]` — it normalises them all to the address), and the names
    /// that always mean this machine (`localhost`, `*.localhost`, RFC 6761). Other
    /// names are checked on the addresses they resolve to.
    pub fn check_url(&self, url: &Url) -> Result<(), Refused> {
        match url.host() {
            Some(Host::Ipv4(v4)) => self.check_ip(IpAddr::V4(v4)),
            Some(Host::Ipv6(v6)) => self.check_ip(IpAddr::V6(v6)),
            Some(Host::Domain(name)) => {
                let name = name.trim_end_matches('.').to_ascii_lowercase();
                if !self.allow_private && (name == "localhost" || name.ends_with(".localhost")) {
                    return Err(Refused(name));
                }
                Ok(())
            }
            None => Ok(()),
        }
    }

    /// Checks one address, as resolved or as typed.
    pub fn check_ip(&self, ip: IpAddr) -> Result<(), Refused> {
        if self.allows(ip) {
            Ok(())
        } else {
            Err(Refused(ip.to_string()))
        }
    }
}

/// Addresses no outbound request goes to: loopback, private (RFC 1918, unique local),
/// link-local (cloud metadata at 169.254.169.254 among them), carrier-grade NAT,
/// unspecified, broadcast, multicast, reserved, benchmarking and documentation ranges;
/// and the IPv6 forms that lead to one of those IPv4 addresses: IPv4-mapped and
/// -compatible, NAT64, 6to4, and Teredo (which tunnels to an address it hides).
pub fn is_forbidden(ip: IpAddr) -> bool {
    match ip.to_canonical() {
        IpAddr::V4(v4) => is_forbidden_v4(v4),
        IpAddr::V6(v6) => is_forbidden_v6(v6),
    }
}

fn is_forbidden_v4(v4: Ipv4Addr) -> bool {
    let [a, b, c, _] = v4.octets();
    v4.is_loopback()
        || v4.is_private()
        || v4.is_link_local()
        || v4.is_unspecified()
        || v4.is_broadcast()
        || v4.is_multicast()
        || v4.is_documentation()
        || a == 0 // "this network"
        || (a == 100 && (64..128).contains(&b)) // carrier-grade NAT
        || (a == 192 && b == 0 && c == 0) // IETF protocol assignments
        || (a == 192 && b == 88 && c == 99) // 6to4 relay anycast (deprecated)
        || (a == 198 && (b == 18 || b == 19)) // benchmarking
        || a >= 240 // reserved
}

fn is_forbidden_v6(v6: Ipv6Addr) -> bool {
    let s = v6.segments();
    let embedded = |high: u16, low: u16| is_forbidden_v4(Ipv4Addr::from((u32::from(high) << 16) | u32::from(low)));
    v6.is_loopback()
        || v6.is_unspecified()
        || v6.is_multicast()
        || (s[0] & 0xfe00) == 0xfc00 // unique local
        || (s[0] & 0xffc0) == 0xfe80 // link-local
        || (s[0] & 0xffc0) == 0xfec0 // site-local (deprecated)
        || (s[0] == 0x2001 && s[1] == 0x0db8) // documentation
        || (s[0] == 0x3fff && s[1] < 0x1000) // documentation (RFC 9637)
        || (s[0] == 0x2001 && s[1] == 0) // Teredo: tunnels to an IPv4 address
        || (s[0] == 0x2001 && s[1] == 2 && s[2] == 0) // benchmarking
        || (s[0] == 0x0100 && s[1..4] == [0; 3]) // discard-only
        || (s[0] == 0x64 && s[1] == 0xff9b && s[2] == 1) // local-use NAT64
        || (s[0] == 0x64 && s[1] == 0xff9b && s[2..6] == [0; 4] && embedded(s[6], s[7])) // NAT64
        || (s[0] == 0x2002 && embedded(s[1], s[2])) // 6to4
        || (s[..6] == [0; 6] && embedded(s[6], s[7])) // IPv4-compatible (deprecated)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn url(text: &str) -> Url {
        Url::parse(text).unwrap()
    }

    #[test]
    fn every_spelling_of_a_forbidden_address_is_refused_as_typed() {
        let policy = AddressPolicy::strict();
        for (typed, refused) in [
            ("http://127.0.0.1/", "127.0.0.1"),
            ("http://2130706433/", "127.0.0.1"),
            ("http://0x7f.0.0.1/", "127.0.0.1"),
            ("http://0x7f000001/", "127.0.0.1"),
            ("http://0177.0.0.1/", "127.0.0.1"),
            ("http://127.1/", "127.0.0.1"),
            ("http://0/", "0.0.0.0"),
            ("http://[::1]/", "::1"),
            ("http://[::ffff:127.0.0.1]/", "::ffff:127.0.0.1"),
            ("http://[::ffff:7f00:1]/", "::ffff:127.0.0.1"),
            ("http://[64:ff9b::7f00:1]/", "64:ff9b::7f00:1"),
            ("http://[2002:7f00:1::]/", "2002:7f00:1::"),
            ("http://[2001:0:4136:e378:8000:63bf:3fff:fdd2]/", "2001:0:4136:e378:8000:63bf:3fff:fdd2"),
            ("http://10.0.0.1/", "10.0.0.1"),
            ("http://172.16.0.1/", "172.16.0.1"),
            ("http://192.168.1.1/", "192.168.1.1"),
            ("http://169.254.169.254/latest/meta-data/", "169.254.169.254"),
            ("http://100.64.0.1/", "100.64.0.1"),
            ("http://[fe80::1]/", "fe80::1"),
            ("http://[fc00::1]/", "fc00::1"),
            ("http://localhost:8080/", "localhost"),
            ("http://LOCALHOST./", "localhost"),
            ("http://a.localhost/", "a.localhost"),
            ("http://0.0.0.0/", "0.0.0.0"),
            ("http://255.255.255.255/", "255.255.255.255"),
            ("http://224.0.0.1/", "224.0.0.1"),
        ] {
            assert_eq!(policy.check_url(&url(typed)), Err(Refused(refused.into())), "{typed}");
            let allowed = AddressPolicy { allow_private: true, exceptions: vec![] };
            assert_eq!(allowed.check_url(&url(typed)), Ok(()), "{typed} when private addresses are allowed");
        }
    }

    #[test]
    fn public_addresses_and_names_pass_until_they_resolve() {
        let policy = AddressPolicy::strict();
        for typed in [
            "https://hooks.example.com/roster",
            "https://93.184.216.34/hook",
            "https://[2606:2800:220:1:248:1893:25c8:1946]/hook",
            "https://[64:ff9b::5db8:d822]/hook",
            "https://[2002:5db8:d822::1]/hook",
            "https://localhost.example.com/",
        ] {
            assert_eq!(policy.check_url(&url(typed)), Ok(()), "{typed}");
        }
    }

    #[test]
    fn an_exception_allows_its_network_and_nothing_else() {
        let policy = AddressPolicy { allow_private: false, exceptions: vec!["127.0.0.2/32".parse().unwrap()] };
        assert!(policy.allows("127.0.0.2".parse().unwrap()));
        assert!(policy.allows("::ffff:127.0.0.2".parse().unwrap()), "the mapped form is the same address");
        assert!(!policy.allows("127.0.0.1".parse().unwrap()));
        assert!(!policy.allows("::1".parse().unwrap()));
        assert_eq!(policy.check_url(&url("http://127.0.0.2:81/")), Ok(()));
        assert!(policy.check_url(&url("http://localhost/")).is_err(), "names are not addresses");
    }

    proptest! {
        #[test]
        fn an_ipv4_address_and_its_ipv6_disguises_are_judged_alike(bits: u32) {
            let v4 = Ipv4Addr::from(bits);
            let forbidden = is_forbidden(IpAddr::V4(v4));
            let [h, l] = [(bits >> 16) as u16, bits as u16];
            let mapped = v4.to_ipv6_mapped();
            let nat64 = Ipv6Addr::new(0x64, 0xff9b, 0, 0, 0, 0, h, l);
            let six_to_four = Ipv6Addr::new(0x2002, h, l, 0, 0, 0, 0, 1);
            prop_assert_eq!(is_forbidden(IpAddr::V6(mapped)), forbidden);
            prop_assert_eq!(is_forbidden(IpAddr::V6(nat64)), forbidden);
            prop_assert_eq!(is_forbidden(IpAddr::V6(six_to_four)), forbidden);
            // Teredo is refused whatever it carries.
            prop_assert!(is_forbidden(IpAddr::V6(Ipv6Addr::new(0x2001, 0, h, l, 0, 0, !h, !l))));
        }

        #[test]
        fn every_decimal_spelling_of_an_ipv4_address_is_the_address(bits: u32) {
            let v4 = Ipv4Addr::from(bits);
            let typed = url(&format!("http://{bits}/"));
            prop_assert_eq!(typed.host(), Some(Host::Ipv4(v4)));
            let refused = AddressPolicy::strict().check_url(&typed).is_err();
            prop_assert_eq!(refused, is_forbidden(IpAddr::V4(v4)));
        }
    }
}
