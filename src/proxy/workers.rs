//! The threads that serve connections. Each runs its own single-threaded runtime and its
//! own connections to the connector, so a request, its call to the connector and the answer all
//! happen on one thread: no hand-over between threads per request, which on a small machine
//! costs more than the proxying itself. One acceptor hands each new connection to the next
//! worker in turn (a connection is kept alive for many requests, so this is rare work), and
//! keeps the count of open ones bounded (see `Open`).

use std::collections::VecDeque;
use std::pin::Pin;
use std::rc::Rc;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use hyper::Request;
use hyper::body::{Frame, SizeHint};
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::sync::{mpsc, oneshot, watch};
use tokio::task::JoinSet;

use super::forward::{Body, Forwarder, Link};
use crate::error::{Error, Result};

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
    /// Starts a worker's thread; `make` builds its forwarder on that thread. A client has
    /// `header_timeout` to send a request's head (an idle kept-alive connection too).
    pub fn start(
        n: usize,
        make: impl FnOnce() -> Forwarder + Send + 'static,
        header_timeout: Duration,
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
                let served = serve(Rc::new(make()), inbox, header_timeout, stop);
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

/// The connections open across the workers, oldest first. A newcomer past the cap takes
/// the place of the oldest one that is not answering a request (idle between requests, or
/// still sending its head), so connections opened and left half-sent can use neither all
/// the file descriptors nor every place, and the real client is still served.
pub struct Open {
    slots: VecDeque<Slot>,
    most: usize,
}

struct Slot {
    answering: Arc<AtomicBool>,
    /// Closed when the connection's task ends; sent to close the connection.
    evict: oneshot::Sender<()>,
}

/// A connection's side of its slot.
pub struct Ticket {
    answering: Arc<AtomicBool>,
    evicted: oneshot::Receiver<()>,
}

impl Open {
    pub fn new() -> Open {
        Open {
            slots: VecDeque::new(),
            most: most_connections(),
        }
    }

    /// A place for a new connection, or none when every open one is answering a request
    /// (the newcomer is then closed: the client may try again).
    pub fn admit(&mut self) -> Option<Ticket> {
        self.slots.retain(|slot| !slot.evict.is_closed());
        if self.slots.len() >= self.most {
            let idle = self
                .slots
                .iter()
                .position(|slot| !slot.answering.load(Ordering::SeqCst))?;
            if let Some(oldest) = self.slots.remove(idle) {
                let _ = oldest.evict.send(());
            }
        }
        let answering = Arc::new(AtomicBool::new(false));
        let (evict, evicted) = oneshot::channel();
        self.slots.push_back(Slot {
            answering: answering.clone(),
            evict,
        });
        Some(Ticket { answering, evicted })
    }
}

/// `MOST_CONNECTIONS`, or fewer when the process may open fewer files: two descriptors a
/// connection (the client's, the connector's), beside those kept for the rest.
fn most_connections() -> usize {
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
    header_timeout: Duration,
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
                let _ = stream.set_nodelay(true);
                let served =
                    connection(stream, forwarder.clone(), ticket, header_timeout, stop.clone());
                connections.spawn_local(served);
            }
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
            _ = stop.changed() => break,
        }
    }
    while connections.join_next().await.is_some() {}
}

/// One client connection, until it closes, is evicted (see `Open`), or the stop: then a
/// request in flight is answered and the connection closed after it; an idle one, or one
/// still sending its head, is closed at once.
async fn connection(
    stream: tokio::net::TcpStream,
    forwarder: Rc<Forwarder>,
    Ticket { answering, evicted }: Ticket,
    header_timeout: Duration,
    mut stop: watch::Receiver<bool>,
) {
    let (link, flag) = (Rc::new(Link::default()), answering.clone());
    let service = hyper::service::service_fn(move |request: Request<_>| {
        let (forwarder, link) = (forwarder.clone(), link.clone());
        let answering = Answering::start(flag.clone());
        async move {
            let response = forwarder.handle(&link, request).await?;
            Ok::<_, std::convert::Infallible>(response.map(|body| answering.until_sent(body)))
        }
    });
    let connection = hyper::server::conn::http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(header_timeout)
        .serve_connection(TokioIo::new(stream), service);
    tokio::pin!(connection);
    tokio::select! {
        _ = connection.as_mut() => {}
        // Not when `Open` is dropped at the stop: that is the stop's to handle.
        Ok(()) = evicted => {}
        _ = stop.wait_for(|stopped| *stopped) => {
            if answering.load(Ordering::SeqCst) {
                connection.as_mut().graceful_shutdown();
                let _ = connection.await;
            }
        }
    }
}

/// Marks a connection as answering a request from its head's arrival until the answer's
/// body is sent (or dropped).
struct Answering(Arc<AtomicBool>);

impl Answering {
    fn start(flag: Arc<AtomicBool>) -> Answering {
        flag.store(true, Ordering::SeqCst);
        Answering(flag)
    }

    fn until_sent(self, body: Body) -> Sending {
        Sending {
            body,
            _answering: self,
        }
    }
}

impl Drop for Answering {
    fn drop(&mut self) {
        self.0.store(false, Ordering::SeqCst);
    }
}

/// An answer's body, with the mark that the connection is busy until it is sent.
struct Sending {
    body: Body,
    _answering: Answering,
}

impl hyper::body::Body for Sending {
    type Data = Bytes;
    type Error = hyper::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<std::result::Result<Frame<Bytes>, hyper::Error>>> {
        Pin::new(&mut self.body).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}
