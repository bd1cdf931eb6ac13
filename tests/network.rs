//! Corporate networks, offline: a token endpoint behind TLS signed by a throw-away CA (as a
//! company's TLS inspection re-signs every certificate), trusted only when told, and a
//! CONNECT proxy the token request is seen to pass through.

mod support;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use serde_json::json;
use support::*;

/// A host name that resolves nowhere: reached only through the proxy.
const FAR_HOST: &str = "idp.example.invalid";

/// Not loopback to the CLI, so proxy variables apply; yet Linux connects it to this machine,
/// so a request that went direct is seen to arrive.
const NEAR_HOST: &str = "0.0.0.0";

/// A CA made for this test, and a server certificate it signed for 127.0.0.1, FAR_HOST and
/// NEAR_HOST.
struct ThrowAwayCa {
    ca_pem: String,
    config: Arc<rustls::ServerConfig>,
}

fn throw_away_ca() -> ThrowAwayCa {
    let ca_key = rcgen::KeyPair::generate().unwrap();
    let mut ca = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    ca.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    ca.distinguished_name
        .push(rcgen::DnType::CommonName, "Fake Company Inspection CA");
    let ca_cert = ca.self_signed(&ca_key).unwrap();
    let key = rcgen::KeyPair::generate().unwrap();
    let server =
        rcgen::CertificateParams::new(vec!["127.0.0.1".into(), FAR_HOST.into(), NEAR_HOST.into()])
            .unwrap()
            .signed_by(&key, &ca_cert, &ca_key)
            .unwrap();
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(
            vec![server.der().clone()],
            rustls::pki_types::PrivateKeyDer::Pkcs8(key.serialize_der().into()),
        )
        .unwrap();
    ThrowAwayCa {
        ca_pem: ca_cert.pem(),
        config: Arc::new(config),
    }
}

/// An HTTPS token endpoint answering every POST with a client-credentials token.
struct TlsTokenServer {
    port: u16,
    /// TCP connections accepted: none means nothing was sent.
    connections: Arc<AtomicUsize>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl TlsTokenServer {
    fn start(config: Arc<rustls::ServerConfig>) -> TlsTokenServer {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let port = listener.local_addr().unwrap().port();
        let connections = Arc::new(AtomicUsize::new(0));
        let counted = connections.clone();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(listener).unwrap();
                let acceptor = tokio_rustls::TlsAcceptor::from(config);
                let serve = async {
                    loop {
                        let Ok((stream, _)) = listener.accept().await else {
                            continue;
                        };
                        counted.fetch_add(1, Ordering::SeqCst);
                        let acceptor = acceptor.clone();
                        tokio::spawn(async move {
                            // A client that does not trust us hangs up here.
                            let Ok(tls) = acceptor.accept(stream).await else {
                                return;
                            };
                            let service = hyper::service::service_fn(|_req| async {
                                let body = json!({"access_token": "fake-tls-access-token",
                                    "token_type": "Bearer", "expires_in": 3600});
                                let mut response = hyper::Response::new(http_body_util::Full::new(
                                    bytes::Bytes::from(body.to_string()),
                                ));
                                response.headers_mut().insert(
                                    "content-type",
                                    hyper::header::HeaderValue::from_static("application/json"),
                                );
                                Ok::<_, std::convert::Infallible>(response)
                            });
                            let _ = hyper::server::conn::http1::Builder::new()
                                .serve_connection(hyper_util::rt::TokioIo::new(tls), service)
                                .await;
                        });
                    }
                };
                tokio::select! {
                    _ = serve => {}
                    _ = stopped => {}
                }
            });
        });
        TlsTokenServer {
            port,
            connections,
            stop: Some(stop),
            thread: Some(thread),
        }
    }
}

impl Drop for TlsTokenServer {
    fn drop(&mut self) {
        let _ = self.stop.take().map(|s| s.send(()));
        let _ = self.thread.take().map(|t| t.join());
    }
}

