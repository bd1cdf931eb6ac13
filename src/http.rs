//! The one way this program builds an HTTP client: our user agent, no redirects (a request
//! may carry a code or a secret, which must not follow a `Location` elsewhere), the proxy the
//! environment names (never for loopback addresses, which a proxy could not reach), and the
//! roots a corporate network needs trusted: the bundled ones, the operating system's store,
//! `SSL_CERT_FILE` and `--ca-file`. These settings are read when a command first builds a
//! client, so a command that needs no network works offline whatever they say, and one that
//! does stops on a bad one before anything is sent.

use std::io::Read;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::Duration;

use crate::error::{Error, NetworkError, Result};

/// A CA bundle is a few hundred KiB (every public root together is about 250 KiB); past
/// this a file is not one, and reading on would only fill memory (`/dev/zero` never ends).
const MAX_CA_BYTES: u64 = 8 << 20;

/// `--ca-file` (or `UNITO_CA_FILE`) as given.
static CA_FILE: OnceLock<PathBuf> = OnceLock::new();

/// Its certificates, read at the first client: a file given on purpose that cannot be used
/// is an error then, not a puzzling TLS failure later.
static CA_FILE_ROOTS: OnceLock<std::result::Result<Vec<reqwest::Certificate>, String>> =
    OnceLock::new();

/// `SSL_CERT_FILE`'s, read at the first https request: other tools set it too, so a file
/// that cannot be used costs nothing until TLS is needed, and is then passed over (said
/// with `-v`, and in an untrusted-certificate error).
static ENV_ROOTS: OnceLock<std::result::Result<Vec<reqwest::Certificate>, String>> =
    OnceLock::new();

/// Notes `--ca-file`, to be read when a request first needs it.
pub fn trust(ca_file: Option<&Path>) {
    if let Some(path) = ca_file {
        let _ = CA_FILE.set(path.to_path_buf());
    }
}

fn ca_file_roots() -> Result<&'static [reqwest::Certificate]> {
    let Some(path) = CA_FILE.get() else {
        return Ok(&[]);
    };
    match CA_FILE_ROOTS.get_or_init(|| read_pem(path)) {
        Ok(roots) => Ok(roots),
        Err(detail) => Err(NetworkError::CaFile {
            path: path.clone(),
            origin: "--ca-file",
            detail: detail.clone(),
        }
        .into()),
    }
}

/// `SSL_CERT_FILE`'s roots (none when it is unset), or why it cannot be used.
fn env_roots() -> std::result::Result<&'static [reqwest::Certificate], &'static str> {
    let read = ENV_ROOTS.get_or_init(|| {
        let Some(path) = std::env::var_os("SSL_CERT_FILE").filter(|v| !v.is_empty()) else {
            return Ok(Vec::new());
        };
        let path = PathBuf::from(path);
        read_pem(&path).map_err(|why| {
            tracing::warn!(path = %path.display(), why, "SSL_CERT_FILE is not used");
            format!("SSL_CERT_FILE {} was not used: {why}", path.display())
        })
    });
    read.as_deref().map_err(String::as_str)
}

/// Why `SSL_CERT_FILE` was passed over, if it was: part of an untrusted-certificate error.
pub fn passed_over() -> Option<&'static str> {
    ENV_ROOTS.get()?.as_ref().err().map(String::as_str)
}

fn read_pem(path: &Path) -> std::result::Result<Vec<reqwest::Certificate>, String> {
    let pem = read_bounded(path)?;
    let certs = reqwest::Certificate::from_pem_bundle(&pem)
        .map_err(|e| format!("not PEM certificates: {e}"))?;
    if certs.is_empty() {
        return Err("it holds no PEM certificate".into());
    }
    Ok(certs)
}

