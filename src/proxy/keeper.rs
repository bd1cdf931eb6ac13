//! The proxy's credentials, kept fresh by one task. Requests read the current ones without
//! waiting; when they are stale, or the connector refused them, a request asks the keeper,
//! which works through the asks one at a time, so concurrent requests share one refresh and
//! a rotating refresh token is never presented twice. Every decision is made on the file
//! as read under its lock (see `flow::account`), so tokens another run wrote are picked up.

use std::sync::{Arc, RwLock};
use std::time::{Duration, SystemTime};

use hyper::StatusCode;
use hyper::header::HeaderValue;
use tokio::sync::{mpsc, oneshot};

use crate::clock::Clock;
use crate::config::TestAccount;
use crate::credentials;
use crate::error::{Error, Result, exit};
use crate::flow::{self, Deps, Fresh, Options, When};
use crate::project::Project;
use crate::secret::{AccessToken, RefreshToken};
use crate::ui::{Console, Quiet};

/// The credentials requests are sent with, as ready-made header values.
pub struct Snapshot {
    /// Counts changes of the access token: a request that was refused with generation `g`
    /// needs no new refresh once the keeper is past `g`.
    pub generation: u64,
    pub credentials: HeaderValue,
    pub secrets: Option<HeaderValue>,
    /// The file's secrets left out because the platform encrypted them.
    pub left_out: Vec<String>,
    token: AccessToken,
    /// When the token stops counting as fresh (see `TestAccount::stale_at`).
    pub stale_at: Option<SystemTime>,
    /// When to refresh it ahead of that (see `TestAccount::refresh_due`).
    pub due_at: Option<SystemTime>,
    pub expires_at: Option<SystemTime>,
}

impl Snapshot {
    pub fn stale(&self, now: SystemTime) -> bool {
        self.stale_at.is_some_and(|at| now >= at)
    }
}

/// What a request needs from the keeper.
#[derive(Debug, Clone, Copy)]
pub enum Need {
    /// Credentials that are fresh now.
    Fresh,
    /// New ones if they are due for an early refresh (the timer's ask).
    Due,
    /// New ones: the connector refused those of this generation.
    Replacing(u64),
}

pub struct Answer {
    pub snapshot: Arc<Snapshot>,
    /// New tokens were requested for this answer.
    pub refreshed: bool,
}

/// Why no credentials can be had, for the client (a status and a JSON body) and the log.
#[derive(Debug, Clone)]
pub struct Unavailable {
    pub status: StatusCode,
    pub message: String,
    pub hint: Option<String>,
    pub exit_code: i32,
}

impl From<&Error> for Unavailable {
    fn from(e: &Error) -> Self {
        let exit_code = e.exit_code();
        Unavailable {
            // Only a login can help: the client's request cannot be authorized.
            status: if exit_code == exit::NEEDS_LOGIN {
                StatusCode::UNAUTHORIZED
            } else {
                StatusCode::BAD_GATEWAY
            },
            message: e.to_string(),
            hint: e.hint(),
            exit_code,
        }
    }
}

struct Ask {
    need: Need,
    reply: oneshot::Sender<std::result::Result<Answer, Unavailable>>,
}

type Current = Arc<RwLock<Arc<Snapshot>>>;

/// The proxy's one clock, shared by its threads: the system's, or a test's virtual one.
pub type SharedClock = Arc<dyn Clock + Send + Sync>;

#[derive(Clone)]
pub struct Keeper {
    current: Current,
    asks: mpsc::UnboundedSender<Ask>,
    /// Held by the keeper's task while it answers an ask (a refresh may be in flight).
    busy: Arc<tokio::sync::Mutex<()>>,
    clock: SharedClock,
}

impl Keeper {
    /// Starts the keeper's task, with credentials fresh now (refreshed first if stale):
    /// a proxy that cannot have any does not start. The task runs the flow, whose parts
    /// are not `Send`, so it is local to the caller's thread: call this inside a
    /// `tokio::task::LocalSet`.
    pub async fn start(opts: Options, clock: SharedClock) -> Result<Keeper> {
        let (asks, inbox) = mpsc::unbounded_channel();
        let (first_tx, first_rx) = oneshot::channel();
        let busy = Arc::new(tokio::sync::Mutex::new(()));
        let (keeper_busy, keeper_clock) = (busy.clone(), clock.clone());
        tokio::task::spawn_local(keep(opts, inbox, first_tx, keeper_busy, keeper_clock));
        let current = match first_rx.await {
            Ok(Ok(first)) => first,
            Ok(Err(u)) => {
                return Err(Error::Relayed {
                    message: u.message,
                    hint: u.hint,
                    code: u.exit_code,
                });
            }
            Err(_) => return Err(Error::Internal("the credentials task stopped".into())),
        };
        Ok(Keeper {
            current,
            asks,
            busy,
            clock,
        })
    }