/// A proxy on a port from the OS that sends every connection it relays to `to` (whatever
/// host was asked) and remembers what each client asked; stopped when dropped.
struct FakeProxy<T> {
    port: u16,
    seen: Arc<Mutex<Vec<T>>>,
    stopping: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

/// A CONNECT proxy: each request line, and whether it carried Proxy-Authorization.
type ConnectProxy = FakeProxy<(String, bool)>;

impl<T: Send + 'static> FakeProxy<T> {
    fn start(to: u16, serve: fn(TcpStream, u16, &Mutex<Vec<T>>)) -> FakeProxy<T> {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let stopping = Arc::new(AtomicBool::new(false));
        let (log, stop) = (seen.clone(), stopping.clone());
        let thread = std::thread::spawn(move || {
            for client in listener.incoming() {
                if stop.load(Ordering::SeqCst) {
                    return;
                }
                let Ok(client) = client else { continue };
                let log = log.clone();
                std::thread::spawn(move || serve(client, to, &log));
            }
        });
        FakeProxy {
            port,
            seen,
            stopping,
            thread: Some(thread),
        }
    }

    fn seen(&self) -> Vec<T>
    where
        T: Clone,
    {
        self.seen.lock().unwrap().clone()
    }
}

impl ConnectProxy {
    fn connect(to: u16) -> ConnectProxy {
        FakeProxy::start(to, tunnel)
    }
}

/// The request line, and whether the head carried Proxy-Authorization.
fn read_head(reader: &mut BufReader<TcpStream>) -> (String, bool) {
    let mut first = String::new();
    let _ = reader.read_line(&mut first);
    let mut authorized = false;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
            break;
        }
        authorized |= line
            .to_ascii_lowercase()
            .starts_with("proxy-authorization:");
    }
    (first.trim().to_string(), authorized)
}

fn tunnel(client: TcpStream, to: u16, log: &Mutex<Vec<(String, bool)>>) {
    let mut reader = BufReader::new(client.try_clone().unwrap());
    let (first, authorized) = read_head(&mut reader);
    log.lock().unwrap().push((first.clone(), authorized));
    let mut client = client;
    if !first.starts_with("CONNECT ") {
        let _ = client.write_all(b"HTTP/1.1 405 Method Not Allowed\r\ncontent-length: 0\r\n\r\n");
        return;
    }
    let Ok(server) = TcpStream::connect(("127.0.0.1", to)) else {
        return;
    };
    let _ = client.write_all(b"HTTP/1.1 200 Connection established\r\n\r\n");
    pipe(reader, client, server);
}

/// Bytes both ways, `from_client` (what is left of the client's side) to `server` and back,
/// until each side is done.
fn pipe(mut from_client: impl Read + Send + 'static, client: TcpStream, server: TcpStream) {
    let (mut up, mut down) = (server.try_clone().unwrap(), client);
    let upward = std::thread::spawn(move || {
        let _ = std::io::copy(&mut from_client, &mut up);
        let _ = up.shutdown(std::net::Shutdown::Write);
    });
    let mut server = server;
    let _ = std::io::copy(&mut server, &mut down);
    let _ = down.shutdown(std::net::Shutdown::Write);
    let _ = upward.join();
}

/// A company proxy that wants credentials it was not given: 407 to everything, CONNECT or
/// a plain-http request alike.
fn refuse_407(client: TcpStream, _to: u16, log: &Mutex<Vec<(String, bool)>>) {
    refuse(
        client,
        log,
        "407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm=\"fake-corp\"",
    );
}

/// A company proxy whose policy forbids the host.
fn refuse_403(client: TcpStream, _to: u16, log: &Mutex<Vec<(String, bool)>>) {
    refuse(client, log, "403 Forbidden");
}

fn refuse(client: TcpStream, log: &Mutex<Vec<(String, bool)>>, status_and_headers: &str) {
    let mut reader = BufReader::new(client.try_clone().unwrap());
    log.lock().unwrap().push(read_head(&mut reader));
    let mut client = client;
    let _ = write!(
        client,
        "HTTP/1.1 {status_and_headers}\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
    );
}

/// What a SOCKS5 client asked for: the destination as it named it (a name for socks5h, an
/// address for socks5) and the user it authenticated as.
type SocksProxy = FakeProxy<(String, Option<String>)>;

