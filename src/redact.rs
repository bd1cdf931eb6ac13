//! Text safety: what comes from outside (a provider, a cloned `.unito.json`, a URL) is made
//! safe before it is printed, and what we sent (secrets, in every encoding a server might
//! echo them in) is taken out of it. One room for all of it, so every output path uses the
//! same rules.

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};

/// How much of a body an error message quotes.
const SNIPPET: usize = 200;

/// Characters that change how a terminal shows the rest of a line without being visible
/// themselves: the Unicode bidirectional controls (a "Trojan Source" reordering) and the
/// marks that act like them.
fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{061C}' | '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// Whether a terminal could act on `c` instead of showing it: C0 and C1 controls, DEL, the
/// bidi controls, and the line and paragraph separators.
fn is_unsafe(c: char) -> bool {
    c.is_control() || is_bidi_control(c) || matches!(c, '\u{2028}' | '\u{2029}')
}

/// Text from a provider, a file or a URL, made safe to print on one line: every control
/// character (an escape sequence could set the clipboard, clear the screen or rewrite what
/// the user sees) and every bidi control is shown as `\u{..}` instead.
pub fn printable(text: &str) -> String {
    escape_unsafe(text, |_| false)
}

/// `printable` for whole messages we composed, which may span lines: newlines stay.
pub fn terminal_safe(text: &str) -> String {
    escape_unsafe(text, |c| c == '\n')
}

fn escape_unsafe(text: &str, keep: impl Fn(char) -> bool) -> String {
    if !text.chars().any(|c| is_unsafe(c) && !keep(c)) {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if is_unsafe(c) && !keep(c) {
            out.push_str(&format!("\\u{{{:x}}}", c as u32));
        } else {
            out.push(c);
        }
    }
    out
}

/// Serialised JSON made safe for a terminal: serde_json escapes C0 controls but writes C1
/// and bidi controls as they are. They can only occur inside strings, where `\uXXXX` means
/// the same character to any JSON reader.
pub fn json_safe(json: &str) -> String {
    // ASCII controls are escaped by serde_json inside strings; outside them, only the
    // whitespace of pretty-printing can occur, and it stays.
    let raw = |c: char| !c.is_ascii() && is_unsafe(c);
    if !json.chars().any(raw) {
        return json.to_string();
    }
    let mut out = String::with_capacity(json.len() + 8);
    for c in json.chars() {
        if raw(c) {
            out.push_str(&format!("\\u{:04x}", c as u32));
        } else {
            out.push(c);
        }
    }
    out
}

/// Whether `value` can be sent as a bearer token in an HTTP header and printed as is: RFC
/// 6750's b64token is visible ASCII, and anything else (a space, a control character, a
/// character outside ASCII) could split a header or drive a terminal. Some providers use
/// visible ASCII beyond b64token (Salesforce's `!`), so that much is allowed.
pub fn is_header_safe(value: &str) -> bool {
    !value.is_empty() && value.bytes().all(|b| (0x21..=0x7e).contains(&b))
}

/// Why `value` is not header-safe, for an error message, without quoting it.
pub fn header_unsafe_reason(value: &str) -> String {
    match value.char_indices().find(|(_, c)| !(c.is_ascii_graphic())) {
        None => "it is empty".into(),
        Some((at, c)) => {
            let kind = if c.is_control() {
                "a control character"
            } else if c.is_whitespace() {
                "whitespace"
            } else {
                "a character outside ASCII"
            };
            format!("it holds {kind} (at byte {at})")
        }
    }
}

/// Everything we sent that a server could echo back, in each form it could echo it in.
#[derive(Default)]
pub struct Redactor {
    /// Longest first, so a secret that contains another is replaced whole.
    needles: Vec<String>,
}

impl Redactor {
    pub fn new(secrets: &[&str]) -> Redactor {
        let mut r = Redactor::default();
        for s in secrets {
            r.add(s);
        }
        r
    }

    /// A secret, as written and as a request or a server would encode it: form- and
    /// percent-encoded, JSON-escaped, base64 (any alphabet, padded or not).
    pub fn add(&mut self, secret: &str) {
        // Too short to be a credential, and redacting it would shred ordinary text.
        if secret.len() < 4 {
            return;
        }
        let forms = [
            secret.to_string(),
            form_encode(secret),
            percent_encode(secret),
            json_escape(secret),
            json_escape(secret).replace('/', "\\/"),
            STANDARD.encode(secret),
            STANDARD_NO_PAD.encode(secret),
            URL_SAFE.encode(secret),
            URL_SAFE_NO_PAD.encode(secret),
        ];
        for form in forms {
            if !self.needles.contains(&form) {
                self.needles.push(form);
            }
        }
        self.needles.sort_by_key(|n| std::cmp::Reverse(n.len()));
    }

