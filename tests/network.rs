//! Corporate networks, offline: a token endpoint behind TLS signed by a throw-away CA (as a
//! company's TLS inspection re-signs every certificate), trusted only when told, and a
//! CONNECT proxy the token request is seen to pass through.

mod support;

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use serde_json::json;
use support::*;

/// A host name that resolves nowhere: reached only through the proxy.
const FAR_HOST: &str = "idp.example.invalid";

/// A CA made for this test, and a server certificate it signed for 127.0.0.1 and FAR_HOST.
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
    let server = rcgen::CertificateParams::new(vec!["127.0.0.1".into(), FAR_HOST.into()])
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
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl TlsTokenServer {
    fn start(config: Arc<rustls::ServerConfig>) -> TlsTokenServer {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let port = listener.local_addr().unwrap().port();
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

/// A CONNECT proxy that sends every tunnel to `to` (whatever host was asked), and
/// remembers each request line and whether it carried Proxy-Authorization.
struct ConnectProxy {
    port: u16,
    seen: Arc<Mutex<Vec<(String, bool)>>>,
    stopping: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl ConnectProxy {
    fn start(to: u16) -> ConnectProxy {
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
                std::thread::spawn(move || tunnel(client, to, &log));
            }
        });
        ConnectProxy {
            port,
            seen,
            stopping,
            thread: Some(thread),
        }
    }
}

fn tunnel(client: TcpStream, to: u16, log: &Mutex<Vec<(String, bool)>>) {
    let mut reader = BufReader::new(client.try_clone().unwrap());
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
    log.lock()
        .unwrap()
        .push((first.trim().to_string(), authorized));
    let mut client = client;
    if !first.starts_with("CONNECT ") {
        let _ = client.write_all(b"HTTP/1.1 405 Method Not Allowed\r\ncontent-length: 0\r\n\r\n");
        return;
    }
    let Ok(server) = TcpStream::connect(("127.0.0.1", to)) else {
        return;
    };
    let _ = client.write_all(b"HTTP/1.1 200 Connection established\r\n\r\n");
    let (mut up, mut down) = (server.try_clone().unwrap(), client.try_clone().unwrap());
    let upward = std::thread::spawn(move || {
        let _ = std::io::copy(&mut reader, &mut up);
        let _ = up.shutdown(std::net::Shutdown::Write);
    });
    let mut server = server;
    let _ = std::io::copy(&mut server, &mut down);
    let _ = down.shutdown(std::net::Shutdown::Write);
    let _ = upward.join();
}

impl Drop for ConnectProxy {
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

    // A CA file given on purpose that is not one is said at once.
    let bad = project.dir.path().join("not-a-ca.pem");
    std::fs::write(&bad, "not a certificate").unwrap();
    let done = project
        .oauth2(&["oauth2", "--ca-file", bad.to_str().unwrap()])
        .wait();
    assert_eq!(done.code, 1);
    assert_has(&done.stderr, "--ca-file");
    assert_has(&done.stderr, "no PEM certificate");
}

#[test]
fn provider_requests_go_through_the_environments_proxy_and_its_credentials_stay_hidden() {
    let ca = throw_away_ca();
    let server = TlsTokenServer::start(ca.config.clone());
    let proxy = ConnectProxy::start(server.port);
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