/// A SOCKS5 server (RFC 1928, with RFC 1929's username and password when offered) that
/// connects every CONNECT to `to` on loopback.
fn socks5(mut client: TcpStream, to: u16, log: &Mutex<Vec<(String, Option<String>)>>) {
    let Ok(asked) = socks5_handshake(&mut client) else {
        return;
    };
    log.lock().unwrap().push(asked);
    let Ok(server) = TcpStream::connect(("127.0.0.1", to)) else {
        return;
    };
    let _ = client.write_all(&[5, 0, 0, 1, 127, 0, 0, 1, 0, 0]);
    pipe(client.try_clone().unwrap(), client, server);
}

/// The greeting, the optional login and the CONNECT request: the destination and user.
fn socks5_handshake(client: &mut TcpStream) -> std::io::Result<(String, Option<String>)> {
    let greeting = take(client, 2)?;
    let methods = take(client, greeting[1] as usize)?;
    let mut user = None;
    if methods.contains(&2) {
        client.write_all(&[5, 2])?;
        let head = take(client, 2)?;
        let name = take(client, head[1] as usize)?;
        let length = take(client, 1)?;
        take(client, length[0] as usize)?;
        user = Some(String::from_utf8_lossy(&name).into_owned());
        client.write_all(&[1, 0])?;
    } else {
        client.write_all(&[5, 0])?;
    }
    let request = take(client, 4)?;
    let host = match request[3] {
        1 => std::net::Ipv4Addr::from(<[u8; 4]>::try_from(take(client, 4)?).unwrap()).to_string(),
        3 => {
            let length = take(client, 1)?;
            String::from_utf8_lossy(&take(client, length[0] as usize)?).into_owned()
        }
        _ => format!(
            "[{}]",
            std::net::Ipv6Addr::from(<[u8; 16]>::try_from(take(client, 16)?).unwrap())
        ),
    };
    let port = take(client, 2)?;
    Ok((
        format!("{host}:{}", u16::from_be_bytes([port[0], port[1]])),
        user,
    ))
}

fn take(stream: &mut TcpStream, n: usize) -> std::io::Result<Vec<u8>> {
    let mut buf = vec![0u8; n];
    stream.read_exact(&mut buf).map(|_| buf)
}

impl<T> Drop for FakeProxy<T> {
    fn drop(&mut self) {
        self.stopping.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(("127.0.0.1", self.port));
        let _ = self.thread.take().map(|t| t.join());
    }
}

fn project(token_url: &str) -> Project {
    Project::new(&json!({
        "authorizations": [{"name": "company", "method": "oauth2", "oauth2": {
            "clientId": "fake-client", "clientSecret": "fake-tls-client-secret",
            "tokenUrl": token_url, "grantType": "client_credentials"}}],
        "testAccounts": {"development": {}}
    }))
}

#[test]
fn a_company_ca_is_refused_with_advice_then_trusted_by_ca_file_or_ssl_cert_file() {
    let ca = throw_away_ca();
    let server = TlsTokenServer::start(ca.config.clone());
    let project = project(&format!("https://127.0.0.1:{}/token", server.port));
    let ca_path = project.dir.path().join("company-ca.pem");
    std::fs::write(&ca_path, &ca.ca_pem).unwrap();

    let refused = project.oauth2(&["oauth2"]).wait();
    assert_eq!(refused.code, 1, "{}", refused.all());
    assert_has(&refused.stderr, "certificate");
    assert_has(&refused.stderr, "127.0.0.1");
    assert_has(&refused.stderr, "--ca-file");
    assert!(project.account("development").get("accessToken").is_none());

    let ca_file = ca_path.to_str().unwrap();
    for (args, env) in [
        (vec!["oauth2", "--reauth", "--ca-file", ca_file], vec![]),
        (vec!["oauth2", "--reauth"], vec![("SSL_CERT_FILE", ca_file)]),
        (vec!["oauth2", "--reauth"], vec![("UNITO_CA_FILE", ca_file)]),
    ] {
        let done = project.oauth2_env(&args, &env).wait();
        assert_eq!(done.code, 0, "{args:?} {env:?}: {}", done.all());
        assert_eq!(
            project.account("development")["accessToken"],
            "fake-tls-access-token"
        );
    }

    // SSL_CERT_FILE belongs to every tool: one that cannot be read is passed over.
    let done = project
        .oauth2_env(
            &["oauth2", "--reauth", "--ca-file", ca_file],
            &[("SSL_CERT_FILE", "/nonexistent/fake-bundle.pem")],
        )
        .wait();
    assert_eq!(done.code, 0, "{}", done.all());

    // A CA file given on purpose that is not one is said at the first request.
    let bad = project.dir.path().join("not-a-ca.pem");
    std::fs::write(&bad, "not a certificate").unwrap();
    let done = project
        .oauth2(&["oauth2", "--reauth", "--ca-file", bad.to_str().unwrap()])
        .wait();
    assert_eq!(done.code, 1);
    assert_has(&done.stderr, "--ca-file");
    assert_has(&done.stderr, "no PEM certificate");
}

