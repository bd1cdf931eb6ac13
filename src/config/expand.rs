//! A templated authorization made concrete for one test account: every URL and parameter
//! filled from the account's values (and the client's id and secret), and checked so that
//! no value moves a URL's host, puts a secret where it is printed, or sends anything to a
//! host nobody named. The one place templates are filled; every request goes through it.

use serde_json::{Map, Value};

use super::jwt::JwtSettings;
use super::variables::as_text;
use super::{ForAccount, OAuth2, ProviderUrl, UrlTemplate};
use crate::redact::printable;
use crate::secret::ClientSecret;
use crate::template::{self, Piece, Template};

/// Prefix of the values the platform encrypted; they cannot be read offline.
const ENCRYPTED_PREFIX: &str = "unito-secret-v1://";

/// Names whose value is a secret, whatever the declarations say: the client's secret and
/// the tokens themselves.
const ALWAYS_SECRET: [&str; 3] = ["clientSecret", "accessToken", "refreshToken"];

/// Where a filled value ends up, which decides whether a secret may go there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Place {
    /// A URL: printed for the user to open, or logged with `-v`.
    Url,
    /// `authorizationParameters`: part of the login URL, which is printed.
    LoginParameter,
    /// Token and refresh request parameters: in the request body, never shown.
    Sent,
}

/// What templates are filled from.
pub struct Values<'a> {
    pub test_account: &'a str,
    /// The test account as it will be saved: what is stored, with the new answers.
    pub fields: &'a Map<String, Value>,
    pub client_id: &'a str,
    pub client_secret: Option<&'a ClientSecret>,
}

/// A value a test account lacks: its name, and its label when it is declared.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lack {
    pub name: String,
    pub label: Option<String>,
}

impl Lack {
    /// The name, and what it is, for a person.
    pub fn described(&self) -> String {
        match &self.label {
            Some(label) => format!("{} ({})", self.name, printable(label)),
            None => format!("{} (used by a template, not declared)", self.name),
        }
    }
}

/// Why a template could not be filled for this test account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// `tokenUrl`, `tokenRequestParameters.audience`.
    pub field: String,
    /// The value to blame, when one is (the user changes it with `--var`).
    pub name: Option<String>,
    pub message: String,
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.field, self.message)
    }
}

impl OAuth2 {
    /// This authorization for one test account: its templates filled and checked. An
    /// authorization without templates comes back as it is.
    pub fn expanded(&self, values: &Values) -> Result<ForAccount, Refusal> {
        let filler = Filler {
            config: self,
            values,
        };
        let token_url = filler.url("tokenUrl", &self.token_url)?;
        let authorization_url = (self.authorization_url.as_ref())
            .map(|u| filler.url("authorizationUrl", u))
            .transpose()?;
        let revocation_url = (self.revocation_url.as_ref())
            .map(|u| filler.url("revocationUrl", u))
            .transpose()?;
        let mut out = self
            .clone()
            .with_urls(token_url, authorization_url, revocation_url);
        out.issuer = filler.optional_text_url("issuer", &self.issuer)?;
        out.redirect_url = filler.optional_text_url("redirectUrl", &self.redirect_url)?;
        out.authorization_parameters = filler.params(
            "authorizationParameters",
            &self.authorization_parameters,
            Place::LoginParameter,
        )?;
        out.token_request_parameters = filler.params(
            "tokenRequestParameters",
            &self.token_request_parameters,
            Place::Sent,
        )?;
        out.refresh_request_parameters = filler.params(
            "refreshRequestParameters",
            &self.refresh_request_parameters,
            Place::Sent,
        )?;
        out.grant = self.grant.try_map(|jwt| filler.jwt(jwt))?;
        out.client_auth = self.client_auth.try_map(|jwt| filler.jwt(jwt))?;
        Ok(out)
    }

    /// Every name its templates use, once each, in the file's order (the client's id and
    /// secret, which the authorization itself holds, left out).
    pub fn template_names(&self) -> Vec<String> {
        let mut names = self.used_names();
        names.retain(|n| !matches!(n.as_str(), "clientId" | "clientSecret"));
        names
    }

    fn used_names(&self) -> Vec<String> {
        let mut names: Vec<String> = Vec::new();
        for (_, raw, _) in self.templated() {
            for name in Template::parse(raw).names() {
                if !names.iter().any(|n| n == name) {
                    names.push(name.to_string());
                }
            }
        }
        names
    }

    /// Whether a template uses `name` (`clientId` and `clientSecret` too).
    pub fn uses(&self, name: &str) -> bool {
        self.used_names().iter().any(|n| n == name)
    }

    /// Whether `name`'s value is a secret, which may fill only token and refresh request
    /// parameters and is masked wherever it is shown: the client's secret, the tokens, a
    /// `password` variable, and any name that says it holds a credential (`apiToken`).
    /// A declared variable's type decides for names that only might (`countryCode`).
    pub fn is_secret(&self, name: &str) -> bool {
        if ALWAYS_SECRET.contains(&name) {
            return true;
        }
        match self.variables.get(name) {
            Some(v) => v.is_secret() || crate::redact::credential_name(name),
            None => crate::redact::secret_name(name),
        }
    }

