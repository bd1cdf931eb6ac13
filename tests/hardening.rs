//! Abuse, as a test: a flood of bogus requests at the callback server while it waits, and
//! `kill -9` at random moments while a refresh saves. (Fuzzing of the parsers and of the
//! file editing is in the unit tests, as proptest properties.)

mod support;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use support::*;

/// One raw request; the status code, or 0 when the server closed without one.
fn raw(addr: &str, request: &[u8]) -> u16 {
    let Ok(mut conn) = TcpStream::connect(addr) else {
        return 0;
    };
    conn.set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let _ = conn.write_all(request);
    let mut head = [0u8; 12];
    match conn.read_exact(&mut head) {
        Ok(()) => String::from_utf8_lossy(&head[9..12]).parse().unwrap_or(0),
        Err(_) => 0,
    }
}

fn peak_rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

#[test]
fn ten_thousand_bogus_requests_leave_the_real_callback_working_and_memory_bounded() {
    let stub = Stub::start(Behaviour::default());
    let project = Project::new(&config(&stub));
    let run = project.oauth2(&["oauth2", "--no-browser", "--port", "0"]);
    let login = run.login_url();
    let redirect = url::Url::parse(&query_param(&login, "redirect_uri").unwrap()).unwrap();
    let addr = format!("127.0.0.1:{}", redirect.port().unwrap());

    // Slow clients: half a request each, held open through the whole flood.
    let slow: Vec<TcpStream> = (0..200)
        .map(|_| {
            let mut c = TcpStream::connect(&addr).unwrap();
            c.write_all(b"GET /callback?state=").unwrap();
            c
        })
        .collect();

    let huge_query = format!(
        "GET /callback?state=wrong&x={} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n",
        "A".repeat(64 * 1024)
    );
    let huge_header = format!(
        "GET /callback HTTP/1.1\r\nHost: {addr}\r\nX-Big: {}\r\nConnection: close\r\n\r\n",
        "B".repeat(1024 * 1024)
    );
    let started = Instant::now();
    let threads: Vec<_> = (0..8)
        .map(|t| {
            let (addr, huge_query, huge_header) = (addr.clone(), huge_query.clone(), huge_header.clone());
            std::thread::spawn(move || {
                let mut statuses = std::collections::BTreeMap::<u16, usize>::new();
                for i in 0..1250 {
                    let request = match i % 5 {
                        // Another site's name resolved to loopback (DNS rebinding).
                        0 if i % 10 == 5 => format!("GET /callback?code=fake-{t}-{i}&state=forged HTTP/1.1\r\nHost: rebind.example\r\nConnection: close\r\n\r\n").into_bytes(),
                        0 => format!("GET /favicon.ico HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n").into_bytes(),
                        1 => format!("GET /callback?code=fake-{t}-{i}&state=forged-{i} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n").into_bytes(),
                        2 => format!("POST /callback HTTP/1.1\r\nHost: {addr}\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello").into_bytes(),
                        3 if i % 50 == 3 => huge_header.clone().into_bytes(),
                        3 => huge_query.clone().into_bytes(),
                        _ => format!("GET /callback?code=a&code=b&state=x HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n").into_bytes(),
                    };
                    *statuses.entry(raw(&addr, &request)).or_default() += 1;
                }
                statuses
            })
        })
        .collect();
    let mut statuses = std::collections::BTreeMap::<u16, usize>::new();
    for t in threads {
        for (status, n) in t.join().unwrap() {
            *statuses.entry(status).or_default() += n;
        }
    }
    let flood = started.elapsed();
    assert_eq!(statuses.values().sum::<usize>(), 10_000);
    // Nothing in the flood was taken for the callback; each kind got its refusal.
    assert!(!statuses.contains_key(&200), "{statuses:?}");
    for status in [400, 404, 414, 421] {
        assert!(
            statuses.contains_key(&status),
            "no {status} in {statuses:?}"
        );
    }
    assert!(
        statuses.get(&431).copied().unwrap_or(0) + statuses.get(&0).copied().unwrap_or(0) >= 25,
        "{statuses:?}"
    );
    let peak = peak_rss_kib(run.pid());
    assert!(peak < 64 * 1024, "peak RSS {peak} KiB after the flood");

    // The real callback, while the slow clients still hang on.
    let (status, page) = browse(&login);
    assert_eq!(status, 200, "{page}");
    assert_has(&page, "Signed in");
    drop(slow);
    let done = run.finish(&stub);
    assert_eq!(done.code, 0, "{}", done.all());
    eprintln!("flood: {statuses:?} in {flood:?}, peak RSS {peak} KiB");
}

