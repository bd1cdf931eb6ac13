//! The authorization a run works with, and the same authorization made concrete for one
//! test account (its templates filled, its token endpoint ready), and the pieces every step
//! borrows for the length of one run.

use std::cell::{Cell, RefCell};
use std::path::Path;
use std::sync::Arc;

use serde_json::{Map, Value};

use super::variables::{Filled, Gathering};
use super::{Deps, Options, UsernameSource, select};
use crate::assertion::Signer;
use crate::config::jwt::JwtSettings;
use crate::config::{self, ForAccount, OAuth2, Refusal, Values};
use crate::error::{ConfigError, Error, Result, UserError};
use crate::project::{self, Project};
use crate::secret::ClientSecret;
use crate::token::{Endpoint, TokenClient};

/// The grant a run sends: the signer read when it signs, the password grant's username
/// source from the run's options.
pub(super) type RunGrant = config::Grant<Arc<Signer>, UsernameSource>;

/// The chosen authorization, as the file writes it, with the client's credentials resolved.
pub(super) struct Chosen {
    name: String,
    config: OAuth2,
    client_id: String,
    client_secret: Option<ClientSecret>,
}

/// The chosen authorization for one test account: what a template needs gathered, every
/// template filled, the token endpoint ready.
pub(super) struct Target<'d> {
    config: ForAccount,
    grant: RunGrant,
    endpoint: Endpoint,
    tokens: TokenClient<'d>,
    filled: Filled,
    /// Whether `filled.answers` are in the file yet.
    saved: Cell<bool>,
}

impl Target<'_> {
    /// Values the templates use that `--var` changed: the stored tokens are another
    /// tenant's.
    pub fn changed(&self) -> &[String] {
        &self.filled.changed
    }

    /// The authorization filled in for the test account.
    pub fn config(&self) -> &ForAccount {
        &self.config
    }

    /// The token endpoint and the client's authentication there, which the revocation
    /// endpoint wants too (RFC 7009 §2.1).
    pub fn endpoint(&self) -> &Endpoint {
        &self.endpoint
    }
}

impl Chosen {
    pub fn new(project: &Project, opts: &Options, deps: &Deps<'_>) -> Result<Chosen> {
        Chosen::resolve(Chosen::select(project, opts, deps)?, deps)
    }

    /// The authorization the run is for, named or asked for, as the file writes it.
    pub fn select(project: &Project, opts: &Options, deps: &Deps<'_>) -> Result<(String, OAuth2)> {
        select::authorization(
            project.config(),
            project.path(),
            opts.authorization.as_deref(),
            &*deps.terminal,
        )
    }

    /// The selected authorization with the client's id and secret read.
    pub fn resolve((name, config): (String, OAuth2), deps: &Deps<'_>) -> Result<Chosen> {
        Ok(Chosen {
            client_id: config::resolve_client_id(&config, &*deps.env)?,
            client_secret: config::resolve_client_secret(&config, &*deps.env)?,
            name,
            config,
        })
    }

    /// The authorization as the file writes it.
    pub fn config(&self) -> &OAuth2 {
        &self.config
    }

    /// The client's credentials go to the revocation endpoint too: its host is approved
    /// like the token URL's before anything is sent there.
    pub fn approve_revocation(
        &self,
        target: &Target<'_>,
        project: &Project,
        opts: &Options,
        deps: &Deps<'_>,
    ) -> Result<()> {
        crate::approvals::Approver {
            file: project.path(),
            allowed: &opts.allow_env,
            env: &*deps.env,
            terminal: &*deps.terminal,
        }
        .check(&crate::approvals::sent_to_revocation(
            &self.config,
            &target.config,
            &*deps.env,
        ))
    }

