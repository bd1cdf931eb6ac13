//! The authorization a run works with, ready to talk to its token endpoint, and the
//! pieces every step borrows for the length of one run.

use std::path::Path;

use super::{Deps, Options, select};
use crate::assertion::Signer;
use crate::config::{self, OAuth2};
use crate::error::{Error, Result};
use crate::project::{self, Project};
use crate::token::{Endpoint, TokenClient};

/// Owns what the chosen authorization needs: its name, its settings, how to reach its
/// token endpoint with the client's credentials resolved.
pub(super) struct Chosen {
    name: String,
    config: OAuth2,
    endpoint: Endpoint,
    tokens: TokenClient,
}

impl Chosen {
    pub fn new(project: &Project, opts: &Options, deps: &Deps<'_>) -> Result<Chosen> {
        let (name, config) = select::authorization(
            project.config(),
            project.path(),
            opts.authorization.as_deref(),
            &*deps.terminal,
        )?;
        let endpoint = Endpoint {
            url: config.token_url.clone(),
            client_id: config::resolve_client_id(&config, &*deps.env)?,
            client_secret: config::resolve_client_secret(&config, &*deps.env)?,
            auth: config.client_auth,
            format: config.body,
            response_type: config.response_content_type.clone(),
            token_path: config.token_response_path.clone(),
            signer: match &config.jwt {
                Some(jwt) => Some(std::sync::Arc::new(Signer::load(
                    jwt,
                    &config.at,
                    project.path(),
                    &*deps.env,
                )?)),
                None => None,
            },
        };
        let tokens = TokenClient::new(opts.token_timeout, &endpoint.url);
        Ok(Chosen {
            name,
            config,
            endpoint,
            tokens,
        })
    }

    pub fn grant(&self) -> config::GrantType {
        self.config.grant
    }

    pub fn ctx<'a>(&'a self, opts: &'a Options, deps: &'a Deps<'a>) -> Ctx<'a> {
        Ctx {
            opts,
            deps,
            authorization: &self.name,
            config: &self.config,
            endpoint: &self.endpoint,
            tokens: &self.tokens,
        }
    }
}

/// The pieces every step needs, borrowed for the length of one run.
pub(super) struct Ctx<'a> {
    pub opts: &'a Options,
    pub deps: &'a Deps<'a>,
    pub authorization: &'a str,
    pub config: &'a OAuth2,
    pub endpoint: &'a Endpoint,
    pub tokens: &'a TokenClient,
}

impl Ctx<'_> {
    /// A mistake in this authorization's part of the file.
    pub fn invalid(&self, message: String) -> Error {
        config_error(&self.opts.config, self.config, message)
    }

    pub async fn lock(&self) -> Result<project::FileLock> {
        project::lock(&self.opts.config, || {
            self.deps
                .terminal
                .say("Waiting for another integration-cli run to finish with this file…")
        })
        .await
    }
}

fn config_error(path: &Path, config: &OAuth2, message: String) -> Error {
    Error::ConfigInvalid {
        path: path.into(),
        message: format!("{}: {message}", config.at),
    }
}
