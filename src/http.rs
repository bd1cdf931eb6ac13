//! The one way this program builds an HTTP client: our user agent, no redirects (a request
//! may carry a code or a secret, which must not follow a `Location` elsewhere), the proxy the
//! environment names (never for loopback addresses, which a proxy could not reach), and the
//! roots a corporate network needs trusted: the bundled ones, the operating system's store,
//! `SSL_CERT_FILE` and `--ca-file`.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::Duration;

use crate::error::{Error, Result};

/// Certificates trusted beside the bundled and system roots, read once at start.
static EXTRA_ROOTS: OnceLock<Vec<reqwest::Certificate>> = OnceLock::new();

/// Reads the extra CA certificates: `--ca-file` and `SSL_CERT_FILE` (PEM, one or many).
/// A file that cannot be used is an error now, not a puzzling TLS failure later.
pub fn trust(ca_file: Option<&Path>, env: &dyn Fn(&str) -> Option<String>) -> Result<()> {
    let mut roots = Vec::new();
    let from_env = env("SSL_CERT_FILE").filter(|v| !v.trim().is_empty());
    let files = ca_file
        .map(|p| (p.to_path_buf(), "--ca-file"))
        .into_iter()
        .chain(from_env.map(|v| (PathBuf::from(v), "SSL_CERT_FILE")));
    for (path, origin) in files {
        let unusable = |detail: String| Error::CaFile {
            path: path.clone(),
            origin,
            detail,
        };
        let pem = std::fs::read(&path).map_err(|e| unusable(e.to_string()))?;
        let certs = reqwest::Certificate::from_pem_bundle(&pem)
            .map_err(|e| unusable(format!("not PEM certificates: {e}")))?;
        if certs.is_empty() {
            return Err(unusable("it holds no PEM certificate".into()));
        }
        roots.extend(certs);
    }
    let _ = EXTRA_ROOTS.set(roots);
    Ok(())
}

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
    let mut builder = reqwest::Client::builder().no_proxy();
    let env = |name: &str| std::env::var(name).ok();
    if let Some(proxy) = proxy_for(url, &env) {
        tracing::debug!(proxy = %display_proxy(&proxy), "requests to this host go through a proxy");
        if let Ok(proxy) = reqwest::Proxy::all(&proxy) {
            builder = builder.proxy(proxy);
        }
    }
    for root in EXTRA_ROOTS.get().into_iter().flatten() {
        builder = builder.add_root_certificate(root.clone());
    }
    builder
        .user_agent(concat!("integration-cli/", env!("CARGO_PKG_VERSION")))
        .connect_timeout(timeout.min(Duration::from_secs(10)))
        .redirect(reqwest::redirect::Policy::none())
        .timeout(timeout)
        .build()
        .expect("TLS backend initialises")
}

/// The proxy the environment names for `url`, as curl reads it: `HTTPS_PROXY` for https,
/// `HTTP_PROXY` for http, else `ALL_PROXY` (each in either case, lower case first), unless
/// `NO_PROXY` lists the host (a name, a `.suffix`, or `*`). Loopback is always direct.
pub fn proxy_for(url: &str, env: &dyn Fn(&str) -> Option<String>) -> Option<String> {
    if is_loopback(url) {
        return None;
    }
    let parsed = url::Url::parse(url).ok()?;
    let host = parsed
        .host_str()?
        .trim_matches(['[', ']'])
        .to_ascii_lowercase();
    let either = |name: &str| {
        env(&name.to_ascii_lowercase())
            .or_else(|| env(name))
            .filter(|v| !v.trim().is_empty())
    };
    if let Some(skip) = either("NO_PROXY") {
        let listed = skip.split(',').map(|s| s.trim().to_ascii_lowercase());
        for entry in listed.filter(|e| !e.is_empty()) {
            let name = entry
                .split(':')
                .next()
                .unwrap_or("")
                .trim_start_matches('.');
            if entry == "*" || host == name || host.ends_with(&format!(".{name}")) {
                return None;
            }
        }
    }
    let own = if parsed.scheme() == "https" {
        "HTTPS_PROXY"
    } else {
        "HTTP_PROXY"
    };
    let proxy = either(own).or_else(|| either("ALL_PROXY"))?;
    // A bare host:port means an HTTP proxy, as curl takes it.
    Some(if proxy.contains("://") {
        proxy
    } else {
        format!("http://{proxy}")
    })
}

