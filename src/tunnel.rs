//! A public HTTPS address for the loopback callback server, for providers that refuse a
//! loopback redirect. The flow sees only the `Tunnel` trait, so its tests run with a double
//! that forwards on loopback; the real one is an ngrok HTTP endpoint. The callback server
//! itself still listens on 127.0.0.1 only: the tunnel connects to it from this machine.

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use url::Url;

use crate::error::{Error, Result, TunnelError};
use crate::redact::printable;
use crate::secret::NgrokAuthtoken;

pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + 'a>>;

pub trait Tunnel {
    /// Whether `open` can be tried at all (credentials present), checked before anything
    /// else happens so a missing setting is reported first.
    fn ready(&self) -> Result<()> {
        Ok(())
    }

    /// Opens a public endpoint that forwards to `target` (`http://127.0.0.1:PORT`), on
    /// `domain` when one is reserved, so the registered redirect URL stays the same.
    fn open<'a>(
        &'a self,
        target: &'a Url,
        domain: Option<&'a str>,
    ) -> BoxFuture<'a, Result<Box<dyn OpenTunnel>>>;
}

impl<T: Tunnel + ?Sized> Tunnel for &T {
    fn ready(&self) -> Result<()> {
        (**self).ready()
    }
    fn open<'a>(
        &'a self,
        target: &'a Url,
        domain: Option<&'a str>,
    ) -> BoxFuture<'a, Result<Box<dyn OpenTunnel>>> {
        (**self).open(target, domain)
    }
}

/// A tunnel that is forwarding; dropping it closes it.
pub trait OpenTunnel {
    /// Its public base URL, such as `https://example.ngrok.app`, without a trailing slash.
    fn url(&self) -> &str;
    /// Resolves if the tunnel stops forwarding, with why.
    fn closed(&mut self) -> BoxFuture<'_, String>;
    /// Closes it and waits (briefly) for that to be done; dropping also closes, eventually.
    fn close(&mut self) -> BoxFuture<'_, ()> {
        Box::pin(async {})
    }
}

/// For commands that never log in (`token`, `demo`): opening is an error, not a panic.
pub struct Disabled;

impl Tunnel for Disabled {
    fn open<'a>(
        &'a self,
        _: &'a Url,
        _: Option<&'a str>,
    ) -> BoxFuture<'a, Result<Box<dyn OpenTunnel>>> {
        Box::pin(async { Err(Error::Internal("this command does not open tunnels".into())) })
    }
}

/// ngrok, through its agent SDK. Nothing touches the network before the authtoken is known.
pub struct Ngrok {
    /// `NGROK_AUTHTOKEN`.
    pub authtoken: Option<NgrokAuthtoken>,
    /// `NGROK_SERVER_ADDR`: another ngrok server (dedicated ingress; tests).
    pub server_addr: Option<String>,
    /// How long connecting and opening the endpoint may take together.
    pub connect_timeout: Duration,
}

impl Ngrok {
    fn authtoken(&self) -> Result<&NgrokAuthtoken> {
        self.authtoken
            .as_ref()
            .filter(|t| !t.expose().trim().is_empty())
            .ok_or(TunnelError::NoAuthtoken.into())
    }
}

/// ngrok's own connector, but once: on a lost connection ngrok would retry for ever (with
/// waits that grow past an hour), and a login waiting on a dead tunnel must say so instead.
async fn connect_once(
    host: String,
    port: u16,
    tls: std::sync::Arc<rustls::ClientConfig>,
    lost: Option<ngrok::tunnel::AcceptError>,
) -> std::result::Result<Box<dyn ngrok::session::IoStream>, ngrok::session::ConnectError> {
    if lost.is_some() {
        return Err(ngrok::session::ConnectError::Canceled);
    }
    ngrok::session::default_connect(host, port, tls, None).await
}

impl Tunnel for Ngrok {
    fn ready(&self) -> Result<()> {
        self.authtoken().map(|_| ())
    }