/// A regular file's bytes, up to `MAX_CA_BYTES`. Opened without blocking (a FIFO would wait
/// for a writer) and checked on the open file, so what is checked is what is read.
fn read_bounded(path: &Path) -> std::result::Result<Vec<u8>, String> {
    let mut options = std::fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.custom_flags(libc::O_NONBLOCK);
    }
    let file = options.open(path).map_err(|e| e.to_string())?;
    let meta = file.metadata().map_err(|e| e.to_string())?;
    if !meta.is_file() {
        return Err(format!("it is {}, not a regular file", kind_of(&meta)));
    }
    let mut bytes = Vec::new();
    file.take(MAX_CA_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| e.to_string())?;
    if bytes.len() as u64 > MAX_CA_BYTES {
        return Err(format!(
            "it is larger than {} MiB, more than any CA bundle",
            MAX_CA_BYTES >> 20
        ));
    }
    Ok(bytes)
}

fn kind_of(meta: &std::fs::Metadata) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        let kind = meta.file_type();
        if kind.is_char_device() || kind.is_block_device() {
            return "a device";
        }
        if kind.is_fifo() {
            return "a pipe (FIFO)";
        }
        if kind.is_socket() {
            return "a socket";
        }
    }
    if meta.is_dir() {
        "a folder"
    } else {
        "not a file"
    }
}

/// A client for requests to `url` (and its origin), each bounded by `timeout`. Fails, before
/// anything is sent, when `--ca-file` or the proxy variable for `url` cannot be used.
pub fn client(url: &str, timeout: Duration) -> Result<reqwest::Client> {
    Ok(client_via(url, timeout)?.0)
}

