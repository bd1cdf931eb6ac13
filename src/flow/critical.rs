//! The steps that must finish once started, even on Ctrl-C or SIGTERM: a token request
//! already sent may have spent a single-use code or rotated the refresh token, and only
//! saving its answer keeps the test account usable.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

/// Shared between the flow, which marks what must finish, and whoever handles the signals.
#[derive(Debug, Default)]
pub struct Critical {
    depth: AtomicUsize,
    left: tokio::sync::Notify,
    stop: AtomicBool,
}

impl Critical {
    pub fn enter(&self) -> CriticalSection<'_> {
        self.depth.fetch_add(1, Ordering::SeqCst);
        CriticalSection(self)
    }

    pub fn active(&self) -> bool {
        self.depth.load(Ordering::SeqCst) > 0
    }

    /// A stop signal came while a section was open: the flow must not start anything new.
    pub fn request_stop(&self) {
        self.stop.store(true, Ordering::SeqCst);
    }

    pub fn stop_requested(&self) -> bool {
        self.stop.load(Ordering::SeqCst)
    }

    /// Resolves once no critical section is open: where a cancelled run may stop after all.
    pub async fn left(&self) {
        loop {
            let notified = self.left.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if !self.active() {
                return;
            }
            notified.await;
        }
    }
}

pub struct CriticalSection<'a>(&'a Critical);

impl Drop for CriticalSection<'_> {
    fn drop(&mut self) {
        if self.0.depth.fetch_sub(1, Ordering::SeqCst) == 1 {
            self.0.left.notify_waiters();
        }
    }
}