#[test]
fn kill_9_at_any_moment_of_a_refresh_leaves_the_old_file_or_the_new_one() {
    let stub = Stub::start(Behaviour {
        rotate_refresh_tokens: false,
        ..Behaviour::default()
    });
    let refresh = stub.issue_refresh_token();
    let mut cfg = config(&stub);
    cfg["testAccounts"]["development"] =
        json!({"accessToken": "fake-old-access", "refreshToken": refresh, "note": "kept"});
    cfg["padding"] = json!("x".repeat(200_000)); // a file that takes a moment to write
    let project = Project::new(&cfg);

    let mut outcomes = std::collections::BTreeMap::<&str, usize>::new();
    let mut seed = 0x2545F4914F6CDD1Du64;
    for _ in 0..200 {
        let before = project.text();
        let mut child = std::process::Command::new(BIN)
            .args(["oauth2", "--no-browser", "--port", "0"])
            .current_dir(project.dir.path())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        // xorshift: a spread of moments from start-up to past the save.
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        std::thread::sleep(Duration::from_micros(seed % 40_000));
        let _ = child.kill(); // SIGKILL
        let status = child.wait().unwrap();
        let after = project.text();
        let parsed: Value = serde_json::from_str(&after)
            .unwrap_or_else(|e| panic!("the file no longer parses ({e}) after a kill"));
        if after == before {
            *outcomes
                .entry(if status.success() {
                    "finished, no change"
                } else {
                    "killed, old file"
                })
                .or_default() += 1;
            continue;
        }
        // The new file: the old one with a new development account, nothing else.
        let mut expected: Value = serde_json::from_str(&before).unwrap();
        expected["testAccounts"]["development"] = parsed["testAccounts"]["development"].clone();
        assert_eq!(parsed, expected, "something besides the account changed");
        let account = &parsed["testAccounts"]["development"];
        assert!(stub.seen(|s| {
            s.access_tokens
                .iter()
                .any(|t| account["accessToken"] == t.as_str())
        }));
        assert_eq!(account["note"], "kept");
        *outcomes
            .entry(if status.success() {
                "finished, new file"
            } else {
                "killed, new file"
            })
            .or_default() += 1;
    }
    eprintln!("kill -9 outcomes over 200 runs: {outcomes:?}");
    assert_eq!(outcomes.values().sum::<usize>(), 200);
}

#[test]
fn two_refreshes_of_different_accounts_at_once_both_survive() {
    let stub = Stub::start(Behaviour {
        refresh_delay: Duration::from_millis(300),
        ..Behaviour::default()
    });
    let mut cfg = config(&stub);
    for account in ["development", "compliance"] {
        cfg["testAccounts"][account] = json!({"accessToken": format!("fake-old-{account}"), "refreshToken": stub.issue_refresh_token()});
    }
    let project = Project::new(&cfg);
    let dev = project.oauth2(&["oauth2", "--no-browser", "--port", "0", "-t", "development"]);
    let comp = project.oauth2(&["oauth2", "--no-browser", "--port", "0", "-t", "compliance"]);
    let (dev, comp) = (dev.finish(&stub), comp.finish(&stub));
    assert_eq!(
        (dev.code, comp.code),
        (0, 0),
        "{}\n{}",
        dev.all(),
        comp.all()
    );
    let issued = stub.seen(|s| s.access_tokens.clone());
    for account in ["development", "compliance"] {
        let token = project.account(account)["accessToken"].clone();
        assert!(
            issued.iter().any(|t| token == t.as_str()),
            "{account} lost its refresh: {token}"
        );
    }
}
