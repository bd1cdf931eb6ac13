//! This machine's names: the three a loopback redirect URI may use (RFC 8252 §7.3, §8.3),
//! and whether a URL points here. One list, so the callback server, the redirect rules, the
//! provider table and the proxy cannot disagree on it.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// A loopback host as a redirect URI names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoopbackHost {
    /// `127.0.0.1`, the default (RFC 8252 §7.3).
    V4,
    /// `[::1]`.
    V6,
    /// `localhost`: the browser may resolve it to either address.
    Localhost,
}

impl LoopbackHost {
    /// In the order the callback server's own names are listed.
    pub const ALL: [LoopbackHost; 3] =
        [LoopbackHost::V4, LoopbackHost::Localhost, LoopbackHost::V6];

    /// As a URL's host is written.
    pub fn name(self) -> &'static str {
        match self {
            LoopbackHost::V4 => "127.0.0.1",
            LoopbackHost::V6 => "[::1]",
            LoopbackHost::Localhost => "localhost",
        }
    }

    /// One of the three names, exactly as a URL's host writes it (lower case, IPv6 in
    /// brackets).
    pub fn from_name(host: &str) -> Option<LoopbackHost> {
        LoopbackHost::ALL.into_iter().find(|h| h.name() == host)
    }

    /// Where a server for this name listens, with its name for messages: `localhost` on
    /// IPv4 first, and IPv6 too, since a browser may resolve it to either.
    pub fn addresses(self) -> Vec<(IpAddr, &'static str)> {
        let v4 = (IpAddr::V4(Ipv4Addr::LOCALHOST), LoopbackHost::V4.name());
        let v6 = (IpAddr::V6(Ipv6Addr::LOCALHOST), LoopbackHost::V6.name());
        match self {
            LoopbackHost::V4 => vec![v4],
            LoopbackHost::V6 => vec![v6],
            LoopbackHost::Localhost => vec![v4, v6],
        }
    }
}

/// Whether `url` points at this machine: `localhost`, or any loopback address.
pub fn is_loopback_url(url: &str) -> bool {
    url::Url::parse(url).is_ok_and(|u| match u.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_three_names_and_only_those() {
        for h in LoopbackHost::ALL {
            assert_eq!(LoopbackHost::from_name(h.name()), Some(h));
        }
        for other in ["::1", "LOCALHOST", "127.0.0.2", "localhost.", ""] {
            assert_eq!(LoopbackHost::from_name(other), None, "{other}");
        }
        assert_eq!(LoopbackHost::Localhost.addresses().len(), 2);
    }

    #[test]
    fn loopback_urls() {
        for yes in [
            "http://localhost:3000",
            "http://127.0.0.9/x",
            "http://[::1]:1/",
            "http://LocalHost/",
        ] {
            assert!(is_loopback_url(yes), "{yes}");
        }
        for no in [
            "http://example.com",
            "http://10.0.0.1",
            "not a url",
            "http://localhost.example.com",
        ] {
            assert!(!is_loopback_url(no), "{no}");
        }
    }
}
