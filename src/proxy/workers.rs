//! The proxy's one runtime and the connections it serves. Its worker threads, one per core,
//! serve the client connections, each a task with its own connection to the connector (no
//! pool to share between threads). The thread that started the runtime accepts the
//! connections and keeps the count of open ones bounded (see `Open`): a connection is kept
//! alive for many requests, so accepting is rare work.

use std::sync::Arc;
use std::time::Duration;

use hyper::Request;
use hyper::body::Incoming;
use tokio::sync::watch;
use tokio::task::JoinSet;

use super::forward::{Body, Forwarder, Link};
use crate::error::{Error, Result};
use crate::server::{self, Limits, Ticket};

/// The most connections open at once, when the file-descriptor limit allows it: far more
/// than one developer's tools keep open, and, with a connection to the connector for each,
/// within macOS's default limit of 256.
const MOST_CONNECTIONS: usize = 100;

/// Descriptors kept for all but the connections: stdio, the listener, the runtime, the
/// project file and its lock, the token endpoint's connections.
const RESERVED_DESCRIPTORS: u64 = 48;

/// The proxy process's one runtime: `count()` worker threads for the connections. The
/// thread that calls `block_on` runs the listener, the timer and the credentials' keeper
/// (in a `LocalSet`: the flow is not `Send`).
pub fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(count())
        .thread_name("proxy")
        .enable_all()
        .build()
        .map_err(|e| Error::Internal(format!("cannot start the async runtime: {e}")))
}

/// How many worker threads: one per core, at most four (the proxy serves one developer).
pub fn count() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get().min(4))
}

/// `MOST_CONNECTIONS`, or fewer when the process may open fewer files: two descriptors a
/// connection (the client's, the connector's), beside those kept for the rest.
pub fn most_connections() -> usize {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit writes the struct it is given, nothing else.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) } != 0 {
        return MOST_CONNECTIONS;
    }
    let room = limit.rlim_cur.saturating_sub(RESERVED_DESCRIPTORS) / 2;
    usize::try_from(room).map_or(MOST_CONNECTIONS, |room| room.clamp(4, MOST_CONNECTIONS))
}

/// The client connections being served, each a task on the runtime's workers.
pub struct Connections {
    forwarder: Arc<Forwarder>,
    limits: Limits,
    stop: watch::Receiver<bool>,
    tasks: JoinSet<()>,
}

impl Connections {
    pub fn new(forwarder: Forwarder, limits: Limits, stop: watch::Receiver<bool>) -> Connections {
        Connections {
            forwarder: Arc::new(forwarder),
            limits,
            stop,
            tasks: JoinSet::new(),
        }
    }

    /// Serves a connection admitted with `ticket` until it closes, is evicted, or the stop
    /// (see `server::connection`).
    pub fn take(&mut self, stream: tokio::net::TcpStream, ticket: Ticket) {
        // Those that ended are let go, so the set holds only the open ones.
        while self.tasks.try_join_next().is_some() {}
        let served = server::connection(
            stream,
            service(self.forwarder.clone()),
            ticket,
            self.limits,
            self.stop.clone(),
        );
        self.tasks.spawn(served);
    }

    /// Once the stop is sent: when every connection has finished (a request in flight is
    /// answered first, an idle connection closes at once).
    pub async fn drained(&mut self) {
        while self.tasks.join_next().await.is_some() {}
    }
}

/// The connector behind the proxy, as a service: each connection has its own link to it.
fn service(
    forwarder: Arc<Forwarder>,
) -> impl hyper::service::Service<
    Request<Incoming>,
    Response = hyper::Response<Body>,
    Error = std::convert::Infallible,
    Future: Send,
> + Send
+ 'static {
    let link = Arc::new(Link::default());
    hyper::service::service_fn(move |request: Request<Incoming>| {
        let (forwarder, link) = (forwarder.clone(), link.clone());
        async move { forwarder.handle(&link, request).await }
    })
}

/// The connections: kept alive (a developer's tools reuse them), each client given
/// `header_timeout` to send a request's head, at most `most_connections` open at once.
pub fn limits(header_timeout: Duration) -> Limits {
    Limits {
        most: most_connections(),
        header_timeout,
        keep_alive: true,
    }
}
