//! The signals that ask a run to stop: Ctrl-C (SIGINT), and SIGTERM and SIGHUP, which
//! `timeout`, `docker stop`, CI cancellation, systemd and a closed terminal send instead.
//! All three are handled alike, so a token request already sent is always awaited and its
//! answer saved; only the exit code says which one came. A SIGINT's sender is kept too
//! (`interrupt_origin`): a terminal's Ctrl-C reaches the whole foreground group, a `kill`
//! only this process.

use crate::error::{Error, Result, RunError, exit};

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
            Stop::Terminate => RunError::Stopped {
                signal: "SIGTERM",
                code: exit::TERMINATED,
            }
            .into(),
            Stop::Hangup => RunError::Stopped {
                signal: "SIGHUP",
                code: exit::HANGUP,
            }
            .into(),
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
            origin::listen();
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

    /// The stop signal received last, if any came: a run that let a token request finish
    /// must heed it before it starts anything more.
    pub fn received(&self) -> Option<Stop> {
        self.last.map(|(stop, _)| stop)
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

/// Who sent a SIGINT, as its siginfo says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// The kernel: a terminal's Ctrl-C, delivered to every process of its foreground group.
    Terminal,
    /// A process, with kill(2) and the like: `kill -INT` from another shell, a supervisor.
    Process,
}

/// The sender of the last SIGINT this process got; `None` when it cannot be told.
pub fn interrupt_origin() -> Option<Origin> {
    #[cfg(unix)]
    {
        origin::last()
    }
    #[cfg(not(unix))]
    None
}

/// tokio's signal streams say that a signal came, not who sent it: a second action on
/// SIGINT, beside tokio's in the same registry, keeps the sender of each delivery.
#[cfg(unix)]
mod origin {
    use std::sync::atomic::{AtomicU8, Ordering};

    use super::Origin;

    const UNKNOWN: u8 = 0;
    const TERMINAL: u8 = 1;
    const PROCESS: u8 = 2;
    static LAST: AtomicU8 = AtomicU8::new(UNKNOWN);

    pub fn listen() {
        static ONCE: std::sync::Once = std::sync::Once::new();
        ONCE.call_once(|| {
            // SAFETY: the action only stores into an atomic, which is async-signal-safe;
            // it is registered once and never removed.
            let _ = unsafe {
                signal_hook_registry::register_sigaction(libc::SIGINT, |info| {
                    let from = if sent_by_a_process(info.si_code) {
                        PROCESS
                    } else {
                        TERMINAL
                    };
                    LAST.store(from, Ordering::SeqCst);
                })
            };
        });
    }

    pub fn last() -> Option<Origin> {
        match LAST.load(Ordering::SeqCst) {
            TERMINAL => Some(Origin::Terminal),
            PROCESS => Some(Origin::Process),
            _ => None,
        }
    }

    /// Linux marks what user space sent (kill, sigqueue, tkill) with a code of 0 or less,
    /// and the kernel's own signals (a terminal's, SI_KERNEL) with a positive one.
    #[cfg(any(target_os = "linux", target_os = "android"))]
    fn sent_by_a_process(code: libc::c_int) -> bool {
        code <= 0
    }

    /// macOS and the BSDs: SI_USER (kill) and SI_QUEUE (sigqueue), which libc does not name
    /// there.
    #[cfg(not(any(target_os = "linux", target_os = "android")))]
    fn sent_by_a_process(code: libc::c_int) -> bool {
        code == 0x10001 || code == 0x10002
    }
}
