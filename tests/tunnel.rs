//! Logins through a tunnel and through a relay. The flow runs with a tunnel double that
//! really forwards (a second loopback port, copying bytes to the callback server), so the
//! callback arrives through the "tunnel" as it would through ngrok. The real ngrok client is
//! run through the binary for what it can do offline: fail clearly.

mod support;

use std::net::{SocketAddr, TcpListener};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use base64::Engine;
use integration_cli::error::{Error, Result, TunnelError};
use integration_cli::tunnel::{BoxFuture, OpenTunnel, Tunnel};
use serde_json::json;
use support::fakes::*;
use support::*;
use url::Url;

/// Plays ngrok: a public address (here another loopback port) forwarding every connection
/// to the target, byte for byte. With `drop_after`, it stops forwarding after that long.
#[derive(Default)]
struct LoopbackTunnel {
    drop_after: Option<Duration>,
    /// What each `open` asked for: the target and the domain.
    opened: Mutex<Vec<(String, Option<String>)>>,
    public: Mutex<Option<String>>,
    forwarded: Arc<AtomicUsize>,
}

impl LoopbackTunnel {
    fn public_url(&self) -> String {
        self.public
            .lock()
            .unwrap()
            .clone()
            .expect("a tunnel was opened")
    }
}

impl Tunnel for LoopbackTunnel {
    fn open<'a>(
        &'a self,
        target: &'a Url,
        domain: Option<&'a str>,
    ) -> BoxFuture<'a, Result<Box<dyn OpenTunnel>>> {
        Box::pin(async move {
            self.opened
                .lock()
                .unwrap()
                .push((target.to_string(), domain.map(str::to_string)));
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let url = format!("http://{}", listener.local_addr().unwrap());
            *self.public.lock().unwrap() = Some(url.clone());
            let to = format!(
                "{}:{}",
                target.host_str().unwrap(),
                target.port_or_known_default().unwrap()
            );
            let forwarded = self.forwarded.clone();
            let task = tokio::spawn(async move {
                while let Ok((mut inbound, _)) = listener.accept().await {
                    forwarded.fetch_add(1, Ordering::SeqCst);
                    let to = to.clone();
                    tokio::spawn(async move {
                        if let Ok(mut outbound) = tokio::net::TcpStream::connect(&to).await {
                            let _ =
                                tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                        }
                    });
                }
            });
            Ok(Box::new(OpenLoopback {
                url,
                task,
                drop_after: self.drop_after,
            }) as Box<dyn OpenTunnel>)
        })
    }
}

struct OpenLoopback {
    url: String,
    task: tokio::task::JoinHandle<()>,
    drop_after: Option<Duration>,
}

impl OpenTunnel for OpenLoopback {
    fn url(&self) -> &str {
        &self.url
    }
    fn closed(&mut self) -> BoxFuture<'_, String> {
        Box::pin(async move {
            match self.drop_after {
                Some(after) => {
                    tokio::time::sleep(after).await;
                    self.task.abort();
                    "the test double dropped the connection".into()
                }
                None => std::future::pending().await,
            }
        })
    }
}

