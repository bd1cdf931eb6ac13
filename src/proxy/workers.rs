//! The threads that serve connections. Each runs its own single-threaded runtime and its
//! own connections to the connector, so a request, its call to the connector and the answer all
//! happen on one thread: no hand-over between threads per request, which on a small machine
//! costs more than the proxying itself. One acceptor hands each new connection to the next
//! worker in turn (a connection is kept alive for many requests, so this is rare work), and
//! keeps the count of open ones bounded (see `Open`).

use std::rc::Rc;
use std::time::Duration;

use hyper::Request;
use hyper::body::Incoming;
use tokio::sync::{mpsc, oneshot, watch};
use tokio::task::JoinSet;

use super::forward::{Body, Forwarder, Link};
use crate::error::{Error, Result};
use crate::server::{self, Limits, Ticket};

/// The most connections open at once, when the file-descriptor limit allows it: far more
/// than one developer's tools keep open, and, with a connection to the connector for each,
/// within macOS's default limit of 256.
const MOST_CONNECTIONS: usize = 100;

/// Descriptors kept for all but the connections: stdio, the listener, the runtimes, the
/// project file and its lock, the token endpoint's connections.
const RESERVED_DESCRIPTORS: u64 = 48;

/// A worker, as the acceptor sees it.
pub struct Worker {
    connections: mpsc::UnboundedSender<(std::net::TcpStream, Ticket)>,
    /// Says when the worker's connections have all finished after the stop.
    pub drained: oneshot::Receiver<()>,
}

impl Worker {
    /// Starts a worker's thread; `make` builds its forwarder on that thread.
    pub fn start(
        n: usize,
        make: impl FnOnce() -> Forwarder + Send + 'static,
        limits: Limits,
        stop: watch::Receiver<bool>,
    ) -> Result<Worker> {
        let (connections, inbox) = mpsc::unbounded_channel();
        let (done, drained) = oneshot::channel();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| Error::Internal(format!("cannot start a proxy worker: {e}")))?;
        std::thread::Builder::new()
            .name(format!("proxy {n}"))
            .spawn(move || {
                let local = tokio::task::LocalSet::new();
                let served = serve(Rc::new(make()), inbox, limits, stop);
                runtime.block_on(local.run_until(served));
                let _ = done.send(());
            })
            .map_err(|e| Error::Internal(format!("cannot start a proxy worker: {e}")))?;
        Ok(Worker {
            connections,
            drained,
        })
    }

    /// Gives the worker a connection; false when the worker is gone.
    pub fn take(&self, stream: tokio::net::TcpStream, ticket: Ticket) -> bool {
        match stream.into_std() {
            Ok(stream) => self.connections.send((stream, ticket)).is_ok(),
            Err(_) => true,
        }
    }
}

/// How many workers: one per core, at most four (the proxy serves one developer).
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

/// Serves the connections handed over until the stop, then lets them finish.
async fn serve(
    forwarder: Rc<Forwarder>,
    mut inbox: mpsc::UnboundedReceiver<(std::net::TcpStream, Ticket)>,
    limits: Limits,
    mut stop: watch::Receiver<bool>,
) {
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            // Connections already handed over are served, not dropped, at the stop.
            biased;
            handed = inbox.recv() => {
                let Some((stream, ticket)) = handed else { break };
                let Ok(stream) = tokio::net::TcpStream::from_std(stream) else { continue };
                let served = server::connection(
                    stream,
                    service(forwarder.clone()),
                    ticket,
                    limits,
                    stop.clone(),
                );
                connections.spawn_local(served);
            }
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
            _ = stop.changed() => break,
        }
    }
    while connections.join_next().await.is_some() {}
}

/// The connector behind the proxy, as a service: each connection has its own link to it.
fn service(
    forwarder: Rc<Forwarder>,
) -> impl hyper::service::Service<
    Request<Incoming>,
    Response = hyper::Response<Body>,
    Error = std::convert::Infallible,
> {
    let link = Rc::new(Link::default());
    hyper::service::service_fn(move |request: Request<Incoming>| {
        let (forwarder, link) = (forwarder.clone(), link.clone());
        async move { forwarder.handle(&link, request).await }
    })
}

/// The workers' connections: kept alive (a developer's tools reuse them), each client
/// given `header_timeout` to send a request's head, at most `most_connections` across them.
pub fn limits(header_timeout: Duration) -> Limits {
    Limits {
        most: most_connections(),
        header_timeout,
        keep_alive: true,
    }
}
