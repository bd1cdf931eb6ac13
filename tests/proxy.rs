//! `proxy` under hostile and careless input: which addresses it calls the connector at, the
//! headers it owns, what it logs, and the clients and connectors that send or answer
//! nothing. The connector here is a plain socket server that records each request's head,
//! so a test can hold an answer back or trickle it; the test account's tokens are fresh in
//! the file, so no token endpoint is needed.

mod support;

use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use integration_cli::proxy;
use serde_json::{Value, json};
use support::*;

const TOKEN: &str = "fake-access-token-for-the-proxy";

/// A project whose test account holds a token good for centuries; `secrets` at the top
/// level when given.
fn project(secrets: Option<Value>) -> Project {
    let mut file = json!({
        "name": "fake-connector",
        "authorizations": [{
            "name": "oauth2",
            "method": "oauth2",
            "development": true,
            "oauth2": {
                "clientId": "fake-client-id",
                "clientSecret": "fake-client-secret",
                "authorizationUrl": "http://127.0.0.1:9/authorize",
                "tokenUrl": "http://127.0.0.1:9/token",
                "grantType": "authorization_code",
                "scopes": []
            }
        }],
        "testAccounts": {"development": {
            "accessToken": TOKEN,
            "refreshToken": "fake-refresh-token",
            "expiresAt": "2999-01-01T00:00:00Z"
        }}
    });
    if let Some(secrets) = secrets {
        file["secrets"] = secrets;
    }
    Project::new(&file)
}

/// `proxy --to TO --listen 127.0.0.1:0 EXTRA...` and the address it serves at.
fn start(project: &Project, to: &str, extra: &[&str]) -> (Run, String) {
    start_with(project, to, extra, |_| {})
}

fn start_with(
    project: &Project,
    to: &str,
    extra: &[&str],
    shape: impl FnOnce(&mut std::process::Command),
) -> (Run, String) {
    let mut args = vec!["proxy", "--to", to, "--listen", "127.0.0.1:0"];
    args.extend_from_slice(extra);
    let run = project.oauth2_with(&args, &[], shape);
    let url = run.proxy_url();
    (run, url)
}

/// A connector on a socket of its own: answers `200 ok` on a kept-alive connection; on
/// `/silent` reads the request and never answers; on `/stream` sends its head at once and
/// five events `TRICKLE` apart. Stops with its connections when dropped.
struct Fake {
    addr: SocketAddr,
    /// Every request's head, as it arrived.
    heads: Arc<Mutex<Vec<String>>>,
    stop: Arc<AtomicBool>,
    acceptor: Option<JoinHandle<()>>,
}

const TRICKLE: Duration = Duration::from_millis(250);

impl Fake {
    fn start(bind: &str) -> Fake {
        let listener = TcpListener::bind(bind).unwrap();
        listener.set_nonblocking(true).unwrap();
        let addr = listener.local_addr().unwrap();
        let heads = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let (seen, stopping) = (heads.clone(), stop.clone());
        let acceptor = std::thread::spawn(move || {
            let mut served = Vec::new();
            while !stopping.load(Ordering::SeqCst) {
                match listener.accept() {
                    Ok((conn, _)) => {
                        let (seen, stopping) = (seen.clone(), stopping.clone());
                        served.push(std::thread::spawn(move || answer(conn, &seen, &stopping)));
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(5)),
                }
            }
            served.into_iter().for_each(|t| t.join().unwrap());
        });
        Fake {
            addr,
            heads,
            stop,
            acceptor: Some(acceptor),
        }
    }

    fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    fn heads(&self) -> Vec<String> {
        self.heads.lock().unwrap().clone()
    }
}

impl Drop for Fake {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = self.acceptor.take().map(JoinHandle::join);
    }
}