    /// What a test account lacks for this authorization, when nobody is asked: each
    /// declared variable that is required and has neither a value nor a default, then each
    /// name a template uses that is neither declared nor held.
    pub fn lacking(&self, account: Option<&Map<String, Value>>) -> Vec<Lack> {
        let empty = Map::new();
        let fields = account.unwrap_or(&empty);
        let held = |name: &str| fields.get(name).filter(|v| !v.is_null());
        let mut lacking: Vec<Lack> = self
            .variables
            .iter()
            .filter(|v| v.required && v.default.is_none() && v.lacks_in(fields))
            .map(|v| Lack {
                name: v.name.clone(),
                label: v.label.clone(),
            })
            .collect();
        for name in self.template_names() {
            if self.variables.get(&name).is_none() && held(&name).is_none() {
                lacking.push(Lack { name, label: None });
            }
        }
        lacking
    }

    /// The declared defaults `fields` lack, as the next run fills them in (and saves them).
    pub fn defaults_for(&self, fields: &Map<String, Value>) -> Vec<(String, Value)> {
        self.variables
            .iter()
            .filter(|v| v.lacks_in(fields))
            .filter_map(|v| Some((v.name.clone(), v.default.clone()?)))
            .collect()
    }

    /// Whether any field holds a name to fill in (most files' none do).
    pub fn is_templated(&self) -> bool {
        !self.used_names().is_empty()
    }

    /// Every field a template may be in, with where its value goes.
    fn templated(&self) -> Vec<(String, &str, Place)> {
        let mut fields: Vec<(String, &str, Place)> =
            vec![("tokenUrl".into(), self.token_url.as_written(), Place::Url)];
        let authorization_url = self.authorization_url.as_ref().map(|u| u.as_written());
        let revocation_url = self.revocation_url.as_ref().map(|u| u.as_written());
        for (key, value) in [
            ("authorizationUrl", authorization_url),
            ("revocationUrl", revocation_url),
            ("issuer", self.issuer.as_deref()),
            ("redirectUrl", self.redirect_url.as_deref()),
        ] {
            if let Some(v) = value {
                fields.push((key.into(), v, Place::Url));
            }
        }
        for (group, params, place) in [
            (
                "authorizationParameters",
                &self.authorization_parameters,
                Place::LoginParameter,
            ),
            (
                "tokenRequestParameters",
                &self.token_request_parameters,
                Place::Sent,
            ),
            (
                "refreshRequestParameters",
                &self.refresh_request_parameters,
                Place::Sent,
            ),
        ] {
            for (k, v) in params {
                fields.push((format!("{group}.{k}"), v, place));
            }
        }
        // The assertion's claims travel signed in the request body.
        if let Some(jwt) = self.jwt() {
            for (key, value) in [
                ("jwt.issuer", &jwt.issuer),
                ("jwt.subject", &jwt.subject),
                ("jwt.audience", &jwt.audience),
            ] {
                if let Some(v) = value {
                    fields.push((key.into(), v, Place::Sent));
                }
            }
        }
        fields
    }

    /// What can be told from the file alone: a URL template starts with its own scheme,
    /// names are plain keys, and no known secret is put where it would be printed. Values
    /// are checked when they are filled in.
    pub(super) fn check_templates(&self) -> Result<(), String> {
        for (field, raw, place) in self.templated() {
            let t = Template::parse(raw);
            if t.is_plain() {
                continue;
            }
            for name in t.names() {
                if name.contains('.') {
                    return Err(format!(
                        "{field} uses {{+{name}}}, but template names are plain keys of the test \
                         account (no dots)"
                    ));
                }
                // Undeclared names are judged when their values are filled in.
                let known = ALWAYS_SECRET.contains(&name) || self.variables.get(name).is_some();
                if known && self.is_secret(name) && place != Place::Sent {
                    return Err(secret_refused(&field, name));
                }
            }
            if place == Place::Url {
                url_shape(&field, &t)?;
            }
        }
        Ok(())
    }
}

fn secret_refused(field: &str, name: &str) -> String {
    format!(
        "{field} would put {name}, a secret, into {}, which is printed and logged: secrets may \
         fill tokenRequestParameters and refreshRequestParameters only",
        if field.starts_with("authorizationParameters") {
            "the login URL"
        } else {
            "a URL"
        }
    )
}

/// A URL template's scheme is its own text, and with every value a plain word the result
/// must be a URL.
fn url_shape(field: &str, t: &Template) -> Result<(), String> {
    let starts_with_scheme = match t.pieces().first() {
        Some(Piece::Text(text)) => {
            let lower = text.to_ascii_lowercase();
            lower.starts_with("https://") || lower.starts_with("http://")
        }
        _ => false,
    };
    if !starts_with_scheme {
        return Err(format!(
            "{field} must start with its scheme, https:// or http://, before any template: a \
             value may fill in part of the host, never the scheme (write \
             \"https://{{+host}}/…\" and give the host alone)"
        ));
    }
    // "1" fits a host label, a whole host and a port alike.
    let sample = t.fill(&|_| Some("1".into()), true);
    check_url(field, &sample)
}

