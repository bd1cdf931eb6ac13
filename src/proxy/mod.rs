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
use std::time::{Duration, SystemTime};

use tokio::net::TcpListener;

use crate::clock;
use crate::error::{NetworkError, Result};
use crate::flow;
use crate::signals::{Signals, Stop};
use crate::ui::Terminal;
use forward::Forwarder;
use keeper::{Keeper, Need};
pub use upstream::{To, Upstream, to};
use workers::{Open, Worker};

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
/// stops at once). Stopping so is the normal end: `Ok`.
pub async fn serve(opts: Options, term: &dyn Terminal) -> Result<()> {
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
    let keeper = Keeper::start(opts.flow.clone()).await?;
    announce(&opts, addr, &keeper, term);
    let log = log::Log::start(opts.json);
    tokio::spawn(keep_fresh(keeper.clone(), log.clone()));
    let (stop_all, stop) = tokio::sync::watch::channel(false);
    let hosts = own_names(addr);
    let mut workers = Vec::new();
    for n in 0..workers::count() {
        let (keeper, log, hosts, upstream) =
            (keeper.clone(), log.clone(), hosts.clone(), upstream.clone());
        let within = opts.upstream_timeout;
        let make = move || Forwarder::new(upstream, within, keeper, log, hosts);
        workers.push(Worker::start(n, make, opts.header_timeout, stop.clone())?);
    }
    let stop = accept(&listener, &workers, &mut signals).await;
    drop(listener);
    let _ = stop_all.send(true);
    term.say(&format!(
        "{}: finishing the requests in flight (up to {} s).",
        stop.name(),
        DRAIN.as_secs()
    ));
    let drained = futures_util::future::join_all(workers.into_iter().map(|w| w.drained));
    let settled = async {
        tokio::select! {
            _ = drained => {}
            _ = tokio::time::sleep(DRAIN) => {}
        }
        // A refresh in flight (the timer's, which no request waits for) is saved first.
        let quiet = keeper.settle().await;
        // The last lines, unless stdout is stuck (a paused pager).
        let last = tokio::task::spawn_blocking(move || log.finish());
        let _ = tokio::time::timeout(Duration::from_secs(1), last).await;
        quiet
    };
    tokio::select! {
        _quiet = settled => Ok(()),
        again = signals.next() => Err(again.error()),
    }
}

/// Hands each new connection to the next worker, at most `Open`'s count of them open at
/// once, until a stop signal.
async fn accept(listener: &TcpListener, workers: &[Worker], signals: &mut Signals) -> Stop {
    let (mut open, mut next) = (Open::new(), 0);
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let Ok((stream, _)) = accepted else {
                    // Out of file descriptors, most likely: let some close.
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                };
                let Some(ticket) = open.admit() else {
                    tracing::debug!("connection closed: every open one is answering a request");
                    continue;
                };
                workers[next % workers.len()].take(stream, ticket);
                next += 1;
            }
            stop = signals.next() => return stop,
        }
    }
}

/// The names a request to the proxy may be addressed to (others are a DNS rebinding).
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
/// wrote. Failures are said once per kind and tried again later.
async fn keep_fresh(keeper: Keeper, log: log::Log) {
    let mut backoff = Duration::from_secs(5);
    let mut said = String::new();
    loop {
        let due = keeper.current().due_at;
        let wait = due.map_or(Duration::from_secs(60), |at| {
            at.duration_since(SystemTime::now()).unwrap_or_default()
        });
        tokio::time::sleep(wait).await;
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
                    log.event("refreshed", &until);
                } else if due.is_some_and(|at| at <= SystemTime::now()) {
                    // Due, yet nothing to refresh with: wait rather than spin.
                    tokio::time::sleep(backoff).await;
                }
            }
            Err(why) => {
                if why.message != said {
                    log.event("cannot refresh", &why.message);
                    said = why.message.clone();
                }
                tokio::time::sleep(clock::jittered(backoff)).await;
                backoff = (backoff * 2).min(Duration::from_secs(60));
            }
        }
    }
}
