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

/// The callback port when neither `--port`, `OAUTH2_PORT` nor a `redirectUrl` names one.
pub const DEFAULT_PORT: u16 = 9002;

/// Where the callback server listens and what redirect URI the provider is told.
#[derive(Debug)]
struct Redirect {
    loopback: Loopback,
    listen_port: u16,
    path: String,
    /// `None`: ours, `http://127.0.0.1:<port>/callback`, known once the port is bound.
    fixed: Option<String>,
    /// The fixed URL does not point at this machine: something else must forward it.
    forwarded: bool,
}

impl Redirect {
    /// `port`: the one the user chose, and where they said it (`--port` or `OAUTH2_PORT`).
    fn plan(
        configured: Option<&str>,
        port: Option<(u16, &'static str)>,
    ) -> std::result::Result<Redirect, String> {
        let chosen = port.map_or(DEFAULT_PORT, |(p, _)| p);
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

    fn uri(&self, bound_port: u16) -> String {
        match &self.fixed {
            Some(u) => u.clone(),
            None => format!("http://127.0.0.1:{bound_port}{}", self.path),
        }
    }
}

impl Ctx<'_> {
    pub(super) async fn login(&self) -> Result<()> {
        let term = self.deps.terminal;
        let redirect = Redirect::plan(self.config.redirect_url.as_deref(), self.opts.port)
            .map_err(|m| self.invalid(m))?;

        // Bind first: a port in use must be reported before any browser opens.
        let from_redirect_url = redirect.fixed.is_some() && !redirect.forwarded;
        let listeners =
            callback::bind(redirect.loopback, redirect.listen_port, from_redirect_url).await?;
        let port = listeners[0]
            .local_addr()
            .map(|a| a.port())
            .unwrap_or(redirect.listen_port);
        let redirect_uri = redirect.uri(port);
        let (url, state, verifier) = self.authorization_url(&redirect_uri)?;
        let mut server = callback::serve(listeners, redirect.path.clone(), state);

        term.say(&format!(
            "Logging in to authorization \"{}\" for test account \"{}\".",
            self.authorization, self.opts.test_account
        ));
        let local = format!("http://127.0.0.1:{port}{}", redirect.path);
        if redirect.forwarded {
            term.say(&format!(
                "The provider will redirect to {redirect_uri}; it must forward the request to {local}."
            ));
        }
        term.say(&format!(
            "Open this URL in a browser to log in:\n\n  {url}\n"
        ));
        if self.opts.open_browser
            && let Err(why) = self.deps.browser.open(url.as_str())
        {
            term.warn(&format!("{why}; open the URL above yourself."));
        }

        let arrival = {
            let _spinner = term.waiting(&format!(
                "Waiting for the provider to redirect to {} (Ctrl-C to cancel)",
                if redirect.forwarded {
                    &local
                } else {
                    &redirect_uri
                }
            ));
            tokio::select! {
                arrival = server.next() => Some(arrival),
                _ = tokio::time::sleep(self.opts.callback_timeout) => None,
            }
        };
        let arrival = match arrival {
            Some(Some(arrival)) => arrival,
            Some(None) => {
                return Err(Error::Terminal(
                    "the callback server stopped unexpectedly".into(),
                ));
            }
            None => {
                server.shutdown().await;
                return Err(Error::CallbackTimeout {
                    secs: self.opts.callback_timeout.as_secs(),
                });
            }
        };

        // From here on the code is being spent: let the exchange, the save and the browser's
        // last page finish even if Ctrl-C comes (see `Critical`).
        let _critical =
            matches!(arrival.callback, Callback::Code { .. }).then(|| self.deps.critical.enter());
        let outcome = self
            .complete(arrival.callback, verifier, redirect_uri)
            .await;
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
        let _ = arrival.reply.send(page);
        server.shutdown().await;
        outcome
    }

    /// The consent page's URL, with a fresh `state` and PKCE pair for this attempt only.
    fn authorization_url(&self, redirect_uri: &str) -> Result<(Url, Secret, Secret)> {
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
        let mut request = client
            .authorize_url(|| CsrfToken::new_random_len(STATE_BYTES))
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
        callback: Callback,
        verifier: Secret,
        redirect_uri: String,
    ) -> Result<()> {
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
        store::save(self, &response).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_redirect_is_the_ip_literal_with_the_bound_port() {
        let r = Redirect::plan(None, None).unwrap();
        assert_eq!((r.listen_port, r.loopback), (DEFAULT_PORT, Loopback::V4));
        assert_eq!(r.uri(40123), "http://127.0.0.1:40123/callback");
        let r = Redirect::plan(None, Some((0, "--port"))).unwrap();
        assert_eq!(r.listen_port, 0);
    }

    #[test]
    fn a_loopback_redirect_url_sets_port_host_and_path_and_is_sent_verbatim() {
        let r = Redirect::plan(Some("http://localhost:8080/oauth/cb"), None).unwrap();
        assert_eq!((r.listen_port, r.path.as_str()), (8080, "/oauth/cb"));
        assert_eq!(r.loopback, Loopback::Both);
        assert_eq!(r.uri(8080), "http://localhost:8080/oauth/cb");
        assert!(!r.forwarded);
        let r = Redirect::plan(Some("http://[::1]:7000/cb"), Some((7000, "OAUTH2_PORT"))).unwrap();
        assert_eq!((r.listen_port, r.loopback), (7000, Loopback::V6));
        let e = Redirect::plan(Some("http://127.0.0.1/cb"), None).unwrap_err();
        assert!(e.contains("needs an explicit port"), "{e}");
    }

    #[test]
    fn a_port_choice_that_contradicts_the_redirect_url_is_an_error_naming_both() {
        let e = Redirect::plan(
            Some("http://127.0.0.1:9002/cb"),
            Some((8080, "OAUTH2_PORT")),
        )
        .unwrap_err();
        assert!(
            e.contains("fixes the callback port to 9002, but OAUTH2_PORT asks for 8080"),
            "{e}"
        );
    }

    #[test]
    fn a_public_redirect_url_is_forwarded_to_our_port() {
        let r = Redirect::plan(Some("https://relay.example/cb"), None).unwrap();
        assert_eq!((r.listen_port, r.forwarded), (DEFAULT_PORT, true));
        let r = Redirect::plan(Some("https://relay.example/cb"), Some((7001, "--port"))).unwrap();
        assert_eq!(r.listen_port, 7001);
    }
}