#[test]
fn provider_requests_go_through_the_environments_proxy_and_its_credentials_stay_hidden() {
    let ca = throw_away_ca();
    let server = TlsTokenServer::start(ca.config.clone());
    let proxy = ConnectProxy::connect(server.port);
    // The host resolves nowhere: only the proxy can reach it.
    let project = project(&format!("https://{FAR_HOST}:{}/token", server.port));
    let ca_path = project.dir.path().join("company-ca.pem");
    std::fs::write(&ca_path, &ca.ca_pem).unwrap();
    let ca_file = ca_path.to_str().unwrap();
    let with_credentials = format!(
        "http://fake-proxy-user:fake-proxy-pass@127.0.0.1:{}",
        proxy.port
    );
    for var in ["HTTPS_PROXY", "https_proxy", "ALL_PROXY"] {
        let done = project
            .oauth2_env(
                &["oauth2", "--reauth", "-v", "--ca-file", ca_file],
                &[(var, &with_credentials)],
            )
            .wait();
        assert_eq!(done.code, 0, "{var}: {}", done.all());
        assert_has(&done.stderr, &format!("127.0.0.1:{}", proxy.port));
        assert!(!done.all().contains("fake-proxy-pass"), "{}", done.all());
        let seen = proxy.seen.lock().unwrap().pop().expect("a tunnel");
        assert_eq!(
            seen,
            (format!("CONNECT {FAR_HOST}:{} HTTP/1.1", server.port), true)
        );
    }
    // NO_PROXY names the host: direct, and so unreachable.
    let done = project
        .oauth2_env(
            &["oauth2", "--reauth", "--ca-file", ca_file],
            &[
                ("HTTPS_PROXY", &with_credentials),
                ("NO_PROXY", "localhost,.example.invalid"),
            ],
        )
        .wait();
    assert_eq!(done.code, 1, "{}", done.all());
    assert!(proxy.seen.lock().unwrap().is_empty());
    assert!(!done.all().contains("fake-proxy-pass"));
}

/// A run whose address space is capped: a read without bound then fails at once rather than
/// fill the machine's memory.
fn bounded(project: &Project, args: &[&str], env: &[(&str, &str)]) -> Finished {
    project
        .oauth2_with(args, env, |cmd| {
            use std::os::unix::process::CommandExt;
            // SAFETY: only setrlimit between fork and exec.
            unsafe {
                cmd.pre_exec(|| {
                    let limit = libc::rlimit {
                        rlim_cur: 2 << 30,
                        rlim_max: 2 << 30,
                    };
                    if libc::setrlimit(libc::RLIMIT_AS, &limit) != 0 {
                        return Err(std::io::Error::last_os_error());
                    }
                    Ok(())
                });
            }
        })
        .wait()
}

fn with_ca(project: &Project, ca: &ThrowAwayCa) -> String {
    let path = project.dir.path().join("company-ca.pem");
    std::fs::write(&path, &ca.ca_pem).unwrap();
    path.to_str().unwrap().to_string()
}

