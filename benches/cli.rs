//! `scripts/bench.sh`: the release binary, timed as a user meets it, each figure a median over
//! repeated runs beside a baseline measured in the same run, so the ratio means something on
//! any machine:
//!
//! - start-up (`--version`, `oauth2 --help`) against spawning `true`;
//! - a refresh against a local token endpoint, against `curl` making the same single POST;
//! - callback to saved file, against the token endpoint's own time;
//! - peak RSS of a full login, against `true`'s; the binary's size;
//! - refresh time with 10, 1,000 and 10,000 test accounts in the file, against 10;
//! - `proxy` against a direct connection to the same upstream (and against nginx doing the
//!   same header injection, when it is installed): requests per second over 32 keep-alive
//!   connections, added latency at p50 and p99, peak RSS under that load.
//!
//! No timing here is a pass/fail test: targets are printed beside the figures.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_integration-cli");

/// A token endpoint that answers every POST at once with the same tokens, and keeps the
/// time it spent on each answer (from the request's first byte to the response sent).
struct TokenServer {
    url: String,
    handled_ns: Arc<AtomicU64>,
    handled: Arc<AtomicU64>,
    stop: Arc<AtomicBool>,
}

impl TokenServer {
    fn start() -> TokenServer {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let handled_ns = Arc::new(AtomicU64::new(0));
        let handled = Arc::new(AtomicU64::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let (ns, n, stopping) = (handled_ns.clone(), handled.clone(), stop.clone());
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                if stopping.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(mut conn) = conn else { continue };
                let (ns, n) = (ns.clone(), n.clone());
                std::thread::spawn(move || {
                    let mut reader = BufReader::new(conn.try_clone().unwrap());
                    let mut line = String::new();
                    if reader.read_line(&mut line).unwrap_or(0) == 0 {
                        return;
                    }
                    let started = Instant::now();
                    let mut length = 0;
                    loop {
                        let mut header = String::new();
                        reader.read_line(&mut header).unwrap();
                        if header == "\r\n" || header.is_empty() {
                            break;
                        }
                        if let Some(v) = header.to_ascii_lowercase().strip_prefix("content-length:")
                        {
                            length = v.trim().parse().unwrap_or(0);
                        }
                    }
                    let mut body = vec![0; length];
                    reader.read_exact(&mut body).unwrap();
                    let json = r#"{"access_token":"bench-access-token-0123456789","token_type":"Bearer","expires_in":3600,"refresh_token":"bench-refresh-token-0123456789","scope":"read"}"#;
                    let reply = format!(
                        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{json}",
                        json.len()
                    );
                    conn.write_all(reply.as_bytes()).unwrap();
                    ns.fetch_add(started.elapsed().as_nanos() as u64, Ordering::SeqCst);
                    n.fetch_add(1, Ordering::SeqCst);
                });
            }
        });
        TokenServer {
            url,
            handled_ns,
            handled,
            stop,
        }
    }

    /// Mean time spent per answer since the last call.
    fn take_mean(&self) -> Duration {
        let ns = self.handled_ns.swap(0, Ordering::SeqCst);
        let n = self.handled.swap(0, Ordering::SeqCst).max(1);
        Duration::from_nanos(ns / n)
    }
}

impl Drop for TokenServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = std::net::TcpStream::connect(self.url.trim_start_matches("http://"));
    }
}

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

fn time_runs(runs: usize, mut f: impl FnMut()) -> Duration {
    f(); // warm the page cache
    median(
        (0..runs)
            .map(|_| {
                let t = Instant::now();
                f();
                t.elapsed()
            })
            .collect(),
    )
}

fn run_quiet(cmd: &mut Command) {
    let status = cmd
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .unwrap();
    assert!(status.success(), "{cmd:?} failed");
}

