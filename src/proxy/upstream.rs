//! The connector the proxy calls: `--to` as written (checked for its form alone, with no
//! network), then resolved once at start, each address checked to be this machine's, and
//! that set pinned for the run. A name resolved again per connection could answer
//! elsewhere the second time (DNS rebinding) and receive the credentials.

use std::net::{IpAddr, SocketAddr};

use tokio::net::TcpStream;
use url::Host;

use crate::error::{Result, UserError};

/// `--to`, as given: `http://host:port` and an optional base path.
#[derive(Debug, Clone)]
pub struct To {
    host: Host<String>,
    port: u16,
    /// The base path every request's path joins, without its trailing slash.
    base: String,
}

/// The connector, once resolved: the only addresses the proxy connects to.
#[derive(Debug)]
pub struct Upstream {
    /// `http://host:port` and the base path, for messages.
    pub url: String,
    /// `host:port` as `--to` names it, for the `Host` header.
    pub authority: String,
    pub base: String,
    /// Loopback addresses, tried in this order for each new connection.
    pub addrs: Vec<SocketAddr>,
}

/// `--to`'s form: plain HTTP, a host, no query or credentials. Whether the host is this
/// machine is `To::resolve`'s part, not the command line's.
pub fn to(raw: &str) -> std::result::Result<To, String> {
    let url = url::Url::parse(raw).map_err(|e| format!("{raw:?} is not a URL: {e}"))?;
    if url.scheme() != "http" {
        return Err(format!(
            "{raw:?}: the proxy speaks plain HTTP to the connector on this machine (http://…)"
        ));
    }
    if url.query().is_some() || !url.username().is_empty() || url.password().is_some() {
        return Err(format!(
            "{raw:?}: give the connector's address alone, without a query or credentials"
        ));
    }
    let host = url
        .host()
        .ok_or_else(|| format!("{raw:?} has no host"))?
        .to_owned();
    let to = To {
        host,
        port: url.port_or_known_default().unwrap_or(80),
        base: url.path().trim_end_matches('/').to_string(),
    };
    hyper::http::uri::Authority::try_from(to.authority())
        .map_err(|_| format!("{raw:?}: {} is not a host name the proxy can call", to.host))?;
    Ok(to)
}

impl To {
    /// `host:port`, an IPv6 address in brackets.
    fn authority(&self) -> String {
        format!("{}:{}", self.host, self.port)
    }

    pub fn url(&self) -> String {
        format!("http://{}{}", self.authority(), self.base)
    }

    /// Resolves the host once (an address is taken as it is) and pins what it found.
    pub async fn resolve(&self) -> Result<Upstream> {
        let found = match &self.host {
            Host::Ipv4(ip) => vec![SocketAddr::new(IpAddr::V4(*ip), self.port)],
            Host::Ipv6(ip) => vec![SocketAddr::new(IpAddr::V6(*ip), self.port)],
            Host::Domain(name) => tokio::net::lookup_host((name.as_str(), self.port))
                .await
                .map_err(|e| UserError::InvalidInput {
                    message: format!(
                        "--to {}: {name} does not resolve ({e}); give the connector's address, \
                         such as http://localhost:9200",
                        self.url()
                    ),
                })?
                .collect(),
        };
        self.pin(found)
    }

    /// The addresses the host resolved to, checked: every one on this machine, or none is
    /// used. Kept in the resolver's order (`localhost` may be `::1` then `127.0.0.1`),
    /// without repeats.
    pub fn pin(&self, found: Vec<SocketAddr>) -> Result<Upstream> {
        let mut addrs: Vec<SocketAddr> = Vec::with_capacity(found.len());
        for addr in found {
            if !addrs.contains(&addr) {
                addrs.push(addr);
            }
        }
        if addrs.is_empty() || addrs.iter().any(|a| !a.ip().is_loopback()) {
            let listed = list(&addrs);
            return Err(UserError::InvalidInput {
                message: format!(
                    "--to {}: the connector must run on this machine (localhost, 127.0.0.1 or \
                     [::1]), as the credentials travel to it in plain HTTP; {} is {}",
                    self.url(),
                    self.host,
                    if listed.is_empty() {
                        "no address".into()
                    } else {
                        listed
                    },
                ),
            }
            .into());
        }
        Ok(Upstream {
            url: self.url(),
            authority: self.authority(),
            base: self.base.clone(),
            addrs,
        })
    }
}

impl Upstream {
    /// A new connection to the connector: its pinned addresses in order, the first that
    /// accepts. The name is never looked up again.
    pub async fn connect(&self) -> std::io::Result<(TcpStream, SocketAddr)> {
        let mut last = None;
        for &addr in &self.addrs {
            match TcpStream::connect(addr).await {
                Ok(stream) => {
                    tracing::debug!("connected to the connector at {addr}");
                    return Ok((stream, addr));
                }
                Err(e) => {
                    tracing::debug!("the connector is not at {addr}: {e}");
                    last = Some(e);
                }
            }
        }
        let e = last.unwrap_or_else(|| std::io::Error::other("no address"));
        Err(match self.addrs.as_slice() {
            [_] => e,
            all => std::io::Error::new(e.kind(), format!("{e} (at {})", list(all))),
        })
    }

    /// The pinned addresses, for `-v`.
    pub fn addresses(&self) -> String {
        list(&self.addrs)
    }
}

fn list(addrs: &[SocketAddr]) -> String {
    let all: Vec<String> = addrs.iter().map(SocketAddr::to_string).collect();
    all.join(", ")
}