/// `client`, and the proxy its requests go through. Plain `http://` (the sandbox, a local
/// provider) loads no certificates at all.
pub fn client_via(url: &str, timeout: Duration) -> Result<(reqwest::Client, Option<Proxied>)> {
    let env = |name: &str| std::env::var_os(name).map(|v| v.to_string_lossy().into_owned());
    let proxied = route(url, &env)?;
    let ca_roots = ca_file_roots()?;
    let tls = url::Url::parse(url).is_ok_and(|u| u.scheme() == "https");
    // An SSL_CERT_FILE that cannot be used must not reach the system-store loader either,
    // which would read it without bound.
    let (env_roots, native) = match tls.then(env_roots) {
        Some(Ok(roots)) => (roots, true),
        Some(Err(_)) | None => (&[][..], false),
    };
    let build = |native_roots: bool| {
        let mut builder = reqwest::Client::builder().no_proxy();
        if let Some(p) = &proxied {
            builder = builder.proxy(reqwest::Proxy::all(p.url.as_str())?);
        }
        if tls {
            builder = builder.tls_built_in_native_certs(native_roots);
            for root in ca_roots.iter().chain(env_roots) {
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
    // A system store with no usable certificate is not fatal: the bundled roots and
    // --ca-file remain.
    let client = build(native)
        .or_else(|_| build(false))
        .map_err(|e| Error::Internal(format!("cannot set up the HTTP client: {e}")))?;
    Ok((client, proxied))
}

/// The proxy a URL's requests go through, as a variable named it.
pub struct Proxied {
    /// The variable it came from, as it is spelled in the environment.
    pub variable: String,
    /// Its address without credentials, for `-v` and errors.
    pub shown: String,
    /// With its credentials: never shown.
    url: url::Url,
}

impl Proxied {
    /// Whether the proxy sees a plain-http request whole, and so may answer it itself
    /// (an https request goes through a CONNECT tunnel; a SOCKS proxy only relays bytes).
    pub fn answers_for(&self, request_url: &str) -> bool {
        matches!(self.url.scheme(), "http" | "https")
            && url::Url::parse(request_url).is_ok_and(|u| u.scheme() == "http")
    }
}

impl std::fmt::Debug for Proxied {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Proxied")
            .field("variable", &self.variable)
            .field("shown", &self.shown)
            .finish_non_exhaustive()
    }
}

/// The proxy the environment names for `url`, as curl reads it: `HTTPS_PROXY` for https,
/// `HTTP_PROXY` for http, else `ALL_PROXY` (each in either case, lower case first), unless
/// `NO_PROXY` lists the host (see `no_proxy_lists`). Loopback is always direct. A variable
/// that applies but names no usable proxy is an error, never a direct connection.
pub fn route(url: &str, env: &dyn Fn(&str) -> Option<String>) -> Result<Option<Proxied>> {
    let Ok(parsed) = url::Url::parse(url) else {
        return Ok(None);
    };
    let Some(host) = parsed.host_str() else {
        return Ok(None);
    };
    let either = |name: &str| {
        let lower = name.to_ascii_lowercase();
        [lower.as_str(), name].into_iter().find_map(|n| {
            env(n)
                .filter(|v| !v.trim().is_empty())
                .map(|v| (n.to_string(), v))
        })
    };
    let own = if parsed.scheme() == "https" {
        "HTTPS_PROXY"
    } else {
        "HTTP_PROXY"
    };
    let Some((variable, value)) = either(own).or_else(|| either("ALL_PROXY")) else {
        return Ok(None);
    };
    if crate::loopback::is_loopback_url(url) {
        tracing::debug!(
            host,
            variable,
            "a loopback address is reached directly, not through the proxy"
        );
        return Ok(None);
    }
    if let Some((_, skip)) = either("NO_PROXY")
        && no_proxy_lists(&skip, host)
    {
        tracing::debug!(
            host,
            variable,
            "NO_PROXY lists this host: reached directly, not through the proxy"
        );
        return Ok(None);
    }
    let proxied = parse_proxy(variable, &value)?;
    tracing::debug!(proxy = %proxied.shown, variable = %proxied.variable, "requests to this host go through a proxy");
    Ok(Some(proxied))
}

/// A proxy variable's value read as curl reads it (a bare `host:port` is an HTTP proxy),
/// checked as reqwest will use it.
fn parse_proxy(variable: String, raw: &str) -> Result<Proxied> {
    let raw = raw.trim();
    let full = if raw.contains("://") {
        raw.to_string()
    } else {
        format!("http://{raw}")
    };
    let unusable = |detail: String| NetworkError::ProxySetting {
        variable: variable.clone(),
        value: display_proxy(&full),
        detail,
    };
    let url = url::Url::parse(&full).map_err(|e| unusable(format!("it is not a URL ({e})")))?;
    if !matches!(
        url.scheme(),
        "http" | "https" | "socks5" | "socks5h" | "socks4" | "socks4a"
    ) {
        return Err(unusable(format!(
            "{}:// is no proxy this program speaks (http://, https://, socks5://, socks5h://)",
            url.scheme()
        ))
        .into());
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(unusable("it names no host".into()).into());
    }
    if reqwest::Proxy::all(url.as_str()).is_err() {
        return Err(unusable("it is not a proxy URL".into()).into());
    }
    Ok(Proxied {
        shown: display_proxy(url.as_str()),
        variable,
        url,
    })
}

/// Whether a `NO_PROXY` list names `host`, as curl reads one: a lone `*` names every host;
/// a name names itself and every name under it (`example.com` and `.example.com` both name
/// `www.example.com`, not `notexample.com`); an IP address (IPv6 bare or in brackets) names
/// itself, and with `/bits` the range it starts. A `:port` after an entry is passed over.
pub fn no_proxy_lists(list: &str, host: &str) -> bool {
    let host = host
        .trim_start_matches('[')
        .trim_end_matches(']')
        .trim_end_matches('.')
        .to_ascii_lowercase();
    let ip = host.parse::<IpAddr>().ok();
    list.split(',')
        .map(|entry| entry.trim().to_ascii_lowercase())
        .filter(|entry| !entry.is_empty())
        .any(|entry| {
            let entry = without_port(&entry);
            match ip {
                _ if entry == "*" => true,
                Some(ip) => range_holds(&entry, ip),
                None => {
                    let name = entry.trim_start_matches('.').trim_end_matches('.');
                    !name.is_empty()
                        && (host == name
                            || host
                                .strip_suffix(name)
                                .is_some_and(|rest| rest.ends_with('.')))
                }
            }
        })
}

/// An entry without its `:port` or brackets (`[fd00::1]:80` is `fd00::1`).
fn without_port(entry: &str) -> String {
    if let Some(inside) = entry.strip_prefix('[') {
        let (address, after) = inside.split_once(']').unwrap_or((inside, ""));
        // `[fd00::]/8`: the range stays.
        let bits = after.strip_prefix('/').map(|b| format!("/{b}"));
        return format!("{address}{}", bits.unwrap_or_default());
    }
    match entry.split_once(':') {
        // One colon: a name or an IPv4 address with a port. More: an IPv6 address.
        Some((before, after)) if !after.contains(':') => before.to_string(),
        _ => entry.to_string(),
    }
}

/// Whether `entry`, an address or an `address/bits` range, holds `ip`.
fn range_holds(entry: &str, ip: IpAddr) -> bool {
    let (address, bits) = match entry.split_once('/') {
        Some((address, bits)) => match bits.parse::<u32>() {
            Ok(bits) => (address, Some(bits)),
            Err(_) => return false,
        },
        None => (entry, None),
    };
    let Ok(address) = address.parse::<IpAddr>() else {
        return false;
    };
    let same_prefix = |a: u128, b: u128, width: u32| match bits {
        None => a == b,
        Some(bits) if bits <= width => (a ^ b).checked_shr(width - bits).unwrap_or(0) == 0,
        Some(_) => false,
    };
    match (address, ip) {
        (IpAddr::V4(a), IpAddr::V4(b)) => same_prefix(u32::from(a).into(), u32::from(b).into(), 32),
        (IpAddr::V6(a), IpAddr::V6(b)) => same_prefix(a.into(), b.into(), 128),
        _ => false,
    }
}

/// A proxy's address without its credentials, for `-v` and errors; a value that is no URL
/// loses everything before its last `@` instead.
pub fn display_proxy(proxy: &str) -> String {
    match url::Url::parse(proxy) {
        Ok(mut u) if u.has_host() => {
            let hidden = !u.username().is_empty() || u.password().is_some();
            let _ = u.set_username("");
            let _ = u.set_password(None);
            let shown = u.as_str().trim_end_matches('/').to_string();
            match hidden {
                true => format!("{shown} (with credentials, not shown)"),
                false => shown,
            }
        }
        _ => match proxy.rsplit_once('@') {
            Some((before, after)) => {
                let scheme = before.split_once("://").map(|(s, _)| format!("{s}://"));
                format!(
                    "{}{after} (with credentials, not shown)",
                    scheme.unwrap_or_default()
                )
            }
            None => proxy.to_string(),
        },
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

    fn routed(url: &str, vars: &[(&str, &str)]) -> Result<Option<Proxied>> {
        let vars: Vec<(String, String)> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        route(url, &|name| {
            vars.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone())
        })
    }

    fn proxy(url: &str, vars: &[(&str, &str)]) -> Option<String> {
        routed(url, vars).unwrap().map(|p| p.shown)
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
    fn no_proxy_entries_are_read_as_curl_reads_them() {
        for (host, list) in [
            ("idp.example", "idp.example"),
            ("idp.example.", "idp.example"),
            ("login.idp.example", ".idp.example"),
            ("login.idp.example", "IDP.example."),
            ("idp.example", ".idp.example"),
            ("anything.example", "other.example, *"),
            ("idp.example", "idp.example:443"),
            ("10.1.2.3", "10.1.2.3"),
            ("10.1.2.3", "10.1.2.3:8443"),
            ("10.1.2.3", "10.0.0.0/8"),
            ("192.168.7.9", "192.168.0.0/16"),
            ("[fd00::5]", "fd00::5"),
            ("[fd00::5]", "[fd00::5]"),
            ("[fd00::5]", "[fd00::5]:443"),
            ("[fd00::5]", "fd00::/8"),
            ("[fd00:0::5]", "FD00::5"),
            ("[2001:db8::1]", "2001:db8::/32"),
            ("8.8.8.8", "0.0.0.0/0"),
        ] {
            assert!(no_proxy_lists(list, host), "{list:?} should list {host}");
        }
        for (host, list) in [
            ("notidp.example", "idp.example"),
            ("idp.example.other", "idp.example"),
            ("idp.example", "login.idp.example"),
            ("idp.example", "*.idp.example"),
            ("11.1.2.3", "10.0.0.0/8"),
            ("10.1.2.3", "10.1.2.4"),
            ("10.1.2.3", "10.0.0.0/x"),
            ("10.1.2.3", "10.0.0.0/33"),
            ("[fe00::5]", "fd00::/8"),
            ("[fd00::5]", "fd00::6"),
            ("10.1.2.3", "::/0"),
            ("idp.example", ""),
            ("idp.example", "."),
        ] {
            assert!(
                !no_proxy_lists(list, host),
                "{list:?} should not list {host}"
            );
        }
    }

    #[test]
    fn an_unusable_proxy_variable_is_an_error_naming_it_never_a_direct_connection() {
        for (variable, value) in [
            ("HTTPS_PROXY", "http://proxy corp:8080"),
            ("https_proxy", "ftp://proxy.corp:21"),
            ("ALL_PROXY", "http://[bad"),
            ("HTTPS_PROXY", "http://fake-user:fake-pass@proxy corp:8080"),
            ("HTTPS_PROXY", "socks://proxy.corp:1080"),
        ] {
            let err = routed("https://idp.example/t", &[(variable, value)]).unwrap_err();
            let text = format!("{err} {}", err.hint().unwrap_or_default());
            assert!(
                matches!(err, Error::Network(NetworkError::ProxySetting { .. })),
                "{text}"
            );
            assert!(text.contains(variable), "{text}");
            assert!(
                !text.contains("fake-pass") && !text.contains("fake-user"),
                "{text}"
            );
        }
        // A variable that does not apply is not read: no error, and no proxy.
        let http_only = [("HTTP_PROXY", "http://[bad")];
        assert!(
            routed("https://idp.example/t", &http_only)
                .unwrap()
                .is_none()
        );
        assert!(
            routed("http://127.0.0.1:9/t", &[("ALL_PROXY", "http://[bad")])
                .unwrap()
                .is_none()
        );
        let skipped = [("HTTPS_PROXY", "http://[bad"), ("NO_PROXY", "idp.example")];
        assert!(routed("https://idp.example/t", &skipped).unwrap().is_none());
    }

    #[test]
    fn socks_proxies_are_used_not_dropped() {
        for value in [
            "socks5://127.0.0.1:1080",
            "socks5h://fake-user:fake-pass@proxy.corp:1080",
        ] {
            let p = routed("https://idp.example/t", &[("ALL_PROXY", value)])
                .unwrap()
                .expect("a proxy");
            assert!(!p.answers_for("http://idp.example/t"));
            assert!(!p.shown.contains("fake-pass"), "{}", p.shown);
            assert!(!format!("{p:?}").contains("fake-pass"));
        }
        let http = routed("http://idp.example/t", &[("HTTP_PROXY", "proxy.corp:3128")])
            .unwrap()
            .unwrap();
        assert!(http.answers_for("http://idp.example/t"));
        assert!(!http.answers_for("https://idp.example/t"));
    }

    #[test]
    fn a_proxys_credentials_are_never_shown() {
        for value in [
            "http://fake-user:fake-pass@proxy.corp:3128",
            "http://fake-user:fake-pass@proxy corp:3128",
            "fake-user:fake-pass@[bad",
        ] {
            let shown = display_proxy(value);
            assert!(
                !shown.contains("fake-pass") && !shown.contains("fake-user"),
                "{shown}"
            );
            assert!(shown.contains("proxy") || shown.contains("[bad"), "{shown}");
        }
    }
}

#[cfg(test)]
mod ca_tests {
    use super::*;

    #[test]
    fn a_ca_file_is_read_only_if_it_is_a_regular_file_of_a_sane_size() {
        let why = read_pem(Path::new("/dev/zero")).unwrap_err();
        assert!(why.contains("a device, not a regular file"), "{why}");
        let dir = tempfile::tempdir().unwrap();
        assert!(read_pem(dir.path()).unwrap_err().contains("a folder"));
        let huge = dir.path().join("huge.pem");
        std::fs::File::create(&huge)
            .unwrap()
            .set_len(MAX_CA_BYTES + 1)
            .unwrap();
        assert!(read_pem(&huge).unwrap_err().contains("larger than 8 MiB"));
        #[cfg(unix)]
        {
            let fifo = dir.path().join("fifo.pem");
            let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
            assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
            assert!(
                read_pem(&fifo).unwrap_err().contains("a pipe"),
                "no writer: no wait"
            );
        }
    }
}