    fn open<'a>(
        &'a self,
        target: &'a Url,
        domain: Option<&'a str>,
    ) -> BoxFuture<'a, Result<Box<dyn OpenTunnel>>> {
        Box::pin(async move {
            let authtoken = self.authtoken()?;
            let secs = self.connect_timeout.as_secs().max(1);
            let opened = tokio::time::timeout(self.connect_timeout, async {
                use ngrok::config::ForwarderBuilder;
                use ngrok::prelude::*;

                let mut builder = ngrok::Session::builder();
                builder
                    .authtoken(authtoken.expose().trim())
                    .connector(connect_once);
                if let Some(addr) = &self.server_addr {
                    builder
                        .server_addr(addr.clone())
                        .map_err(|e| failed(authtoken, &e))?;
                }
                let session = builder.connect().await.map_err(|e| failed(authtoken, &e))?;
                let mut endpoint = session.http_endpoint();
                if let Some(domain) = domain {
                    endpoint.domain(domain);
                }
                let forwarder = endpoint
                    .listen_and_forward(target.clone())
                    .await
                    .map_err(|e| failed(authtoken, &e))?;
                let url = forwarder.url().trim_end_matches('/').to_string();
                tracing::debug!(%url, %target, "ngrok tunnel open");
                Ok::<_, crate::error::Error>(NgrokTunnel {
                    url,
                    forwarder,
                    session,
                })
            })
            .await
            .map_err(|_| TunnelError::Timeout { secs })??;
            Ok(Box::new(opened) as Box<dyn OpenTunnel>)
        })
    }
}

/// ngrok's own words, innermost cause included, with the authtoken taken out.
fn failed(authtoken: &NgrokAuthtoken, e: &dyn std::error::Error) -> Error {
    let mut detail = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        let text = c.to_string();
        if !detail.contains(&text) {
            detail = format!("{detail}: {text}");
        }
        cause = c.source();
    }
    let token = authtoken.expose().trim();
    if token.len() >= 4 {
        detail = detail.replace(token, "[redacted]");
    }
    TunnelError::Connect {
        detail: printable(&detail),
    }
    .into()
}

struct NgrokTunnel {
    url: String,
    forwarder: ngrok::forwarder::Forwarder<ngrok::tunnel::HttpTunnel>,
    /// Held so the session lives as long as the endpoint, and closed with it.
    session: ngrok::Session,
}

impl OpenTunnel for NgrokTunnel {
    fn url(&self) -> &str {
        &self.url
    }

    fn closed(&mut self) -> BoxFuture<'_, String> {
        Box::pin(async move {
            match self.forwarder.join().await {
                Ok(Ok(())) => "ngrok ended the tunnel".to_string(),
                Ok(Err(e)) => printable(&e.to_string()),
                Err(e) => printable(&e.to_string()),
            }
        })
    }

    fn close(&mut self) -> BoxFuture<'_, ()> {
        Box::pin(async move {
            let _ = tokio::time::timeout(Duration::from_secs(2), self.session.close()).await;
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug)]
    struct Leaky(String);
    impl std::fmt::Display for Leaky {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str(&self.0)
        }
    }
    impl std::error::Error for Leaky {}

    #[test]
    fn the_authtoken_is_taken_out_of_ngroks_errors() {
        let token = NgrokAuthtoken::new("fake-ngrok-authtoken-0123456789");
        let e = failed(
            &token,
            &Leaky(
                "authentication failed for fake-ngrok-authtoken-0123456789 (ERR_NGROK_105)".into(),
            ),
        );
        let msg = e.to_string();
        assert!(!msg.contains("fake-ngrok-authtoken"), "{msg}");
        assert!(
            msg.contains("authentication failed for [redacted] (ERR_NGROK_105)"),
            "{msg}"
        );
    }

    #[test]
    fn a_blank_authtoken_is_no_authtoken() {
        let ngrok = Ngrok {
            authtoken: Some(NgrokAuthtoken::new("   ")),
            server_addr: None,
            connect_timeout: Duration::from_secs(1),
        };
        assert!(matches!(
            ngrok.ready(),
            Err(Error::Tunnel(TunnelError::NoAuthtoken))
        ));
    }
}
