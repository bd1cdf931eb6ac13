//! After a login: who the user is, asked of the provider's "who am I" endpoint when its
//! answer carried no `id_token`, and said when `development` and `compliance` turn out to
//! be the same user. Nothing here fails a login: an identity that cannot be had is none.

use std::time::Duration;

use reqwest::header::{ACCEPT, AUTHORIZATION, HeaderMap, HeaderValue};
use serde_json::{Map, Value};

use super::Ctx;
use crate::identity::Identity;
use crate::project::Project;
use crate::transport::Request;

/// How long the provider has to say who the user is.
const WHO_AM_I_TIMEOUT: Duration = Duration::from_secs(10);
/// The most of its answer that is read: a user's profile is a few KiB.
const WHO_AM_I_LIMIT: usize = 64 * 1024;

impl Ctx<'_> {
    /// What a login's tokens leave to say: scopes left out, who the user is, and whether
    /// they are the other account's user too.
    pub(super) async fn after_login(&self) {
        let name = &self.opts.test_account;
        let fields = self.held_account();
        self.warn_refused_scopes(fields.as_ref());
        let Some(fields) = fields else { return };
        if Identity::of(&fields).is_none()
            && let Some(identity) = self.who_am_i(&fields).await
        {
            self.record(&identity, &fields).await;
        }
        let Ok(project) = Project::load(&self.opts.config) else {
            return;
        };
        if let Some(warning) =
            same_user_warning(&project, name, |n| self.opts.login_command_for(n, true))
        {
            self.deps.terminal.warn(&warning);
        }
    }

    /// The test account as the save left it.
    fn held_account(&self) -> Option<Map<String, Value>> {
        let held = self.held.borrow();
        held.as_ref()?
            .test_account(&self.opts.test_account)
            .cloned()
    }

    /// The provider's answer to "who am I", for the access token just saved.
    async fn who_am_i(&self, fields: &Map<String, Value>) -> Option<Identity> {
        let authorize = self.config.authorization_url.as_ref()?.as_str();
        let (real, shape) = crate::providers::for_url(authorize)?.who_am_i()?;
        let url = at_stand_in(authorize, real);
        let token = fields.get(crate::config::field::ACCESS_TOKEN)?.as_str()?;
        let mut headers = HeaderMap::new();
        headers.insert(AUTHORIZATION, crate::transport::bearer(token)?);
        headers.insert(ACCEPT, HeaderValue::from_static("application/json"));
        let request = Request {
            method: reqwest::Method::GET,
            url: url.clone(),
            headers,
            body: Vec::new(),
        };
        let transport = self.deps.transports.for_endpoint(&url, WHO_AM_I_TIMEOUT);
        let answer = transport.send(request, WHO_AM_I_LIMIT).await.ok()?;
        let shown = crate::redact::display_url(&url);
        if answer.status != 200 {
            tracing::debug!(url = %shown, status = answer.status, "who am I: no answer");
            return None;
        }
        let body: Map<String, Value> = serde_json::from_slice(&answer.body).ok()?;
        let identity = Identity::from_answer(shape, &body, &url);
        tracing::debug!(url = %shown, found = identity.is_some(), "who am I");
        identity
    }

    /// Writes `identity` into the test account, under the lock, if it still holds the
    /// tokens it was asked for with.
    async fn record(&self, identity: &Identity, asked_with: &Map<String, Value>) {
        let Ok(_lock) = self.lock().await else { return };
        let Ok(project) = Project::load(&self.opts.config) else {
            return;
        };
        let name = &self.opts.test_account;
        let Some(mut account) = project.test_account(name).cloned() else {
            return;
        };
        let token = crate::config::field::ACCESS_TOKEN;
        if account.get(token) != asked_with.get(token) {
            return;
        }
        identity.write(&mut account);
        if let Err(e) = project.save_test_account(name, &account) {
            tracing::debug!(error = %e, "the identity could not be saved");
        }
    }
}

/// A provider's endpoint as the sandbox's stand-in for it serves it, when `authorize` is a
/// stand-in's (`http://127.0.0.1:9010/github.com/…` → `http://127.0.0.1:9010/api.github.com/user`).
fn at_stand_in(authorize: &str, real: &str) -> String {
    match url::Url::parse(authorize) {
        Ok(u) if crate::loopback::is_loopback_url(authorize) => {
            let path = real.split_once("://").map_or(real, |(_, rest)| rest);
            format!("{}/{path}", u.origin().ascii_serialization())
        }
        _ => real.to_string(),
    }
}

/// When `name` is one of `development` and `compliance` and the other is the same user:
/// the warning, naming the login that fixes it (`login`).
pub fn same_user_warning(
    project: &Project,
    name: &str,
    login: impl Fn(&str) -> String,
) -> Option<String> {
    let pair = super::select::PLATFORM_ACCOUNTS;
    let other = pair.iter().find(|n| **n != name && pair.contains(&name))?;
    let identity = |n: &str| Identity::of(project.test_account(n)?);
    let (mine, theirs) = (identity(name)?, identity(other)?);
    mine.same_as(&theirs)
        .then(|| same_user_words(&mine, "compliance", &login("compliance")))
}

/// The same-user warning's words, shared with `status`.
pub fn same_user_words(identity: &Identity, fix: &str, command: &str) -> String {
    format!(
        "test accounts \"development\" and \"compliance\" are the same user ({}): the \
         platform reviews \"{fix}\" as a second user; log it in as another one, in a private \
         browser window or after signing out: {command}",
        identity.shown()
    )
}