    /// HTTP Basic credentials as we send them (RFC 6749 §2.3.1: id and secret each
    /// form-encoded, joined by a colon, then base64): the header value and what it decodes to.
    pub fn add_basic(&mut self, client_id: &str, secret: &str) {
        let pair = format!("{}:{}", form_encode(client_id), form_encode(secret));
        self.add(&pair);
        self.add(&format!("{client_id}:{secret}"));
    }

    pub fn redact(&self, text: &str) -> String {
        let mut out = text.to_string();
        for needle in &self.needles {
            if out.contains(needle.as_str()) {
                out = out.replace(needle.as_str(), "[redacted]");
            }
        }
        out
    }
}

pub fn form_encode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

fn percent_encode(s: &str) -> String {
    form_encode(s).replace('+', "%20")
}

fn json_escape(s: &str) -> String {
    let quoted = serde_json::Value::String(s.to_string()).to_string();
    quoted[1..quoted.len() - 1].to_string()
}

/// A URL as it may be printed in an error or a log: credentials in it (`user:pass@`) and the
/// values of its query (an `api_key=…`) are replaced, the rest kept so the user can tell
/// which endpoint it was. Text that is not a URL is only made printable.
pub fn display_url(raw: &str) -> String {
    let Ok(mut url) = url::Url::parse(raw) else {
        // Not a URL, but it may still hold credentials or a key: keep only what lies
        // between a `user:pass@` and a `?query`.
        let after_at = raw.rsplit_once('@').map_or(raw, |(_, rest)| rest);
        let shown = match after_at.split_once(['?', '#']) {
            Some((before, _)) => format!("{before}?redacted"),
            None => after_at.to_string(),
        };
        let hidden = if after_at.len() != raw.len() {
            "redacted@"
        } else {
            ""
        };
        return printable(&format!("{hidden}{shown}"));
    };
    if !url.username().is_empty() || url.password().is_some() {
        let _ = url.set_username("redacted");
        let _ = url.set_password(None);
    }
    if url.query().is_some() {
        let pairs: Vec<(String, String)> = url
            .query_pairs()
            .map(|(k, _)| (k.into_owned(), "redacted".to_string()))
            .collect();
        url.query_pairs_mut().clear().extend_pairs(pairs);
    }
    url.set_fragment(None);
    printable(url.as_str())
}

/// The body's start for an error message: `clean` applied to the whole body first (so a
/// secret that straddles the cut is still caught), then cut to 200 bytes, whitespace
/// folded, control characters escaped.
pub fn snippet(body: &[u8], clean: impl Fn(&str) -> String) -> String {
    let whole = clean(&String::from_utf8_lossy(body));
    let mut cut = whole.len().min(SNIPPET);
    while !whole.is_char_boundary(cut) {
        cut -= 1;
    }
    let folded = whole[..cut]
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    if folded.is_empty() {
        "(empty body)".into()
    } else {
        printable(&folded)
    }
}

/// Masks every word that could be a credential we did not know of. A word is any run of
/// characters other than whitespace and the punctuation that delimits values in JSON, HTML
/// and forms, so percent-encoded or escaped tokens stay whole. Masked, as `secret::mask`
/// masks a token (its first four characters and its length): any word of 24 or more
/// characters, of 12 or more unless it is a lower-case identifier (`refresh_token`), of 8 or
/// more with a digit. What stays readable is markup, field names and prose.
pub fn mask_token_like(text: &str) -> String {
    let delimiter = |c: char| c.is_whitespace() || "<>\"'{}[](),;&=".contains(c);
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find(|c: char| !delimiter(c)) {
        out.push_str(&rest[..start]);
        let run = &rest[start..];
        let len = run.find(delimiter).unwrap_or(run.len());
        let word = &run[..len];
        let chars = word.chars().count();
        let identifier = word
            .chars()
            .all(|c| c.is_ascii_lowercase() || c == '_' || c == '-');
        let digits = word.contains(|c: char| c.is_ascii_digit());
        if chars >= 24 || (chars >= 12 && !identifier) || (chars >= 8 && digits) {
            out.push_str(&crate::secret::mask(word));
        } else {
            out.push_str(word);
        }
        rest = &run[len..];
    }
    out.push_str(rest);
    out
}

/// A key whose value is a credential: `accessToken`, `client_secret`, `apiKey`, `pin`…
/// A key that says outright it holds a credential (`apiToken`, `api_key`, `webhookSecret`),
/// whatever a declaration says it is: narrower than `secret_name`, which also takes names
/// that only might (`countryCode`, `sessionName`).
pub fn credential_name(key: &str) -> bool {
    let key = key.to_ascii_lowercase().replace(['_', '-'], "");
    !key.ends_with("type")
        && [
            "token",
            "secret",
            "password",
            "passwd",
            "credential",
            "apikey",
            "privatekey",
        ]
        .iter()
        .any(|word| key.contains(word))
}