/// A proxy's address without its credentials, for `-v` and errors.
pub fn display_proxy(proxy: &str) -> String {
    match url::Url::parse(proxy) {
        Ok(mut u) if !u.username().is_empty() || u.password().is_some() => {
            let _ = u.set_username("");
            let _ = u.set_password(None);
            format!(
                "{} (with credentials, not shown)",
                u.as_str().trim_end_matches('/')
            )
        }
        Ok(u) => u.as_str().trim_end_matches('/').to_string(),
        Err(_) => "an unreadable proxy address".into(),
    }
}

/// Whether a request failed because the server's certificate is not trusted here.
pub fn untrusted_certificate(e: &(dyn std::error::Error + 'static)) -> bool {
    let mut cause = Some(e);
    while let Some(c) = cause {
        if let Some(tls) = c.downcast_ref::<rustls::Error>() {
            return matches!(
                tls,
                rustls::Error::InvalidCertificate(_) | rustls::Error::NoCertificatesPresented
            );
        }
        // An io::Error's `source` skips the error it wraps, which is where rustls's is.
        let wrapped = c
            .downcast_ref::<std::io::Error>()
            .and_then(|io| io.get_ref());
        if wrapped.is_some_and(|inner| untrusted_certificate(inner)) {
            return true;
        }
        cause = c.source();
    }
    false
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

#[cfg(test)]
mod proxy_tests {
    use super::*;

    fn proxy(url: &str, vars: &[(&str, &str)]) -> Option<String> {
        let vars: Vec<(String, String)> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        proxy_for(url, &|name| {
            vars.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone())
        })
    }

    #[test]
    fn the_environments_proxy_is_read_as_curl_reads_it() {
        let p = "http://proxy.corp:3128";
        assert_eq!(
            proxy("https://idp.example/t", &[("HTTPS_PROXY", p)]).as_deref(),
            Some(p)
        );
        assert_eq!(proxy("http://idp.example/t", &[("HTTPS_PROXY", p)]), None);
        assert_eq!(
            proxy("http://idp.example/t", &[("ALL_PROXY", p)]).as_deref(),
            Some(p)
        );
        assert_eq!(
            proxy(
                "https://idp.example/t",
                &[("https_proxy", "proxy.corp:8080"), ("HTTPS_PROXY", p)]
            )
            .as_deref(),
            Some("http://proxy.corp:8080"),
            "lower case first; a bare host:port is an HTTP proxy"
        );
        for (host, skip) in [
            ("idp.example", "idp.example"),
            ("login.idp.example", ".idp.example"),
            ("login.idp.example", "idp.example"),
            ("anything.example", "*"),
            ("idp.example", "other.example, idp.example:443"),
        ] {
            let url = format!("https://{host}/token");
            assert_eq!(
                proxy(&url, &[("HTTPS_PROXY", p), ("no_proxy", skip)]),
                None,
                "{skip}"
            );
        }
        assert!(
            proxy(
                "https://notidp.example/t",
                &[("HTTPS_PROXY", p), ("NO_PROXY", "idp.example")]
            )
            .is_some()
        );
        assert_eq!(proxy("http://127.0.0.1:9002/cb", &[("ALL_PROXY", p)]), None);
        assert_eq!(proxy("http://localhost:9010/t", &[("HTTP_PROXY", p)]), None);
    }

    #[test]
    fn a_proxys_credentials_are_never_shown() {
        let shown = display_proxy("http://fake-user:fake-pass@proxy.corp:3128");
        assert!(
            !shown.contains("fake-pass") && !shown.contains("fake-user"),
            "{shown}"
        );
        assert!(shown.contains("proxy.corp:3128"), "{shown}");
    }
}