/// A URL field as written in the file: a URL by today's rules, or a template that makes one
/// and starts with its own scheme.
pub fn check_url_field(field: &str, raw: &str) -> Result<(), String> {
    let t = Template::parse(raw);
    match t.is_plain() {
        true => check_url(field, raw),
        false => url_shape(field, &t),
    }
}

/// Today's rules for a URL of the file: an http(s) URL, and a token URL without
/// credentials in it (they would be sent instead of the client's).
pub(super) fn check_url(field: &str, raw: &str) -> Result<(), String> {
    let shown = crate::redact::display_url(raw);
    let url = match url::Url::parse(raw) {
        Ok(u) if matches!(u.scheme(), "http" | "https") => u,
        Ok(_) => return Err(format!("{field} {shown} is not an http(s) URL")),
        Err(e) => return Err(format!("{field} {shown} is not a URL: {e}")),
    };
    if url.host_str().is_none_or(str::is_empty) {
        return Err(format!("{field} {shown} has no host"));
    }
    let sends_credentials = matches!(field, "tokenUrl" | "revocationUrl");
    if sends_credentials && (!url.username().is_empty() || url.password().is_some()) {
        return Err(format!(
            "{field} holds credentials (user:password@ before the host): put the client's in \
             clientId and clientSecret instead, since the URL's would be sent in their place"
        ));
    }
    Ok(())
}

struct Filler<'a> {
    config: &'a OAuth2,
    values: &'a Values<'a>,
}

