//! The browser login: bind the callback server, send the user to the consent page with a
//! fresh `state` and PKCE challenge, wait (bounded) for the one callback that is ours,
//! exchange the code and save, then tell the browser how it ended.

use oauth2::basic::BasicClient;
use oauth2::{AuthUrl, ClientId, CsrfToken, PkceCodeChallenge, RedirectUrl, Scope};
use url::Url;

use super::{Ctx, store};
use crate::callback::{self, Callback, Loopback, Page};
use crate::error::{Error, Result};
use crate::secret::Secret;
use crate::token::Grant;

/// Parameters the flow itself sets; letting `authorizationParameters` override them would
/// silently break PKCE or state checking.
const RESERVED: [&str; 7] = [
    "response_type",
    "client_id",
    "redirect_uri",
    "scope",
    "state",
    "code_challenge",
    "code_challenge_method",
];

/// 32 random bytes: well past the 128 bits RFC 9700 asks of `state`.
const STATE_BYTES: u32 = 32;

/// The most of an authorization server's metadata document that is read.
const MAX_METADATA: usize = 1 << 20;

/// The callback port when neither `--port`, `OAUTH2_PORT` nor a `redirectUrl` names one.
pub const DEFAULT_PORT: u16 = 9002;

/// Where the callback server listens and what redirect URI the provider is told.
#[derive(Debug)]
struct Redirect {
    loopback: Loopback,
    listen_port: u16,
    path: String,
    /// `None`: ours, `http://127.0.0.1:<port>/callback` (or the tunnel's URL), known once the
    /// port is bound.
    fixed: Option<String>,
    /// The fixed URL does not point at this machine: a relay (or the tunnel) must send the
    /// browser on.
    forwarded: bool,
}

/// The redirect URI for the provider, and, in relay mode, where the relay must send the
/// browser on (carried in `state`).
#[derive(Debug, PartialEq)]
struct Resolved {
    redirect_uri: String,
    relay_to: Option<String>,
}

