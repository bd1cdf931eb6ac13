//! `integration-cli proxy --to URL`: the connector called as the platform calls it, with
//! credentials that never go stale.

use super::Global;
use super::args::Target;
use std::sync::Arc;

use crate::clock::SystemClock;
use crate::error::Result;
use crate::proxy::{self, DEFAULT_HEADER_TIMEOUT, DEFAULT_LISTEN, DEFAULT_UPSTREAM_TIMEOUT};
use crate::ui::{Console, Quiet, Terminal};

/// Serve the local connector with fresh credentials on every request
#[derive(Debug, clap::Args)]
#[command(
    long_about = "Run a reverse proxy in front of the connector running on this machine. \
        Every request sent to the proxy reaches the connector with the test account's \
        credentials in X-Unito-Credentials (replacing any the client sent), the file's plain \
        secrets in X-Unito-Secrets (a client's own is replaced, or removed when the file has \
        none), and an X-Unito-Correlation-Id when it has none, as the \
        platform sends them.\n\n\
        The token is refreshed before it expires, and once more when the connector answers 401 \
        (that request is then sent again, if its body was at most 1 MiB). Concurrent requests \
        share one refresh, under the file lock, and the file is updated as oauth2 would; \
        tokens another run writes (an oauth2 --reauth in another terminal) are picked up \
        without a restart. A refresh token the provider refuses gets the client a 401 whose \
        JSON body says which oauth2 command to run, and the proxy keeps serving.\n\n\
        Bodies stream both ways (server-sent events pass as they come) and connections are \
        kept alive. It listens on loopback only, calls a connector on this machine only (a \
        name in --to is resolved once, at start, and only the loopback addresses it gave are \
        called, in order, for the whole run; -v lists them and says which answered), and \
        refuses requests a web page of another site sends (403). One line per request goes to stdout \
        (method, path without its query, status, milliseconds, \"refreshed\"), never a header \
        value; --json writes JSON lines (control and bidi characters as \\uXXXX escapes).\n\n\
        A connector that sends no answer's head within --upstream-timeout (60 s) gets the \
        client a 504 that says so; the body is never timed, so streams pass whole. A client \
        has --header-timeout (30 s) to send a request's head, and a connection idle that long \
        is closed. At most 100 connections are open at once (fewer under a low open-file \
        limit): past that, a new one takes the place of the oldest that is not being \
        answered, so connections left half-sent cannot lock out a real client. Ctrl-C closes \
        idle connections at once and lets the requests in flight finish.",
    after_help = "Examples:\n  \
        integration-cli proxy --to http://localhost:9200\n  \
        # the connector, with credentials\n  \
        curl http://127.0.0.1:9201/me\n  \
        integration-cli proxy --to http://localhost:9200 -t compliance \\\n    \
        --listen 127.0.0.1:9300\n  \
        integration-cli proxy --to http://localhost:9200 --json | jq .\n\n\
        Point Postman, a browser or the platform's debugger at http://127.0.0.1:9201 instead \
        of the connector.\n\n\
        Exit codes: 0 once stopped (Ctrl-C or SIGTERM, the requests in flight finished; a \
        second one stops at once: 130, 143); at start: 1 error, 2 usage, 5 a browser login \
        is needed (run integration-cli oauth2)."
)]
pub struct Args {
    #[command(flatten)]
    pub target: Target,

    /// The connector's address (http://host:port, with an optional base path)
    ///
    /// localhost, 127.0.0.1 or [::1] (http://[::1]:9200 for a server on IPv6 only). A name
    /// is resolved once, at start; every address it resolves to must be this machine's, and
    /// only those are used, tried in order, for the whole run (-v lists them).
    #[arg(long, value_name = "URL", value_parser = proxy::to)]
    pub to: proxy::To,

    /// Where the proxy listens: a loopback address and port
    #[arg(long, value_name = "ADDR", default_value = DEFAULT_LISTEN, value_parser = proxy::loopback)]
    pub listen: std::net::SocketAddr,

    /// One JSON object per request line
    #[arg(long)]
    pub json: bool,

    /// Seconds the connector may take to start answering (its status and headers)
    ///
    /// Past it the client gets a 504 that says so. The body is not timed: a stream or
    /// server-sent events may take as long as they need.
    #[arg(long, value_name = "SECS", default_value = DEFAULT_UPSTREAM_TIMEOUT, value_parser = proxy::seconds)]
    pub upstream_timeout: std::time::Duration,

    /// Seconds a client may take to send a request's head, and a kept-alive connection may
    /// stay idle
    ///
    /// Past it the connection is closed (a client opens another), so connections opened and
    /// left silent do not hold the proxy's places.
    #[arg(long, value_name = "SECS", default_value = DEFAULT_HEADER_TIMEOUT, value_parser = proxy::seconds)]
    pub header_timeout: std::time::Duration,
}

impl Args {
    pub fn exec(self, global: Global) -> Result<()> {
        let opts = proxy::Options {
            flow: crate::flow::Options {
                quiet: global.quiet,
                ..self.target.options()?
            },
            listen: self.listen,
            to: self.to,
            json: self.json,
            upstream_timeout: self.upstream_timeout,
            header_timeout: self.header_timeout,
        };
        let term: Box<dyn Terminal> = if global.quiet {
            Box::new(Quiet::new(Console::new()))
        } else {
            Box::new(Console::new())
        };
        // The process's one runtime: its workers serve the connections; this thread holds
        // the listener, the timer and the credentials, whose flow is not `Send`.
        let local = tokio::task::LocalSet::new();
        let served = proxy::serve(opts, &*term, Arc::new(SystemClock));
        proxy::runtime()?.block_on(local.run_until(served))
    }
}