/// A project whose development account holds a refresh token, with `extra` more accounts.
fn project(dir: &Path, token_url: &str, extra: usize) -> PathBuf {
    let mut accounts = serde_json::Map::new();
    accounts.insert(
        "development".into(),
        serde_json::json!({"accessToken": "bench-old-access", "refreshToken": "bench-refresh-token-0123456789"}),
    );
    for i in 0..extra {
        accounts.insert(
            format!("account-{i:05}"),
            serde_json::json!({"accessToken": format!("bench-access-{i}"), "refreshToken": format!("bench-refresh-{i}"), "expiresAt": "2030-01-01T00:00:00Z", "scope": "read write"}),
        );
    }
    let file = serde_json::json!({
        "name": "bench-connector",
        "authorizations": [{"name": "bench", "method": "oauth2", "oauth2": {
            "clientId": "bench-client", "clientSecret": "bench-secret",
            "authorizationUrl": format!("{token_url}/authorize"),
            "tokenUrl": format!("{token_url}/token"), "scopes": ["read"]}}],
        "testAccounts": accounts,
    });
    let path = dir.join(".unito.json");
    std::fs::write(&path, serde_json::to_string_pretty(&file).unwrap()).unwrap();
    path
}

fn refresh(config: &Path) {
    run_quiet(
        Command::new(BIN)
            .args(["oauth2", "--no-browser", "--config"])
            .arg(config),
    );
}

/// The binary, under GNU time when `timed` (its peak RSS then ends its stderr, see `maxrss`).
fn binary(timed: bool) -> Command {
    if !timed {
        return Command::new(BIN);
    }
    let mut c = Command::new("/usr/bin/time");
    c.args(["-f", "maxrss-kib=%M", BIN]);
    c
}

/// The peak RSS in KiB GNU time wrote among these stderr lines.
fn maxrss(lines: &[String]) -> Option<u64> {
    lines
        .iter()
        .find_map(|l| l.strip_prefix("maxrss-kib="))
        .and_then(|v| v.trim().parse().ok())
}

/// One login with `--no-browser`, the callback sent by hand. Returns the time from sending
/// the callback to its answer (the answer comes once the file is saved), and the peak RSS in
/// KiB when run under GNU time.
fn login(config: &Path, with_time: bool) -> (Duration, Option<u64>) {
    let mut cmd = binary(with_time);
    let mut child = cmd
        .args([
            "oauth2",
            "--no-browser",
            "--reauth",
            "--port",
            "0",
            "--config",
        ])
        .arg(config)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let url = loop {
        let line = lines.next().expect("a login URL").unwrap();
        if let Some(u) = line
            .trim()
            .strip_prefix("http")
            .filter(|u| u.contains("/authorize?"))
        {
            break format!("http{u}");
        }
    };
    let url = url::Url::parse(&url).unwrap();
    let q: std::collections::HashMap<_, _> = url.query_pairs().into_owned().collect();
    let callback = url::Url::parse(&q["redirect_uri"]).unwrap();
    let started = Instant::now();
    let mut conn =
        std::net::TcpStream::connect((callback.host_str().unwrap(), callback.port().unwrap()))
            .unwrap();
    write!(
        conn,
        "GET {}?code=bench-code&state={} HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nConnection: close\r\n\r\n",
        callback.path(),
        q["state"],
        callback.port().unwrap()
    )
    .unwrap();
    let mut page = String::new();
    conn.read_to_string(&mut page).unwrap();
    let took = started.elapsed();
    assert!(page.contains("Signed in"), "{page}");
    let rest: Vec<String> = lines.map_while(Result::ok).collect();
    assert!(child.wait().unwrap().success(), "{rest:?}");
    (took, maxrss(&rest))
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1000.0)
}

fn row(figure: &str, value: &str, baseline: &str, ratio: f64, target: &str) {
    println!("| {figure} | {value} | {baseline} | {ratio:.2}x | {target} |");
}

