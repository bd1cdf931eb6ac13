//! Paste-back: when the browser runs on another machine (SSH, a container), the redirect to
//! this one fails, but its address bar still holds the code and the state. A pasted line is
//! checked exactly as a callback is (`callback::accept`), or taken as a bare code.

use url::Url;

use crate::callback::{self, Callback};
use crate::secret::{AuthorizationCode, LoginState};

/// A pasted address, checked like a callback: path, then state, error and code. Only a
/// bare query (`?code=…`) has no path to check.
fn pasted_address(
    line: &str,
    path: &str,
    state: &LoginState,
) -> std::result::Result<callback::Accepted, String> {
    let url = address(line).ok_or_else(|| "the pasted text is not an address".to_string())?;
    if !line.starts_with('?') && url.path() != path {
        return Err(format!(
            "the pasted address goes to {}, but this login's callback is {path}",
            crate::redact::printable(url.path())
        ));
    }
    match callback::accept(url.query().unwrap_or(""), state) {
        Ok(a) => Ok(a),
        Err(callback::Refused::WrongState) => {
            Err("the pasted address is not from this login (its state differs)".to_string())
        }
        Err(callback::Refused::Malformed(m)) => Err(m),
    }
}

/// The pasted text read as an address: whole, without its scheme (browsers hide it), or
/// a path or query alone.
fn address(line: &str) -> Option<Url> {
    Url::parse(line)
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
}

/// A pasted line: the address the browser was sent to (checked like a callback: path,
/// then state, error and code), or a bare code. `Ok(None)`: an empty line, ignored.
pub(super) fn pasted(
    line: &str,
    path: &str,
    state: &LoginState,
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
        return pasted_address(line, path, state).map(Some);
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
            code: AuthorizationCode::new(line.to_string()),
        },
        iss: None,
    }))
}
