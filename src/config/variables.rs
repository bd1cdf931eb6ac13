//! An authorization's `variables`: what each test account must hold for it (a tenant's
//! subdomain, an instance name), declared as the platform's file declares them. Typed at
//! load; an answer is checked against its declaration however it comes (a prompt, `--var`).

use std::fmt;

use serde_json::{Map, Value};

/// Names the platform keeps for the token fields of a test account (and our `expiresAt`):
/// a variable of that name would be overwritten by the next token.
pub const RESERVED: [&str; 7] = [
    "accessToken",
    "refreshToken",
    "scope",
    "expiresIn",
    "tokenType",
    "oauth2ExtraParameters",
    "expiresAt",
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    String,
    /// Longer text (the platform shows a text area); one line at a prompt.
    Text,
    /// A secret: asked without echo, masked wherever it is shown, never put in a URL.
    Password,
    Number,
    Boolean,
}

impl Kind {
    const ALL: [(&'static str, Kind); 5] = [
        ("string", Kind::String),
        ("text", Kind::Text),
        ("password", Kind::Password),
        ("number", Kind::Number),
        ("boolean", Kind::Boolean),
    ];

    fn parse(value: &str) -> Option<Kind> {
        Self::ALL
            .iter()
            .find(|(n, _)| *n == value.trim())
            .map(|(_, k)| *k)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Email,
    Uri,
}

/// A declared `pattern`, compiled once.
#[derive(Clone)]
pub struct Pattern {
    pub source: String,
    regex: regex::Regex,
}

impl fmt::Debug for Pattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.source)
    }
}

#[derive(Clone)]
pub struct Variable {
    pub name: String,
    pub kind: Kind,
    pub label: Option<String>,
    pub required: bool,
    /// `defaultValue`, already checked against the declaration.
    pub default: Option<Value>,
    pub placeholder: Option<String>,
    pub help: Option<String>,
    pub format: Option<Format>,
    pub pattern: Option<Pattern>,
}

/// A password variable's default is a secret like its value.
impl fmt::Debug for Variable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let default = match (&self.default, self.kind) {
            (Some(_), Kind::Password) => Some("redacted".to_string()),
            (d, _) => d.as_ref().map(Value::to_string),
        };
        f.debug_struct("Variable")
            .field("name", &self.name)
            .field("kind", &self.kind)
            .field("required", &self.required)
            .field("default", &default)
            .field("format", &self.format)
            .field("pattern", &self.pattern)
            .finish_non_exhaustive()
    }
}

impl Variable {
    /// What a person is shown: the label, or the name when there is none.
    pub fn label(&self) -> &str {
        self.label.as_deref().unwrap_or(&self.name)
    }

    pub fn is_secret(&self) -> bool {
        self.kind == Kind::Password
    }

    /// Whether `fields` lack this variable's value: none at all, or an empty one where it
    /// is required (an optional value left empty on purpose stays so).
    pub fn lacks_in(&self, fields: &Map<String, Value>) -> bool {
        match fields.get(&self.name) {
            None | Some(Value::Null) => true,
            Some(Value::String(s)) => s.is_empty() && self.required,
            Some(_) => false,
        }
    }

    /// An answer as it is saved (a number as a JSON number, a boolean as true or false),
    /// or why it cannot be, in words that can follow the variable's name.
    pub fn check(&self, answer: &str) -> Result<Value, String> {
        let answer = if self.kind == Kind::Password {
            answer
        } else {
            answer.trim()
        };
        if answer.is_empty() {
            return match self.required {
                true => Err("is required".into()),
                false => Ok(Value::String(String::new())),
            };
        }
        if answer.chars().any(char::is_control) && self.kind != Kind::Text {
            return Err("holds a control character".into());
        }
        let value = match self.kind {
            Kind::Number => number(answer)?,
            Kind::Boolean => Value::Bool(boolean(answer)?),
            _ => Value::String(answer.to_string()),
        };
        match self.format {
            Some(Format::Email) if !is_email(answer) => {
                return Err("is not an e-mail address (name@example.com)".into());
            }
            Some(Format::Uri) if url::Url::parse(answer).is_err() => {
                return Err("is not an absolute URI (such as https://example.com)".into());
            }
            _ => {}
        }
        if let Some(p) = &self.pattern
            && !p.regex.is_match(answer)
        {
            return Err(format!("does not match the pattern {}", p.source));
        }
        Ok(value)
    }
}

fn number(answer: &str) -> Result<Value, String> {
    let finite = answer.parse::<f64>().is_ok_and(f64::is_finite);
    match serde_json::from_str::<Value>(answer) {
        Ok(v @ Value::Number(_)) if finite => Ok(v),
        _ => Err("is not a number (such as 42 or 3.5)".into()),
    }
}

fn boolean(answer: &str) -> Result<bool, String> {
    match answer.to_ascii_lowercase().as_str() {
        "true" | "yes" | "y" | "1" => Ok(true),
        "false" | "no" | "n" | "0" => Ok(false),
        _ => Err("is not true or false (yes or no)".into()),
    }
}