fn main() {
    // `cargo bench` (scripts/bench.sh) passes --bench. `cargo test --all-targets` runs this
    // binary too, without it: then one quick pass proves the harness still works, and prints
    // no figures anyone should quote.
    let smoke = !std::env::args().any(|a| a == "--bench");
    let runs: usize = if smoke {
        1
    } else {
        std::env::var("BENCH_RUNS")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(30)
    };
    if smoke {
        println!("(a smoke run under cargo test: one run per figure; scripts/bench.sh measures)");
    }
    let server = TokenServer::start();
    // BENCH_ONLY=proxy: only the proxy's figures (they take the longest to settle).
    if std::env::var("BENCH_ONLY").as_deref() == Ok("proxy") {
        println!("| figure | median | baseline, same run | ratio | target |");
        println!("| --- | --- | --- | --- | --- |");
        proxy_bench(smoke, &server.url);
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|c| {
            c.lines()
                .find(|l| l.starts_with("model name"))
                .map(|l| l.split(':').nth(1).unwrap_or("").trim().to_string())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    println!(
        "integration-cli {} (release), {runs} runs per figure, medians; {cpu}, {cores} cores\n",
        env!("CARGO_PKG_VERSION")
    );
    println!("| figure | median | baseline, same run | ratio | target |");
    println!("| --- | --- | --- | --- | --- |");

    let spawn_true = time_runs(runs, || run_quiet(&mut Command::new("true")));
    let version = time_runs(runs, || run_quiet(Command::new(BIN).arg("--version")));
    row(
        "start-up: `--version`",
        &ms(version),
        &format!("`true`: {}", ms(spawn_true)),
        version.as_secs_f64() / spawn_true.as_secs_f64(),
        "< 5 ms",
    );
    let help = time_runs(runs, || {
        run_quiet(Command::new(BIN).args(["oauth2", "--help"]))
    });
    row(
        "start-up: `oauth2 --help`",
        &ms(help),
        &format!("`true`: {}", ms(spawn_true)),
        help.as_secs_f64() / spawn_true.as_secs_f64(),
        "< 5 ms",
    );

    let config = project(dir.path(), &server.url, 0);
    let token_url = format!("{}/token", server.url);
    let curl = time_runs(runs, || {
        run_quiet(Command::new("curl").args([
            "-s",
            "-o",
            "/dev/null",
            "-u",
            "bench-client:bench-secret",
            "-d",
            "grant_type=refresh_token",
            "-d",
            "refresh_token=bench-refresh-token-0123456789",
            &token_url,
        ]))
    });
    let ours = time_runs(runs, || refresh(&config));
    row(
        "refresh (read, POST, save)",
        &ms(ours),
        &format!("`curl`, same POST: {}", ms(curl)),
        ours.as_secs_f64() / curl.as_secs_f64(),
        "<= 1.5x",
    );

    server.take_mean();
    let callback = median((0..runs).map(|_| login(&config, false).0).collect());
    let endpoint = server.take_mean();
    row(
        "callback to saved file",
        &ms(callback),
        &format!("token endpoint's own time: {}", ms(endpoint)),
        callback.as_secs_f64() / endpoint.as_secs_f64().max(1e-9),
        &format!(
            "< 5 ms beyond it (here {})",
            ms(callback.saturating_sub(endpoint))
        ),
    );

    if Path::new("/usr/bin/time").exists() {
        let (_, rss) = login(&config, true);
        let true_rss = {
            let out = Command::new("/usr/bin/time")
                .args(["-f", "%M", "true"])
                .output()
                .unwrap();
            String::from_utf8_lossy(&out.stderr)
                .trim()
                .parse::<u64>()
                .unwrap_or(0)
        };
        if let Some(rss) = rss {
            row(
                "peak RSS, full login",
                &format!("{:.1} MiB", rss as f64 / 1024.0),
                &format!("`true`: {:.1} MiB", true_rss as f64 / 1024.0),
                rss as f64 / true_rss.max(1) as f64,
                "< 20 MiB",
            );
        }
    }
    let size = std::fs::metadata(BIN).map(|m| m.len()).unwrap_or(0);
    println!(
        "| release binary size | {:.1} MiB | | | |",
        size as f64 / (1024.0 * 1024.0)
    );

    let mut base = None;
    let sizes: &[usize] = if smoke {
        &[10, 100]
    } else {
        &[10, 1_000, 10_000]
    };
    for &accounts in sizes {
        let d = tempfile::tempdir().unwrap();
        let config = project(d.path(), &server.url, accounts);
        let bytes = std::fs::metadata(&config).unwrap().len();
        let t = time_runs(runs.min(15), || refresh(&config));
        let base_t = *base.get_or_insert(t);
        row(
            &format!("refresh, {accounts} test accounts ({} KiB)", bytes / 1024),
            &ms(t),
            &format!("10 accounts: {}", ms(base_t)),
            t.as_secs_f64() / base_t.as_secs_f64(),
            "no worse than linear",
        );
    }

    proxy_bench(smoke, &server.url);
}

/// An upstream that answers every request at once, keep-alive, on its own runtime.
fn upstream() -> (String, std::thread::JoinHandle<()>) {
    let (tx, rx) = std::sync::mpsc::channel();
    let thread = std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            tx.send(format!("{}", listener.local_addr().unwrap()))
                .unwrap();
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                let _ = stream.set_nodelay(true);
                tokio::spawn(async move {
                    let service = hyper::service::service_fn(|_req| async {
                        Ok::<_, std::convert::Infallible>(hyper::Response::new(
                            http_body_util::Full::new(bytes::Bytes::from_static(b"ok")),
                        ))
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
                        .await;
                });
            }
        });
    });
    (rx.recv().unwrap(), thread)
}

