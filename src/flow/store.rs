//! Folding a token response into the test account, and saying what changed. Only the
//! standard fields are renamed (to the platform's camelCase names); everything else the
//! provider sent is kept as it came.

use serde_json::{Map, Value};

use super::Ctx;
use super::outcome::{Action, Happened, Outcome, RefreshFate, Saved, Tokens};
use crate::clock::{self, Clock};
use crate::config::{GrantType, TestAccount, field};
use crate::error::{FileError, ProviderError, Result};
use crate::project::Project;
use crate::token::TokenResponse;

/// Where the tokens came from decides what of the old ones may survive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// A refresh: what the provider does not resend (refresh token, scope) still holds.
    Refresh,
    /// A new grant (login, client credentials): nothing of the old tokens belongs to it.
    NewGrant,
}

pub fn merged(
    old: Option<&Map<String, Value>>,
    t: &TokenResponse,
    clock: &dyn Clock,
    source: Source,
) -> Map<String, Value> {
    let mut account = old.cloned().unwrap_or_default();
    if source == Source::NewGrant {
        for key in field::ALL {
            account.shift_remove(key);
        }
    }
    account.insert(field::ACCESS_TOKEN.into(), t.access_token.expose().into());
    if let Some(rt) = &t.refresh_token {
        account.insert(field::REFRESH_TOKEN.into(), rt.expose().into());
    }
    account.insert(field::TOKEN_TYPE.into(), token_type(t).into());
    // A token without a stated lifetime: an old expiry would now be a lie.
    account.shift_remove(field::EXPIRES_IN);
    account.shift_remove(field::EXPIRES_AT);
    let now = clock.now();
    account.insert(field::LAST_REFRESH_AT.into(), clock::stamp(now).into());
    if let Some(secs) = t.expires_in {
        account.insert(field::EXPIRES_IN.into(), secs.into());
        let issued = issued_at(t, now);
        if let Some(at) = clock::after(issued, secs) {
            account.insert(field::EXPIRES_AT.into(), clock::stamp(at).into());
        }
    } else if let Some(sent) = &t.expires_in_as_sent {
        // Unusable as a lifetime, kept as the provider wrote it.
        account.insert(field::EXPIRES_IN.into(), sent.clone());
    }
    if let Some(scope) = &t.scope {
        account.insert(field::SCOPE.into(), scope.clone().into());
    }
    for (key, value) in &t.extra {
        if !field::ALL.contains(&key.as_str()) {
            account.insert(key.clone(), value.clone());
        }
    }
    let new_refresh_token = t.refresh_token.as_ref().is_some_and(|rt| {
        !old.and_then(|o| o.get(field::REFRESH_TOKEN)?.as_str())
            .is_some_and(|o| rt.is(o))
    });
    crate::lifetime::fold(
        &mut account,
        &t.extra,
        source == Source::NewGrant,
        new_refresh_token,
        now,
    );
    if source == Source::NewGrant {
        vouched_identity(&mut account, t);
    }
    account
}

/// Absent, or "bearer" in any case (GitHub sends "bearer"): one spelling for the platform.
/// Slack's "bot" and "user" say whose token it is, not how to send it: as a Bearer token.
fn token_type(t: &TokenResponse) -> &str {
    match t.token_type.as_deref().map(str::trim) {
        None | Some("") => "Bearer",
        Some(other)
            if ["bearer", "bot", "user"]
                .iter()
                .any(|t| other.eq_ignore_ascii_case(t)) =>
        {
            "Bearer"
        }
        Some(other) => other,
    }
}

/// A new grant may be another user's: the identity its `id_token` vouches for, or none
/// (a "who am I" endpoint may say it after the save, see `flow::identity`).
fn vouched_identity(account: &mut Map<String, Value>, t: &TokenResponse) {
    crate::identity::clear(account);
    let id_token = t.extra.get("id_token").and_then(Value::as_str);
    if let Some(identity) = id_token.and_then(crate::identity::Identity::from_id_token) {
        identity.write(account);
    }
}

