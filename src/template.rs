//! The platform's templates, read as its own CLI reads them: `{+NAME}` is a test account's
//! value, `{!base64(INNER)}` the base64 of INNER filled in. Pure text: which values may go
//! where (a URL's host, a secret) is decided by `config::expand`, which walks the pieces.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

/// One piece of a template, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Piece {
    /// The template's own text: never encoded.
    Text(String),
    /// `{+NAME}`.
    Name(String),
    /// `{!base64(INNER)}`: INNER's text and names, filled with encoding off, then encoded.
    Base64(Vec<Piece>),
}

/// A field's text, cut into pieces once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    pieces: Vec<Piece>,
}

const BASE64_OPEN: &str = "{!base64(";
const BASE64_CLOSE: &str = ")}";

impl Template {
    /// Never fails: braces that are not one of the two forms are text, as the platform
    /// leaves them.
    pub fn parse(raw: &str) -> Template {
        Template {
            pieces: pieces(raw, true),
        }
    }

    pub fn pieces(&self) -> &[Piece] {
        &self.pieces
    }

    /// Whether it holds no template at all (most fields of most files).
    pub fn is_plain(&self) -> bool {
        self.pieces.iter().all(|p| matches!(p, Piece::Text(_)))
    }

    /// Every name it uses, base64 ones too, once each, in the order they first appear.
    pub fn names(&self) -> Vec<&str> {
        let mut names: Vec<&str> = Vec::new();
        fn walk<'a>(pieces: &'a [Piece], names: &mut Vec<&'a str>) {
            for piece in pieces {
                match piece {
                    Piece::Name(n) if !names.contains(&n.as_str()) => names.push(n),
                    Piece::Base64(inner) => walk(inner, names),
                    _ => {}
                }
            }
        }
        walk(&self.pieces, &mut names);
        names
    }

    /// Filled as the platform fills it: a name with no value gives the empty string, and
    /// with `encode` each value (not the template's text) is encoded as `encode` does.
    pub fn fill(&self, value: &dyn Fn(&str) -> Option<String>, encoding: bool) -> String {
        fill(&self.pieces, value, encoding)
    }
}

fn fill(pieces: &[Piece], value: &dyn Fn(&str) -> Option<String>, encoding: bool) -> String {
    let mut out = String::new();
    for piece in pieces {
        match piece {
            Piece::Text(t) => out.push_str(t),
            Piece::Name(n) => {
                let v = value(n).unwrap_or_default();
                out.push_str(&if encoding { encode(&v) } else { v });
            }
            Piece::Base64(inner) => out.push_str(&base64(&fill(inner, value, false))),
        }
    }
    out
}

/// `{!base64(…)}`'s encoding: the standard alphabet, padded.
pub fn base64(text: &str) -> String {
    STANDARD.encode(text.as_bytes())
}

/// The pieces of `raw`; `{!base64(…)}` is looked for only at the top (its INNER holds
/// names and text, and cannot hold `)`).
fn pieces(raw: &str, top: bool) -> Vec<Piece> {
    let mut out = Vec::new();
    let mut text = String::new();
    let mut rest = raw;
    while let Some(c) = rest.chars().next() {
        if let Some((piece, after)) = base64_at(rest).filter(|_| top).or_else(|| name_at(rest)) {
            if !text.is_empty() {
                out.push(Piece::Text(std::mem::take(&mut text)));
            }
            out.push(piece);
            rest = after;
            continue;
        }
        text.push(c);
        rest = &rest[c.len_utf8()..];
    }
    if !text.is_empty() {
        out.push(Piece::Text(text));
    }
    out
}

/// `{!base64(INNER)}` at the start of `s`, and what follows it.
fn base64_at(s: &str) -> Option<(Piece, &str)> {
    let inner_and_rest = s.strip_prefix(BASE64_OPEN)?;
    let close = inner_and_rest.find(')')?;
    let after = inner_and_rest[close..].strip_prefix(BASE64_CLOSE)?;
    Some((
        Piece::Base64(pieces(&inner_and_rest[..close], false)),
        after,
    ))
}

/// `{+NAME}` at the start of `s`, and what follows it. A name is a plain key: letters,
/// digits, `_`, `-`, `$` (and `.`, which `expand` refuses with a reason, since the platform
/// looks up no nested keys).
fn name_at(s: &str) -> Option<(Piece, &str)> {
    let body = s.strip_prefix("{+")?;
    let end = body.find('}')?;
    let name = &body[..end];
    let plain = |c: char| c.is_ascii_alphanumeric() || "_-$.".contains(c);
    if name.is_empty() || !name.chars().all(plain) {
        return None;
    }
    Some((Piece::Name(name.to_string()), &body[end + 1..]))
}