pub fn secret_name(key: &str) -> bool {
    let key = key.to_ascii_lowercase();
    // tokenType, token_type: what kind of token, not one.
    !key.ends_with("type")
        && [
            "token",
            "secret",
            "password",
            "passwd",
            "key",
            "assertion",
            "signature",
            "code",
            "cookie",
            "session",
            "credential",
        ]
        .iter()
        .any(|word| key.contains(word))
        || key.ends_with("pin")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn printable_escapes_c0_c1_and_bidi_controls() {
        assert_eq!(printable("a\u{1b}]52;c;x\u{7}b"), "a\\u{1b}]52;c;x\\u{7}b");
        assert_eq!(printable("\u{9b}2J"), "\\u{9b}2J");
        assert_eq!(printable("ab\u{202e}cd\u{2066}"), "ab\\u{202e}cd\\u{2066}");
        assert_eq!(printable("line\nnext"), "line\\u{a}next");
        assert_eq!(terminal_safe("line\nnext\u{1b}[2J"), "line\nnext\\u{1b}[2J");
        assert_eq!(printable("plain é ü"), "plain é ü");
    }

    #[test]
    fn json_safe_escapes_what_serde_json_leaves_raw_and_stays_json() {
        let v = serde_json::json!({"name": "x\u{9b}2J\u{202e}y\u{1b}"});
        let safe = json_safe(&v.to_string());
        assert!(
            !safe.contains('\u{9b}') && !safe.contains('\u{202e}'),
            "{safe}"
        );
        let back: serde_json::Value = serde_json::from_str(&safe).unwrap();
        assert_eq!(back, v);
        let pretty = serde_json::to_string_pretty(&v).unwrap();
        let safe = json_safe(&pretty);
        assert!(safe.contains('\n') && !safe.contains('\u{9b}'), "{safe}");
        assert_eq!(serde_json::from_str::<serde_json::Value>(&safe).unwrap(), v);
    }

    #[test]
    fn header_safety_is_visible_ascii() {
        for ok in ["abc.DEF-123_~+/=", "00Dx!AQ4AQFt.z", "gho_16C7e42F"] {
            assert!(is_header_safe(ok), "{ok}");
        }
        for bad in [
            "",
            "a b",
            "a\r\nX-Evil: 1",
            "tok\u{1b}]52",
            "tøken",
            "a\u{202e}",
        ] {
            assert!(!is_header_safe(bad), "{bad:?}");
        }
        assert_eq!(
            header_unsafe_reason("ab\r\n"),
            "it holds a control character (at byte 2)"
        );
        assert_eq!(
            header_unsafe_reason("a b"),
            "it holds whitespace (at byte 1)"
        );
    }

    #[test]
    fn every_encoding_of_a_secret_is_redacted() {
        let mut r = Redactor::new(&["s3cr3t value/+"]);
        r.add_basic("my id", "s3cr3t value/+");
        let basic = STANDARD.encode("my+id:s3cr3t+value%2F%2B");
        for echoed in [
            "s3cr3t value/+".to_string(),
            "s3cr3t+value%2F%2B".to_string(),
            "s3cr3t%20value%2F%2B".to_string(),
            "s3cr3t value\\/+".to_string(),
            STANDARD.encode("s3cr3t value/+"),
            URL_SAFE_NO_PAD.encode("s3cr3t value/+"),
            format!("Basic {basic}"),
            "my+id:s3cr3t+value%2F%2B".to_string(),
        ] {
            let out = r.redact(&format!("got <{echoed}>"));
            assert_eq!(out.matches("[redacted]").count(), 1, "{echoed}: {out}");
            assert!(!out.contains("s3cr3t") && !out.contains(&basic), "{out}");
        }
    }

    #[test]
    fn urls_are_shown_without_credentials_or_query_values() {
        assert_eq!(
            display_url("https://user:pa55@idp.example/oauth/token?api_key=k3y&tenant=t#frag"),
            "https://redacted@idp.example/oauth/token?api_key=redacted&tenant=redacted"
        );
        assert_eq!(
            display_url("https://idp.example/token"),
            "https://idp.example/token"
        );
        assert_eq!(display_url("not a url\u{1b}"), "not a url\\u{1b}");
        assert_eq!(
            display_url("http://fake-user:fake-pass@127.0.0.1:99999/token?key=k"),
            "redacted@127.0.0.1:99999/token?redacted"
        );
    }
}