impl Redirect {
    /// `port`: the one the user chose, and where they said it (`--port` or `OAUTH2_PORT`).
    /// With a tunnel, the local port is only the tunnel's business: a free one unless named.
    fn plan(
        configured: Option<&str>,
        port: Option<(u16, &'static str)>,
        tunnel: bool,
    ) -> std::result::Result<Redirect, String> {
        let chosen = port.map_or(if tunnel { 0 } else { DEFAULT_PORT }, |(p, _)| p);
        let Some(raw) = configured.filter(|s| !s.is_empty()) else {
            return Ok(Redirect {
                loopback: Loopback::V4,
                listen_port: chosen,
                path: "/callback".into(),
                fixed: None,
                forwarded: false,
            });
        };
        let url = Url::parse(raw).map_err(|e| format!("redirectUrl {raw:?} is not a URL: {e}"))?;
        let loopback = url
            .host_str()
            .and_then(Loopback::from_host)
            .filter(|_| url.scheme() == "http");
        if loopback.is_some() && tunnel {
            return Err(format!(
                "redirectUrl {raw:?} is a loopback URL, which a tunnel cannot serve; remove it to \
                 use the tunnel's URL, or set the tunnel's (or a relay's) public URL"
            ));
        }
        let Some(loopback) = loopback else {
            return Ok(Redirect {
                loopback: Loopback::V4,
                listen_port: chosen,
                path: url.path().to_string(),
                fixed: Some(raw.to_string()),
                forwarded: true,
            });
        };
        // The registered URL is sent byte for byte, so its port is the one to listen on; a
        // different explicit choice cannot be honoured without breaking the match.
        let Some(listen_port) = url.port() else {
            return Err(format!(
                "redirectUrl {raw:?} needs an explicit port, such as http://127.0.0.1:9002/callback"
            ));
        };
        if let Some((asked, origin)) = port
            && asked != listen_port
        {
            return Err(format!(
                "redirectUrl {raw:?} fixes the callback port to {listen_port}, but {origin} asks for {asked}; change one of them"
            ));
        }
        Ok(Redirect {
            loopback,
            listen_port,
            path: url.path().to_string(),
            fixed: Some(raw.to_string()),
            forwarded: false,
        })
    }

    /// Once the port is bound (and the tunnel open): a redirectUrl on the tunnel's own
    /// address is served directly; any other public one is a relay, which is told in `state`
    /// where this login listens.
    fn resolve(&self, bound_port: u16, tunnel_url: Option<&str>) -> Resolved {
        let here = tunnel_url.map_or_else(
            || format!("http://127.0.0.1:{bound_port}"),
            |t| t.trim_end_matches('/').to_string(),
        );
        let Some(fixed) = &self.fixed else {
            return Resolved {
                redirect_uri: format!("{here}{}", self.path),
                relay_to: None,
            };
        };
        let same_origin = |a: &str, b: &str| matches!((Url::parse(a), Url::parse(b)), (Ok(a), Ok(b)) if a.origin() == b.origin());
        let relayed = self.forwarded && !tunnel_url.is_some_and(|t| same_origin(t, fixed));
        Resolved {
            redirect_uri: fixed.clone(),
            relay_to: relayed.then(|| format!("{here}{}", self.path)),
        }
    }
}

/// A `redirectUrl` on an ngrok domain is the developer's reserved one: open the tunnel there,
/// rather than on a random address the provider has never heard of.
fn ngrok_domain_of(redirect_url: &str) -> Option<String> {
    const NGROK: [&str; 5] = [
        ".ngrok.app",
        ".ngrok-free.app",
        ".ngrok.dev",
        ".ngrok-free.dev",
        ".ngrok.io",
    ];
    let url = Url::parse(redirect_url).ok()?;
    let host = url.host_str()?;
    (url.scheme() == "https" && NGROK.iter().any(|d| host.ends_with(d))).then(|| host.to_string())
}

/// `state` in relay mode: the random nonce, a dot, and the URL the relay must send the
/// browser on to, base64url without padding. The callback compares the whole value in
/// constant time, so a relay (or anyone) that changes the URL part gets no pass.
pub fn relay_state(nonce: &str, relay_to: &str) -> String {
    use base64::Engine;
    let to = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(relay_to.as_bytes());
    format!("{nonce}.{to}")
}

/// The issuer a login's answer must come from (RFC 9207).
struct Issuer {
    expected: String,
    /// The server's metadata says every answer carries `iss`: one without it is refused.
    promised: bool,
}

/// What woke the wait up.
enum Event {
    Server(Option<callback::Arrival>),
    Pasted(Option<crate::ui::Pasted>),
    Timeout,
    TunnelClosed(String),
}

/// What ended the wait.
enum Got {
    Callback(callback::Arrival),
    Pasted(callback::Accepted),
}

impl Ctx<'_> {
    pub(super) async fn login(&self) -> Result<()> {
        // A person is about to spend minutes in a browser: prove first that the tokens
        // they bring can be saved.
        let before = crate::project::Project::load(&self.opts.config)?;
        before.check_save(&self.opts.test_account)?;
        let term = self.deps.terminal;
        let tunneled = self.opts.tunnel || self.config.tunnel;
        let setting = self.redirect_setting()?;
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

        // Bind first: a port in use must be reported before any browser opens. With
        // --paste nothing listens, and the redirect URI only has to match the registered one.
        let from_redirect_url = redirect.fixed.is_some() && !redirect.forwarded;
        let (listeners, port) = if self.opts.paste {
            if redirect.listen_port == 0 {
                return Err(self.invalid(
                    "--paste needs the port the provider redirects to: give --port or OAUTH2_PORT a real one".into(),
                ));
            }
            (Vec::new(), redirect.listen_port)
        } else {
            let listeners =
                callback::bind(redirect.loopback, redirect.listen_port, from_redirect_url).await?;
            let port = listeners[0]
                .local_addr()
                .map(|a| a.port())
                .unwrap_or(redirect.listen_port);
            (listeners, port)
        };
        let local = format!("http://127.0.0.1:{port}{}", redirect.path);

        term.say(&format!(
            "Logging in to authorization \"{}\" for test account \"{}\".",
            self.authorization, self.opts.test_account
        ));
        let mut tunnel = match tunneled {
            true => Some(self.open_tunnel(port).await?),
            false => None,
        };
        let resolved = redirect.resolve(port, tunnel.as_ref().map(|t| t.url()));
        let redirect_uri = resolved.redirect_uri.clone();
        let (url, state, verifier) =
            self.authorization_url(&redirect_uri, resolved.relay_to.as_deref())?;
        let issuer = self.expected_issuer(&url).await;
        let mut server = (!self.opts.paste).then(|| {
            callback::serve(
                listeners,
                redirect.path.clone(),
                state.clone(),
                tunnel.as_ref().map(|t| t.url()),
            )
        });
        tracing::debug!(
            callback = %local,
            redirect_uri = %redirect_uri,
            authorization_endpoint = %crate::redact::display_url(&url[..url::Position::AfterPath]),
            "login prepared (state and PKCE verifier kept in memory only)"
        );

        if let Some(to) = &resolved.relay_to {
            term.needed(&format!(
                "The provider redirects to {redirect_uri}, which must send the browser on to {to} \
                 (that address travels in the state parameter)."
            ));
        } else if let Some(t) = &tunnel {
            term.needed(&format!(
                "Tunnel open: {} forwards to {local}.\nThe provider must have this redirect URL \
                 registered: {redirect_uri}",
                t.url()
            ));
        }
        term.needed(&format!(
            "Open this URL in a browser to log in:\n\n  {url}\n"
        ));
        if self.opts.open_browser
            && let Err(why) = self.deps.browser.open(url.as_str())
        {
            term.warn(&format!("{why}; open the URL above yourself."));
        }

        // Paste-back: the browser may be on another machine (SSH, a container), where the
        // redirect to this one fails; its address bar still holds the code and the state.
        let mut pastes = term.paste_lines(self.opts.paste);
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
        }
        let waiting_for = if redirect.forwarded && tunnel.is_none() {
            &local
        } else {
            &redirect_uri
        };
        let deadline = tokio::time::sleep(self.opts.callback_timeout);
        tokio::pin!(deadline);
        if pastes.is_some() && !self.opts.paste {
            term.say(&format!(
                "Waiting for the provider to redirect to {waiting_for} (Ctrl-C to cancel)…"
            ));
        }
        let got = loop {
            // The spinner would draw over what is being pasted; a plain line instead.
            let _spinner = match pastes {
                Some(_) => None,
                None => Some(term.waiting(&format!(
                    "Waiting for the provider to redirect to {waiting_for} (Ctrl-C to cancel)"
                ))),
            };
            let event = {
                let tunnel_closed = async {
                    match tunnel.as_mut() {
                        Some(t) => t.closed().await,
                        None => std::future::pending().await,
                    }
                };
                let from_server = async {
                    match server.as_mut() {
                        Some(s) => s.next().await,
                        None => std::future::pending().await,
                    }
                };
                let pasted = async {
                    match pastes.as_mut() {
                        Some(p) => p.recv().await,
                        None => std::future::pending().await,
                    }
                };
                tokio::select! {
                    arrival = from_server => Event::Server(arrival),
                    line = pasted => Event::Pasted(line),
                    _ = &mut deadline => Event::Timeout,
                    reason = tunnel_closed => Event::TunnelClosed(reason),
                }
            };
            let failed = match event {
                Event::Server(Some(arrival)) => break Got::Callback(arrival),
                Event::Server(None) => {
                    Error::Terminal("the callback server stopped unexpectedly".into())
                }
                Event::Pasted(None) => {
                    // stdin closed: nothing more will be pasted.
                    pastes = None;
                    if server.is_some() {
                        continue;
                    }
                    Error::PasteRefused {
                        why: "stdin ended before an address or a code was pasted".into(),
                    }
                }
                Event::Pasted(Some(Err(why))) => {
                    // Nothing more is read; the browser may still come back.
                    pastes = None;
                    if term.interactive() && server.is_some() {
                        term.warn(&format!("{why}; waiting for the browser."));
                        continue;
                    }
                    Error::PasteRefused { why }
                }
                Event::Pasted(Some(Ok(line))) => match self.pasted(&line, &redirect.path, &state) {
                    Ok(Some(accepted)) => break Got::Pasted(accepted),
                    Ok(None) => continue,
                    Err(why) if term.interactive() => {
                        term.warn(&format!("{why}; paste again, or wait for the browser."));
                        continue;
                    }
                    Err(why) => Error::PasteRefused { why },
                },
                Event::Timeout => Error::CallbackTimeout {
                    secs: self.opts.callback_timeout.as_secs(),
                },
                Event::TunnelClosed(reason) => Error::TunnelClosed { reason },
            };
            if let Some(s) = server.take() {
                s.shutdown().await;
            }
            return Err(failed);
        };
        let (callback, iss, reply) = match got {
            Got::Callback(a) => (a.callback, a.iss, Some(a.reply)),
            Got::Pasted(a) => (a.callback, a.iss, None),
        };

