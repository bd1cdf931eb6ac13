//! `integration-cli proxy`: a reverse proxy in front of the connector running on this
//! machine, that calls it as the platform does, with a test account's credentials in
//! `X-Unito-Credentials`, and keeps them fresh: curl, a browser, Postman or the platform's
//! debugger pointed at it never meet a stale token.

mod forward;
mod keeper;
mod log;
mod upstream;
mod workers;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;

use crate::clock;
use crate::error::{NetworkError, Result};
use crate::flow;
use crate::server::{self, Open};
use crate::signals::Signals;
use crate::ui::Terminal;
use forward::Forwarder;
pub use keeper::SharedClock;
use keeper::{Keeper, Need};
pub use upstream::{To, Upstream, to};
use workers::Connections;
pub use workers::runtime;

/// Where the proxy listens unless told: beside a connector on 9200, and neither the
/// callback's 9002 nor the sandbox's 9010.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:9201";

/// How long in-flight requests may take to finish after Ctrl-C.
const DRAIN: Duration = Duration::from_secs(30);

/// Seconds the connector may take to start answering, unless told.
pub const DEFAULT_UPSTREAM_TIMEOUT: &str = "60";

/// Seconds a client may take to send a request's head, and an idle kept-alive connection
/// may stay open, unless told: a longer pause between two requests from Postman costs
/// one new connection.
pub const DEFAULT_HEADER_TIMEOUT: &str = "30";

pub struct Options {
    /// The file, authorization and test account (see `flow::Options`).
    pub flow: flow::Options,
    pub listen: SocketAddr,
    /// The connector, resolved when the proxy starts.
    pub to: To,
    pub json: bool,
    /// How long the connector may take to send an answer's head (see `DEFAULT_UPSTREAM_TIMEOUT`).
    pub upstream_timeout: Duration,
    /// See `DEFAULT_HEADER_TIMEOUT`.
    pub header_timeout: Duration,
}

/// A listen address that only this machine can reach.
pub fn loopback(raw: &str) -> std::result::Result<SocketAddr, String> {
    let addr: SocketAddr = raw
        .parse()
        .or_else(|_| match raw.strip_prefix("localhost:") {
            Some(port) => format!("127.0.0.1:{port}").parse(),
            None => raw.parse(),
        })
        .map_err(|_| format!("{raw:?} is not an address such as 127.0.0.1:9201"))?;
    if !addr.ip().is_loopback() {
        return Err(format!(
            "{addr} is not a loopback address: the proxy adds a test account's credentials to \
             every request, so only this machine may reach it (use 127.0.0.1:PORT)"
        ));
    }
    Ok(addr)
}

/// `--upstream-timeout` and the like: seconds, a fraction allowed, more than none.
pub fn seconds(raw: &str) -> std::result::Result<Duration, String> {
    raw.parse::<f64>()
        .ok()
        .filter(|s| *s > 0.0)
        .and_then(|s| Duration::try_from_secs_f64(s).ok())
        .ok_or_else(|| format!("{raw:?} is not a number of seconds, such as 60 or 0.5"))
}

/// Serves until a stop signal, then lets the requests in flight finish (a second signal
/// stops at once). Stopping so is the normal end: `Ok`. `clock` says when tokens are stale
/// and when the timer wakes: the system's, but for tests. The keeper and the timer are
/// local to the caller's thread (call this inside a `tokio::task::LocalSet`); the
/// connections are tasks on the runtime's workers (see `workers`).
pub async fn serve(opts: Options, term: &dyn Terminal, clock: SharedClock) -> Result<()> {
    let mut signals = Signals::new()?;
    // Once, for the run: every connection goes to these addresses (see `upstream`).
    let upstream = Arc::new(opts.to.resolve().await?);
    tracing::debug!(
        "--to {}: resolved once, to {}; only these addresses are used, in this order",
        upstream.url,
        upstream.addresses()
    );
    let cannot_listen = |e: std::io::Error| NetworkError::ProxyListen {
        addr: opts.listen.to_string(),
        detail: e.to_string(),
    };
    let listener = TcpListener::bind(opts.listen)
        .await
        .map_err(cannot_listen)?;
    let addr = listener.local_addr().map_err(cannot_listen)?;
    let keeper = Keeper::start(opts.flow.clone(), clock).await?;
    announce(&opts, addr, &keeper, term);
    let log = log::Log::start(opts.json);
    let said = log.clone();
    // Beside the keeper, on this thread: the workers are the connections'.
    tokio::task::spawn_local(keep_fresh(keeper.clone(), move |what, detail| {
        said.event(what, detail)
    }));
    let (stop_all, stop) = tokio::sync::watch::channel(false);
    let limits = workers::limits(opts.header_timeout);
    let forwarder = Forwarder::new(
        upstream,
        opts.upstream_timeout,
        keeper.clone(),
        log.clone(),
        own_names(addr),
    );
    let mut connections = Connections::new(forwarder, limits, stop);
    let mut open = Open::new(limits.most);
    let stop = server::accept(&listener, &mut open, signals.next(), |stream, ticket| {
        connections.take(stream, ticket);
    })
    .await;
    drop(listener);
    let _ = stop_all.send(true);
    term.say(&format!(
        "{}: finishing the requests in flight (up to {} s).",
        stop.name(),
        DRAIN.as_secs()
    ));
    tokio::select! {
        _quiet = settled(connections, keeper, log) => Ok(()),
        again = signals.next() => Err(again.error()),
    }
}