impl Filler<'_> {
    fn refusal(&self, field: &str, name: Option<&str>, message: String) -> Refusal {
        Refusal {
            field: field.to_string(),
            name: name.map(str::to_string),
            message,
        }
    }

    /// Where a value lives in the file, for messages.
    fn source(&self, name: &str) -> String {
        match name {
            "clientId" | "clientSecret" => format!("{}.{name}", self.config.at),
            _ => format!(
                "testAccounts.{}.{name}",
                printable(self.values.test_account)
            ),
        }
    }

    /// The text a name stands for, or why it cannot be used at `place`.
    fn value(&self, field: &str, name: &str, place: Place) -> Result<String, Refusal> {
        if self.config.is_secret(name) && place != Place::Sent {
            return Err(self.refusal(field, None, secret_refused(field, name)));
        }
        let found = match name {
            "clientId" => return Ok(self.values.client_id.to_string()),
            "clientSecret" => {
                return self
                    .values
                    .client_secret
                    .map(|s| s.expose().to_string())
                    .ok_or_else(|| {
                        self.refusal(
                            field,
                            None,
                            format!("{field} uses {{+clientSecret}}, but the authorization has no clientSecret"),
                        )
                    });
            }
            _ => self.values.fields.get(name),
        };
        let source = self.source(name);
        match found {
            None | Some(Value::Null) if self.config.variables.get(name).is_some() => {
                Ok(String::new())
            }
            None | Some(Value::Null) => Err(self.refusal(
                field,
                Some(name),
                format!(
                    "{field} uses {{+{name}}}, which is neither a declared variable nor a value \
                     of test account \"{}\"",
                    printable(self.values.test_account)
                ),
            )),
            Some(v) => match as_text(v) {
                Some(text) if text.starts_with(ENCRYPTED_PREFIX) => Err(self.refusal(
                    field,
                    Some(name),
                    format!(
                        "{source} is encrypted for the platform (unito-secret-v1://) and cannot \
                         be used offline: put the plain value there"
                    ),
                )),
                Some(text) => Ok(text),
                None => Err(self.refusal(
                    field,
                    Some(name),
                    format!(
                        "{source} is not text, a number or true/false, so {field} cannot use it"
                    ),
                )),
            },
        }
    }

    /// `tokenUrl` or `authorizationUrl` for this account: as written when it holds no
    /// template (it was checked at load), else filled in and checked whole.
    fn url(&self, field: &str, url: &UrlTemplate) -> Result<ProviderUrl, Refusal> {
        match url.plain() {
            Some(plain) => Ok(plain),
            None => self.filled_url(field, url.as_written()),
        }
    }

    /// `issuer` or `redirectUrl`, which the file may write as any text (each has its own
    /// rules where it is used): filled in and checked as a URL only when templated.
    fn optional_text_url(
        &self,
        field: &str,
        raw: &Option<String>,
    ) -> Result<Option<String>, Refusal> {
        let Some(raw) = raw else { return Ok(None) };
        if Template::parse(raw).is_plain() {
            return Ok(Some(raw.clone()));
        }
        Ok(Some(self.filled_url(field, raw)?.as_str().to_string()))
    }

    /// A URL template filled: values in the host only as parts of a host name (a port at
    /// its end), values elsewhere encoded as the platform encodes them.
    fn filled_url(&self, field: &str, raw: &str) -> Result<ProviderUrl, Refusal> {
        let t = Template::parse(raw);
        let pieces = t.pieces();
        let mut out = String::new();
        // Where the template's own text has got to: the host runs to its first `/`, `?`
        // or `#` after `://`, the path to its `?` or `#`, the query to its `#`.
        let mut part = Part::Host;
        for (i, piece) in pieces.iter().enumerate() {
            match piece {
                Piece::Text(text) => {
                    out.push_str(text);
                    let own = match i {
                        0 => text.split_once("://").map_or("", |(_, rest)| rest),
                        _ => text,
                    };
                    part = part.after(own);
                }
                Piece::Name(name) => {
                    let value = self.value(field, name, Place::Url)?;
                    match part {
                        Part::Host => {
                            self.host_value(field, name, &value, &HostSlot::at(pieces, i))?;
                            out.push_str(&value);
                        }
                        _ => {
                            self.within(field, name, &value, part)?;
                            out.push_str(&template::encode(&value));
                        }
                    }
                }
                Piece::Base64(inner) => {
                    if part == Part::Host {
                        return Err(self.refusal(
                            field,
                            None,
                            format!(
                                "{field} puts a base64 value in its host, which cannot hold one"
                            ),
                        ));
                    }
                    out.push_str(&template::base64(&self.plain(field, inner, Place::Url)?));
                }
            }
        }
        ProviderUrl::checked(field, out).map_err(|message| self.refusal(field, None, message))
    }

    /// A value after the host stays in its part: a path value may hold `/` (the platform's
    /// own example fills a path), but not `?` or `#`, which would end the path early, nor a
    /// `.` or `..` segment, which would climb out of it (`acme/../globex` would send one
    /// tenant's tokens to another on the same host); a query value may not hold `#`.
    fn within(&self, field: &str, name: &str, value: &str, part: Part) -> Result<(), Refusal> {
        let source = self.source(name);
        let refuse = |why: &str| {
            Err(self.refusal(
                field,
                Some(name),
                format!(
                    "{source} ({}) {why} of {field}",
                    crate::redact::display_url(value)
                ),
            ))
        };
        let dots = |segment: &str| {
            let plain = segment.to_ascii_lowercase().replace("%2e", ".");
            plain == "." || plain == ".."
        };
        match part {
            Part::Path if value.contains(['?', '#']) => refuse("would end the path"),
            Part::Path if value.split(['/', '\\']).any(dots) => {
                refuse("would climb out of the path")
            }
            Part::Query if value.contains('#') => refuse("would end the query"),
            _ => Ok(()),
        }
    }

    /// A value in a URL's host: part of a host name, and at the host's end a port too.
    fn host_value(
        &self,
        field: &str,
        name: &str,
        value: &str,
        slot: &HostSlot,
    ) -> Result<(), Refusal> {
        let source = self.source(name);
        let refuse = |message: String| Err(self.refusal(field, Some(name), message));
        if value.is_empty() {
            return refuse(format!(
                "{source} is empty, and {field} puts it in the host, which cannot be empty"
            ));
        }
        // Shown as URLs are: a `user:password@` in it is not repeated.
        let shown = crate::redact::display_url(value);
        if value.contains("://") {
            return refuse(format!(
                "{source} is a whole URL ({shown}), but {field} puts it inside the host: give only {}",
                slot.suggestion(value)
            ));
        }
        let name_part = host_name_part(value, slot);
        if let Some(what) = not_in_a_host(name_part) {
            return refuse(format!(
                "{source} ({shown}) would change the host of {field}: a value in a host may \
                 hold letters, digits, \"-\" and \".\" only, not {what}"
            ));
        }
        if name_part.is_empty() {
            return refuse(format!("{source} gives a port but no host name"));
        }
        if !name_part.is_ascii() && !maps_to_plain_ascii(name_part) {
            return refuse(format!(
                "{source} ({shown}) is not a host name {field} can use"
            ));
        }
        Ok(())
    }

    /// Names and text filled with encoding off (`{!base64(…)}`'s INNER).
    fn plain(&self, field: &str, pieces: &[Piece], place: Place) -> Result<String, Refusal> {
        let mut out = String::new();
        for piece in pieces {
            match piece {
                Piece::Text(t) => out.push_str(t),
                Piece::Name(n) => out.push_str(&self.value(field, n, place)?),
                Piece::Base64(inner) => {
                    out.push_str(&template::base64(&self.plain(field, inner, place)?))
                }
            }
        }
        Ok(out)
    }

    fn params(
        &self,
        group: &str,
        params: &[(String, String)],
        place: Place,
    ) -> Result<Vec<(String, String)>, Refusal> {
        params
            .iter()
            .map(|(k, raw)| {
                let t = Template::parse(raw);
                if t.is_plain() {
                    return Ok((k.clone(), raw.clone()));
                }
                let field = format!("{group}.{k}");
                Ok((k.clone(), self.plain(&field, t.pieces(), place)?))
            })
            .collect()
    }

    /// The assertion's claims, filled: they travel signed in the request body.
    fn jwt(&self, jwt: &JwtSettings) -> Result<Box<JwtSettings>, Refusal> {
        let mut filled = Box::new(jwt.clone());
        for (key, claim) in [
            ("jwt.issuer", &mut filled.issuer),
            ("jwt.subject", &mut filled.subject),
            ("jwt.audience", &mut filled.audience),
        ] {
            if let Some(raw) = claim.as_mut() {
                *raw = self.plain(key, Template::parse(raw).pieces(), Place::Sent)?;
            }
        }
        Ok(filled)
    }
}