    pub fn grant(&self) -> config::GrantType {
        self.config.grant.kind()
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// This authorization for `opts.test_account` as `project` holds it: what its templates
    /// need gathered (`--var`, defaults, and a person's answers when `ask`), then filled.
    pub fn target<'d>(
        &self,
        project: &Project,
        opts: &Options,
        deps: &'d Deps<'_>,
        ask: bool,
    ) -> Result<Target<'d>> {
        let (filled, config) = self.filled_in(project, opts, deps, ask)?;
        // Before anything is sent: the hosts are known only once the URLs are filled.
        crate::approvals::Approver {
            file: project.path(),
            allowed: &opts.allow_env,
            env: &*deps.env,
            terminal: &*deps.terminal,
        }
        .check(&crate::approvals::sent(&self.config, &config, &*deps.env))?;
        let (grant, endpoint) = self.endpoint(&config, project, opts, deps)?;
        let tokens = TokenClient::new(
            deps.transports
                .for_endpoint(&endpoint.url, opts.token_timeout),
        );
        Ok(Target {
            config,
            grant,
            endpoint,
            tokens,
            filled,
            saved: Cell::new(false),
        })
    }

    /// What the templates need, gathered, and the authorization with its templates filled
    /// from it and the stored test account.
    fn filled_in(
        &self,
        project: &Project,
        opts: &Options,
        deps: &Deps<'_>,
        ask: bool,
    ) -> Result<(Filled, ForAccount)> {
        let name = &opts.test_account;
        let stored = project.test_account(name);
        let command = |flags: &str| opts.command_for(name, flags);
        let gathering = Gathering {
            given: &opts.vars,
            ask,
            terminal: &*deps.terminal,
            test_account: name,
            authorization: &self.name,
            command: &command,
            before_asking: &|| project.check_save(name),
        };
        let filled = gathering.fill(&self.config, stored)?;
        let mut fields = stored.cloned().unwrap_or_default();
        fields.extend(filled.answers.clone());
        let config = self
            .config
            .expanded(&Values {
                test_account: name,
                fields: &fields,
                client_id: &self.client_id,
                client_secret: self.client_secret.as_ref(),
            })
            .map_err(|refusal| self.refused(opts, refusal))?;
        Ok((filled, config))
    }

    /// The grant and the token endpoint of the filled authorization, with the client's
    /// credentials and the signing key read for whichever signs.
    fn endpoint(
        &self,
        config: &ForAccount,
        project: &Project,
        opts: &Options,
        deps: &Deps<'_>,
    ) -> Result<(RunGrant, Endpoint)> {
        // The key is read for the assertion's claims as filled in for this account.
        let load = |jwt: &JwtSettings| {
            Signer::load(
                jwt,
                &config.at,
                project.path(),
                &*deps.env,
                opts.allow_key_outside,
            )
            .map(Arc::new)
        };
        let grant = config
            .grant
            .try_map(|jwt| load(jwt))?
            .with_username(|| opts.username.clone());
        let auth = match (&config.client_auth, grant.key()) {
            // One `jwt` object signs both assertions: its key is read once.
            (config::ClientAuth::PrivateKeyJwt(_), Some(signer)) => {
                config::ClientAuth::PrivateKeyJwt(signer.clone())
            }
            (auth, _) => auth.try_map(|jwt| load(jwt))?,
        };
        let endpoint = Endpoint {
            url: config.token_url.as_str().to_string(),
            client_id: self.client_id.clone(),
            client_secret: self.client_secret.clone(),
            auth,
            format: config.body,
            response_type: config.response_content_type.clone(),
            token_path: config.token_response_path.clone(),
        };
        Ok((grant, endpoint))
    }

    /// A template that cannot be filled for this account: the value's fault (fixed with
    /// `--var`), or the file's.
    fn refused(&self, opts: &Options, refusal: Refusal) -> Error {
        match &refusal.name {
            Some(name) => UserError::TemplateValue {
                message: format!("{}.{refusal}", self.config.at),
                fix: opts.command_for(&opts.test_account, &format!("--var {name}=VALUE")),
            }
            .into(),
            None => config_error(&opts.config, &self.config, refusal.to_string()),
        }
    }

    pub fn ctx<'a>(
        &'a self,
        target: &'a Target<'a>,
        opts: &'a Options,
        deps: &'a Deps<'a>,
    ) -> Ctx<'a> {
        Ctx {
            opts,
            deps,
            authorization: &self.name,
            config: &target.config,
            grant: &target.grant,
            endpoint: &target.endpoint,
            tokens: &target.tokens,
            answers: &target.filled.answers,
            answers_saved: &target.saved,
            held: RefCell::new(None),
        }
    }
}

/// The pieces every step needs, borrowed for the length of one run.
pub(super) struct Ctx<'a> {
    pub opts: &'a Options,
    pub deps: &'a Deps<'a>,
    pub authorization: &'a str,
    /// The authorization for this run's test account: its templates filled.
    pub config: &'a ForAccount,
    /// The grant with its signer, the key read, when it signs (jwt-bearer), and where the
    /// password grant's username comes from.
    pub grant: &'a RunGrant,
    pub endpoint: &'a Endpoint,
    pub tokens: &'a TokenClient<'a>,
    /// What was gathered for the test account (answers, `--var`s, defaults): saved with
    /// the tokens.
    pub answers: &'a Map<String, Value>,
    pub answers_saved: &'a Cell<bool>,
    /// The file as last read or written under the lock, so the caller need not read again
    /// what this run just decided on or saved.
    pub held: RefCell<Option<Project>>,
}

impl Ctx<'_> {
    /// A mistake in this authorization's part of the file.
    pub fn invalid(&self, message: String) -> Error {
        config_error(&self.opts.config, self.config, message)
    }

    pub async fn lock(&self) -> Result<project::FileLock> {
        lock(self.opts, self.deps).await
    }

    /// Keeps `project`, read under the lock, for the caller (see `held`).
    pub fn hold(&self, project: Project) {
        *self.held.borrow_mut() = Some(project);
    }

    /// The test account `name` as it is to be saved: `account` with what was gathered for
    /// it, and no provider field in place of a declared variable's value.
    pub fn with_answers(
        &self,
        name: &str,
        old: Option<&Map<String, Value>>,
        mut account: Map<String, Value>,
    ) -> Map<String, Value> {
        for var in self.config.variables.iter() {
            match old.and_then(|o| o.get(&var.name)) {
                Some(v) => account.insert(var.name.clone(), v.clone()),
                None => account.shift_remove(&var.name),
            };
        }
        if name == self.opts.test_account {
            account.extend(self.answers.iter().map(|(k, v)| (k.clone(), v.clone())));
        }
        account
    }

    /// What was gathered, when no token was saved with it (the stored one was kept).
    pub async fn save_answers(&self) -> Result<()> {
        if self.answers.is_empty() || self.answers_saved.get() {
            return Ok(());
        }
        let _lock = self.lock().await?;
        let project = Project::load(&self.opts.config)?;
        let name = &self.opts.test_account;
        let old = project.test_account(name);
        let account = self.with_answers(name, old, old.cloned().unwrap_or_default());
        project.save_test_account(name, &account)?;
        self.answers_saved.set(true);
        Ok(())
    }
}

/// The file's lock, saying so when another run holds it.
pub(super) async fn lock(opts: &Options, deps: &Deps<'_>) -> Result<project::FileLock> {
    project::lock(&opts.config, || {
        deps.terminal
            .say("Waiting for another integration-cli run to finish with this file…")
    })
    .await
}

fn config_error<Url>(path: &Path, config: &OAuth2<Url>, message: String) -> Error {
    ConfigError::Invalid {
        path: path.into(),
        message: format!("{}: {message}", config.at),
    }
    .into()
}