    /// Waits for a refresh in flight to be saved, and keeps any other from starting: the
    /// proxy may then exit without losing tokens the provider issued.
    pub async fn settle(&self) -> tokio::sync::OwnedMutexGuard<()> {
        self.busy.clone().lock_owned().await
    }

    pub fn clock(&self) -> &(dyn Clock + Send + Sync) {
        &*self.clock
    }

    /// The credentials as they are now; never waits on a refresh.
    pub fn current(&self) -> Arc<Snapshot> {
        self.current
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    pub async fn ask(&self, need: Need) -> std::result::Result<Answer, Unavailable> {
        let (reply, answer) = oneshot::channel();
        let gone = || Unavailable {
            status: StatusCode::BAD_GATEWAY,
            message: "the credentials task stopped".into(),
            hint: None,
            exit_code: exit::ERROR,
        };
        self.asks.send(Ask { need, reply }).map_err(|_| gone())?;
        answer.await.map_err(|_| gone())?
    }
}

/// The keeper's task: one ask at a time.
async fn keep(
    opts: Options,
    mut inbox: mpsc::UnboundedReceiver<Ask>,
    first: oneshot::Sender<std::result::Result<Current, Unavailable>>,
    busy: Arc<tokio::sync::Mutex<()>>,
    clock: SharedClock,
) {
    let deps = Deps::system()
        .with_terminal(Quiet::new(Console::new()))
        .with_clock(clock);
    let mut state = State {
        opts,
        refused: None,
        current: None,
        replaced_at: None,
        held: None,
    };
    match state.renew(&deps, When::Stale).await {
        Ok(answer) => {
            let current = Arc::new(RwLock::new(answer.snapshot));
            state.current = Some(current.clone());
            if first.send(Ok(current)).is_err() {
                return;
            }
        }
        Err(u) => {
            let _ = first.send(Err(u));
            return;
        }
    }
    while let Some(ask) = inbox.recv().await {
        if ask.reply.is_closed() {
            continue; // its request is gone
        }
        let _busy = busy.lock().await;
        let answer = state.answer(&deps, ask.need).await;
        if let Err(failed) = &answer {
            // Those already waiting get this answer, not one more attempt each.
            while let Ok(waiting) = inbox.try_recv() {
                let _ = waiting.reply.send(Err(failed.clone()));
            }
        }
        let _ = ask.reply.send(answer);
    }
}

/// The test account's refresh and access tokens, as the file holds them.
type FileTokens = (Option<RefreshToken>, Option<AccessToken>);

struct State {
    opts: Options,
    /// The last refusal, and the file's tokens it was for (refresh, access): while the file
    /// still holds them, asking the provider again would only be refused again.
    refused: Option<(FileTokens, Unavailable)>,
    current: Option<Current>,
    /// When the connector's 401 last got new tokens: a connector that refuses every
    /// request (a missing scope, not a stale token) is not answered with a refresh each.
    replaced_at: Option<SystemTime>,
    /// No refresh before this, after one that failed or whose token came back stale.
    held: Option<Hold>,
}

/// How long after a refresh asked by a 401 another 401 is passed on as it is.
const REPLACED_RECENTLY: Duration = Duration::from_secs(10);

/// The first wait after a failed refresh, or one whose token came back already stale;
/// doubled after each such one (jittered), to `MOST_HOLD`.
const FIRST_HOLD: Duration = Duration::from_secs(5);
const MOST_HOLD: Duration = Duration::from_secs(300);

/// A wait before the next refresh, so a provider that fails, or whose tokens are born
/// expired, is not asked by every request (a refresh storm rotates the refresh token each
/// time, and providers lock out client ids for less).
struct Hold {
    until: SystemTime,
    waits: crate::clock::Backoff,
    /// What requests are told meanwhile; `None`: they get the stale token as it is.
    failure: Option<Unavailable>,
}

impl Hold {
    /// After `previous`, a longer one.
    fn after(previous: Option<Hold>, now: SystemTime, failure: Option<Unavailable>) -> Hold {
        let mut waits = previous.map_or(crate::clock::Backoff::new(FIRST_HOLD, MOST_HOLD), |h| {
            h.waits
        });
        Hold {
            until: now + waits.wait(),
            waits,
            failure,
        }
    }
}

impl State {
    async fn answer(
        &mut self,
        deps: &Deps<'_>,
        need: Need,
    ) -> std::result::Result<Answer, Unavailable> {
        let current = self.snapshot();
        let unchanged = || Answer {
            snapshot: current.clone(),
            refreshed: false,
        };
        let now = deps.clock.now();
        let recently = self
            .replaced_at
            .is_some_and(|at| now.duration_since(at).unwrap_or_default() < REPLACED_RECENTLY);
        match need {
            Need::Fresh if !current.stale(now) => return Ok(unchanged()),
            Need::Replacing(seen) if seen < current.generation || recently => {
                return Ok(unchanged());
            }
            Need::Fresh | Need::Due => {
                if let Some(hold) = self.held.as_ref().filter(|h| now < h.until) {
                    return hold.failure.clone().map_or_else(|| Ok(unchanged()), Err);
                }
            }
            _ => {}
        }
        if let Some(refusal) = self.still_refused() {
            return Err(refusal);
        }
        let when = match need {
            Need::Fresh => When::Stale,
            Need::Due => When::Due,
            Need::Replacing(_) => When::Replacing(&current.token),
        };
        let answer = self.renew(deps, when).await?;
        if matches!(need, Need::Replacing(_)) {
            self.replaced_at = Some(deps.clock.now());
        }
        if let Some(shared) = &self.current {
            *shared.write().unwrap_or_else(|e| e.into_inner()) = answer.snapshot.clone();
        }
        Ok(answer)
    }