/// The part of a URL the template's own text has reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Part {
    Host,
    Path,
    Query,
    Fragment,
}

impl Part {
    /// Where the template stands after its own `text`.
    fn after(self, text: &str) -> Part {
        let mut part = self;
        for c in text.chars() {
            part = match (part, c) {
                (Part::Host, '/') => Part::Path,
                (Part::Host | Part::Path, '?') => Part::Query,
                (Part::Host | Part::Path | Part::Query, '#') => Part::Fragment,
                (p, _) => p,
            };
        }
        part
    }
}

/// A name's place in a URL's host: the template's text around it there, for the
/// suggestion after a whole URL was given, and whether the host ends after it.
struct HostSlot {
    before: String,
    after: String,
    ends_host: bool,
}

impl HostSlot {
    fn at(pieces: &[Piece], i: usize) -> HostSlot {
        fn text(p: Option<&Piece>) -> Option<&str> {
            match p {
                Some(Piece::Text(t)) => Some(t.as_str()),
                _ => None,
            }
        }
        let before = match i.checked_sub(1).map(|j| text(pieces.get(j))) {
            Some(Some(t)) => t.rsplit_once("://").map_or(t, |(_, rest)| rest).to_string(),
            _ => String::new(),
        };
        let next = text(pieces.get(i + 1));
        let after = next.map_or("", |t| t.split(['/', '?', '#']).next().unwrap_or(""));
        HostSlot {
            before: before.clone(),
            after: after.to_string(),
            ends_host: pieces.get(i + 1).is_none()
                || next.is_some_and(|t| t.starts_with(['/', '?', '#'])),
        }
    }

    /// What the user meant, from the whole URL they gave: `acme` from
    /// `https://acme.zendesk.com` for `https://{+subdomain}.zendesk.com`.
    fn suggestion(&self, whole: &str) -> String {
        let host = url::Url::parse(whole.trim()).ok().and_then(|u| {
            Some(match u.port() {
                Some(p) if self.ends_host => format!("{}:{p}", u.host_str()?),
                _ => u.host_str()?.to_string(),
            })
        });
        let part = host.as_deref().and_then(|h| {
            h.strip_prefix(self.before.as_str())?
                .strip_suffix(self.after.as_str())
                .filter(|p| !p.is_empty())
        });
        match part {
            Some(p) => format!("{:?}", printable(p)),
            None => "the part the template leaves to it".into(),
        }
    }
}

/// The host name in a value, without the port a `{+host}` at the host's end may carry
/// (`127.0.0.1:8443`).
fn host_name_part<'a>(value: &'a str, slot: &HostSlot) -> &'a str {
    match value.rsplit_once(':') {
        Some((host, port))
            if slot.ends_host
                && (1..=5).contains(&port.len())
                && port.bytes().all(|b| b.is_ascii_digit()) =>
        {
            host
        }
        _ => value,
    }
}

/// The first character a host name may not hold, said for the user; `None` when all are
/// letters, digits, `-`, `.` or `_`.
fn not_in_a_host(name_part: &str) -> Option<String> {
    let label_char = |c: char| {
        c.is_ascii_alphanumeric()
            || c == '-'
            || c == '.'
            || c == '_'
            || (!c.is_ascii() && c.is_alphanumeric())
    };
    let bad = name_part.chars().find(|c| !label_char(*c))?;
    Some(if bad.is_whitespace() {
        "white space".to_string()
    } else {
        format!("{:?}", printable(&bad.to_string()))
    })
}

/// Whether a non-ASCII host name maps (IDNA) to letters, digits, `-`, `.` and `_` only: no
/// compatibility form may turn into a separator after the check of its characters.
fn maps_to_plain_ascii(name_part: &str) -> bool {
    let ascii = match url::Host::parse(name_part) {
        Ok(url::Host::Domain(d)) => Some(d),
        _ => None,
    };
    ascii.is_some_and(|d| {
        d.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-._".contains(c))
    })
}

#[cfg(test)]
mod tests {
    use super::super::Config;
    use super::*;
    use serde_json::json;
    use std::path::Path;

    const ZENDESK_AUTH: &str = "https://{+subdomain}.zendesk.com/oauth/authorizations/new";
    const ZENDESK_TOKEN: &str = "https://{+subdomain}.zendesk.com/oauth/tokens";