fn is_email(v: &str) -> bool {
    let Some((local, domain)) = v.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && !domain.contains('@')
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !v.chars().any(char::is_whitespace)
}

/// The declared variables of one authorization, in the file's order.
#[derive(Debug, Clone, Default)]
pub struct Variables(Vec<Variable>);

impl Variables {
    pub fn iter(&self) -> std::slice::Iter<'_, Variable> {
        self.0.iter()
    }

    pub fn get(&self, name: &str) -> Option<&Variable> {
        self.0.iter().find(|v| v.name == name)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// `variables` as the file holds it (`at` names it in errors), or why it cannot be read.
    pub fn parse(at: &str, raw: Option<&Value>) -> Result<Variables, String> {
        let declared = match raw {
            None | Some(Value::Null) => return Ok(Variables::default()),
            Some(Value::Object(m)) => m,
            Some(_) => {
                return Err(format!(
                    "{at} must be an object keyed by the variables' names"
                ));
            }
        };
        declared
            .iter()
            .map(|(name, spec)| variable(&format!("{at}.{name}"), name, spec))
            .collect::<Result<Vec<_>, _>>()
            .map(Variables)
    }
}

fn variable(at: &str, name: &str, spec: &Value) -> Result<Variable, String> {
    usable_name(at, name)?;
    let spec = Spec {
        at,
        fields: spec
            .as_object()
            .ok_or_else(|| format!("{at} must be an object (\"type\", \"label\", …)"))?,
    };
    let kind = spec.kind()?;
    let required = spec.required()?;
    let pattern = spec.pattern()?;
    let format = spec.format()?;
    let mut variable = Variable {
        name: name.to_string(),
        kind,
        label: spec.text("label")?,
        required,
        default: None,
        placeholder: spec.text("placeholder")?,
        help: spec.text("help")?,
        format,
        pattern,
    };
    variable.default = default_of(at, &variable, spec.fields)?;
    Ok(variable)
}

/// Refuses a name the platform or the authorization already gives a meaning.
fn usable_name(at: &str, name: &str) -> Result<(), String> {
    if RESERVED.contains(&name) {
        return Err(format!(
            "{at}: \"{name}\" is the name of a token field the platform fills itself, so it \
             cannot be a variable; rename the variable"
        ));
    }
    if matches!(name, "clientId" | "clientSecret") {
        return Err(format!(
            "{at}: {{+{name}}} is the authorization's own {name}, so a variable of that name \
             would never be used; rename the variable"
        ));
    }
    Ok(())
}

/// One variable's object as the file writes it, read field by field; errors name `at`.
struct Spec<'a> {
    at: &'a str,
    fields: &'a Map<String, Value>,
}

impl Spec<'_> {
    /// A string field; a blank one is as good as absent.
    fn text(&self, key: &str) -> Result<Option<String>, String> {
        let at = self.at;
        match self.fields.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone()).filter(|s| !s.trim().is_empty())),
            Some(_) => Err(format!("{at}.{key} must be a string")),
        }
    }

    fn kind(&self) -> Result<Kind, String> {
        let at = self.at;
        Ok(match self.text("type")? {
            None => Kind::String,
            Some(t) => Kind::parse(&t).ok_or_else(|| {
                format!(
                    "{at}.type: unknown type {t:?} (use string, text, password, number or boolean)"
                )
            })?,
        })
    }

    fn required(&self) -> Result<bool, String> {
        let at = self.at;
        match self.fields.get("required") {
            None | Some(Value::Null) => Ok(false),
            Some(Value::Bool(b)) => Ok(*b),
            Some(_) => Err(format!("{at}.required must be true or false")),
        }
    }

    fn pattern(&self) -> Result<Option<Pattern>, String> {
        let at = self.at;
        let Some(source) = self.text("pattern")? else {
            return Ok(None);
        };
        Ok(Some(Pattern {
            regex: regex::Regex::new(&source)
                .map_err(|e| format!("{at}.pattern {source:?} is not a pattern: {e}"))?,
            source,
        }))
    }

    fn format(&self) -> Result<Option<Format>, String> {
        Ok(match self.text("format")?.as_deref() {
            Some("email") => Some(Format::Email),
            Some("uri") | Some("url") => Some(Format::Uri),
            // The platform may know formats we do not: unchecked rather than refused.
            _ => None,
        })
    }
}

/// `defaultValue`, checked as an answer would be.
fn default_of(at: &str, v: &Variable, spec: &Map<String, Value>) -> Result<Option<Value>, String> {
    let raw = match spec.get("defaultValue") {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::String(s)) => s.clone(),
        Some(n @ Value::Number(_)) => n.to_string(),
        Some(Value::Bool(b)) => b.to_string(),
        Some(_) => {
            return Err(format!(
                "{at}.defaultValue must be text, a number or true/false"
            ));
        }
    };
    if raw.is_empty() {
        return Ok(None);
    }
    v.check(&raw).map(Some).map_err(|why| {
        let shown = if v.is_secret() {
            "(a password)".to_string()
        } else {
            format!("{raw:?}")
        };
        format!("{at}.defaultValue {shown} {why}")
    })
}