/// A keep-alive connection sending `GET /bench` and reading the answer whole.
struct Conn {
    writer: std::net::TcpStream,
    reader: BufReader<std::net::TcpStream>,
    request: String,
}

impl Conn {
    fn open(addr: &str) -> Conn {
        let stream = std::net::TcpStream::connect(addr).unwrap();
        stream.set_nodelay(true).unwrap();
        Conn {
            writer: stream.try_clone().unwrap(),
            reader: BufReader::new(stream),
            request: format!("GET /bench HTTP/1.1\r\nHost: {addr}\r\n\r\n"),
        }
    }

    /// One request: how long until its answer was read.
    fn get(&mut self) -> Duration {
        let t = Instant::now();
        self.writer.write_all(self.request.as_bytes()).unwrap();
        let mut length = 0;
        let mut status = String::new();
        self.reader.read_line(&mut status).unwrap();
        assert!(status.contains(" 200 "), "{status}");
        loop {
            let mut header = String::new();
            self.reader.read_line(&mut header).unwrap();
            if header == "\r\n" {
                break;
            }
            if let Some(v) = header.to_ascii_lowercase().strip_prefix("content-length:") {
                length = v.trim().parse().unwrap();
            }
        }
        let mut body = vec![0; length];
        self.reader.read_exact(&mut body).unwrap();
        t.elapsed()
    }
}

/// `connections` keep-alive connections to `addr`, each sending GET requests one after the
/// other for `period`: requests per second, and every request's latency.
fn load(addr: &str, connections: usize, period: Duration) -> (f64, Vec<Duration>) {
    let until = Instant::now() + period;
    let started = Instant::now();
    let latencies: Vec<Vec<Duration>> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..connections)
            .map(|_| {
                scope.spawn(move || {
                    let mut conn = Conn::open(addr);
                    let mut took = Vec::new();
                    while Instant::now() < until {
                        took.push(conn.get());
                    }
                    took
                })
            })
            .collect();
        workers.into_iter().map(|w| w.join().unwrap()).collect()
    });
    let all: Vec<Duration> = latencies.into_iter().flatten().collect();
    let rps = all.len() as f64 / started.elapsed().as_secs_f64();
    (rps, all)
}

