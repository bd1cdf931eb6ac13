//! The one way this program builds an HTTP client: our user agent, no redirects (a request
//! may carry a code or a secret, which must not follow a `Location` elsewhere), the proxy the
//! environment names (never for loopback addresses, which a proxy could not reach), and the
//! roots a corporate network needs trusted: the bundled ones, the operating system's store,
//! `SSL_CERT_FILE` and `--ca-file`.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::Duration;

use crate::error::{Error, Result};

/// `--ca-file`'s certificates, read at start: a file given on purpose that cannot be used
/// is an error then, not a puzzling TLS failure later.
static CA_FILE_ROOTS: OnceLock<Vec<reqwest::Certificate>> = OnceLock::new();

/// `SSL_CERT_FILE`'s, read at the first https request: other tools set it too, so a file
/// that cannot be read costs nothing until TLS is needed, and is then said with `-v`.
static ENV_ROOTS: OnceLock<Vec<reqwest::Certificate>> = OnceLock::new();

/// Reads `--ca-file` (PEM, one or many certificates).
pub fn trust(ca_file: Option<&Path>) -> Result<()> {
    let Some(path) = ca_file else {
        return Ok(());
    };
    let roots = read_pem(path).map_err(|detail| Error::CaFile {
        path: path.to_path_buf(),
        origin: "--ca-file",
        detail,
    })?;
    let _ = CA_FILE_ROOTS.set(roots);
    Ok(())
}

fn read_pem(path: &Path) -> std::result::Result<Vec<reqwest::Certificate>, String> {
    let pem = std::fs::read(path).map_err(|e| e.to_string())?;
    let certs = reqwest::Certificate::from_pem_bundle(&pem)
        .map_err(|e| format!("not PEM certificates: {e}"))?;
    if certs.is_empty() {
        return Err("it holds no PEM certificate".into());
    }
    Ok(certs)
}

/// Every extra root: `--ca-file`'s and `SSL_CERT_FILE`'s.
fn extra_roots() -> impl Iterator<Item = &'static reqwest::Certificate> {
    let from_env = ENV_ROOTS.get_or_init(|| {
        let Some(path) = std::env::var_os("SSL_CERT_FILE").filter(|v| !v.is_empty()) else {
            return Vec::new();
        };
        read_pem(Path::new(&path)).unwrap_or_else(|why| {
            tracing::warn!(path = %PathBuf::from(&path).display(), why, "SSL_CERT_FILE is not used");
            Vec::new()
        })
    });
    CA_FILE_ROOTS.get().into_iter().flatten().chain(from_env)
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

/// A client for requests to `url` (and its origin), each bounded by `timeout`. Plain
/// `http://` (the sandbox, a local provider) loads no certificates at all.
pub fn client(url: &str, timeout: Duration) -> reqwest::Client {
    let tls = url::Url::parse(url).is_ok_and(|u| u.scheme() == "https");
    let build = |native_roots: bool| {
        let mut builder = reqwest::Client::builder().no_proxy();
        let env = |name: &str| std::env::var(name).ok();
        if let Some(proxy) = proxy_for(url, &env) {
            tracing::debug!(proxy = %display_proxy(&proxy), "requests to this host go through a proxy");
            if let Ok(proxy) = reqwest::Proxy::all(&proxy) {
                builder = builder.proxy(proxy);
            }
        }
        if tls {
            builder = builder.tls_built_in_native_certs(native_roots);
            for root in extra_roots() {
                builder = builder.add_root_certificate(root.clone());
            }
        } else {
            builder = builder.tls_built_in_root_certs(false);
        }
        builder
            .user_agent(concat!("integration-cli/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(timeout.min(Duration::from_secs(10)))
            .redirect(reqwest::redirect::Policy::none())
            .timeout(timeout)
            .build()
    };
    // A system store with no usable certificate (a broken SSL_CERT_FILE) is not fatal: the
    // bundled roots and --ca-file remain.
    build(true)
        .or_else(|_| build(false))
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
