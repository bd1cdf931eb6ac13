//! The consent page's URL: a fresh `state` and PKCE pair for this attempt only, the
//! authorization's scopes and extra parameters, and none that would undo the flow's own.

use oauth2::basic::BasicClient;
use oauth2::{AuthUrl, ClientId, CsrfToken, PkceCodeChallenge, RedirectUrl, Scope};
use url::Url;

use super::redirect::relay_state;
use crate::config::ForAccount;
use crate::secret::{LoginState, PkceVerifier};

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

/// One login attempt: where the browser goes, and what only this run knows.
pub(super) struct Attempt {
    pub url: Url,
    pub state: LoginState,
    pub verifier: PkceVerifier,
}

/// The consent page's URL, with a fresh `state` (carrying `relay_to` in relay mode) and PKCE
/// pair. Errors are about the authorization's settings, in words.
pub(super) fn consent_url(
    config: &ForAccount,
    client_id: &str,
    redirect_uri: &str,
    relay_to: Option<&str>,
) -> std::result::Result<Attempt, String> {
    let auth_url = (config.authorization_url.as_ref())
        .map(|u| u.as_str())
        .ok_or("authorizationUrl is missing")?;
    let auth_url = AuthUrl::new(auth_url.to_string())
        .map_err(|e| format!("authorizationUrl is not a valid URL: {e}"))?;
    if let Some((k, _)) = config
        .authorization_parameters
        .iter()
        .find(|(k, _)| RESERVED.contains(&k.as_str()))
    {
        return Err(format!(
            "authorizationParameters may not set \"{k}\": integration-cli sets it itself"
        ));
    }
    let redirect_url = RedirectUrl::new(redirect_uri.to_string())
        .map_err(|e| format!("redirect URL {redirect_uri:?} is not valid: {e}"))?;

    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let client = BasicClient::new(ClientId::new(client_id.to_string()))
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
        .add_scopes(config.scopes.iter().cloned().map(Scope::new))
        .set_pkce_challenge(challenge);
    for (k, v) in &config.authorization_parameters {
        request = request.add_extra_param(k.as_str(), v.as_str());
    }
    let (url, state) = request.url();
    Ok(Attempt {
        url,
        state: LoginState::new(state.secret()),
        verifier: PkceVerifier::new(verifier.secret()),
    })
}