/// Waits for the connections to finish their requests (at most `DRAIN`), then for the
/// refresh in flight, then writes the log's last lines.
async fn settled(mut connections: Connections, keeper: Keeper, log: log::Log) {
    tokio::select! {
        _ = connections.drained() => {}
        _ = tokio::time::sleep(DRAIN) => {}
    }
    // A refresh in flight (the timer's, which no request waits for) is saved first.
    keeper.settle().await;
    // The last lines, unless stdout is stuck (a paused pager).
    let last = tokio::task::spawn_blocking(move || log.finish());
    let _ = tokio::time::timeout(Duration::from_secs(1), last).await;
}

/// The names a client may give this proxy as its `Host`: its address and `localhost`.
fn own_names(addr: SocketAddr) -> Arc<[String]> {
    let port = addr.port();
    let mut names = vec![format!("{addr}"), format!("localhost:{port}")];
    if addr.ip().is_ipv4() {
        names.push(format!("127.0.0.1:{port}"));
    }
    Arc::from(names)
}

fn announce(opts: &Options, addr: SocketAddr, keeper: &Keeper, term: &dyn Terminal) {
    let current = keeper.current();
    let expires = current
        .expires_at
        .map_or("no expiry stated".to_string(), |at| {
            format!("the token expires {}", clock::rfc3339(at))
        });
    term.say(&format!(
        "Proxying http://{addr} to {} with the credentials of test account \"{}\" ({expires}; \
         refreshed before it does). Ctrl-C to stop.",
        opts.to.url(),
        opts.flow.test_account
    ));
    if !current.left_out.is_empty() {
        term.warn(&format!(
            "X-Unito-Secrets leaves out {}: encrypted for the platform (unito-secret-v1://), \
             they cannot be read here",
            current.left_out.join(", ")
        ));
    }
}