    fn snapshot(&self) -> Arc<Snapshot> {
        let shared = self.current.as_ref().expect("set before any ask");
        shared.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// The credentials after `flow::account` with `when`; a refusal is remembered.
    async fn renew(
        &mut self,
        deps: &Deps<'_>,
        when: When<'_>,
    ) -> std::result::Result<Answer, Unavailable> {
        let now = deps.clock.now();
        match flow::account(&self.opts, deps, when).await {
            Ok(fresh) => {
                self.refused = None;
                let refreshed = fresh.refreshed;
                if refreshed {
                    let born_stale = TestAccount::new(Some(&fresh.fields))
                        .usable_token(Some(now))
                        .is_err();
                    let previous = self.held.take();
                    self.held = born_stale.then(|| Hold::after(previous, now, None));
                }
                let snapshot = self.build(fresh)?;
                Ok(Answer {
                    snapshot,
                    refreshed,
                })
            }
            Err(e) => {
                let refusal = Unavailable::from(&e);
                if refusal.exit_code == exit::NEEDS_LOGIN {
                    self.refused = Some((self.file_tokens(), refusal.clone()));
                } else {
                    let failure = Some(refusal.clone());
                    self.held = Some(Hold::after(self.held.take(), now, failure));
                }
                Err(refusal)
            }
        }
    }

    fn file_tokens(&self) -> FileTokens {
        match Project::load(&self.opts.config) {
            Ok(p) => {
                let account = p.account(&self.opts.test_account);
                (
                    account.refresh_token().map(RefreshToken::new),
                    account.access_token().map(AccessToken::new),
                )
            }
            Err(_) => (None, None),
        }
    }

    fn still_refused(&mut self) -> Option<Unavailable> {
        let (tokens, refusal) = self.refused.as_ref()?;
        if *tokens == self.file_tokens() {
            return Some(refusal.clone());
        }
        self.refused = None;
        None
    }

    fn build(&self, fresh: Fresh) -> std::result::Result<Arc<Snapshot>, Unavailable> {
        let value = credentials::encode(&self.opts.test_account, &fresh.fields)
            .map_err(|e| Unavailable::from(&e))?;
        let sensitive = |v: &str| {
            let mut v = HeaderValue::from_str(v).expect("base64 is a header value");
            v.set_sensitive(true);
            v
        };
        let (secrets, left_out) = credentials::encode_secrets(&fresh.secrets);
        let account = TestAccount::new(Some(&fresh.fields));
        let generation = match &self.current {
            Some(_) => {
                let before = self.snapshot();
                before.generation + u64::from(fresh.refreshed || before.token != fresh.token)
            }
            None => 0,
        };
        Ok(Arc::new(Snapshot {
            generation,
            credentials: sensitive(&value),
            secrets: secrets.as_deref().map(sensitive),
            left_out,
            stale_at: account.stale_at(),
            // Not before the floor after the last refresh, nor a hold.
            due_at: account.refresh_due().map(|due| {
                let later = [fresh.floor_ends, self.held.as_ref().map(|h| h.until)];
                later.into_iter().flatten().fold(due, SystemTime::max)
            }),
            expires_at: account.expires_at().and_then(|r| r.ok()),
            token: fresh.token,
        }))
    }
}