/// When the token was issued, on this machine's clock: the provider's `created_at` read
/// against its own clock (its `Date` header), so a clock that is off on either side does
/// not make a fresh token look expired; now, when it says nothing. An issue time past what
/// a date can say is a provider's bug, not a time.
fn issued_at(t: &TokenResponse, now: std::time::SystemTime) -> std::time::SystemTime {
    let Some(created) = t
        .created_at
        .and_then(|secs| clock::after(std::time::UNIX_EPOCH, secs))
    else {
        return now;
    };
    let Some(date) = t.date else {
        return created;
    };
    // created + (now - date), in either direction, rounded down to the second: a `Date` is
    // to the second, so a fraction in the difference is its rounding, not the clocks'; an
    // expiry from a `created_at` stays to the second, as it is written.
    match now.duration_since(date) {
        Ok(ahead) => created.checked_add(whole_secs(ahead, 0)).unwrap_or(now),
        Err(behind) => {
            let behind = behind.duration();
            let up = u64::from(behind.subsec_nanos() > 0);
            created.checked_sub(whole_secs(behind, up)).unwrap_or(now)
        }
    }
}

/// `d` in whole seconds, plus `more`.
fn whole_secs(d: std::time::Duration, more: u64) -> std::time::Duration {
    std::time::Duration::from_secs(d.as_secs().saturating_add(more))
}

/// Why a token that was just saved is already stale, for the warning: the provider's
/// clock, its `created_at`, or the lifetime it stated.
fn born_stale(
    t: &TokenResponse,
    account: &TestAccount<'_>,
    now: std::time::SystemTime,
) -> Option<String> {
    let expires = account.expires_at()?.ok()?;
    if expires > now + account.margin() {
        return None;
    }
    let floor = account.floor().as_secs();
    let cause = match (t.created_at, t.expires_in) {
        (Some(created), Some(secs)) => format!(
            "its created_at ({}) and expires_in ({secs} s) put the expiry at {}, {}",
            clock::rfc3339(clock::from_epoch(created)),
            clock::rfc3339(expires),
            clock::relative(expires, now)
        ),
        (_, Some(secs)) => format!("its expires_in says the token lives {secs} s"),
        _ => format!("it expires at {}", clock::rfc3339(expires)),
    };
    Some(format!(
        "the provider's token came back already expired: {cause}; it is used as it is, and \
         not refreshed again for {floor} s"
    ))
}

/// A clock on this machine or the provider's that is off by more than a minute, said: its
/// `created_at` is read against its own clock, but other tools may be misled.
fn clock_skew(t: &TokenResponse, now: std::time::SystemTime) -> Option<String> {
    let date = t.date?;
    let (by, which) = match now.duration_since(date) {
        Ok(d) => (d, "ahead of"),
        Err(e) => (e.duration(), "behind"),
    };
    (by.as_secs() > 60).then(|| {
        format!(
            "this machine's clock is {} {which} the provider's (its Date header says {}); \
             expiries are computed on this machine's clock",
            humantime::format_duration(std::time::Duration::from_secs(by.as_secs())),
            clock::rfc3339(date)
        )
    })
}

/// Saves under a lock the caller already holds, into the file as read inside that lock.
pub fn save_locked(
    ctx: &Ctx<'_>,
    project: &Project,
    t: &TokenResponse,
    source: Source,
) -> Result<Outcome> {
    let (outcome, _) = save_account(ctx, project, &ctx.opts.test_account, t, source)?;
    Ok(outcome)
}