    fn config(oauth2: Value, variables: Value) -> Result<OAuth2, String> {
        let root =
            json!({"authorizations": [{"name": "z", "variables": variables, "oauth2": oauth2}]});
        let config = Config::parse(Path::new(".unito.json"), root.as_object().unwrap());
        let all = config.oauth2().map_err(|e| e.to_string())?;
        all[0]
            .1
            .as_ref()
            .map(|o| (*o).clone())
            .map_err(|e| e.to_string())
    }

    fn zendesk() -> OAuth2 {
        config(
            json!({"clientId": "fake-id", "clientSecret": "fake-client-secret",
                "authorizationUrl": ZENDESK_AUTH, "tokenUrl": ZENDESK_TOKEN,
                "tokenRequestParameters": {"assertion": "{!base64({+clientId}:{+clientSecret})}"}}),
            json!({"subdomain": {"label": "Zendesk subdomain", "required": true},
                "region": {"type": "string"}}),
        )
        .unwrap()
    }

    fn expand(config: &OAuth2, fields: Value) -> Result<ForAccount, Refusal> {
        let secret = ClientSecret::new("fake-client-secret");
        config.expanded(&Values {
            test_account: "development",
            fields: fields.as_object().unwrap(),
            client_id: "fake-id",
            client_secret: Some(&secret),
        })
    }

    fn refused(config: &OAuth2, fields: Value) -> String {
        expand(config, fields).unwrap_err().to_string()
    }

    #[test]
    fn a_zendesk_file_is_filled_from_the_test_account() {
        let z = expand(&zendesk(), json!({"subdomain": "acme"})).unwrap();
        assert_eq!(z.token_url, "https://acme.zendesk.com/oauth/tokens");
        assert_eq!(
            z.authorization_url.as_ref().map(ProviderUrl::as_str),
            Some("https://acme.zendesk.com/oauth/authorizations/new")
        );
        assert_eq!(
            z.token_request_parameters,
            [(
                "assertion".to_string(),
                template::base64("fake-id:fake-client-secret")
            )]
        );
        assert_eq!(zendesk().template_names(), ["subdomain"]);
    }

    #[test]
    fn the_revocation_url_is_filled_and_checked_like_the_token_url() {
        let c = config(
            json!({"clientId": "i", "tokenUrl": "https://x.example/token",
                   "revocationUrl": "https://{+domain}/revoke"}),
            json!({}),
        )
        .unwrap();
        let e = expand(&c, json!({"domain": "acme.example"})).unwrap();
        assert_eq!(e.revocation_url.unwrap(), "https://acme.example/revoke");
        let bad = expand(&c, json!({"domain": "evil.com/"})).unwrap_err();
        assert_eq!(bad.field, "revocationUrl");
        assert!(bad.message.contains("would change the host"), "{bad}");
        let with_user = config(
            json!({"clientId": "i", "tokenUrl": "https://x.example/t",
                   "revocationUrl": "https://u:p@x.example/r"}),
            json!({}),
        )
        .unwrap_err();
        assert!(
            with_user.contains("revocationUrl holds credentials"),
            "{with_user}"
        );
    }

    #[test]
    fn a_host_template_on_loopback_takes_a_port() {
        let c = config(
            json!({"clientId": "i", "tokenUrl": "http://{+host}/oauth/token"}),
            json!({}),
        )
        .unwrap();
        let e = expand(&c, json!({"host": "127.0.0.1:54321"})).unwrap();
        assert_eq!(e.token_url, "http://127.0.0.1:54321/oauth/token");
        // A port only at the host's end.
        let mid = config(
            json!({"clientId": "i", "tokenUrl": "http://{+host}.example/t"}),
            json!({}),
        )
        .unwrap();
        assert!(refused(&mid, json!({"host": "a:80"})).contains("would change the host"));
    }

    /// No value may move a URL's boundaries: `evil.com/` must never receive the request.
    #[test]
    fn values_that_would_move_the_host_are_refused() {
        for bad in [
            "evil.com/",
            "evil.com?",
            "evil.com#",
            "x@evil.com",
            "evil.com:443@x",
            "a b",
            "evil.com\\",
            "tab\there",
            "%2e",
            "evil.com:80/x",
        ] {
            let e = refused(&zendesk(), json!({"subdomain": bad}));
            assert!(
                e.contains("would change the host of tokenUrl"),
                "{bad}: {e}"
            );
            assert!(e.contains("testAccounts.development.subdomain"), "{e}");
        }
        assert!(
            refused(&zendesk(), json!({"subdomain": ""})).contains("empty"),
            "an empty host part is refused even for a declared variable"
        );
        // Labels may be filled in, IDN ones too.
        let ok = expand(&zendesk(), json!({"subdomain": "acme-eu.sandbox"})).unwrap();
        assert_eq!(
            ok.token_url,
            "https://acme-eu.sandbox.zendesk.com/oauth/tokens"
        );
        assert!(expand(&zendesk(), json!({"subdomain": "bücher"})).is_ok());
        // Compatibility forms are checked as IDNA reads them, not as they look.
        for tricky in [
            "ｅｖｉｌ．ｃｏｍ／",
            "evil\u{3002}com",
            "a\u{FF03}b",
            "a\u{2100}b",
        ] {
            let e = refused(&zendesk(), json!({"subdomain": tricky}));
            assert!(e.contains("host"), "{tricky}: {e}");
        }
    }