/// One request at a time, to `a` and `b` in turn on one connection each, so both meet the
/// same machine (a lone connection's latency swings with the CPUs' idle states).
fn paired(a: &str, b: &str, period: Duration) -> (Vec<Duration>, Vec<Duration>) {
    let until = Instant::now() + period;
    let (mut to_a, mut to_b) = (Conn::open(a), Conn::open(b));
    let (mut took_a, mut took_b) = (Vec::new(), Vec::new());
    while Instant::now() < until {
        took_a.push(to_a.get());
        took_b.push(to_b.get());
    }
    (took_a, took_b)
}

fn percentile(samples: &mut [Duration], p: f64) -> Duration {
    samples.sort();
    samples[((samples.len() as f64 * p) as usize).min(samples.len() - 1)]
}

/// The proxy, started from the binary (under GNU time when there, for its peak RSS).
struct ProxyRun {
    child: std::process::Child,
    addr: String,
    stderr: std::thread::JoinHandle<Vec<String>>,
}

fn start_proxy(config: &Path, to: &str) -> ProxyRun {
    let mut cmd = binary(Path::new("/usr/bin/time").exists());
    let mut child = cmd
        .args([
            "proxy",
            "--to",
            &format!("http://{to}"),
            "--listen",
            "127.0.0.1:0",
            "--config",
        ])
        .arg(config)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let addr = loop {
        let line = lines.next().expect("the proxy's banner").unwrap();
        if let Some(rest) = line.strip_prefix("Proxying http://") {
            break rest.split_whitespace().next().unwrap().to_string();
        }
    };
    let stderr = std::thread::spawn(move || lines.map_while(Result::ok).collect());
    ProxyRun {
        child,
        addr,
        stderr,
    }
}

impl ProxyRun {
    /// Stops it (Ctrl-C) and returns its peak RSS in KiB, if measured.
    fn stop(mut self) -> Option<u64> {
        let _ = Command::new("kill")
            .args(["-INT", &self.child.id().to_string()])
            .status();
        // Under GNU time, the signal goes to time's child too (same group is not assumed).
        let _ = Command::new("pkill")
            .args(["-INT", "-P", &self.child.id().to_string()])
            .status();
        let _ = self.child.wait();
        maxrss(&self.stderr.join().unwrap_or_default())
    }
}

