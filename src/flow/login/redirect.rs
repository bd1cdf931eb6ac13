//! Where the callback is served and what redirect URI the provider is told: the loopback
//! default, a registered `redirectUrl` (sent byte for byte), a tunnel's address, or a relay
//! that learns from `state` where to send the browser on.

use url::Url;

use crate::config::OAuth2;
use crate::loopback::LoopbackHost;

/// The callback port when neither `--port`, `OAUTH2_PORT` nor a `redirectUrl` names one.
pub const DEFAULT_PORT: u16 = 9002;

/// Where the callback server listens and what redirect URI the provider is told.
#[derive(Debug)]
pub(super) struct Redirect {
    pub loopback: LoopbackHost,
    pub listen_port: u16,
    pub path: String,
    pub uri: RedirectUri,
}

/// The redirect URI the provider is told.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum RedirectUri {
    /// Ours, `http://127.0.0.1:<port>/callback` (or the tunnel's URL), known once the port
    /// is bound.
    Ours,
    /// A registered `redirectUrl` on this machine, sent byte for byte: its port is the one
    /// to listen on.
    Loopback(String),
    /// A registered `redirectUrl` elsewhere, sent byte for byte: a relay (or the tunnel)
    /// must send the browser on to this machine.
    Forwarded(String),
}

impl Redirect {
    /// The redirect URI comes from the file and names this machine: listen only where it
    /// says.
    pub fn registered_here(&self) -> bool {
        matches!(self.uri, RedirectUri::Loopback(_))
    }

    /// The browser comes back through someone else's address (a relay's, or the tunnel's).
    pub fn forwarded(&self) -> bool {
        matches!(self.uri, RedirectUri::Forwarded(_))
    }
}

/// The redirect URI for the provider, and, in relay mode, where the relay must send the
/// browser on (carried in `state`).
#[derive(Debug, PartialEq)]
pub(super) struct Resolved {
    pub redirect_uri: String,
    pub relay_to: Option<String>,
}

impl Redirect {
    /// `port`: the one the user chose, and where they said it (`--port` or `OAUTH2_PORT`).
    /// With a tunnel, the local port is only the tunnel's business: a free one unless named.
    pub fn plan(
        configured: Option<&str>,
        port: Option<(u16, &'static str)>,
        tunnel: bool,
    ) -> std::result::Result<Redirect, String> {
        let chosen = port.map_or(if tunnel { 0 } else { DEFAULT_PORT }, |(p, _)| p);
        let Some(raw) = configured.filter(|s| !s.is_empty()) else {
            return Ok(Redirect {
                loopback: LoopbackHost::V4,
                listen_port: chosen,
                path: "/callback".into(),
                uri: RedirectUri::Ours,
            });
        };
        let url = Url::parse(raw).map_err(|e| format!("redirectUrl {raw:?} is not a URL: {e}"))?;
        let loopback = url
            .host_str()
            .and_then(LoopbackHost::from_name)
            .filter(|_| url.scheme() == "http");
        if loopback.is_some() && tunnel {
            return Err(format!(
                "redirectUrl {raw:?} is a loopback URL, which a tunnel cannot serve; remove it to \
                 use the tunnel's URL, or set the tunnel's (or a relay's) public URL"
            ));
        }
        let Some(loopback) = loopback else {
            return Ok(Redirect {
                loopback: LoopbackHost::V4,
                listen_port: chosen,
                path: url.path().to_string(),
                uri: RedirectUri::Forwarded(raw.to_string()),
            });
        };
        Redirect::fixed_loopback(raw, &url, loopback, port)
    }

    /// A loopback redirectUrl: the registered URL is sent byte for byte, so its port is
    /// the one to listen on; a different explicit choice cannot be honoured without
    /// breaking the match.
    fn fixed_loopback(
        raw: &str,
        url: &Url,
        loopback: LoopbackHost,
        port: Option<(u16, &'static str)>,
    ) -> std::result::Result<Redirect, String> {
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
            uri: RedirectUri::Loopback(raw.to_string()),
        })
    }

    /// Once the port is bound (and the tunnel open): a redirectUrl on the tunnel's own
    /// address is served directly; any other public one is a relay, which is told in `state`
    /// where this login listens.
    pub fn resolve(&self, bound_port: u16, tunnel_url: Option<&str>) -> Resolved {
        let here = tunnel_url.map_or_else(
            || format!("http://127.0.0.1:{bound_port}"),
            |t| t.trim_end_matches('/').to_string(),
        );
        match &self.uri {
            RedirectUri::Ours => Resolved {
                redirect_uri: format!("{here}{}", self.path),
                relay_to: None,
            },
            RedirectUri::Loopback(fixed) => Resolved {
                redirect_uri: fixed.clone(),
                relay_to: None,
            },
            RedirectUri::Forwarded(fixed) => {
                let same_origin = |a: &str, b: &str| matches!((Url::parse(a), Url::parse(b)), (Ok(a), Ok(b)) if a.origin() == b.origin());
                let relayed = !tunnel_url.is_some_and(|t| same_origin(t, fixed));
                Resolved {
                    redirect_uri: fixed.clone(),
                    relay_to: relayed.then(|| format!("{here}{}", self.path)),
                }
            }
        }
    }
}

/// A `redirectUrl` on an ngrok domain is the developer's reserved one: open the tunnel there,
/// rather than on a random address the provider has never heard of.
pub(super) fn ngrok_domain_of(redirect_url: &str) -> Option<String> {
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

/// The redirect setting of an authorization: its `redirectUrl`, or one built from
/// `redirectHost` and `redirectPath` for providers that want `localhost` or another path.
/// `port`: the one the user chose, if any.
pub(super) fn setting<Url>(
    config: &OAuth2<Url>,
    port: Option<(u16, &'static str)>,
) -> std::result::Result<Option<String>, String> {
    let (host, path) = (config.redirect_host, &config.redirect_path);
    if host.is_none() && path.is_none() {
        return Ok(config.redirect_url.clone());
    }
    let host = host.unwrap_or(LoopbackHost::V4).name();
    let path = path.as_deref().unwrap_or("/callback");
    let port = port.map_or(DEFAULT_PORT, |(p, _)| p);
    if port == 0 {
        return Err(
            "redirectHost is registered with a port: give --port or OAUTH2_PORT a real one, not 0"
                .into(),
        );
    }
    Ok(Some(format!("http://{host}:{port}{path}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_redirect_is_the_ip_literal_with_the_bound_port() {
        let r = Redirect::plan(None, None, false).unwrap();
        assert_eq!(
            (r.listen_port, r.loopback),
            (DEFAULT_PORT, LoopbackHost::V4)
        );
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
        assert_eq!(r.loopback, LoopbackHost::Localhost);
        assert_eq!(
            r.resolve(8080, None).redirect_uri,
            "http://localhost:8080/oauth/cb"
        );
        assert!(!r.forwarded());
        let r = Redirect::plan(
            Some("http://[::1]:7000/cb"),
            Some((7000, "OAUTH2_PORT")),
            false,
        )
        .unwrap();
        assert_eq!((r.listen_port, r.loopback), (7000, LoopbackHost::V6));
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
        assert_eq!((r.listen_port, r.forwarded()), (DEFAULT_PORT, true));
        let r = Redirect::plan(
            Some("https://relay.example/cb"),
            Some((7001, "--port")),
            false,
        )
        .unwrap();
        assert_eq!(r.listen_port, 7001);
    }
}