    #[test]
    fn a_whole_url_given_for_a_subdomain_says_which_part_to_give() {
        let e = refused(
            &zendesk(),
            json!({"subdomain": "https://acme.zendesk.com/"}),
        );
        assert!(
            e.contains("whole URL") && e.contains("give only \"acme\""),
            "{e}"
        );
        let okta = config(
            json!({"clientId": "i", "tokenUrl": "https://{+domain}/oauth2/default/v1/token"}),
            json!({"domain": {}}),
        )
        .unwrap();
        let e = refused(&okta, json!({"domain": "https://dev-1.okta.com"}));
        assert!(e.contains("give only \"dev-1.okta.com\""), "{e}");
    }

    #[test]
    fn values_outside_the_host_are_encoded_as_the_platform_encodes_them() {
        let c = config(
            json!({"clientId": "i", "tokenUrl": "https://x.example/{+path}/t?q={+q}"}),
            json!({}),
        )
        .unwrap();
        let e = expand(&c, json!({"path": "a b/é", "q": "50%25"})).unwrap();
        assert_eq!(e.token_url, "https://x.example/a%20b/%C3%A9/t?q=50%25");
    }

    /// After the host, a value stays in its part: it may not end the path early or climb
    /// out of it to another tenant's endpoint on the same host.
    #[test]
    fn values_after_the_host_stay_in_their_part() {
        let c = config(
            json!({"clientId": "i", "tokenUrl": "https://x.example/tenants/{+tenant}/token?t={+t}"}),
            json!({}),
        )
        .unwrap();
        for (tenant, t, says) in [
            ("acme/../globex", "1", "would climb out of the path"),
            ("..", "1", "would climb out of the path"),
            ("%2E%2e", "1", "would climb out of the path"),
            ("acme/.", "1", "would climb out of the path"),
            ("globex/token?", "1", "would end the path"),
            ("acme#", "1", "would end the path"),
            ("acme", "1#x", "would end the query"),
        ] {
            let e = refused(&c, json!({"tenant": tenant, "t": t}));
            assert!(
                e.contains(says) && e.contains("tokenUrl"),
                "{tenant} {t}: {e}"
            );
        }
        let ok = expand(&c, json!({"tenant": "acme/eu", "t": "a&b=c"})).unwrap();
        assert_eq!(
            ok.token_url,
            "https://x.example/tenants/acme/eu/token?t=a&b=c"
        );
    }

    #[test]
    fn the_assertions_claims_are_filled_too() {
        let c = config(
            json!({"clientId": "i", "tokenUrl": "https://{+domain}/oauth2/v1/token",
                "grantType": "urn:ietf:params:oauth:grant-type:jwt-bearer",
                "jwt": {"privateKeyFile": "k.pem", "audience": "https://{+domain}/oauth2/v1/token",
                    "subject": "{+user}", "issuer": "{+clientId}"}}),
            json!({"domain": {}}),
        )
        .unwrap();
        assert_eq!(c.template_names(), ["domain", "user"]);
        let e = expand(
            &c,
            json!({"domain": "dev-1.okta.com", "user": "dev@example.com"}),
        )
        .unwrap();
        let jwt = e.jwt().unwrap();
        assert_eq!(
            jwt.audience.as_deref(),
            Some("https://dev-1.okta.com/oauth2/v1/token")
        );
        assert_eq!(jwt.subject.as_deref(), Some("dev@example.com"));
        assert_eq!(jwt.issuer.as_deref(), Some("fake-id"));
    }

    #[test]
    fn a_credential_name_is_a_secret_even_when_declared_as_text() {
        let e = config(
            json!({"clientId": "i", "tokenUrl": "https://x.example/t",
                "authorizationParameters": {"k": "{+apiToken}"}}),
            json!({"apiToken": {"type": "string"}, "countryCode": {"type": "string"}}),
        )
        .unwrap_err();
        assert!(e.contains("apiToken, a secret"), "{e}");
        let c = config(
            json!({"clientId": "i", "tokenUrl": "https://{+countryCode}.x.example/t"}),
            json!({"countryCode": {"type": "string"}}),
        )
        .unwrap();
        assert!(
            expand(&c, json!({"countryCode": "fr"})).is_ok(),
            "declared as text, not a secret"
        );
    }

    #[test]
    fn a_whole_url_with_credentials_is_not_repeated() {
        let e = refused(
            &zendesk(),
            json!({"subdomain": "https://admin:fake-pw@acme.zendesk.com"}),
        );
        assert!(
            !e.contains("fake-pw") && e.contains("give only \"acme\""),
            "{e}"
        );
    }

