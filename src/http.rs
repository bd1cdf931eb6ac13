//! The one way this program builds an HTTP client: our user agent, no redirects (a request
//! may carry a code or a secret, which must not follow a `Location` elsewhere), and no proxy
//! for loopback addresses, which a proxy from `HTTP_PROXY`/`ALL_PROXY` could not reach.

use std::time::Duration;

/// Whether `url` points at this machine.
pub fn is_loopback(url: &str) -> bool {
    url::Url::parse(url).is_ok_and(|u| match u.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    })
}

/// A client for requests to `url` (and its origin), each bounded by `timeout`.
pub fn client(url: &str, timeout: Duration) -> reqwest::Client {
    let mut builder = reqwest::Client::builder();
    if is_loopback(url) {
        builder = builder.no_proxy();
    }
    builder
        .user_agent(concat!("integration-cli/", env!("CARGO_PKG_VERSION")))
        .connect_timeout(timeout.min(Duration::from_secs(10)))
        .redirect(reqwest::redirect::Policy::none())
        .timeout(timeout)
        .build()
        .expect("TLS backend initialises")
}

/// Why a body was not read whole.
#[derive(Debug)]
pub enum ReadError {
    TooLarge,
    Failed(reqwest::Error),
}

/// The body, refused as soon as it passes `limit` bytes, without reading the rest.
pub async fn read_capped(
    mut response: reqwest::Response,
    limit: usize,
) -> Result<Vec<u8>, ReadError> {
    let mut bytes = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(ReadError::Failed)? {
        bytes.extend_from_slice(&chunk);
        if bytes.len() > limit {
            return Err(ReadError::TooLarge);
        }
    }
    Ok(bytes)
}