/// The requests of one connection, one after the other, until it closes or the stop.
fn answer(mut conn: TcpStream, seen: &Mutex<Vec<String>>, stop: &AtomicBool) {
    conn.set_nonblocking(false).unwrap();
    conn.set_read_timeout(Some(Duration::from_millis(20)))
        .unwrap();
    let mut buffer = Vec::new();
    while let Some(head) = read_head(&mut conn, &mut buffer, stop) {
        seen.lock().unwrap().push(head.clone());
        let length = head
            .lines()
            .find_map(|l| {
                l.to_ascii_lowercase()
                    .strip_prefix("content-length:")
                    .map(|v| v.trim().parse().unwrap())
            })
            .unwrap_or(0usize);
        while buffer.len() < length && !stop.load(Ordering::SeqCst) {
            let _ = read_some(&mut conn, &mut buffer);
        }
        buffer.drain(..length.min(buffer.len()));
        let sent = match head.split_whitespace().nth(1) {
            Some("/silent") => {
                while !stop.load(Ordering::SeqCst) {
                    std::thread::sleep(Duration::from_millis(5));
                }
                return;
            }
            Some("/stream") => trickle(&mut conn),
            _ => conn.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"),
        };
        if sent.is_err() {
            return;
        }
    }
}

fn trickle(conn: &mut TcpStream) -> std::io::Result<()> {
    conn.write_all(
        b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nContent-Length: 45\r\n\r\n",
    )?;
    for i in 0..5 {
        if i > 0 {
            std::thread::sleep(TRICKLE);
        }
        conn.write_all(format!("data: {i}\n\n").as_bytes())?;
    }
    Ok(())
}

/// A request's head (without its blank line), or none when the connection closed first.
fn read_head(conn: &mut TcpStream, buffer: &mut Vec<u8>, stop: &AtomicBool) -> Option<String> {
    loop {
        if let Some(end) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buffer[..end]).into_owned();
            buffer.drain(..end + 4);
            return Some(head);
        }
        if stop.load(Ordering::SeqCst) || !read_some(conn, buffer) {
            return None;
        }
    }
}

/// Reads what has come (waiting a little); false once the connection is closed.
fn read_some(conn: &mut TcpStream, buffer: &mut Vec<u8>) -> bool {
    let mut chunk = [0u8; 4096];
    match conn.read(&mut chunk) {
        Ok(0) => false,
        Ok(n) => {
            buffer.extend_from_slice(&chunk[..n]);
            true
        }
        Err(e) => matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut),
    }
}

/// The proxy's `host:port`, from its URL.
fn address(url: &str) -> String {
    url.trim_start_matches("http://").to_string()
}

/// A raw connection to the proxy that has sent `bytes` (none, half a head, a whole request).
fn connection(url: &str, bytes: &[u8]) -> TcpStream {
    let mut conn = TcpStream::connect(address(url)).unwrap();
    conn.write_all(bytes).unwrap();
    conn
}

/// Waits (bounded by `within`) for the other side to close `conn`; what was read until then,
/// or none if it stayed open.
fn closed_within(conn: &mut TcpStream, within: Duration) -> Option<Vec<u8>> {
    conn.set_read_timeout(Some(within)).unwrap();
    let mut read = Vec::new();
    match conn.read_to_end(&mut read) {
        Ok(_) => Some(read),
        Err(e) if e.kind() == ErrorKind::ConnectionReset => Some(read),
        Err(_) => None,
    }
}

fn client(timeout: Duration) -> reqwest::blocking::Client {
    reqwest::blocking::Client::builder()
        .timeout(timeout)
        .no_proxy()
        .build()
        .unwrap()
}

#[test]
fn a_connector_on_the_ipv6_loopback_is_called_at_its_bracketed_address() {
    let fake = Fake::start("[::1]:0");
    let project = project(None);
    let (proxy, url) = start(&project, &fake.url(), &[]);
    let r = client(Duration::from_secs(10))
        .get(format!("{url}/me"))
        .send()
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.text().unwrap(), "ok");
    let heads = fake.heads();
    assert_has(&heads[0], &format!("host: [::1]:{}", fake.addr.port()));
    drop(proxy);
}