/// A scalar value of a test account as a template fills it in: text as it is, numbers and
/// booleans as their JSON text. `None` for null, objects and arrays.
pub fn as_text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(_) | Value::Bool(_) => Some(value.to_string()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn parse(v: Value) -> Result<Variables, String> {
        Variables::parse("authorizations[0].variables", Some(&v))
    }

    fn one(spec: Value) -> Variable {
        parse(json!({ "v": spec }))
            .unwrap()
            .get("v")
            .unwrap()
            .clone()
    }

    #[test]
    fn declarations_are_typed_in_the_files_order() {
        let vars = parse(json!({
            "subdomain": {"type": "string", "label": "Zendesk subdomain", "required": true,
                "pattern": "^[a-z0-9-]+$", "help": "The part before .zendesk.com",
                "placeholder": "acme"},
            "apiPassword": {"type": "password"},
            "port": {"type": "number", "defaultValue": 443},
            "sandbox": {"type": "boolean", "defaultValue": false},
            "email": {"type": "string", "format": "email"}
        }))
        .unwrap();
        let names: Vec<_> = vars.iter().map(|v| v.name.as_str()).collect();
        assert_eq!(
            names,
            ["subdomain", "apiPassword", "port", "sandbox", "email"]
        );
        let sub = vars.get("subdomain").unwrap();
        assert_eq!(
            (sub.label(), sub.required, sub.kind),
            ("Zendesk subdomain", true, Kind::String)
        );
        assert!(vars.get("apiPassword").unwrap().is_secret());
        assert_eq!(vars.get("port").unwrap().default, Some(json!(443)));
        assert_eq!(vars.get("sandbox").unwrap().default, Some(json!(false)));
        assert_eq!(vars.get("email").unwrap().label(), "email");
    }

    #[test]
    fn answers_are_checked_against_their_declaration() {
        let sub = one(json!({"required": true, "pattern": "^[a-z0-9-]+$"}));
        assert_eq!(sub.check(" acme "), Ok(json!("acme")));
        assert_eq!(sub.check(""), Err("is required".into()));
        assert!(sub.check("Acme!").unwrap_err().contains("^[a-z0-9-]+$"));
        let n = one(json!({"type": "number"}));
        assert_eq!(n.check("42"), Ok(json!(42)));
        assert_eq!(n.check("3.5"), Ok(json!(3.5)));
        for bad in ["forty", "NaN", "1e999", "0x10"] {
            assert!(n.check(bad).is_err(), "{bad}");
        }
        assert_eq!(
            n.check(""),
            Ok(json!("")),
            "optional: an empty answer is kept"
        );
        let b = one(json!({"type": "boolean"}));
        assert_eq!(b.check("yes"), Ok(json!(true)));
        assert_eq!(b.check("False"), Ok(json!(false)));
        assert!(b.check("maybe").is_err());
        let e = one(json!({"format": "email"}));
        assert!(e.check("dev@example.com").is_ok());
        for bad in ["dev", "dev@", "@x.com", "a@b", "a b@c.com", "a@b@c.com"] {
            assert!(e.check(bad).is_err(), "{bad}");
        }
        let u = one(json!({"format": "uri"}));
        assert!(u.check("https://acme.example").is_ok());
        assert!(u.check("acme.example").is_err());
        let p = one(json!({"type": "password"}));
        assert_eq!(
            p.check("  spaced  "),
            Ok(json!("  spaced  ")),
            "kept as typed"
        );
        assert!(one(json!({})).check("a\u{1b}[2Jb").is_err());
    }

    #[test]
    fn declarations_the_platform_would_refuse_are_named() {
        for (spec, said) in [
            (json!({"accessToken": {"type": "string"}}), "token field"),
            (json!({"refreshToken": {}}), "token field"),
            (
                json!({"clientSecret": {}}),
                "authorization's own clientSecret",
            ),
            (json!({"v": {"type": "str"}}), "unknown type \"str\""),
            (json!({"v": {"pattern": "("}}), "is not a pattern"),
            (
                json!({"v": {"required": "yes"}}),
                "required must be true or false",
            ),
            (
                json!({"v": {"type": "number", "defaultValue": "ten"}}),
                "defaultValue \"ten\"",
            ),
            (json!({"v": "string"}), "must be an object"),
            (json!(["v"]), "keyed by the variables' names"),
        ] {
            let e = parse(spec.clone()).unwrap_err();
            assert!(e.contains(said) && e.contains("variables"), "{spec}: {e}");
        }
        let e = parse(
            json!({"pin": {"type": "password", "defaultValue": "fake-pin",
            "pattern": "^[0-9]+$"}}),
        )
        .unwrap_err();
        assert!(!e.contains("fake-pin"), "{e}");
    }

    #[test]
    fn debug_of_a_password_variable_hides_its_default() {
        let v = one(json!({"type": "password", "defaultValue": "fake-default-secret"}));
        assert!(!format!("{v:?}").contains("fake-default-secret"));
    }
}
