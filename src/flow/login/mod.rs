//! The browser login, in four steps: prepare (plan the redirect, bind the port before
//! anything is shown), announce (tunnel, consent URL with a fresh `state` and PKCE pair, the
//! callback server, what the user must do), wait (bounded, for the one callback that is
//! ours, or a paste), and finish (exchange the code, save, tell the browser how it ended).

mod consent;
mod issuer;
mod paste;
mod redirect;

pub use redirect::DEFAULT_PORT;
pub use redirect::relay_state;

use tokio::net::TcpListener;
use url::Url;

use super::outcome::Outcome;
use super::{Ctx, store};
use crate::callback::{self, Arrival, Callback, Page};
use crate::error::{Error, ProviderError, Result, TunnelError, UserError};
use crate::project::Project;
use crate::token::Grant;
use crate::tunnel::OpenTunnel;
use crate::ui::{PasteLines, Pasted};
use consent::Attempt;
use issuer::Issuer;
use redirect::Redirect;

/// The login's addresses for the debug log; the consent URL without its query, where the
/// state and the PKCE challenge are.
fn log_prepared(local: &str, redirect_uri: &str, attempt: &Attempt) {
    tracing::debug!(
        callback = %local,
        redirect_uri = %redirect_uri,
        authorization_endpoint = %crate::redact::display_url(&attempt.url[..url::Position::AfterPath]),
        "login prepared (state and PKCE verifier kept in memory only)"
    );
}

/// Planned and bound, before anything is shown.
struct Prepared {
    redirect: Redirect,
    tunneled: bool,
    /// Empty with `--paste`: nothing listens.
    listeners: Vec<TcpListener>,
    port: u16,
}

/// Announced: the consent URL is out, and the callback server (or the paste reader) waits.
struct Pending {
    path: String,
    redirect_uri: String,
    attempt: Attempt,
    issuer: Option<Issuer>,
    server: Option<callback::Server>,
    tunnel: Option<Box<dyn OpenTunnel>>,
    pastes: Option<PasteLines>,
    /// The address the browser is expected at, for the waiting line.
    waiting_for: String,
}

impl Pending {
    /// Lets the last page reach the browser, then closes the server and the tunnel (after
    /// the server: the page travels back through it).
    async fn stop(&mut self) {
        if let Some(server) = self.server.take() {
            server.shutdown().await;
        }
        if let Some(tunnel) = self.tunnel.as_mut() {
            tunnel.close().await;
        }
    }
}

/// What woke the wait up.
enum Event {
    Server(Option<Arrival>),
    Pasted(Option<Pasted>),
    Timeout,
    TunnelClosed(String),
}

/// What the provider sent, and how to answer the browser (none for a paste).
struct Got {
    callback: Callback,
    iss: Option<String>,
    reply: Option<tokio::sync::oneshot::Sender<Page>>,
}

/// The wait goes on, ends with an answer, or fails.
enum Step {
    Again,
    Done(Got),
    Fail(Error),
}