/// A value as the platform's URL encoding writes it: JavaScript's `encodeURI`, except that
/// an existing `%XX` and `[` `]` are kept. What a URL may hold unencoded stays as it is;
/// a space and non-ASCII text are percent-encoded (UTF-8).
pub fn encode(value: &str) -> String {
    const KEPT: &str = ";,/?:@&=+$-_.!~*'()#[]";
    let bytes = value.as_bytes();
    let mut out = String::with_capacity(value.len());
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        let escape_kept = b == b'%'
            && bytes.len() > i + 2
            && bytes[i + 1].is_ascii_hexdigit()
            && bytes[i + 2].is_ascii_hexdigit();
        if b.is_ascii_alphanumeric() || (b.is_ascii() && KEPT.contains(b as char)) || escape_kept {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
        i += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn filled(raw: &str, pairs: &[(&str, &str)], encoding: bool) -> String {
        let value = |name: &str| {
            pairs
                .iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| v.to_string())
        };
        Template::parse(raw).fill(&value, encoding)
    }

    /// The platform's own test of its template module, both ways.
    #[test]
    fn the_platforms_own_case_fills_alike() {
        let pairs = [
            ("foo", "bar"),
            ("path", "/foo/bar"),
            ("hello", "Hello World!"),
        ];
        let raw = "Hello World!/{+foo}{+path}/{+hello}";
        assert_eq!(
            filled(raw, &pairs, true),
            "Hello World!/bar/foo/bar/Hello%20World!"
        );
        assert_eq!(
            filled(raw, &pairs, false),
            "Hello World!/bar/foo/bar/Hello World!"
        );
    }

    #[test]
    fn values_are_encoded_as_the_platform_encodes_them() {
        for (value, encoded) in [
            ("plain-value_1.2~", "plain-value_1.2~"),
            (";,/?:@&=+$-_.!~*'()#", ";,/?:@&=+$-_.!~*'()#"),
            ("a b", "a%20b"),
            ("café", "caf%C3%A9"),
            ("東京", "%E6%9D%B1%E4%BA%AC"),
            ("50%25 off", "50%25%20off"),
            ("100%", "100%25"),
            ("%zz", "%25zz"),
            ("[::1]", "[::1]"),
            ("\"<>\\^`{|}", "%22%3C%3E%5C%5E%60%7B%7C%7D"),
        ] {
            assert_eq!(encode(value), encoded, "{value:?}");
        }
    }

    #[test]
    fn the_templates_own_text_is_never_encoded() {
        assert_eq!(
            filled("https://x.example/a b/{+v}", &[("v", "c d")], true),
            "https://x.example/a b/c%20d"
        );
    }

    #[test]
    fn base64_is_expanded_first_with_encoding_off_inside() {
        let pairs = [("clientId", "my id"), ("clientSecret", "s/é")];
        assert_eq!(
            filled("Basic {!base64({+clientId}:{+clientSecret})}", &pairs, true),
            format!("Basic {}", base64("my id:s/é"))
        );
        assert_eq!(filled("{!base64(abc)}", &[], false), "YWJj");
        // Padded, standard alphabet.
        assert_eq!(filled("{!base64(ab?)}", &[], false), "YWI/");
        assert_eq!(filled("{!base64(a)}", &[], false), "YQ==");
    }

    #[test]
    fn a_missing_name_fills_with_nothing_as_the_platform_does() {
        assert_eq!(filled("a{+nothing}b", &[], true), "ab");
    }

    #[test]
    fn braces_that_are_no_template_are_left_alone() {
        for raw in [
            "{plain}",
            "{+}",
            "{+a b}",
            "{ +x}",
            "{+x",
            "{!base64(no close",
            "{!base64(a)b)}",
            "{!base64 (x)}",
            "{\"json\": {\"+x\": 1}}",
            "${ENV_VAR}",
        ] {
            let t = Template::parse(raw);
            assert!(t.is_plain(), "{raw}");
            assert_eq!(t.fill(&|_| Some("V".into()), true), raw);
        }
    }

    #[test]
    fn a_value_is_never_expanded_again() {
        assert_eq!(filled("{+a}", &[("a", "{+b}"), ("b", "no")], false), "{+b}");
        assert_eq!(
            filled("{!base64({+a})}", &[("a", "{+b}")], false),
            base64("{+b}")
        );
    }

    #[test]
    fn names_are_listed_once_in_order_base64_ones_too() {
        let t = Template::parse("https://{+sub}.x/{+path}?{!base64({+id}:{+sub})}");
        assert_eq!(t.names(), ["sub", "path", "id"]);
        assert!(!t.is_plain());
        assert_eq!(
            Template::parse("{+a.b}").names(),
            ["a.b"],
            "dotted names are kept, for expand to refuse with a reason"
        );
    }
}