#[test]
fn a_ca_file_that_is_no_regular_file_stops_a_request_before_anything_is_sent() {
    let ca = throw_away_ca();
    let server = TlsTokenServer::start(ca.config.clone());
    let project = project(&format!("https://127.0.0.1:{}/token", server.port));
    let ca_file = with_ca(&project, &ca);
    for (args, env) in [
        (vec!["oauth2", "--ca-file", "/dev/zero"], vec![]),
        (vec!["oauth2"], vec![("UNITO_CA_FILE", "/dev/zero")]),
    ] {
        let done = bounded(&project, &args, &env);
        assert_eq!(done.code, 1, "{args:?} {env:?}: {}", done.all());
        assert_has(
            &done.stderr,
            "the CA file /dev/zero (--ca-file) cannot be used",
        );
        assert_has(&done.stderr, "it is a device, not a regular file");
    }
    assert_eq!(
        server.connections.load(Ordering::SeqCst),
        0,
        "nothing was sent"
    );

    // SSL_CERT_FILE is every tool's: one that is no file is passed over, not a crash ...
    let done = bounded(
        &project,
        &["oauth2", "--ca-file", &ca_file],
        &[("SSL_CERT_FILE", "/dev/zero")],
    );
    assert_eq!(done.code, 0, "{}", done.all());
    // ... and said when the certificate it might have held is missing.
    let done = bounded(
        &project,
        &["oauth2", "--reauth"],
        &[("SSL_CERT_FILE", "/dev/zero")],
    );
    assert_eq!(done.code, 1, "{}", done.all());
    assert_has(&done.stderr, "is not trusted here");
    assert_has(
        &done.stderr,
        "SSL_CERT_FILE /dev/zero was not used: it is a device",
    );
}

#[test]
fn commands_that_need_no_network_work_whatever_the_network_settings_say() {
    let project = Project::new(&json!({
        "authorizations": [{"name": "company", "method": "oauth2", "oauth2": {
            "clientId": "fake-client", "clientSecret": "fake-tls-client-secret",
            "tokenUrl": format!("https://{FAR_HOST}/token"),
            "grantType": "client_credentials"}}],
        "testAccounts": {"development": {
            "accessToken": "fake-stored-access-token",
            "expiresAt": "2099-01-01T00:00:00Z"}}
    }));
    for (setting, env) in [
        (vec!["--ca-file", "/dev/zero"], vec![]),
        (vec![], vec![("UNITO_CA_FILE", "/dev/zero")]),
        (vec![], vec![("HTTPS_PROXY", "http://[bad")]),
        (vec![], vec![("ALL_PROXY", "ftp://proxy.corp")]),
    ] {
        for command in [vec!["status"], vec!["credentials"], vec!["token"]] {
            let args: Vec<&str> = setting.iter().chain(&command).copied().collect();
            let done = bounded(&project, &args, &env);
            assert_eq!(done.code, 0, "{args:?} {env:?}: {}", done.all());
        }
    }
}

#[test]
fn an_unusable_proxy_variable_is_an_error_naming_it_and_nothing_goes_direct() {
    let ca = throw_away_ca();
    let server = TlsTokenServer::start(ca.config.clone());
    let project = project(&format!("https://{NEAR_HOST}:{}/token", server.port));
    let ca_file = with_ca(&project, &ca);
    for (var, value) in [
        ("HTTPS_PROXY", "http://proxy corp:8080"),
        (
            "https_proxy",
            "ftp://fake-proxy-user:fake-proxy-pass@proxy.corp:21",
        ),
        ("ALL_PROXY", "http://[bad"),
        (
            "HTTPS_PROXY",
            "http://fake-proxy-user:fake-proxy-pass@proxy corp:8080",
        ),
    ] {
        let done = project
            .oauth2_env(&["oauth2", "-v", "--ca-file", &ca_file], &[(var, value)])
            .wait();
        assert_eq!(done.code, 1, "{var}={value}: {}", done.all());
        assert_has(&done.stderr, &format!("the proxy in {var} cannot be used"));
        assert_has(&done.stderr, "nothing was sent");
        assert!(!done.all().contains("fake-proxy-pass"), "{}", done.all());
        assert!(
            !done.stderr.contains("go through a proxy"),
            "{}",
            done.stderr
        );
    }
    assert_eq!(
        server.connections.load(Ordering::SeqCst),
        0,
        "nothing went direct"
    );
    // Without the variable the request does reach the server directly: the count above
    // could have moved.
    let done = project
        .oauth2_env(&["oauth2", "--ca-file", &ca_file], &[])
        .wait();
    assert_eq!(done.code, 0, "{}", done.all());
    assert!(server.connections.load(Ordering::SeqCst) > 0);
}