impl Drop for OpenLoopback {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// A browser that resolves `relay.example.test` to the relay.
struct RelayBrowser(SocketAddr);
impl integration_cli::browser::Browser for RelayBrowser {
    fn open(&self, url: &str) -> std::result::Result<(), String> {
        let (url, addr) = (url.to_string(), self.0);
        std::thread::spawn(move || browse_resolving(&url, &[("relay.example.test", addr)]));
        Ok(())
    }
}

fn tunnel_options(project: &Project) -> integration_cli::flow::Options {
    let mut opts = options(project);
    opts.tunnel = true;
    opts.port = None;
    opts
}

#[test]
fn a_tunnel_login_gets_its_callback_through_the_tunnel() {
    let stub = Stub::start(Behaviour::default());
    let project = Project::new(&config(&stub));
    let tunnel = LoopbackTunnel::default();
    let mut opts = tunnel_options(&project);
    opts.tunnel_domain = Some("fake-domain.ngrok.test".into());
    let terminal = FakeTerminal::default();
    run_with(
        &opts,
        &terminal,
        &FakeBrowser { works: true },
        &tunnel,
        SystemTime::now(),
    )
    .unwrap();

    let redirect_uri = format!("{}/callback", tunnel.public_url());
    stub.seen(|s| {
        assert_eq!(s.authorize_queries[0]["redirect_uri"], redirect_uri);
        assert_eq!(s.token_forms[0]["redirect_uri"], redirect_uri);
        assert!(!s.authorize_queries[0]["state"].contains('.'), "no relay");
    });
    assert!(
        tunnel.forwarded.load(Ordering::SeqCst) >= 1,
        "the callback bypassed the tunnel"
    );
    let (target, domain) = tunnel.opened.lock().unwrap()[0].clone();
    assert!(target.starts_with("http://127.0.0.1:"), "{target}");
    assert_eq!(domain.as_deref(), Some("fake-domain.ngrok.test"));
    let said = terminal.said.lock().unwrap().join("\n");
    assert_has(
        &said,
        &format!("The provider must have this redirect URL registered: {redirect_uri}"),
    );
    assert!(project.account("development")["accessToken"].is_string());
}

#[test]
fn an_authorization_can_ask_for_the_tunnel_and_its_domain() {
    let stub = Stub::start(Behaviour::default());
    let mut cfg = config(&stub);
    cfg["authorizations"][0]["oauth2"]["tunnel"] = json!(true);
    cfg["authorizations"][0]["oauth2"]["tunnelDomain"] = json!("from-config.ngrok.test");
    let project = Project::new(&cfg);
    let tunnel = LoopbackTunnel::default();
    let mut opts = options(&project);
    opts.port = None;
    run_with(
        &opts,
        &FakeTerminal::default(),
        &FakeBrowser { works: true },
        &tunnel,
        SystemTime::now(),
    )
    .unwrap();
    assert_eq!(
        tunnel.opened.lock().unwrap()[0].1.as_deref(),
        Some("from-config.ngrok.test")
    );
    assert!(tunnel.forwarded.load(Ordering::SeqCst) >= 1);
}

#[test]
fn a_tunnel_that_drops_while_waiting_is_an_error_and_nothing_is_written() {
    let stub = Stub::start(Behaviour::default());
    let project = Project::new(&config(&stub));
    let before = project.text();
    let tunnel = LoopbackTunnel {
        drop_after: Some(Duration::from_millis(200)),
        ..LoopbackTunnel::default()
    };
    let err = run_with(
        &tunnel_options(&project),
        &FakeTerminal::default(),
        &FakeBrowser { works: false },
        &tunnel,
        SystemTime::now(),
    )
    .unwrap_err();
    assert!(
        matches!(err, Error::Tunnel(TunnelError::Closed { .. })),
        "{err}"
    );
    assert!(err.to_string().contains("nothing was saved"), "{err}");
    assert_eq!(project.text(), before);
}

#[test]
fn a_relay_redirect_url_gets_the_tunnel_address_in_state() {
    let stub = Stub::start(Behaviour::default());
    let relay = Relay::start(|s| s.to_string());
    let relay_url = format!(
        "http://relay.example.test:{}/oauth/relay",
        relay.addr.port()
    );
    let project = Project::new(&config_with(&stub, "redirectUrl", json!(relay_url)));
    let tunnel = LoopbackTunnel::default();
    run_with(
        &tunnel_options(&project),
        &FakeTerminal::default(),
        &RelayBrowser(relay.addr),
        &tunnel,
        SystemTime::now(),
    )
    .unwrap();
    let (redirect_uri, state) = stub.seen(|s| {
        (
            s.authorize_queries[0]["redirect_uri"].clone(),
            s.authorize_queries[0]["state"].clone(),
        )
    });
    assert_eq!(redirect_uri, relay_url, "the relay's URL, byte for byte");
    assert_eq!(
        stub.seen(|s| s.token_forms[0]["redirect_uri"].clone()),
        relay_url
    );
    let (nonce, to) = state.split_once('.').expect("nonce.address");
    assert_eq!(nonce.len(), 43);
    let to = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(to)
        .unwrap();
    assert_eq!(
        String::from_utf8(to).unwrap(),
        format!("{}/oauth/relay", tunnel.public_url())
    );
    assert!(tunnel.forwarded.load(Ordering::SeqCst) >= 1);
    assert!(project.account("development")["accessToken"].is_string());
}

/// Without a tunnel the relay is told the loopback address; a relay that tampers with the
/// address part of `state` gets no pass, and the real callback still succeeds after it.
#[test]
fn a_relay_without_a_tunnel_sends_the_browser_to_loopback_and_cannot_forge_state() {
    let stub = Stub::start(Behaviour::default());
    let relay = Relay::start(|s| s.to_string());
    let relay_url = format!("http://relay.example.test:{}/cb", relay.addr.port());
    let project = Project::new(&config_with(&stub, "redirectUrl", json!(relay_url)));
    let run = project.oauth2(&["oauth2", "--no-browser", "--port", "0"]);
    let login = run.login_url();
    assert_eq!(
        query_param(&login, "redirect_uri").as_deref(),
        Some(relay_url.as_str())
    );
    let state = query_param(&login, "state").unwrap();
    let (nonce, to) = state.split_once('.').unwrap();
    let to = String::from_utf8(
        base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(to)
            .unwrap(),
    )
    .unwrap();
    assert!(
        to.starts_with("http://127.0.0.1:") && to.ends_with("/cb"),
        "{to}"
    );

    // The nonce with another address: refused, and the login still waits.
    let forged = format!(
        "{nonce}.{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode("http://evil.example/cb")
    );
    let (status, page) = browse(&format!("{to}?code=fake-forged-code&state={forged}"));
    assert_eq!(status, 400, "{page}");
    assert_has(&page, "Not this login");

    let (status, page) = browse_resolving(&login, &[("relay.example.test", relay.addr)]);
    assert_eq!(status, 200, "{page}");
    assert_has(&page, "Signed in");
    let done = run.finish(&stub);
    assert_eq!(done.code, 0, "{}", done.all());
    assert_has(
        &done.stderr,
        &format!("which must send the browser on to {to}"),
    );
}

// ---- the real ngrok client, offline ----

#[test]
fn tunnel_without_an_authtoken_fails_before_any_network_call() {
    let stub = Stub::start(Behaviour::default());
    let project = Project::new(&config(&stub));
    let before = project.text();
    // Were the client to try, this is where it would connect.
    let server = TcpListener::bind("127.0.0.1:0").unwrap();
    server.set_nonblocking(true).unwrap();
    let addr = server.local_addr().unwrap().to_string();
    let done = project
        .oauth2_env(
            &["oauth2", "--tunnel", "--no-browser"],
            &[("NGROK_SERVER_ADDR", &addr)],
        )
        .finish(&stub);
    assert_eq!(done.code, 1, "{}", done.all());
    assert_has(
        &done.stderr,
        "a tunnel needs an ngrok authtoken, and NGROK_AUTHTOKEN is not set",
    );
    assert_has(
        &done.stderr,
        "https://dashboard.ngrok.com/get-started/your-authtoken",
    );
    assert!(server.accept().is_err(), "a connection was made");
    assert!(!done.all().contains("/authorize?"), "a login URL was shown");
    assert_eq!(project.text(), before);
}

#[test]
fn an_unreachable_ngrok_server_is_a_clear_error_without_the_authtoken() {
    let stub = Stub::start(Behaviour::default());
    let project = Project::new(&config(&stub));
    let closed = {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().to_string()
    };
    let authtoken = "fake-ngrok-authtoken-0123456789";
    stub.remember(authtoken);
    let done = project
        .oauth2_env(
            &["oauth2", "--tunnel", "--no-browser"],
            &[
                ("NGROK_AUTHTOKEN", authtoken),
                ("NGROK_SERVER_ADDR", &closed),
            ],
        )
        .finish(&stub);
    assert_eq!(done.code, 1, "{}", done.all());
    assert_has(&done.stderr, "error: could not open the ngrok tunnel: ");
    assert_has(&done.stderr, "Connection refused");
    assert_has(&done.stderr, "hint: live tunnels need internet access");
}

#[test]
fn an_ngrok_server_that_never_answers_times_out() {
    let stub = Stub::start(Behaviour::default());
    let project = Project::new(&config(&stub));
    // Accepts connections and says nothing, as a black-holed network would.
    let silent = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = silent.local_addr().unwrap().to_string();
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let stopping = stop.clone();
    let held = std::thread::spawn(move || {
        let mut conns = Vec::new();
        silent.set_nonblocking(true).unwrap();
        while !stopping.load(Ordering::SeqCst) {
            if let Ok((c, _)) = silent.accept() {
                conns.push(c);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        conns.len()
    });
    let done = project
        .oauth2_env(
            &[
                "oauth2",
                "--tunnel",
                "--no-browser",
                "--tunnel-timeout",
                "1",
            ],
            &[
                ("NGROK_AUTHTOKEN", "fake-ngrok-authtoken-0123456789"),
                ("NGROK_SERVER_ADDR", &addr),
            ],
        )
        .finish(&stub);
    assert_eq!(done.code, 1, "{}", done.all());
    assert_has(
        &done.stderr,
        "error: ngrok did not open the tunnel within 1 s",
    );
    assert_has(&done.stderr, "--tunnel-timeout");
    stop.store(true, Ordering::SeqCst);
    assert!(
        held.join().unwrap() >= 1,
        "the client never reached the server"
    );
}

#[test]
fn a_redirect_url_on_an_ngrok_domain_opens_the_tunnel_on_that_domain() {
    let stub = Stub::start(Behaviour::default());
    let project = Project::new(&config_with(
        &stub,
        "redirectUrl",
        json!("https://my-reserved.ngrok.app/oauth/callback"),
    ));
    let tunnel = LoopbackTunnel {
        drop_after: Some(Duration::from_millis(100)),
        ..LoopbackTunnel::default()
    };
    let _ = run_with(
        &tunnel_options(&project),
        &FakeTerminal::default(),
        &FakeBrowser { works: false },
        &tunnel,
        SystemTime::now(),
    );
    assert_eq!(
        tunnel.opened.lock().unwrap()[0].1.as_deref(),
        Some("my-reserved.ngrok.app")
    );
}

#[test]
fn a_loopback_redirect_url_with_a_tunnel_is_a_clear_error() {
    let stub = Stub::start(Behaviour::default());
    let project = Project::new(&config_with(
        &stub,
        "redirectUrl",
        json!("http://127.0.0.1:9002/callback"),
    ));
    let done = project
        .oauth2_env(
            &["oauth2", "--tunnel", "--no-browser"],
            &[("NGROK_AUTHTOKEN", "fake-ngrok-authtoken-0123456789")],
        )
        .finish(&stub);
    assert_eq!(done.code, 1);
    assert_has(
        &done.stderr,
        "is a loopback URL, which a tunnel cannot serve",
    );
}
