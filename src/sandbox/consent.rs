//! The authorization endpoint and its consent page: the request checked (the client, a
//! loopback redirect URI, PKCE, what the persona requires), then Approve or Deny, then the
//! browser sent back with a code or an error.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::{RawQuery, State};
use axum::response::{Html, IntoResponse, Redirect, Response};

use super::store::{Asked, Code, PendingConsent, random};
use super::{CLIENT_ID, Shared, error_page, pairs};
use crate::html::escape;

fn redirect_with(uri: &str, params: &[(&str, &str)]) -> Response {
    let mut target = match url::Url::parse(uri) {
        Ok(t) => t,
        Err(_) => return error_page("the redirect_uri is not a URL"),
    };
    target.query_pairs_mut().extend_pairs(params);
    Redirect::to(target.as_str()).into_response()
}

pub async fn authorize(
    State(shared): State<Arc<Shared>>,
    uri: axum::http::Uri,
    RawQuery(raw): RawQuery,
) -> Response {
    let tenant = match super::tenant(&shared, uri.path()) {
        Some(Err(answer)) => return answer,
        Some(Ok(tenant)) => Some(tenant),
        None => None,
    };
    let asked = Asked {
        params: pairs(&raw.unwrap_or_default()),
        tenant,
    };
    if asked.get("client_id") != CLIENT_ID {
        return error_page(&format!("unknown client_id \"{}\"", asked.get("client_id")));
    }
    let redirect_uri = asked.get("redirect_uri").to_string();
    if !shared.persona.redirect_registered(&redirect_uri) {
        return error_page(
            "redirect_uri must be a loopback address with a port, such as http://127.0.0.1:9002/callback",
        );
    }
    let fail = |error: &str, description: &str| {
        redirect_with(
            &redirect_uri,
            &[
                ("error", error),
                ("error_description", description),
                ("state", asked.get("state")),
            ],
        )
    };
    if let Err((error, description)) = check(&shared, &asked) {
        return fail(error, &description);
    }
    let id = random();
    let mut store = shared.store();
    store
        .consents
        .retain(|_, c| c.created.elapsed() < Duration::from_secs(600));
    let user = store.next_user(&asked);
    store.consents.insert(
        id.clone(),
        PendingConsent {
            user: user.clone(),
            redirect_uri: redirect_uri.clone(),
            state: asked.get("state").to_string(),
            asked: asked.clone(),
            created: Instant::now(),
        },
    );
    drop(store);
    page(&shared, &asked, &id, &user.login)
}

/// The request's own checks, then the persona's: `Err((error, description))` goes back to
/// the client.
fn check(shared: &Shared, asked: &Asked) -> Result<(), (&'static str, String)> {
    if asked.get("response_type") != "code" {
        return Err((
            "unsupported_response_type",
            "only response_type=code".into(),
        ));
    }
    let persona = &shared.persona;
    let pkce =
        asked.get("code_challenge_method") == "S256" && asked.get("code_challenge").len() == 43;
    let no_pkce = asked.get("code_challenge").is_empty();
    if !(pkce || (no_pkce && !persona.pkce_required())) {
        return Err(("invalid_request", "PKCE with S256 is required".into()));
    }
    if let Some(known) = persona.scopes()
        && let Some(unknown) = asked
            .scope()
            .split_whitespace()
            .find(|s| !known.contains(s))
    {
        return Err(("invalid_scope", format!("unknown scope {unknown}")));
    }
    persona
        .authorize(asked)
        .map_err(|r| (r.error, r.description))
}

fn page(shared: &Shared, asked: &Asked, id: &str, user: &str) -> Response {
    let scopes: String = asked
        .scope()
        .split_whitespace()
        .chain(asked.get("user_scope").split_whitespace())
        .map(|s| format!("<li><code>{}</code></li>", escape(s)))
        .collect();
    let title = shared
        .persona
        .provider()
        .map_or("integration-cli sandbox".to_string(), |p| {
            format!("integration-cli sandbox, as {}", p.title)
        });
    Html(format!(
        r#"<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Sandbox consent</title>
<style>body{{font:16px/1.5 system-ui,sans-serif;max-width:32rem;margin:3rem auto;padding:0 1rem}}
button{{font-size:1rem;padding:.5rem 1.25rem;margin-right:.5rem}}</style></head>
<body><h1>{title}</h1>
<p><strong>{client}</strong> asks to access your sandbox account (<code>{user}</code>).</p>
<ul>{scopes}</ul>
<form method="post" action="/authorize/decision">
<input type="hidden" name="consent" value="{id}">
<button type="submit" name="decision" value="approve" id="approve">Approve</button>
<button type="submit" name="decision" value="deny" id="deny">Deny</button>
</form></body></html>"#,
        title = escape(&title),
        client = escape(CLIENT_ID),
        user = escape(user),
    ))
    .into_response()
}

pub async fn decision(State(shared): State<Arc<Shared>>, body: String) -> Response {
    let form = pairs(&body);
    let mut store = shared.store();
    let Some(consent) = form.get("consent").and_then(|id| store.consents.remove(id)) else {
        return error_page(
            "this consent page has expired or was already answered; start the login again",
        );
    };
    let state = consent.state.as_str();
    if form.get("decision").map(String::as_str) != Some("approve") {
        return redirect_with(
            &consent.redirect_uri,
            &[
                ("error", "access_denied"),
                ("error_description", "the user denied access in the sandbox"),
                ("state", state),
            ],
        );
    }
    let again = std::mem::replace(&mut store.consented_before, true);
    let offline = shared.persona.offline(&consent.asked, again);
    let code = random();
    let grant = store.new_grant(granted(&consent.asked, form.get("scope")));
    store.users.insert(grant, consent.user.clone());
    store.codes.insert(
        code.clone(),
        Code {
            redirect_uri: consent.redirect_uri.clone(),
            challenge: consent.asked.get("code_challenge").to_string(),
            issued: Instant::now(),
            grant,
            offline,
        },
    );
    redirect_with(&consent.redirect_uri, &[("code", &code), ("state", state)])
}

/// What the login asked for, less the scopes the user did not tick (`ticked`, sent as a
/// consent page with checkboxes sends it; all of them when it sends none): a grant narrower
/// than the request, as Google's granular consent gives.
fn granted(asked: &Asked, ticked: Option<&String>) -> Asked {
    let Some(ticked) = ticked else {
        return asked.clone();
    };
    let kept: Vec<&str> = asked
        .scope()
        .split_whitespace()
        .filter(|s| ticked.split_whitespace().any(|t| t == *s))
        .collect();
    let mut granted = asked.clone();
    granted.params.insert("scope".into(), kept.join(" "));
    granted
}