/// Each new connection to the connector goes to the addresses checked at start, in order:
/// `rebind.invalid` (which no resolver answers) is reached at the one it was pinned to.
#[tokio::test]
async fn a_connector_name_is_resolved_once_and_only_its_checked_addresses_are_called() {
    let live = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = live.local_addr().unwrap().port();
    let to = proxy::to(&format!("http://rebind.invalid:{port}/base/")).unwrap();
    let gone = TcpListener::bind("[::1]:0").unwrap().local_addr().unwrap();
    let pinned = to
        .pin(vec![
            gone,
            live.local_addr().unwrap(),
            live.local_addr().unwrap(),
        ])
        .unwrap();
    assert_eq!(pinned.addrs, vec![gone, live.local_addr().unwrap()]);
    assert_eq!(pinned.authority, format!("rebind.invalid:{port}"));
    assert_eq!(pinned.base, "/base");
    for _ in 0..3 {
        let (_, at) = pinned.connect().await.unwrap();
        assert_eq!(at, live.local_addr().unwrap(), "the first that accepts");
    }

    // A set with one address elsewhere is refused whole: no credentials to it, ever.
    let elsewhere: SocketAddr = format!("192.0.2.1:{port}").parse().unwrap();
    let refused = to
        .pin(vec![live.local_addr().unwrap(), elsewhere])
        .unwrap_err();
    assert_has(&refused.to_string(), "must run on this machine");
    assert_has(&refused.to_string(), "192.0.2.1");
    assert_eq!(refused.exit_code(), 2);
    assert!(to.pin(vec![]).is_err(), "a name that resolves to nothing");
}

#[test]
fn verbose_says_which_addresses_a_name_resolved_to_and_which_one_answered() {
    let fake = Fake::start("127.0.0.1:0");
    let project = project(None);
    let to = format!("http://localhost:{}", fake.addr.port());
    let (proxy, url) = start(&project, &to, &["-v"]);
    // Said before the first line `start` waits for. `localhost` may also be ::1 here, first
    // or not: the fake listens on 127.0.0.1 alone, so that is the one that answers.
    let said = proxy.stderr_so_far();
    let resolved = said
        .lines()
        .find(|l| l.contains("resolved once, to"))
        .unwrap_or_else(|| panic!("{said}"));
    assert_has(resolved, &format!("127.0.0.1:{}", fake.addr.port()));
    let r = client(Duration::from_secs(10))
        .get(format!("{url}/me"))
        .send()
        .unwrap();
    assert_eq!(r.status(), 200);
    proxy.wait_for(&format!(
        "connected to the connector at 127.0.0.1:{}",
        fake.addr.port()
    ));
    assert_has(
        &fake.heads()[0],
        &format!("host: localhost:{}", fake.addr.port()),
    );
}

#[test]
fn a_connector_off_this_machine_is_refused_before_anything_listens() {
    let project = project(None);
    let done = project
        .oauth2(&[
            "proxy",
            "--to",
            "http://192.0.2.1:9200",
            "--listen",
            "127.0.0.1:0",
        ])
        .wait();
    assert_eq!(done.code, 2, "{}", done.all());
    assert_has(&done.stderr, "on this machine");
    assert!(!done.stderr.contains("Proxying"), "{}", done.stderr);
}

/// The proxy owns `X-Unito-Secrets` as it owns `X-Unito-Credentials`: with no plain
/// secrets in the file, a client's own does not reach the connector.
#[test]
fn a_clients_own_secrets_header_never_reaches_the_connector() {
    let fake = Fake::start("127.0.0.1:0");
    for secrets in [None, Some(json!({"signingKey": "unito-secret-v1://fake"}))] {
        let project = project(secrets);
        let (proxy, url) = start(&project, &fake.url(), &[]);
        let r = client(Duration::from_secs(10))
            .get(format!("{url}/me"))
            .header("X-Unito-Secrets", "fake-client-secrets")
            .header("X-Unito-Credentials", "fake-client-credentials")
            .send()
            .unwrap();
        assert_eq!(r.status(), 200);
        let head = fake.heads().pop().unwrap().to_ascii_lowercase();
        assert!(!head.contains("x-unito-secrets"), "{head}");
        assert!(!head.contains("fake-client"), "{head}");
        assert_has(&head, "x-unito-credentials: ");
        drop(proxy);
    }
}