#[test]
fn loopback_goes_direct_and_v_says_so_though_a_proxy_is_set() {
    let ca = throw_away_ca();
    let server = TlsTokenServer::start(ca.config.clone());
    let proxy = ConnectProxy::connect(server.port);
    let project = project(&format!("https://127.0.0.1:{}/token", server.port));
    let ca_file = with_ca(&project, &ca);
    let via = format!(
        "http://fake-proxy-user:fake-proxy-pass@127.0.0.1:{}",
        proxy.port
    );
    let done = project
        .oauth2_env(
            &["oauth2", "-v", "--ca-file", &ca_file],
            &[("HTTPS_PROXY", &via)],
        )
        .wait();
    assert_eq!(done.code, 0, "{}", done.all());
    let said = done
        .stderr
        .lines()
        .find(|l| l.contains("reached directly"))
        .unwrap_or_else(|| panic!("no line says loopback is direct: {}", done.stderr));
    assert_has(said, "HTTPS_PROXY");
    assert!(proxy.seen().is_empty());
    assert!(!done.all().contains("fake-proxy-pass"));
}

#[test]
fn no_proxy_holds_addresses_and_ranges_as_curl_reads_them() {
    let ca = throw_away_ca();
    let server = TlsTokenServer::start(ca.config.clone());
    let proxy = ConnectProxy::connect(server.port);
    let project = project(&format!("https://{NEAR_HOST}:{}/token", server.port));
    let ca_file = with_ca(&project, &ca);
    let via = format!("http://127.0.0.1:{}", proxy.port);
    for (no_proxy, proxied) in [
        ("fd00::/8, 0.0.0.0/8", false),
        ("[::1]:443,0.0.0.0:443", false),
        ("10.0.0.0/8,.example.invalid", true),
    ] {
        let done = project
            .oauth2_env(
                &["oauth2", "--reauth", "-v", "--ca-file", &ca_file],
                &[("HTTPS_PROXY", &via), ("NO_PROXY", no_proxy)],
            )
            .wait();
        assert_eq!(done.code, 0, "{no_proxy}: {}", done.all());
        let seen = proxy.seen.lock().unwrap().drain(..).count();
        assert_eq!(seen > 0, proxied, "{no_proxy}: {}", done.stderr);
        assert_eq!(done.stderr.contains("NO_PROXY lists this host"), !proxied);
    }
}

#[test]
fn a_proxys_own_407_names_the_proxy_and_its_variable_not_the_token_endpoint() {
    let proxy = FakeProxy::start(0, refuse_407);
    let via = format!(
        "http://fake-proxy-user:fake-proxy-pass@127.0.0.1:{}",
        proxy.port
    );
    // https through a CONNECT the proxy refuses; plain http, which the proxy answers itself.
    for (scheme, var) in [("https", "HTTPS_PROXY"), ("http", "http_proxy")] {
        let project = project(&format!("{scheme}://{FAR_HOST}:8443/token"));
        let done = project.oauth2_env(&["oauth2"], &[(var, &via)]).wait();
        assert_eq!(done.code, 1, "{var}: {}", done.all());
        assert_has(
            &done.stderr,
            &format!(
                "the proxy http://127.0.0.1:{} (with credentials, not shown)",
                proxy.port
            ),
        );
        assert_has(
            &done.stderr,
            &format!("(from {var}) refused the request to {scheme}://{FAR_HOST}"),
        );
        assert_has(&done.stderr, "407 Proxy Authentication Required");
        assert_has(
            &done.stderr,
            &format!("the proxy wants credentials: put them in {var}"),
        );
        assert!(!done.stderr.contains("token endpoint"), "{}", done.stderr);
        assert!(!done.all().contains("fake-proxy-pass"), "{}", done.all());
    }
    let seen = proxy.seen();
    assert_eq!(seen[0], (format!("CONNECT {FAR_HOST}:8443 HTTP/1.1"), true));
    assert_eq!(
        seen[1],
        (format!("POST http://{FAR_HOST}:8443/token HTTP/1.1"), true)
    );
}