    #[test]
    fn numbers_and_booleans_fill_as_their_json_text() {
        let c = config(
            json!({"clientId": "i", "tokenUrl": "https://x.example:{+port}/t",
                "tokenRequestParameters": {"sandbox": "{+sandbox}"}}),
            json!({"port": {"type": "number"}, "sandbox": {"type": "boolean"}}),
        )
        .unwrap();
        let e = expand(&c, json!({"port": 8443, "sandbox": true})).unwrap();
        assert_eq!(e.token_url, "https://x.example:8443/t");
        assert_eq!(e.token_request_parameters[0].1, "true");
    }

    #[test]
    fn a_missing_name_is_empty_only_when_declared_and_outside_the_host() {
        let c = config(
            json!({"clientId": "i", "tokenUrl": "https://x.example/{+region}t",
                "authorizationParameters": {"hint": "{+undeclared}"}}),
            json!({"region": {}}),
        )
        .unwrap();
        let e = refused(&c, json!({}));
        assert!(e.contains("neither a declared variable nor a value"), "{e}");
        let e = expand(&c, json!({"undeclared": "u"})).unwrap();
        assert_eq!(e.token_url, "https://x.example/t");
    }

    #[test]
    fn secrets_are_refused_where_they_would_be_printed() {
        let vars = json!({"apiPassword": {"type": "password"}, "sub": {}});
        for (key, value, said) in [
            (
                "authorizationUrl",
                "https://x.example/a?k={+clientSecret}",
                "authorizationUrl would put clientSecret",
            ),
            (
                "tokenUrl",
                "https://x.example/{+apiPassword}/t",
                "tokenUrl would put apiPassword",
            ),
            (
                "authorizationUrl",
                "https://x.example/a?t={+refreshToken}",
                "refreshToken, a secret",
            ),
        ] {
            let mut o = json!({"clientId": "i", "tokenUrl": "https://x.example/t"});
            o[key] = json!(value);
            let e = config(o, vars.clone()).unwrap_err();
            assert!(e.contains(said), "{e}");
        }
        let e = config(
            json!({"clientId": "i", "tokenUrl": "https://x.example/t",
                "authorizationParameters": {"k": "{!base64({+clientId}:{+clientSecret})}"}}),
            vars.clone(),
        )
        .unwrap_err();
        assert!(
            e.contains("authorizationParameters.k would put clientSecret")
                && e.contains("login URL"),
            "{e}"
        );
        // Undeclared, secret by its name: refused when filled.
        let c = config(
            json!({"clientId": "i", "tokenUrl": "https://x.example/t?{+apiKey}"}),
            json!({}),
        )
        .unwrap();
        let e = refused(&c, json!({"apiKey": "fake-api-key"}));
        assert!(
            e.contains("apiKey, a secret") && !e.contains("fake-api-key"),
            "{e}"
        );
        // Token request parameters may carry them.
        let c = config(
            json!({"clientId": "i", "tokenUrl": "https://x.example/t",
                "tokenRequestParameters": {"pw": "{+apiPassword}"}}),
            vars,
        )
        .unwrap();
        let e = expand(&c, json!({"apiPassword": "fake-pw"})).unwrap();
        assert_eq!(e.token_request_parameters[0].1, "fake-pw");
    }

    #[test]
    fn the_scheme_is_the_templates_own() {
        let e = config(
            json!({"clientId": "i", "tokenUrl": "{+baseUrl}/oauth/token"}),
            json!({}),
        )
        .unwrap_err();
        assert!(e.contains("must start with its scheme"), "{e}");
        let e = config(
            json!({"clientId": "i", "tokenUrl": "https//{+host}/t"}),
            json!({}),
        )
        .unwrap_err();
        assert!(e.contains("tokenUrl"), "{e}");
    }

    #[test]
    fn encrypted_and_structured_values_are_refused_by_name() {
        let e = refused(&zendesk(), json!({"subdomain": "unito-secret-v1://abc"}));
        assert!(
            e.contains("encrypted") && e.contains("testAccounts.development.subdomain"),
            "{e}"
        );
        let e = refused(&zendesk(), json!({"subdomain": {"a": 1}}));
        assert!(e.contains("not text"), "{e}");
    }

    #[test]
    fn dotted_names_are_refused_with_the_reason() {
        let e = config(
            json!({"clientId": "i", "tokenUrl": "https://{+tenant.name}.x.example/t"}),
            json!({}),
        )
        .unwrap_err();
        assert!(e.contains("no dots"), "{e}");
    }

    #[test]
    fn plain_files_are_untouched() {
        let c = config(
            json!({"clientId": "i", "tokenUrl": "https://x.example/{t}",
                "authorizationParameters": {"claims": "{\"id_token\":{}}"}}),
            json!({}),
        )
        .unwrap();
        let e = expand(&c, json!({})).unwrap();
        assert_eq!(e.token_url, "https://x.example/{t}");
        assert_eq!(e.authorization_parameters[0].1, "{\"id_token\":{}}");
        assert!(c.template_names().is_empty());
    }
}