#[test]
fn json_lines_write_bidi_and_c1_controls_of_a_path_as_escapes() {
    let fake = Fake::start("127.0.0.1:0");
    let project = project(None);
    let (proxy, url) = start(&project, &fake.url(), &["--json"]);
    let path = "/a\u{202E}b\u{0085}c\u{2066}d";
    let mut conn = connection(
        &url,
        format!(
            "GET {path} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\r\n",
            address(&url)
        )
        .as_bytes(),
    );
    let answer = closed_within(&mut conn, Duration::from_secs(10)).expect("an answer");
    assert!(answer.starts_with(b"HTTP/1.1 200"), "{answer:?}");
    proxy.interrupt();
    let done = proxy.wait();
    let line = done.stdout.lines().next().expect("a line");
    assert!(
        !line.contains(['\u{202E}', '\u{0085}', '\u{2066}']),
        "raw controls: {line:?}"
    );
    assert_has(line, r"\u202e");
    assert_has(line, r"\u0085");
    let read: Value = serde_json::from_str(line).unwrap();
    assert_eq!(read["path"], path, "the same string to a JSON reader");
}

/// A connector that never answers: the client gets a 504 naming the timeout; one that
/// answers at once and streams for longer than the timeout is not cut.
#[test]
fn a_connector_that_never_answers_gets_the_client_a_504_but_a_long_stream_passes_whole() {
    let fake = Fake::start("127.0.0.1:0");
    let project = project(None);
    let (proxy, url) = start(&project, &fake.url(), &["--upstream-timeout", "0.5"]);
    let started = Instant::now();
    let r = client(Duration::from_secs(20))
        .get(format!("{url}/silent"))
        .send()
        .unwrap();
    let took = started.elapsed();
    assert_eq!(r.status(), 504);
    let body: Value = serde_json::from_str(&r.text().unwrap()).unwrap();
    assert_has(body["error"].as_str().unwrap(), "within 0.5 s");
    assert_has(body["error"].as_str().unwrap(), "--upstream-timeout");
    assert_has(body["hint"].as_str().unwrap(), "--upstream-timeout SECS");
    assert!(took >= Duration::from_millis(500), "{took:?}");

    let started = Instant::now();
    let r = client(Duration::from_secs(20))
        .get(format!("{url}/stream"))
        .send()
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_has(&r.text().unwrap(), "data: 4");
    assert!(started.elapsed() >= TRICKLE * 4, "longer than the timeout");
    drop(proxy);
}

/// Three hundred connections that sent half a head, against a proxy that may open 256
/// files: the real client is still served, as the oldest half-sent ones give way.
#[test]
fn half_sent_connections_never_lock_out_the_real_client() {
    let fake = Fake::start("127.0.0.1:0");
    let project = project(None);
    let (proxy, url) = start_with(&project, &fake.url(), &[], |command| {
        use std::os::unix::process::CommandExt;
        // SAFETY: setrlimit is async-signal-safe; nothing else runs in the child here.
        unsafe {
            command.pre_exec(|| {
                let limit = libc::rlimit {
                    rlim_cur: 256,
                    rlim_max: 256,
                };
                match libc::setrlimit(libc::RLIMIT_NOFILE, &limit) {
                    0 => Ok(()),
                    _ => Err(std::io::Error::last_os_error()),
                }
            });
        }
    });
    let half = format!("GET /me HTTP/1.1\r\nHost: {}\r\n", address(&url));
    let held: Vec<TcpStream> = (0..300)
        .map(|_| connection(&url, half.as_bytes()))
        .collect();
    let r = client(Duration::from_secs(10))
        .get(format!("{url}/me"))
        .send()
        .expect("the real client is served");
    assert_eq!(r.status(), 200);
    drop(held);
    drop(proxy);
}

