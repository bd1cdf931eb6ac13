//! The one shape of our HTTP servers: the callback, the sandbox and the proxy accept and
//! serve connections the same way. Open connections are capped, and past the cap the
//! oldest one that is not answering a request (idle between requests, or still sending its
//! head) gives its place to the newcomer, so connections opened and left half-sent can use
//! neither every place nor every file descriptor. A request's head has a time limit. At
//! the stop, a request being answered is let finish; anything else is closed at once.

use std::collections::VecDeque;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use hyper::body::{Body, Frame, Incoming, SizeHint};
use hyper::{Request, Response};
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{oneshot, watch};
use tokio::task::JoinSet;

/// How a server treats its connections.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// The most connections open at once.
    pub most: usize,
    /// How long a client may take to send a request's head (an idle kept-alive
    /// connection too).
    pub header_timeout: Duration,
    /// Whether a connection serves more than one request.
    pub keep_alive: bool,
}

/// The connections open on a server, oldest first.
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
    pub fn new(most: usize) -> Open {
        Open {
            slots: VecDeque::new(),
            most,
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

/// Accepts connections until `stop` ends, giving each admitted one to `take`.
pub async fn accept<T>(
    listener: &TcpListener,
    open: &mut Open,
    stop: impl Future<Output = T>,
    mut take: impl FnMut(TcpStream, Ticket),
) -> T {
    tokio::pin!(stop);
    loop {
        tokio::select! {
            biased;
            stopped = &mut stop => return stopped,
            accepted = listener.accept() => {
                let Ok((stream, _)) = accepted else {
                    // Out of file descriptors, say: let connections end before trying again.
                    tokio::time::sleep(Duration::from_millis(20)).await;
                    continue;
                };
                match open.admit() {
                    Some(ticket) => take(stream, ticket),
                    None => tracing::debug!("connection closed: every open one is answering a request"),
                }
            }
        }
    }
}

/// Serves `service` on `listener` until `stopping` says stop, then lets the requests being
/// answered finish. Dropping the future closes every connection at once.
pub async fn serve<S, B>(
    listener: TcpListener,
    service: S,
    limits: Limits,
    stopping: watch::Receiver<bool>,
) where
    S: hyper::service::Service<Request<Incoming>, Response = Response<B>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    S::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    B: Body + Unpin + Send + 'static,
    B::Data: Send,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let mut open = Open::new(limits.most);
    let mut connections = JoinSet::new();
    let mut stop = stopping.clone();
    let stop = async move {
        let _ = stop.wait_for(|stopped| *stopped).await;
    };
    accept(&listener, &mut open, stop, |stream, ticket| {
        while connections.try_join_next().is_some() {}
        let served = connection(stream, service.clone(), ticket, limits, stopping.clone());
        connections.spawn(served);
    })
    .await;
    drop(listener);
    while connections.join_next().await.is_some() {}
}

/// One client connection, until it closes, is evicted (see `Open`), or the stop: then a
/// request in flight is answered and the connection closed after it; an idle one, or one
/// still sending its head, is closed at once.
pub async fn connection<S, B>(
    stream: TcpStream,
    service: S,
    Ticket { answering, evicted }: Ticket,
    limits: Limits,
    mut stop: watch::Receiver<bool>,
) where
    S: hyper::service::Service<Request<Incoming>, Response = Response<B>>,
    S::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    B: Body + Unpin + 'static,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let _ = stream.set_nodelay(true);
    let flag = answering.clone();
    let service = hyper::service::service_fn(move |request: Request<Incoming>| {
        let answering = Answering::start(flag.clone());
        let response = service.call(request);
        async move {
            let response = response.await?;
            Ok::<_, S::Error>(response.map(|body| answering.until_sent(body)))
        }
    });
    let connection = hyper::server::conn::http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout)
        .keep_alive(limits.keep_alive)
        .serve_connection(TokioIo::new(stream), service);
    tokio::pin!(connection);
    let stopped = async move {
        let _ = stop.wait_for(|stopped| *stopped).await;
    };
    tokio::select! {
        _ = connection.as_mut() => {}
        // Not when `Open` is dropped at the stop: that is the stop's to handle.
        Ok(()) = evicted => {}
        _ = stopped => {
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

    fn until_sent<B>(self, body: B) -> Sending<B> {
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
struct Sending<B> {
    body: B,
    _answering: Answering,
}

impl<B: Body + Unpin> Body for Sending<B> {
    type Data = B::Data;
    type Error = B::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<B::Data>, B::Error>>> {
        Pin::new(&mut self.body).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}