        // From here on the code is being spent: let the exchange, the save and the browser's
        // last page finish even if Ctrl-C comes (see `Critical`).
        let _critical =
            matches!(callback, Callback::Code { .. }).then(|| self.deps.critical.enter());
        let outcome = self
            .complete(&before, callback, iss, issuer, verifier, redirect_uri)
            .await;
        if let Some(reply) = reply {
            let page = match &outcome {
                Ok(()) => Page::Success {
                    message: format!(
                        "integration-cli saved the tokens for test account \"{}\".",
                        self.opts.test_account
                    ),
                },
                Err(e @ Error::AuthorizationDenied { .. }) => Page::Failure {
                    heading: "Authorization refused".into(),
                    message: e.to_string(),
                },
                Err(e) => Page::Failure {
                    heading: "Sign-in failed".into(),
                    message: e.to_string(),
                },
            };
            let _ = reply.send(page);
        }
        // The last page travels back through the tunnel: close it only after the server.
        if let Some(s) = server.take() {
            s.shutdown().await;
        }
        if let Some(t) = tunnel.as_mut() {
            t.close().await;
        }
        outcome
    }

    /// The configured `issuer`; or else the one the authorization server's metadata names, if
    /// it promises to send `iss` (`authorization_response_iss_parameter_supported`). The
    /// metadata is looked for at the authorization URL's origin, briefly: a server without it
    /// only means no check.
    async fn expected_issuer(&self, authorize: &Url) -> Option<Issuer> {
        if let Some(expected) = &self.config.issuer {
            return Some(Issuer {
                expected: expected.clone(),
                promised: false,
            });
        }
        let origin = authorize.origin().ascii_serialization();
        let http = crate::http::client(&origin, std::time::Duration::from_secs(3));
        for path in [
            "/.well-known/oauth-authorization-server",
            "/.well-known/openid-configuration",
        ] {
            let Ok(r) = http.get(format!("{origin}{path}")).send().await else {
                continue;
            };
            if !r.status().is_success() {
                continue;
            }
            // Metadata is a few KiB; a server that sends more is not to be believed.
            let Some(meta) = crate::http::read_capped(r, MAX_METADATA)
                .await
                .ok()
                .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok())
            else {
                continue;
            };
            let promised = meta["authorization_response_iss_parameter_supported"] == true;
            tracing::debug!(%path, promised, "authorization server metadata");
            if let (true, Some(issuer)) = (promised, meta["issuer"].as_str()) {
                return Some(Issuer {
                    expected: issuer.to_string(),
                    promised: true,
                });
            }
            return None;
        }
        None
    }

    /// A pasted line: the address the browser was sent to (checked like a callback: path,
    /// then state, error and code), or a bare code. `Ok(None)`: an empty line, ignored.
    fn pasted(
        &self,
        line: &str,
        path: &str,
        state: &Secret,
    ) -> std::result::Result<Option<callback::Accepted>, String> {
        let line = line.trim();
        if line.is_empty() {
            return Ok(None);
        }
        // An address: with or without its scheme (browsers hide it), or just its query.
        let looks_like_address = line.contains("://")
            || line.starts_with('?')
            || line.starts_with('/')
            || line.contains('?')
            || line.contains('=');
        if looks_like_address {
            let url = Url::parse(line)
                .ok()
                .filter(|u| u.has_host())
                .or_else(|| {
                    Url::parse(&format!("http://{line}"))
                        .ok()
                        .filter(|_| !line.starts_with(['/', '?']))
                })
                .or_else(|| {
                    Url::parse("http://pasted.invalid")
                        .and_then(|b| b.join(line))
                        .ok()
                })
                .ok_or_else(|| "the pasted text is not an address".to_string())?;
            if !line.starts_with('?') && url.path() != path {
                return Err(format!(
                    "the pasted address goes to {}, but this login's callback is {path}",
                    crate::redact::printable(url.path())
                ));
            }
            return match callback::accept(url.query().unwrap_or(""), state) {
                Ok(a) => Ok(Some(a)),
                Err(callback::Refused::WrongState) => {
                    Err("the pasted address is not from this login (its state differs)".to_string())
                }
                Err(callback::Refused::Malformed(m)) => Err(m),
            };
        }
        // A code is one long word: "y" or "ok" typed by mistake must not spend the login.
        if line.len() < 8
            || line.len() > 4096
            || line
                .chars()
                .any(|c| c.is_whitespace() || "&=?/:".contains(c))
        {
            return Err("the pasted text is neither an address nor a code".into());
        }
        // A bare code: the provider showed it on a page; there is no state to compare.
        Ok(Some(callback::Accepted {
            callback: Callback::Code {
                code: Secret::new(line.to_string()),
            },
            iss: None,
        }))
    }

    /// The redirect settings: `redirectUrl`, or one built from `redirectHost` and
    /// `redirectPath` for providers that want `localhost` or another path.
    fn redirect_setting(&self) -> Result<Option<String>> {
        let (host, path) = (&self.config.redirect_host, &self.config.redirect_path);
        if host.is_none() && path.is_none() {
            return Ok(self.config.redirect_url.clone());
        }
        if self.config.redirect_url.is_some() {
            return Err(self.invalid(
                "give either redirectUrl, or redirectHost and redirectPath, not both".into(),
            ));
        }
        let host = host.as_deref().unwrap_or("127.0.0.1");
        if !matches!(host, "127.0.0.1" | "localhost" | "[::1]") {
            return Err(self.invalid(format!(
                "redirectHost {host:?} must be 127.0.0.1, localhost or [::1]"
            )));
        }
        let path = path.as_deref().unwrap_or("/callback");
        if !path.starts_with('/') {
            return Err(self.invalid(format!("redirectPath {path:?} must start with /")));
        }
        let port = self.opts.port.map_or(DEFAULT_PORT, |(p, _)| p);
        if port == 0 {
            return Err(self.invalid(
                "redirectHost is registered with a port: give --port or OAUTH2_PORT a real one, not 0".into(),
            ));
        }
        Ok(Some(format!("http://{host}:{port}{path}")))
    }

    /// Opens the tunnel to the bound callback server, on the reserved domain if one is set.
    async fn open_tunnel(&self, port: u16) -> Result<Box<dyn crate::tunnel::OpenTunnel>> {
        let domain = self
            .opts
            .tunnel_domain
            .clone()
            .or(self.config.tunnel_domain.clone())
            .or_else(|| ngrok_domain_of(self.config.redirect_url.as_deref()?));
        let domain = domain.as_deref();
        let target = Url::parse(&format!("http://127.0.0.1:{port}")).expect("a valid URL");
        self.deps.terminal.say(&format!(
            "Opening a tunnel to http://127.0.0.1:{port}{}…",
            domain.map_or(String::new(), |d| format!(" on {d}"))
        ));
        self.deps.tunnel.open(&target, domain).await
    }

    /// The consent page's URL, with a fresh `state` and PKCE pair for this attempt only.
    fn authorization_url(
        &self,
        redirect_uri: &str,
        relay_to: Option<&str>,
    ) -> Result<(Url, Secret, Secret)> {
        let auth_url = self
            .config
            .authorization_url
            .as_deref()
            .filter(|s| !s.is_empty())
            .ok_or_else(|| self.invalid("authorizationUrl is missing".into()))?;
        let auth_url = AuthUrl::new(auth_url.to_string())
            .map_err(|e| self.invalid(format!("authorizationUrl is not a valid URL: {e}")))?;
        if let Some((k, _)) = self
            .config
            .authorization_parameters
            .iter()
            .find(|(k, _)| RESERVED.contains(&k.as_str()))
        {
            return Err(self.invalid(format!(
                "authorizationParameters may not set \"{k}\": integration-cli sets it itself"
            )));
        }
        let redirect_url = RedirectUrl::new(redirect_uri.to_string()).map_err(|e| {
            self.invalid(format!("redirect URL {redirect_uri:?} is not valid: {e}"))
        })?;

        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let client = BasicClient::new(ClientId::new(self.endpoint.client_id.clone()))
            .set_auth_uri(auth_url)
            .set_redirect_uri(redirect_url);
        let state = || {
            let nonce = CsrfToken::new_random_len(STATE_BYTES);
            match relay_to {
                Some(to) => CsrfToken::new(relay_state(nonce.secret(), to)),
                None => nonce,
            }
        };
        let mut request = client
            .authorize_url(state)
            .add_scopes(self.config.scopes.iter().cloned().map(Scope::new))
            .set_pkce_challenge(challenge);
        for (k, v) in &self.config.authorization_parameters {
            request = request.add_extra_param(k.as_str(), v.as_str());
        }
        let (url, state) = request.url();
        Ok((
            url,
            Secret::new(state.secret()),
            Secret::new(verifier.secret()),
        ))
    }

    /// The provider's answer, turned into saved tokens or the provider's own error.
    async fn complete(
        &self,
        before: &crate::project::Project,
        callback: Callback,
        iss: Option<String>,
        issuer: Option<Issuer>,
        verifier: Secret,
        redirect_uri: String,
    ) -> Result<()> {
        // RFC 9207: an answer from another issuer than the expected one is a mix-up, error or
        // code alike; the code must not reach this authorization's token endpoint.
        match (issuer, iss) {
            (Some(Issuer { expected, .. }), Some(got)) if expected != got => {
                return Err(Error::IssuerMismatch {
                    expected: crate::redact::printable(&expected),
                    got: crate::redact::printable(&got),
                });
            }
            (
                Some(Issuer {
                    expected,
                    promised: true,
                }),
                None,
            ) => {
                return Err(Error::IssuerMismatch {
                    expected: crate::redact::printable(&expected),
                    got: "none (the answer carries no iss, though the server's metadata says it sends one)".into(),
                });
            }
            (
                Some(Issuer {
                    expected,
                    promised: false,
                }),
                None,
            ) => self.deps.terminal.warn(&format!(
                "the provider sent no iss with its answer, so the issuer {} could not be checked",
                crate::redact::printable(&expected)
            )),
            _ => {}
        }
        let code = match callback {
            Callback::Denied {
                error,
                description,
                uri,
            } => {
                return Err(Error::AuthorizationDenied {
                    error,
                    description,
                    uri,
                });
            }
            Callback::Code { code } => code,
        };
        self.deps
            .terminal
            .say("Received the authorization code; exchanging it for tokens…");
        let grant = Grant::AuthorizationCode {
            code,
            verifier,
            redirect_uri,
        };
        let response = self
            .tokens
            .request(self.endpoint, &grant, &self.config.token_request_parameters)
            .await?;
        store::save(self, before, &response).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_redirect_is_the_ip_literal_with_the_bound_port() {
        let r = Redirect::plan(None, None, false).unwrap();
        assert_eq!((r.listen_port, r.loopback), (DEFAULT_PORT, Loopback::V4));
        assert_eq!(
            r.resolve(40123, None).redirect_uri,
            "http://127.0.0.1:40123/callback"
        );
        let r = Redirect::plan(None, Some((0, "--port")), false).unwrap();
        assert_eq!(r.listen_port, 0);
    }

    #[test]
    fn a_loopback_redirect_url_sets_port_host_and_path_and_is_sent_verbatim() {
        let r = Redirect::plan(Some("http://localhost:8080/oauth/cb"), None, false).unwrap();
        assert_eq!((r.listen_port, r.path.as_str()), (8080, "/oauth/cb"));
        assert_eq!(r.loopback, Loopback::Both);
        assert_eq!(
            r.resolve(8080, None).redirect_uri,
            "http://localhost:8080/oauth/cb"
        );
        assert!(!r.forwarded);
        let r = Redirect::plan(
            Some("http://[::1]:7000/cb"),
            Some((7000, "OAUTH2_PORT")),
            false,
        )
        .unwrap();
        assert_eq!((r.listen_port, r.loopback), (7000, Loopback::V6));
        let e = Redirect::plan(Some("http://127.0.0.1/cb"), None, false).unwrap_err();
        assert!(e.contains("needs an explicit port"), "{e}");
    }

    #[test]
    fn a_port_choice_that_contradicts_the_redirect_url_is_an_error_naming_both() {
        let e = Redirect::plan(
            Some("http://127.0.0.1:9002/cb"),
            Some((8080, "OAUTH2_PORT")),
            false,
        )
        .unwrap_err();
        assert!(
            e.contains("fixes the callback port to 9002, but OAUTH2_PORT asks for 8080"),
            "{e}"
        );
    }

    #[test]
    fn a_tunnel_replaces_the_loopback_address_and_picks_a_free_local_port() {
        let r = Redirect::plan(None, None, true).unwrap();
        assert_eq!(r.listen_port, 0);
        assert_eq!(
            r.resolve(4000, Some("https://abc.ngrok.app/")),
            Resolved {
                redirect_uri: "https://abc.ngrok.app/callback".into(),
                relay_to: None
            }
        );
        let e = Redirect::plan(Some("http://127.0.0.1:9002/callback"), None, true).unwrap_err();
        assert!(e.contains("a tunnel cannot serve"), "{e}");
    }

    #[test]
    fn a_redirect_url_on_the_tunnels_domain_is_direct_and_any_other_is_a_relay() {
        let r = Redirect::plan(Some("https://me.ngrok.app/oauth/cb"), None, true).unwrap();
        assert_eq!(
            r.resolve(4000, Some("https://me.ngrok.app")),
            Resolved {
                redirect_uri: "https://me.ngrok.app/oauth/cb".into(),
                relay_to: None
            }
        );
        let r = Redirect::plan(Some("https://platform.example/relay"), None, true).unwrap();
        assert_eq!(
            r.resolve(4000, Some("https://abc.ngrok.app")),
            Resolved {
                redirect_uri: "https://platform.example/relay".into(),
                relay_to: Some("https://abc.ngrok.app/relay".into())
            }
        );
        let r = Redirect::plan(Some("https://platform.example/relay"), None, false).unwrap();
        assert_eq!(
            r.resolve(9002, None).relay_to.as_deref(),
            Some("http://127.0.0.1:9002/relay")
        );
    }

    #[test]
    fn a_redirect_url_on_an_ngrok_domain_names_the_tunnels_domain() {
        assert_eq!(
            ngrok_domain_of("https://me.ngrok.app/callback").as_deref(),
            Some("me.ngrok.app")
        );
        assert_eq!(
            ngrok_domain_of("https://me.ngrok-free.app/callback").as_deref(),
            Some("me.ngrok-free.app")
        );
        assert_eq!(ngrok_domain_of("https://platform.example/relay"), None);
        assert_eq!(ngrok_domain_of("http://me.ngrok.app/callback"), None);
    }

    #[test]
    fn relay_state_is_the_nonce_and_the_address_in_base64url() {
        assert_eq!(
            relay_state("n0nce", "http://127.0.0.1:9002/callback"),
            "n0nce.aHR0cDovLzEyNy4wLjAuMTo5MDAyL2NhbGxiYWNr"
        );
    }

    #[test]
    fn a_public_redirect_url_is_forwarded_to_our_port() {
        let r = Redirect::plan(Some("https://relay.example/cb"), None, false).unwrap();
        assert_eq!((r.listen_port, r.forwarded), (DEFAULT_PORT, true));
        let r = Redirect::plan(
            Some("https://relay.example/cb"),
            Some((7001, "--port")),
            false,
        )
        .unwrap();
        assert_eq!(r.listen_port, 7001);
    }
}