/// A connection that sends half a head, or none, or nothing more after an answer, is closed
/// once `--header-timeout` has passed; one answered meanwhile is not cut.
#[test]
fn a_client_that_does_not_finish_its_head_in_time_is_closed() {
    let fake = Fake::start("127.0.0.1:0");
    let project = project(None);
    let (proxy, url) = start(&project, &fake.url(), &["--header-timeout", "0.5"]);
    let host = address(&url);
    let started = Instant::now();
    let half = format!("GET /me HTTP/1.1\r\nHost: {host}\r\n");
    let mut half = connection(&url, half.as_bytes());
    let mut never = connection(&url, b"");
    let whole = format!("GET /me HTTP/1.1\r\nHost: {host}\r\n\r\n");
    let mut idle = connection(&url, whole.as_bytes());
    for (what, conn) in [
        ("half", &mut half),
        ("never", &mut never),
        ("idle", &mut idle),
    ] {
        let read = closed_within(conn, Duration::from_secs(10))
            .unwrap_or_else(|| panic!("{what}: not closed by the proxy"));
        assert!(started.elapsed() >= Duration::from_millis(500), "{what}");
        if what == "idle" {
            assert!(
                read.ends_with(b"ok"),
                "{:?}",
                String::from_utf8_lossy(&read)
            );
        }
    }
    assert_eq!(
        fake.heads().len(),
        1,
        "only the whole request reached the connector"
    );
    drop(proxy);
}

/// Ctrl-C: connections idle after a request, or that never sent one (or only half), are
/// closed at once; the request in flight is answered whole; the proxy then exits.
#[test]
fn ctrl_c_closes_idle_connections_at_once_and_finishes_the_request_in_flight() {
    let fake = Fake::start("127.0.0.1:0");
    let project = project(None);
    let (proxy, url) = start(&project, &fake.url(), &[]);
    let host = address(&url);
    let mut never = connection(&url, b"");
    let mut half = connection(
        &url,
        format!("GET /me HTTP/1.1\r\nHost: {host}\r\n").as_bytes(),
    );
    let mut kept = connection(
        &url,
        format!("GET /me HTTP/1.1\r\nHost: {host}\r\n\r\n").as_bytes(),
    );
    let mut answer = [0u8; 256];
    let mut whole = Vec::new();
    while !whole.ends_with(b"ok") {
        let n = kept.read(&mut answer).unwrap();
        assert!(n > 0, "{:?}", String::from_utf8_lossy(&whole));
        whole.extend_from_slice(&answer[..n]);
    }
    let mut streaming = connection(
        &url,
        format!("GET /stream HTTP/1.1\r\nHost: {host}\r\n\r\n").as_bytes(),
    );
    let mut first = Vec::new();
    while !String::from_utf8_lossy(&first).contains("data: 0") {
        let n = streaming.read(&mut answer).unwrap();
        assert!(n > 0, "the stream closed early");
        first.extend_from_slice(&answer[..n]);
    }

    let stopped = Instant::now();
    proxy.interrupt();
    for (what, conn) in [
        ("never", &mut never),
        ("half", &mut half),
        ("kept", &mut kept),
    ] {
        closed_within(conn, Duration::from_secs(10))
            .unwrap_or_else(|| panic!("{what} stayed open"));
        assert!(
            stopped.elapsed() < TRICKLE * 3,
            "{what}: closed only after {:?}",
            stopped.elapsed()
        );
    }
    let rest = closed_within(&mut streaming, Duration::from_secs(10)).expect("the stream ends");
    first.extend_from_slice(&rest);
    assert_has(&String::from_utf8_lossy(&first), "data: 4");
    let done = proxy.wait();
    assert_eq!(done.code, 0, "{}", done.all());
    assert!(
        stopped.elapsed() < Duration::from_secs(5),
        "exited after {:?}",
        stopped.elapsed()
    );
    assert_no_secrets(&done.all(), &[TOKEN.to_string()]);
}