#[test]
fn socks5_and_socks5h_proxies_carry_the_request() {
    let ca = throw_away_ca();
    let server = TlsTokenServer::start(ca.config.clone());
    let socks: SocksProxy = FakeProxy::start(server.port, socks5);
    let port = server.port;
    for (proxy_url, host, asked, user) in [
        // socks5h: the proxy resolves the name, which resolves nowhere here.
        (
            format!(
                "socks5h://fake-socks-user:fake-socks-pass@127.0.0.1:{}",
                socks.port
            ),
            FAR_HOST,
            format!("{FAR_HOST}:{port}"),
            Some("fake-socks-user".to_string()),
        ),
        // socks5: resolved here, the address is sent.
        (
            format!("socks5://127.0.0.1:{}", socks.port),
            NEAR_HOST,
            format!("{NEAR_HOST}:{port}"),
            None,
        ),
    ] {
        let project = project(&format!("https://{host}:{port}/token"));
        let ca_file = with_ca(&project, &ca);
        let done = project
            .oauth2_env(
                &["oauth2", "-v", "--ca-file", &ca_file],
                &[("ALL_PROXY", &proxy_url)],
            )
            .wait();
        assert_eq!(done.code, 0, "{proxy_url}: {}", done.all());
        assert_eq!(
            project.account("development")["accessToken"],
            "fake-tls-access-token"
        );
        assert_eq!(socks.seen.lock().unwrap().pop(), Some((asked, user)));
        assert_has(&done.stderr, &format!("127.0.0.1:{}", socks.port));
        assert!(!done.all().contains("fake-socks-pass"), "{}", done.all());
    }
}

#[test]
fn a_tunnel_the_proxy_will_not_open_is_the_proxys_refusal() {
    let proxy = FakeProxy::start(0, refuse_403);
    let project = project(&format!("https://{FAR_HOST}:8443/token"));
    let via = format!("127.0.0.1:{}", proxy.port);
    let done = project
        .oauth2_env(&["oauth2"], &[("ALL_PROXY", &via)])
        .wait();
    assert_eq!(done.code, 1, "{}", done.all());
    assert_has(
        &done.stderr,
        &format!(
            "the proxy http://127.0.0.1:{} (from ALL_PROXY) refused",
            proxy.port
        ),
    );
    assert_has(&done.stderr, "would not open a tunnel");
    assert_has(&done.stderr, "check ALL_PROXY");
    assert_eq!(proxy.seen().len(), 1);
}

#[test]
fn a_login_says_an_unusable_network_setting_before_the_browser_opens() {
    let project = Project::new(&json!({
        "authorizations": [{"name": "company", "method": "oauth2", "oauth2": {
            "clientId": "fake-client", "clientSecret": "fake-tls-client-secret",
            "authorizationUrl": format!("https://{FAR_HOST}/authorize"),
            "tokenUrl": format!("https://{FAR_HOST}/token")}}],
        "testAccounts": {"development": {}}
    }));
    for (args, env) in [
        (vec!["--ca-file", "/dev/zero"], vec![]),
        (vec![], vec![("HTTPS_PROXY", "http://proxy corp:8080")]),
    ] {
        let args: Vec<&str> = args
            .into_iter()
            .chain(["oauth2", "--no-browser", "--port", "0"])
            .collect();
        let done = bounded(&project, &args, &env);
        assert_eq!(done.code, 1, "{args:?} {env:?}: {}", done.all());
        assert!(!done.all().contains("/authorize?"), "{}", done.all());
        assert!(done.stderr.contains("--ca-file") || done.stderr.contains("HTTPS_PROXY"));
    }
}