/// Saves `t` into test account `name` (the file lock held) and returns what was done and
/// the account as saved.
pub fn save_account(
    ctx: &Ctx<'_>,
    project: &Project,
    name: &str,
    t: &TokenResponse,
    source: Source,
) -> Result<(Outcome, Map<String, Value>)> {
    let old = project.test_account(name);
    let old_refresh = project.account(name).refresh_token().map(str::to_string);
    let mut account = ctx.with_answers(name, old, merged(old, t, &*ctx.deps.clock, source));
    if source == Source::NewGrant {
        note_requested_scope(ctx, &mut account);
    }
    match project.save_test_account(name, &account) {
        Ok(saved) => *ctx.held.borrow_mut() = Some(saved),
        Err(cause) => return Err(set_aside(ctx, project, name, &account, cause)),
    }
    if name == ctx.opts.test_account {
        ctx.answers_saved.set(true);
    }
    warn_after_save(ctx, t, &account);
    let saved = Saved {
        action: action(source, ctx.config.grant.kind()),
        refresh: refresh_fate(t, old_refresh.as_deref(), source),
        refresh_hint: missing_refresh_hint(ctx, t, source),
        token_from: t.taken_from.clone(),
        expires_in_unusable: t.expires_in_as_sent.is_some(),
    };
    let outcome = outcome(ctx, project, name, &account, Happened::Saved(saved));
    Ok((outcome, account))
}

/// What a new grant asked for, so a scope it was refused is not taken for one the file
/// added since (see `scopes::drift`).
fn note_requested_scope(ctx: &Ctx<'_>, account: &mut Map<String, Value>) {
    match ctx.config.scope() {
        Some(scope) => account.insert(crate::scopes::REQUESTED.into(), scope.into()),
        None => account.shift_remove(crate::scopes::REQUESTED),
    };
}

/// What was done to test account `name`, whose fields are now `fields`.
pub fn outcome(
    ctx: &Ctx<'_>,
    project: &Project,
    name: &str,
    fields: &Map<String, Value>,
    happened: Happened,
) -> Outcome {
    Outcome {
        authorization: ctx.authorization.to_string(),
        test_account: name.to_string(),
        file: project.path().to_path_buf(),
        tokens: Tokens::of(fields),
        happened,
    }
}

/// What the answer could not give and what the saved tokens will run into: the answer's
/// own warnings, a provider clock that is off, a token already due when it is saved.
fn warn_after_save(ctx: &Ctx<'_>, t: &TokenResponse, account: &Map<String, Value>) {
    let now = ctx.deps.clock.now();
    let saved_account = TestAccount::new(Some(account));
    let said = [clock_skew(t, now), born_stale(t, &saved_account, now)];
    for warning in t.warnings.iter().chain(said.iter().flatten()) {
        ctx.deps.terminal.warn(warning);
    }
}

/// How the tokens were got.
fn action(source: Source, grant: GrantType) -> Action {
    match (source, grant) {
        (Source::Refresh, _) => Action::Refresh,
        (_, GrantType::ClientCredentials) => Action::ClientCredentials,
        (_, GrantType::JwtBearer) => Action::JwtBearer,
        (_, GrantType::Password) => Action::Password,
        (_, GrantType::AuthorizationCode) => Action::Login,
    }
}

/// What became of the refresh token. A new grant's refresh token is saved, never
/// "rotated": it belongs to another grant.
fn refresh_fate(t: &TokenResponse, old: Option<&str>, source: Source) -> RefreshFate {
    match (&t.refresh_token, old, source) {
        (Some(_), _, Source::NewGrant) => RefreshFate::Saved,
        (Some(new), Some(old), Source::Refresh) if !new.is(old) => RefreshFate::Rotated,
        (Some(_), Some(_), Source::Refresh) => RefreshFate::Unchanged,
        (Some(_), None, Source::Refresh) => RefreshFate::Saved,
        (None, Some(_), Source::Refresh) => RefreshFate::Kept,
        (None, ..) => RefreshFate::None,
    }
}

