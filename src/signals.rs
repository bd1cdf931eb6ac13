//! The signals that ask a run to stop: Ctrl-C (SIGINT), and SIGTERM and SIGHUP, which
//! `timeout`, `docker stop`, CI cancellation, systemd and a closed terminal send instead.
//! All three are handled alike, so a token request already sent is always awaited and its
//! answer saved; only the exit code says which one came.

use crate::error::{Error, Result, exit};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stop {
    Interrupt,
    Terminate,
    Hangup,
}

impl Stop {
    pub fn name(self) -> &'static str {
        match self {
            Stop::Interrupt => "Ctrl-C",
            Stop::Terminate => "SIGTERM",
            Stop::Hangup => "SIGHUP",
        }
    }

    /// What stops the run at once, said to the person who may be watching.
    pub fn again(self) -> &'static str {
        match self {
            Stop::Interrupt => "Ctrl-C",
            Stop::Terminate | Stop::Hangup => "the signal",
        }
    }

    pub fn error(self) -> Error {
        match self {
            Stop::Interrupt => Error::Interrupted,
            Stop::Terminate => Error::Stopped {
                signal: "SIGTERM",
                code: exit::TERMINATED,
            },
            Stop::Hangup => Error::Stopped {
                signal: "SIGHUP",
                code: exit::HANGUP,
            },
        }
    }
}

/// Listens from creation on: a signal that comes before `next` is awaited is not lost.
pub struct Signals {
    #[cfg(unix)]
    streams: [(Stop, tokio::signal::unix::Signal); 3],
    /// The last signal and when it came (see `next`).
    last: Option<(Stop, std::time::Instant)>,
}

/// A signal of the kind just received, this soon after it, is the same event delivered
/// twice: a terminal's Ctrl-C reaches the whole process group, and a wrapper (npx, the npm
/// launcher, a shell script) forwards it again. It must not count as "stop at once".
const SAME_EVENT: std::time::Duration = std::time::Duration::from_millis(300);

impl Signals {
    pub fn new() -> Result<Signals> {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            let listen = |kind| {
                signal(kind).map_err(|e| Error::Internal(format!("cannot listen for signals: {e}")))
            };
            Ok(Signals {
                streams: [
                    (Stop::Interrupt, listen(SignalKind::interrupt())?),
                    (Stop::Terminate, listen(SignalKind::terminate())?),
                    (Stop::Hangup, listen(SignalKind::hangup())?),
                ],
                last: None,
            })
        }
        #[cfg(not(unix))]
        Ok(Signals { last: None })
    }

    /// The next stop signal; a repeat of the last within `SAME_EVENT` is passed over.
    pub async fn next(&mut self) -> Stop {
        loop {
            let stop = self.receive().await;
            let now = std::time::Instant::now();
            let repeat = self
                .last
                .is_some_and(|(kind, at)| kind == stop && now.duration_since(at) < SAME_EVENT);
            self.last = Some((stop, now));
            if !repeat {
                return stop;
            }
        }
    }

    async fn receive(&mut self) -> Stop {
        #[cfg(unix)]
        {
            let [(a, sa), (b, sb), (c, sc)] = &mut self.streams;
            tokio::select! {
                _ = sa.recv() => *a,
                _ = sb.recv() => *b,
                _ = sc.recv() => *c,
            }
        }
        #[cfg(not(unix))]
        {
            let _ = tokio::signal::ctrl_c().await;
            Stop::Interrupt
        }
    }
}