/// nginx doing what the proxy does (a fixed header added, keep-alive upstream), when it is
/// installed: its address, and the process to stop.
fn start_nginx(dir: &Path, to: &str) -> Option<(String, std::process::Child)> {
    let nginx = ["/usr/sbin/nginx", "/usr/bin/nginx"]
        .into_iter()
        .find(|p| Path::new(p).exists())?;
    let port = TcpListener::bind("127.0.0.1:0")
        .ok()?
        .local_addr()
        .ok()?
        .port();
    let conf = dir.join("nginx.conf");
    std::fs::write(
        &conf,
        format!(
            "daemon off; worker_processes auto; pid {dir}/nginx.pid; error_log {dir}/error.log;\n\
             events {{ worker_connections 1024; }}\n\
             http {{ access_log off; client_body_temp_path {dir}; proxy_temp_path {dir};\n\
               keepalive_requests 10000000; keepalive_timeout 300s;\n\
               upstream app {{ server {to}; keepalive 64; keepalive_requests 10000000; }}\n\
               server {{ listen 127.0.0.1:{port}; location / {{ proxy_pass http://app;\n\
                 proxy_http_version 1.1; proxy_set_header Connection \"\";\n\
                 proxy_set_header X-Unito-Credentials \"eyJhY2Nlc3NUb2tlbiI6ImJlbmNoIn0=\"; }} }} }}\n",
            dir = dir.display()
        ),
    )
    .ok()?;
    let child = Command::new(nginx)
        .args(["-c"])
        .arg(&conf)
        .args(["-p"])
        .arg(dir)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .ok()?;
    let addr = format!("127.0.0.1:{port}");
    let deadline = Instant::now() + Duration::from_secs(5);
    while std::net::TcpStream::connect(&addr).is_err() {
        if Instant::now() > deadline {
            return None;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    Some((addr, child))
}

fn proxy_bench(smoke: bool, token_url: &str) {
    const CONNECTIONS: usize = 32;
    let period = Duration::from_millis(if smoke { 300 } else { 5_000 });
    let (to, _upstream) = upstream();
    let dir = tempfile::tempdir().unwrap();
    let config = project(dir.path(), token_url, 0);
    // A token fresh for an hour: the proxy's own cost, without refreshes.
    let mut file: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&config).unwrap()).unwrap();
    file["testAccounts"]["development"]["expiresAt"] = serde_json::json!("2099-01-01T00:00:00Z");
    std::fs::write(&config, file.to_string()).unwrap();

    load(&to, CONNECTIONS, period / 5); // warm up
    let (direct_rps, mut direct) = load(&to, CONNECTIONS, period);
    let proxy = start_proxy(&config, &to);
    load(&proxy.addr, CONNECTIONS, period / 5);
    let (proxy_rps, mut proxied) = load(&proxy.addr, CONNECTIONS, period);
    // One connection, the machine not saturated: what a developer's single call pays.
    let (mut alone_direct, mut alone_proxied) = paired(&to, &proxy.addr, period / 2);
    let rss = proxy.stop();
    row(
        "proxy: requests/s, 32 keep-alive connections",
        &format!("{proxy_rps:.0}/s"),
        &format!("direct: {direct_rps:.0}/s"),
        proxy_rps / direct_rps,
        ">= 0.80x",
    );
    for (name, p, target) in [("p50", 0.5, "< 0.2 ms"), ("p99", 0.99, "")] {
        let (ours, base) = (percentile(&mut proxied, p), percentile(&mut direct, p));
        row(
            &format!("proxy: added latency, {name}, 32 connections"),
            &ms(ours.saturating_sub(base)),
            &format!("direct {name}: {}", ms(base)),
            ours.as_secs_f64() / base.as_secs_f64().max(1e-9),
            target,
        );
    }
    let (ours, base) = (
        percentile(&mut alone_proxied, 0.5),
        percentile(&mut alone_direct, 0.5),
    );
    row(
        "proxy: added latency, p50, one connection",
        &ms(ours.saturating_sub(base)),
        &format!("direct p50: {}", ms(base)),
        ours.as_secs_f64() / base.as_secs_f64().max(1e-9),
        "< 0.2 ms",
    );
    if let Some(rss) = rss {
        row(
            "proxy: peak RSS under that load",
            &format!("{:.1} MiB", rss as f64 / 1024.0),
            "",
            0.0,
            "< 30 MiB",
        );
    }
    match start_nginx(dir.path(), &to) {
        Some((addr, mut nginx)) => {
            load(&addr, CONNECTIONS, period / 5);
            let (nginx_rps, mut via_nginx) = load(&addr, CONNECTIONS, period);
            // SIGQUIT: the master stops its workers too (a SIGKILL would orphan them).
            let _ = Command::new("kill")
                .args(["-QUIT", &nginx.id().to_string()])
                .status();
            let _ = nginx.wait();
            row(
                "proxy against nginx (same header, keep-alive upstream)",
                &format!(
                    "{proxy_rps:.0}/s, p50 {}",
                    ms(percentile(&mut proxied, 0.5))
                ),
                &format!(
                    "nginx: {nginx_rps:.0}/s, p50 {}",
                    ms(percentile(&mut via_nginx, 0.5))
                ),
                proxy_rps / nginx_rps,
                ">= 1.00x",
            );
        }
        None => println!("| proxy against nginx | not measured: nginx is not installed | | | |"),
    }
}