/// After a login that got no refresh token from a provider that gives one when asked the
/// right way: what the authorization lacks.
fn missing_refresh_hint(ctx: &Ctx<'_>, t: &TokenResponse, source: Source) -> Option<&'static str> {
    if t.refresh_token.is_some()
        || source != Source::NewGrant
        || ctx.config.grant.kind() != GrantType::AuthorizationCode
    {
        return None;
    }
    let url = ctx.config.authorization_url.as_ref()?.as_str();
    crate::providers::for_url(url)?.refresh_hint
}

/// The save failed after the provider answered: its tokens go to a recovery file, since
/// the file's refresh token may already be spent.
fn set_aside(
    ctx: &Ctx<'_>,
    project: &Project,
    name: &str,
    account: &Map<String, Value>,
    cause: crate::error::Error,
) -> crate::error::Error {
    let cause = cause.to_string();
    let written = crate::recovery::SetAside {
        project: project.real_path(),
        test_account: name,
        account,
        before: project.test_account(name),
        reason: &cause,
        saved_at: clock::rfc3339(ctx.deps.clock.now()),
    }
    .write(&*ctx.deps.env);
    match written {
        Ok(recovery) => FileError::SavedAside {
            path: project.path().into(),
            recovery,
            cause,
            retry: ctx.opts.command_for(name, "--recover"),
        }
        .into(),
        Err(tried) => FileError::TokensLost {
            path: project.path().into(),
            cause,
            tried,
            retry: ctx.opts.command_for(name, "--reauth"),
        }
        .into(),
    }
}

/// Takes the lock, re-reads the file and saves: used after a browser login, which must not
/// hold the lock while a person types a password. `before`: the file as read when the login
/// began.
pub async fn save(ctx: &Ctx<'_>, before: &Project, t: &TokenResponse) -> Result<Outcome> {
    let _lock = ctx.lock().await?;
    let (outcome, _) = save_into_current(ctx, before, &ctx.opts.test_account, t, Source::NewGrant)?;
    Ok(outcome)
}

/// `save_account` into the file as it is now (the lock held). If it can no longer be read
/// (an editor saved it half-done meanwhile), the tokens are set aside instead, against
/// `before`, the file as read before the request.
pub fn save_into_current(
    ctx: &Ctx<'_>,
    before: &Project,
    name: &str,
    t: &TokenResponse,
    source: Source,
) -> Result<(Outcome, Map<String, Value>)> {
    match Project::load(&ctx.opts.config) {
        Ok(now) => save_account(ctx, &now, name, t, source),
        Err(cause) => {
            let old = before.test_account(name);
            let account = ctx.with_answers(name, old, merged(old, t, &*ctx.deps.clock, source));
            Err(set_aside(ctx, before, name, &account, cause))
        }
    }
}

/// A refresh whose answer could not be used (no usable access token) but carried a new
/// refresh token: the one presented may be spent, so the new one is saved, alone, and the
/// refusal is returned saying so. Any other error as it was.
pub fn keep_carried_refresh_token(
    ctx: &Ctx<'_>,
    project: &Project,
    name: &str,
    error: crate::error::Error,
) -> crate::error::Error {
    use crate::error::Error;
    let Error::Provider(ProviderError::TokenResponse {
        url,
        message,
        refresh_token: Some(rt),
    }) = error
    else {
        return error;
    };
    let mut account = project.test_account(name).cloned().unwrap_or_default();
    account.insert(field::REFRESH_TOKEN.into(), rt.expose().into());
    if let Err(cause) = project.save_test_account(name, &account) {
        return set_aside(ctx, project, name, &account, cause);
    }
    ProviderError::TokenResponse {
        url,
        message: format!(
            "{message}; the new refresh token it carried was saved (the one sent may be spent)"
        ),
        refresh_token: None,
    }
    .into()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secret::{AccessToken, RefreshToken};
    use serde_json::json;
    use std::time::SystemTime;

    struct At(u64);
    impl Clock for At {
        fn now(&self) -> SystemTime {
            clock::from_epoch(self.0)
        }
    }

    /// A clock at any instant, fractions of a second included.
    struct Exactly(SystemTime);
    impl Clock for Exactly {
        fn now(&self) -> SystemTime {
            self.0
        }
    }

    fn response(refresh: Option<&str>, expires_in: Option<u64>) -> TokenResponse {
        TokenResponse {
            access_token: AccessToken::new("new-access"),
            token_type: None,
            refresh_token: refresh.map(RefreshToken::new),
            expires_in,
            expires_in_as_sent: None,
            taken_from: None,
            created_at: None,
            scope: None,
            extra: Map::new(),
            warnings: Vec::new(),
            date: None,
        }
    }

    #[test]
    fn keeps_old_refresh_token_and_other_fields_when_none_returned() {
        let old = json!({"custom": 1, "refreshToken": "old-rt", "scope": "a b"});
        let m = merged(
            old.as_object(),
            &response(None, Some(60)),
            &At(1_000),
            Source::Refresh,
        );
        assert_eq!(m["refreshToken"], "old-rt");
        assert_eq!(m["custom"], 1);
        assert_eq!(m["scope"], "a b");
        assert_eq!(m["tokenType"], "Bearer");
        assert_eq!(m["expiresAt"], "1970-01-01T00:17:40Z");
    }

    #[test]
    fn bearer_in_any_case_or_none_is_stored_as_bearer_and_other_types_as_sent() {
        for (sent, stored) in [
            (None, "Bearer"),
            (Some("bearer"), "Bearer"),
            (Some("BEARER"), "Bearer"),
            (Some("bot"), "Bearer"),
            (Some("user"), "Bearer"),
            (Some("MAC"), "MAC"),
        ] {
            let mut r = response(None, None);
            r.token_type = sent.map(str::to_string);
            let m = merged(None, &r, &At(0), Source::NewGrant);
            assert_eq!(m["tokenType"], stored, "{sent:?}");
        }
    }

    #[test]
    fn drops_a_stale_expiry_when_the_new_token_has_none() {
        let old = json!({"expiresIn": 5, "expiresAt": "2000-01-01T00:00:00Z"});
        let m = merged(
            old.as_object(),
            &response(Some("rt"), None),
            &At(0),
            Source::Refresh,
        );
        assert!(!m.contains_key("expiresAt") && !m.contains_key("expiresIn"));
        assert_eq!(m["refreshToken"], "rt");
    }

    #[test]
    fn a_new_grant_drops_the_old_tokens_but_keeps_the_users_fields() {
        let old =
            json!({"apiKey": "mine", "refreshToken": "dead-rt", "scope": "old", "expiresAt": "x"});
        let m = merged(
            old.as_object(),
            &response(None, None),
            &At(0),
            Source::NewGrant,
        );
        assert_eq!(m["apiKey"], "mine");
        assert!(
            !m.contains_key("refreshToken")
                && !m.contains_key("scope")
                && !m.contains_key("expiresAt")
        );
    }

    #[test]
    fn absurd_lifetimes_are_stored_without_an_expiry_instead_of_crashing() {
        for secs in [u64::MAX, 400_000_000_000] {
            let m = merged(
                None,
                &response(None, Some(secs)),
                &At(1_000),
                Source::NewGrant,
            );
            assert_eq!(m["expiresIn"], secs);
            assert!(!m.contains_key("expiresAt"));
        }
        // An issue time past year 9999 is a provider's bug: the expiry counts from now.
        let mut r = response(None, Some(10));
        r.created_at = Some(u64::MAX);
        let m = merged(None, &r, &At(0), Source::NewGrant);
        assert_eq!(m["expiresAt"], clock::rfc3339(clock::from_epoch(10)));
    }

    /// A provider whose clock runs an hour behind: its `created_at` is read against its own
    /// `Date`, so the token is as fresh as it is.
    #[test]
    fn created_at_is_read_against_the_providers_own_clock() {
        let mut r = response(None, Some(600));
        r.created_at = Some(10_000 - 3600);
        r.date = Some(clock::from_epoch(10_000 - 3600));
        let m = merged(None, &r, &At(10_000), Source::NewGrant);
        assert_eq!(m["expiresAt"], clock::rfc3339(clock::from_epoch(10_600)));
        assert_eq!(
            m["lastRefreshAt"],
            clock::rfc3339(clock::from_epoch(10_000))
        );
        assert!(
            clock_skew(&r, clock::from_epoch(10_000))
                .unwrap()
                .contains("1h ahead of")
        );
        // A right Date and a stale created_at: born expired, and said why.
        r.date = Some(clock::from_epoch(10_000));
        let m = merged(None, &r, &At(10_000), Source::NewGrant);
        let account = TestAccount::new(Some(&m));
        let why = born_stale(&r, &account, clock::from_epoch(10_000)).unwrap();
        assert!(
            why.contains("created_at") && why.contains("not refreshed again for 5 s"),
            "{why}"
        );
        assert!(clock_skew(&r, clock::from_epoch(10_000)).is_none());
    }

    /// A token of two seconds saved at a quarter past a second: its expiry and the last
    /// refresh keep the quarter, so it is due for `watch` one second on and stale half a
    /// second later, not up to a second early as times to the second would make them.
    #[test]
    fn a_short_lived_tokens_times_are_saved_to_the_millisecond() {
        let now = clock::from_epoch(1_060) + std::time::Duration::from_millis(250);
        let m = merged(
            None,
            &response(None, Some(2)),
            &Exactly(now),
            Source::NewGrant,
        );
        assert_eq!(m["expiresAt"], "1970-01-01T00:17:42.250Z");
        assert_eq!(m["lastRefreshAt"], "1970-01-01T00:17:40.250Z");
        assert_eq!(m["firstLoginAt"], "1970-01-01T00:17:40.250Z");
        let account = TestAccount::new(Some(&m));
        let second = std::time::Duration::from_secs(1);
        assert_eq!(account.refresh_due(), Some(now + second));
        assert_eq!(account.stale_at(), Some(now + second + second / 2));
    }

    /// The fraction of a second between this machine's clock and a `Date` to the second is
    /// that header's rounding: the expiry from `created_at` stays to the second, rounded
    /// down (an hour and three quarters of a second ahead counts as an hour).
    #[test]
    fn created_at_against_a_date_gives_an_expiry_to_the_second() {
        let quarter = std::time::Duration::from_millis(250);
        let mut r = response(None, Some(600));
        r.created_at = Some(10_000 - 3600);
        r.date = Some(clock::from_epoch(10_000 - 3600));
        let ahead = clock::from_epoch(10_000) + 3 * quarter;
        let m = merged(None, &r, &Exactly(ahead), Source::NewGrant);
        assert_eq!(m["expiresAt"], clock::rfc3339(clock::from_epoch(10_600)));
        r.date = Some(clock::from_epoch(10_000 + 3600));
        let behind = clock::from_epoch(10_000) - quarter;
        let m = merged(None, &r, &Exactly(behind), Source::NewGrant);
        assert_eq!(
            m["expiresAt"],
            clock::rfc3339(clock::from_epoch(10_000 - 2 * 3600 - 1 + 600))
        );
    }

    #[test]
    fn created_at_sets_the_issue_time() {
        let mut r = response(None, Some(100));
        r.created_at = Some(2_000);
        r.extra.insert("created_at".into(), json!(2_000));
        let m = merged(None, &r, &At(999_999), Source::NewGrant);
        assert_eq!(m["expiresAt"], clock::rfc3339(clock::from_epoch(2_100)));
        assert_eq!(m["created_at"], 2_000);
    }
}