/// Refreshes ahead of expiry (see `TestAccount::refresh_due`), so requests seldom wait for
/// a refresh; with no expiry stated, looks at the file now and then for tokens another run
/// wrote. Failures are said once per kind (to `event`, as the request log's lines) and tried
/// again later.
async fn keep_fresh(keeper: Keeper, event: impl Fn(&str, &str)) {
    let clock = keeper.clock();
    let mut backoff = Duration::from_secs(5);
    let mut said = String::new();
    loop {
        let due = keeper.current().due_at;
        let wake = due.unwrap_or_else(|| clock.now() + Duration::from_secs(60));
        // At least daily, so a refresh token near its end is warned of once a day.
        let wake = wake.min(clock.now() + Duration::from_secs(24 * 3600));
        clock.sleep_until(wake).await;
        match keeper.ask(Need::Due).await {
            Ok(answer) => {
                backoff = Duration::from_secs(5);
                said.clear();
                if answer.refreshed {
                    let until = answer
                        .snapshot
                        .expires_at
                        .map_or("no expiry stated".into(), |at| {
                            format!("expires {}", clock::rfc3339(at))
                        });
                    event("refreshed", &until);
                } else if due.is_some_and(|at| at <= clock.now()) {
                    // Due, yet nothing to refresh with: wait rather than spin.
                    clock.sleep(backoff).await;
                }
            }
            Err(why) => {
                if why.message != said {
                    event("cannot refresh", &why.message);
                    said = why.message.clone();
                }
                clock.sleep(crate::clock::jittered(backoff)).await;
                backoff = (backoff * 2).min(Duration::from_secs(60));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};
    use std::time::{Duration, SystemTime, UNIX_EPOCH};

    use serde_json::{Value, json};

    use super::keep_fresh;
    use super::keeper::Keeper;
    use crate::clock::{self, Clock, VirtualClock};
    use crate::config::TestAccount;
    use crate::project::Project;
    use crate::sandbox::{self, CLIENT_ID, CLIENT_SECRET, PASSWORD, Sandbox, USERNAME};

    /// A test account with tokens from `sandbox` (its password grant, so no browser),
    /// stored as a login at `start` would store them, for a file at `path`.
    async fn logged_in(sandbox: &Sandbox, path: &std::path::Path, start: SystemTime) {
        let (_, token_url) = sandbox.endpoints();
        let form = [
            ("grant_type", "password"),
            ("username", USERNAME),
            ("password", PASSWORD),
            ("client_id", CLIENT_ID),
            ("client_secret", CLIENT_SECRET),
        ];
        let answer = reqwest::Client::new()
            .post(&token_url)
            .form(&form)
            .send()
            .await
            .unwrap();
        let tokens: Value = serde_json::from_slice(&answer.bytes().await.unwrap()).unwrap();
        let lifetime = tokens["expires_in"].as_u64().unwrap();
        let file = json!({
            "authorizations": [sandbox.authorization("sandbox")],
            "testAccounts": {"development": {
                "accessToken": tokens["access_token"],
                "refreshToken": tokens["refresh_token"],
                "expiresIn": lifetime,
                "expiresAt": clock::stamp(start + Duration::from_secs(lifetime)),
                "lastRefreshAt": clock::stamp(start)
            }}
        });
        std::fs::write(path, file.to_string()).unwrap();
    }

    /// 50 virtual seconds of 10-second tokens: the timer refreshes each 5 s ahead of its
    /// expiry (twice its quarter-life margin), so no request would have found the
    /// credentials stale; one refresh each 5 s, the rotating refresh token presented
    /// once each. No real waiting.
    #[tokio::test]
    async fn the_timer_refreshes_ahead_of_each_expiry_on_virtual_time() {
        // The keeper's task is local to its thread, as in the proxy.
        tokio::task::LocalSet::new()
            .run_until(timer_on_virtual_time())
            .await;
    }

    async fn timer_on_virtual_time() {
        let sandbox = Sandbox::start_as(sandbox::Options {
            port: 0,
            lifetimes: sandbox::Lifetimes {
                access_token: Duration::from_secs(10),
                ..sandbox::Lifetimes::default()
            },
            ..sandbox::Options::default()
        })
        .await
        .unwrap();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(".unito.json");
        let secs = SystemTime::now().duration_since(UNIX_EPOCH).unwrap();
        let start = clock::from_epoch(secs.as_secs());
        logged_in(&sandbox, &path, start).await;
        let stale = Arc::new(Mutex::new(Vec::new()));
        let (file, seen) = (path.clone(), stale.clone());
        let virtual_clock =
            VirtualClock::new(start, start + Duration::from_secs(50)).on_sleep(move |_, to| {
                let project = Project::load(&file).unwrap();
                let just_before = to - Duration::from_millis(1);
                let account = TestAccount::new(project.account("development").fields());
                if account.usable_token(Some(just_before)).is_err() {
                    seen.lock().unwrap().push(clock::rfc3339(just_before));
                }
            });
        let clock = Arc::new(virtual_clock);
        let opts = crate::flow::Options {
            config: path.clone(),
            open_browser: false,
            ..crate::flow::Options::default()
        };
        let keeper = Keeper::start(opts, clock.clone()).await.unwrap();
        let events = Mutex::new(Vec::new());
        let event = |what: &str, detail: &str| {
            events.lock().unwrap().push(format!("{what}: {detail}"));
        };
        tokio::select! {
            _ = keep_fresh(keeper.clone(), event) => unreachable!("the timer runs until stopped"),
            _ = clock.ended() => {}
        }

        let events = events.into_inner().unwrap();
        assert_eq!(*stale.lock().unwrap(), Vec::<String>::new(), "{events:#?}");
        assert!(
            events.iter().all(|e| e.starts_with("refreshed")),
            "{events:#?}"
        );
        // Due at 5, 10, ... 45 s; the one at 50 s is the end.
        assert_eq!(events.len(), 9, "{events:#?}");
        assert_eq!(sandbox.stats().refreshes, 9);
        assert_eq!(sandbox.stats().reused_refresh_tokens, 0);
        assert!(!keeper.current().stale(clock.now()));
        sandbox.stop();
    }
}