impl Ctx<'_> {
    pub(super) async fn login(&self) -> Result<Outcome> {
        // A person is about to spend minutes in a browser: prove first that the tokens
        // they bring can be saved.
        let before = Project::load(&self.opts.config)?;
        before.check_save(&self.opts.test_account)?;
        // ... and exchanged: a network setting that cannot be used is said now.
        self.tokens.ready()?;
        let prepared = self.prepare().await?;
        let mut pending = self.announce(prepared).await?;
        match self.wait(&mut pending).await {
            Ok(got) => self.finish(&before, pending, got).await,
            Err(e) => {
                pending.stop().await;
                Err(e)
            }
        }
    }

    /// The redirect planned and its port bound first: a port in use must be reported before
    /// any browser opens. With `--paste` nothing listens, and the redirect URI only has to
    /// match the registered one.
    async fn prepare(&self) -> Result<Prepared> {
        let tunneled = self.opts.tunnel || self.config.tunnel;
        let setting =
            redirect::setting(self.config, self.opts.port).map_err(|m| self.invalid(m))?;
        let redirect = Redirect::plan(setting.as_deref(), self.opts.port, tunneled)
            .map_err(|m| self.invalid(m))?;
        if tunneled {
            if self.opts.paste {
                return Err(self.invalid(
                    "--paste and a tunnel do not go together: the tunnel exists to bring the callback here".into(),
                ));
            }
            self.deps.tunnel.ready()?;
        }
        if self.opts.paste {
            if redirect.listen_port == 0 {
                return Err(self.invalid(
                    "--paste needs the port the provider redirects to: give --port or OAUTH2_PORT a real one".into(),
                ));
            }
            let port = redirect.listen_port;
            return Ok(Prepared {
                redirect,
                tunneled,
                listeners: Vec::new(),
                port,
            });
        }
        let from_redirect_url = redirect.registered_here();
        let listeners =
            callback::bind(redirect.loopback, redirect.listen_port, from_redirect_url).await?;
        let port = listeners[0]
            .local_addr()
            .map(|a| a.port())
            .unwrap_or(redirect.listen_port);
        Ok(Prepared {
            redirect,
            tunneled,
            listeners,
            port,
        })
    }

    /// Everything the user sees before the wait: the tunnel opened, the consent URL built
    /// and shown (and opened), the callback server serving, the paste prompt.
    async fn announce(&self, prepared: Prepared) -> Result<Pending> {
        let Prepared {
            redirect,
            tunneled,
            listeners,
            port,
        } = prepared;
        let term = &*self.deps.terminal;
        let local = format!("http://127.0.0.1:{port}{}", redirect.path);
        term.say(&format!(
            "Logging in to authorization \"{}\" for test account \"{}\".",
            self.authorization, self.opts.test_account
        ));
        let tunnel = match tunneled {
            true => Some(self.open_tunnel(port).await?),
            false => None,
        };
        let resolved = redirect.resolve(port, tunnel.as_ref().map(|t| t.url()));
        let redirect_uri = resolved.redirect_uri;
        let attempt = consent::consent_url(
            self.config,
            &self.endpoint.client_id,
            &redirect_uri,
            resolved.relay_to.as_deref(),
        )
        .map_err(|m| self.invalid(m))?;
        let issuer = issuer::expected(self.config.issuer.as_deref(), &attempt.url).await;
        let server = self.serve(
            listeners,
            &redirect.path,
            &attempt,
            tunnel.as_ref().map(|t| t.url()),
        );
        log_prepared(&local, &redirect_uri, &attempt);
        let waiting_for = if redirect.forwarded() && tunnel.is_none() {
            local.clone()
        } else {
            redirect_uri.clone()
        };
        let mut pending = Pending {
            path: redirect.path,
            redirect_uri,
            attempt,
            issuer,
            server,
            tunnel,
            pastes: None,
            waiting_for,
        };
        self.show(&pending, &local, resolved.relay_to.as_deref());
        self.open_browser(&pending, port);
        pending.pastes = self.ask_for_paste(&pending);
        Ok(pending)
    }

    /// The callback server for this attempt, unless the user pastes the address instead.
    fn serve(
        &self,
        listeners: Vec<TcpListener>,
        path: &str,
        attempt: &Attempt,
        tunnel: Option<&str>,
    ) -> Option<callback::Server> {
        (!self.opts.paste)
            .then(|| callback::serve(listeners, path.to_string(), attempt.state.clone(), tunnel))
    }

    /// The lines the user must act on, and the browser opened on the consent page.
    fn show(&self, pending: &Pending, local: &str, relay_to: Option<&str>) {
        let term = &*self.deps.terminal;
        let redirect_uri = &pending.redirect_uri;
        if let Some(to) = relay_to {
            term.needed(&format!(
                "The provider redirects to {redirect_uri}, which must send the browser on to {to} \
                 (that address travels in the state parameter)."
            ));
        } else if let Some(t) = &pending.tunnel {
            term.needed(&format!(
                "Tunnel open: {} forwards to {local}.\nThe provider must have this redirect URL \
                 registered: {redirect_uri}",
                t.url()
            ));
        }
        let url = &pending.attempt.url;
        term.needed(&format!(
            "Open this URL in a browser to log in:\n\n  {url}\n"
        ));
    }

    /// The consent page opened here, or, when no browser can be, how to open it elsewhere
    /// and still get back here. `--paste` without a terminal opens none: whoever pastes the
    /// answer is not at this machine.
    fn open_browser(&self, pending: &Pending, port: u16) {
        let term = &*self.deps.terminal;
        if !self.opts.open_browser || (self.opts.paste && !term.interactive()) {
            return;
        }
        let Err(why) = self.deps.browser.open(pending.attempt.url.as_str()) else {
            return;
        };
        term.warn(&format!("{why}: open the URL above in a browser yourself."));
        if self.opts.paste || pending.tunnel.is_some() {
            return;
        }
        term.needed(&format!(
            "A browser on another machine cannot reach this one's port {port}: forward it first \
             (ssh -L {port}:127.0.0.1:{port} THIS-HOST), or run again with --paste (paste back \
             the address the browser is sent to) or --tunnel. Still waiting here meanwhile."
        ));
    }

    /// Paste-back: the browser may be on another machine (SSH, a container), where the
    /// redirect to this one fails; its address bar still holds the code and the state.
    fn ask_for_paste(&self, pending: &Pending) -> Option<PasteLines> {
        let term = &*self.deps.terminal;
        let pastes = term.paste_lines(self.opts.paste);
        if self.opts.paste {
            term.needed(
                "After logging in, the browser is sent to an address that will not load. Paste \
                 that address here (or the code the provider shows) and press Enter:",
            );
        } else if pastes.is_some() {
            term.needed(
                "Or paste the URL your browser was sent to (when it runs on another machine and \
                 that page does not load), or the code the provider shows, and press Enter:",
            );
            term.say(&format!(
                "Waiting for the provider to redirect to {} (Ctrl-C to cancel)…",
                pending.waiting_for
            ));
        }
        pastes
    }

    /// Waits, bounded by `--timeout`, for the callback that carries our `state` (or a paste
    /// that does), the tunnel's end, or a paste that cannot be one.
    async fn wait(&self, pending: &mut Pending) -> Result<Got> {
        let deadline = tokio::time::sleep(self.opts.callback_timeout);
        tokio::pin!(deadline);
        loop {
            // The spinner would draw over what is being pasted; a plain line instead.
            let _spinner = pending.pastes.is_none().then(|| {
                self.deps.terminal.waiting(&format!(
                    "Waiting for the provider to redirect to {} (Ctrl-C to cancel)",
                    pending.waiting_for
                ))
            });
            let event = next_event(pending, &mut deadline).await;
            match self.on_event(pending, event) {
                Step::Again => continue,
                Step::Done(got) => return Ok(got),
                Step::Fail(e) => return Err(e),
            }
        }
    }

    fn on_event(&self, pending: &mut Pending, event: Event) -> Step {
        let term = &*self.deps.terminal;
        match event {
            Event::Server(Some(a)) => Step::Done(Got {
                callback: a.callback,
                iss: a.iss,
                reply: Some(a.reply),
            }),
            Event::Server(None) => Step::Fail(Error::Internal(
                "the callback server stopped unexpectedly".into(),
            )),
            // stdin closed: nothing more will be pasted.
            Event::Pasted(None) if pending.server.is_some() => {
                pending.pastes = None;
                Step::Again
            }
            Event::Pasted(None) => Step::Fail(
                UserError::PasteRefused {
                    why: "stdin ended before an address or a code was pasted".into(),
                }
                .into(),
            ),
            // Nothing more is read; the browser may still come back.
            Event::Pasted(Some(Err(why))) => {
                pending.pastes = None;
                if term.interactive() && pending.server.is_some() {
                    term.warn(&format!("{why}; waiting for the browser."));
                    return Step::Again;
                }
                Step::Fail(UserError::PasteRefused { why }.into())
            }
            Event::Pasted(Some(Ok(line))) => {
                match paste::pasted(&line, &pending.path, &pending.attempt.state) {
                    Ok(Some(a)) => Step::Done(Got {
                        callback: a.callback,
                        iss: a.iss,
                        reply: None,
                    }),
                    Ok(None) => Step::Again,
                    Err(why) if term.interactive() => {
                        term.warn(&format!("{why}; paste again, or wait for the browser."));
                        Step::Again
                    }
                    Err(why) => Step::Fail(UserError::PasteRefused { why }.into()),
                }
            }
            Event::Timeout => Step::Fail(
                ProviderError::CallbackTimeout {
                    secs: self.opts.callback_timeout.as_secs(),
                }
                .into(),
            ),
            Event::TunnelClosed(reason) => Step::Fail(TunnelError::Closed { reason }.into()),
        }
    }

    /// From here on the code is being spent: the exchange, the save and the browser's last
    /// page finish even if a stop signal comes (see `Critical`).
    async fn finish(&self, before: &Project, mut pending: Pending, got: Got) -> Result<Outcome> {
        let _critical =
            matches!(got.callback, Callback::Code { .. }).then(|| self.deps.critical.enter());
        let issuer = pending.issuer.take();
        let verifier = pending.attempt.verifier.clone();
        let outcome = self
            .complete(before, got.callback, got.iss, issuer, verifier, &pending)
            .await;
        if let Some(reply) = got.reply {
            let _ = reply.send(self.last_page(&outcome));
        }
        pending.stop().await;
        outcome
    }

    fn last_page(&self, outcome: &Result<Outcome>) -> Page {
        match outcome {
            Ok(_) => Page::Success {
                message: format!(
                    "integration-cli saved the tokens for test account \"{}\".",
                    self.opts.test_account
                ),
            },
            Err(e @ Error::Provider(ProviderError::AuthorizationDenied { .. })) => Page::Failure {
                heading: "Authorization refused".into(),
                message: e.to_string(),
            },
            Err(e) => Page::Failure {
                heading: "Sign-in failed".into(),
                message: e.to_string(),
            },
        }
    }

    /// The provider's answer, turned into saved tokens or the provider's own error. RFC
    /// 9207's check comes first: an answer from another issuer never reaches this
    /// authorization's token endpoint.
    async fn complete(
        &self,
        before: &Project,
        callback: Callback,
        iss: Option<String>,
        issuer: Option<Issuer>,
        verifier: crate::secret::PkceVerifier,
        pending: &Pending,
    ) -> Result<Outcome> {
        let verdict = issuer::check(issuer, iss.as_deref());
        let code = match callback {
            // A refusal spends no code: the provider's words come first, whatever the issuer.
            Callback::Denied {
                error,
                description,
                uri,
            } => {
                return Err(ProviderError::AuthorizationDenied {
                    error,
                    description,
                    uri,
                    unchecked: verdict.note(),
                }
                .into());
            }
            Callback::Code { code } => {
                if let issuer::Verdict::Unchecked(why) = &verdict {
                    self.deps.terminal.warn(why);
                }
                if let Some(e) = verdict.into_error() {
                    return Err(e);
                }
                code
            }
        };
        self.deps
            .terminal
            .say("Received the authorization code; exchanging it for tokens…");
        let grant = Grant::AuthorizationCode {
            code,
            verifier,
            redirect_uri: pending.redirect_uri.clone(),
        };
        let response = self
            .tokens
            .request(self.endpoint, &grant, &self.config.token_request_parameters)
            .await?;
        store::save(self, before, &response).await
    }

    /// Opens the tunnel to the bound callback server, on the reserved domain if one is set.
    async fn open_tunnel(&self, port: u16) -> Result<Box<dyn OpenTunnel>> {
        let domain = self
            .opts
            .tunnel_domain
            .clone()
            .or(self.config.tunnel_domain.clone())
            .or_else(|| redirect::ngrok_domain_of(self.config.redirect_url.as_deref()?));
        let domain = domain.as_deref();
        let target = Url::parse(&format!("http://127.0.0.1:{port}")).expect("a valid URL");
        self.deps.terminal.say(&format!(
            "Opening a tunnel to http://127.0.0.1:{port}{}…",
            domain.map_or(String::new(), |d| format!(" on {d}"))
        ));
        self.deps.tunnel.open(&target, domain).await
    }
}

/// The first of: a request at the callback server, a pasted line, the deadline, the tunnel's
/// end. A source that is not there never fires.
async fn next_event(
    pending: &mut Pending,
    deadline: &mut std::pin::Pin<&mut tokio::time::Sleep>,
) -> Event {
    let tunnel_closed = async {
        match pending.tunnel.as_mut() {
            Some(t) => t.closed().await,
            None => std::future::pending().await,
        }
    };
    let from_server = async {
        match pending.server.as_mut() {
            Some(s) => s.next().await,
            None => std::future::pending().await,
        }
    };
    let pasted = async {
        match pending.pastes.as_mut() {
            Some(p) => p.recv().await,
            None => std::future::pending().await,
        }
    };
    tokio::select! {
        arrival = from_server => Event::Server(arrival),
        line = pasted => Event::Pasted(line),
        _ = deadline.as_mut() => Event::Timeout,
        reason = tunnel_closed => Event::TunnelClosed(reason),
    }
}
