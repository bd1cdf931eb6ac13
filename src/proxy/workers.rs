//! The threads that serve connections. Each runs its own single-threaded runtime and its
//! own connections to the connector, so a request, its call to the connector and the answer all
//! happen on one thread: no hand-over between threads per request, which on a small machine
//! costs more than the proxying itself. One acceptor hands each new connection to the next
//! worker in turn (a connection is kept alive for many requests, so this is rare work).

use std::rc::Rc;

use hyper_util::rt::TokioIo;
use hyper_util::server::graceful::GracefulShutdown;
use tokio::sync::{mpsc, oneshot, watch};

use super::forward::{Forwarder, Link};
use crate::error::{Error, Result};

/// A worker, as the acceptor sees it.
pub struct Worker {
    connections: mpsc::UnboundedSender<std::net::TcpStream>,
    /// Says when the worker's connections have all finished after the stop.
    pub drained: oneshot::Receiver<()>,
}

impl Worker {
    /// Starts a worker's thread; `make` builds its forwarder on that thread.
    pub fn start(
        n: usize,
        make: impl FnOnce() -> Forwarder + Send + 'static,
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
                runtime.block_on(local.run_until(serve(Rc::new(make()), inbox, stop)));
                let _ = done.send(());
            })
            .map_err(|e| Error::Internal(format!("cannot start a proxy worker: {e}")))?;
        Ok(Worker {
            connections,
            drained,
        })
    }

    /// Gives the worker a connection; false when the worker is gone.
    pub fn take(&self, stream: tokio::net::TcpStream) -> bool {
        match stream.into_std() {
            Ok(stream) => self.connections.send(stream).is_ok(),
            Err(_) => true,
        }
    }
}

/// How many workers: one per core, at most four (the proxy serves one developer).
pub fn count() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get().min(4))
}

/// Serves the connections handed over until the stop, then lets them finish.
async fn serve(
    forwarder: Rc<Forwarder>,
    mut inbox: mpsc::UnboundedReceiver<std::net::TcpStream>,
    mut stop: watch::Receiver<bool>,
) {
    let graceful = GracefulShutdown::new();
    loop {
        tokio::select! {
            // Connections already handed over are served, not dropped, at the stop.
            biased;
            handed = inbox.recv() => {
                let Some(stream) = handed else { break };
                let Ok(stream) = tokio::net::TcpStream::from_std(stream) else { continue };
                let _ = stream.set_nodelay(true);
                let (forwarder, link) = (forwarder.clone(), Rc::new(Link::default()));
                let service = hyper::service::service_fn(move |r| {
                    let (forwarder, link) = (forwarder.clone(), link.clone());
                    async move { forwarder.handle(&link, r).await }
                });
                let connection = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service);
                let watched = graceful.watch(connection);
                tokio::task::spawn_local(async move {
                    let _ = watched.await;
                });
            }
            _ = stop.changed() => break,
        }
    }
    graceful.shutdown().await;
}
