//! Who a test account is, as the provider vouched for it at the login: read from the
//! `id_token`'s claims (decoded, never verified: it is shown, not trusted) or from a "who am
//! I" answer, and kept as flat fields of the test account. Pure: no I/O, no provider table.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Map, Value};

/// The test account's fields that hold the identity: our bookkeeping, never sent to the
/// connector.
pub mod field {
    pub const ISSUER: &str = "identityIssuer";
    pub const SUBJECT: &str = "identitySubject";
    pub const NAME: &str = "identityName";
    pub const EMAIL: &str = "identityEmail";
    pub const ALL: [&str; 4] = [ISSUER, SUBJECT, NAME, EMAIL];
}

/// Who the provider said the user is. Every part may be missing but the issuer.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Identity {
    /// The `iss` claim, or the address of the endpoint that answered.
    pub issuer: String,
    pub subject: Option<String>,
    pub name: Option<String>,
    pub email: Option<String>,
}

/// How a provider's "who am I" endpoint writes its answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// OpenID Connect userinfo: `sub`, `name`, `email`.
    Userinfo,
    /// GitHub's `/user`: `id`, `login`, `email`.
    GitHubUser,
    /// Slack's `auth.test`: `user_id`, `user`, `team`.
    SlackAuthTest,
    /// Microsoft Graph's `/me`: `id`, `displayName`, `mail` or `userPrincipalName`.
    GraphMe,
    /// Atlassian's `/me`: `account_id`, `name`, `email`.
    AtlassianMe,
}

impl Identity {
    /// From an `id_token`'s payload, unverified: for display only. `None` for anything
    /// that is not a JWT with an `iss` and a `sub` or an e-mail.
    pub fn from_id_token(jwt: &str) -> Option<Identity> {
        let mut parts = jwt.split('.');
        let (_header, payload) = (parts.next()?, parts.next()?);
        parts.next()?;
        let bytes = URL_SAFE_NO_PAD.decode(payload.trim_end_matches('=')).ok()?;
        let claims: Map<String, Value> = serde_json::from_slice(&bytes).ok()?;
        let name = text(&claims, "name").or_else(|| text(&claims, "preferred_username"));
        Identity {
            issuer: text(&claims, "iss")?,
            subject: text(&claims, "sub"),
            name,
            email: text(&claims, "email"),
        }
        .known()
    }

    /// From a "who am I" answer of `shape`, from the endpoint at `issuer`.
    pub fn from_answer(shape: Shape, answer: &Map<String, Value>, issuer: &str) -> Option<Self> {
        let get = |k: &str| text(answer, k);
        let (subject, name, email) = match shape {
            Shape::Userinfo => (get("sub"), get("name"), get("email")),
            Shape::GitHubUser => (get("id"), get("login"), get("email")),
            Shape::SlackAuthTest if answer.get("ok") == Some(&Value::Bool(true)) => {
                let name = match (get("user"), get("team")) {
                    (Some(user), Some(team)) => Some(format!("{user} in {team}")),
                    (user, _) => user,
                };
                (get("user_id"), name, None)
            }
            Shape::SlackAuthTest => return None,
            Shape::GraphMe => (
                get("id"),
                get("displayName"),
                get("mail").or_else(|| get("userPrincipalName")),
            ),
            Shape::AtlassianMe => (get("account_id"), get("name"), get("email")),
        };
        Identity {
            issuer: issuer.to_string(),
            subject,
            name,
            email,
        }
        .known()
    }

    /// An identity says who only with a subject or an e-mail.
    fn known(self) -> Option<Identity> {
        (self.subject.is_some() || self.email.is_some()).then_some(self)
    }

    /// As the test account holds it, when it holds one.
    pub fn of(fields: &Map<String, Value>) -> Option<Identity> {
        Identity {
            issuer: text(fields, field::ISSUER)?,
            subject: text(fields, field::SUBJECT),
            name: text(fields, field::NAME),
            email: text(fields, field::EMAIL),
        }
        .known()
    }

    /// Into the test account, in place of any identity it held.
    pub fn write(&self, fields: &mut Map<String, Value>) {
        clear(fields);
        fields.insert(field::ISSUER.into(), self.issuer.clone().into());
        for (key, value) in [
            (field::SUBJECT, &self.subject),
            (field::NAME, &self.name),
            (field::EMAIL, &self.email),
        ] {
            if let Some(v) = value {
                fields.insert(key.into(), v.clone().into());
            }
        }
    }

    /// The same user: the same issuer and subject, or, where either has no subject, the
    /// same e-mail (in any case).
    pub fn same_as(&self, other: &Identity) -> bool {
        match (&self.subject, &other.subject) {
            (Some(a), Some(b)) => a == b && self.issuer == other.issuer,
            _ => match (&self.email, &other.email) {
                (Some(a), Some(b)) => a.eq_ignore_ascii_case(b),
                _ => false,
            },
        }
    }

    /// How a person recognises the user: the e-mail, else the name, else the subject.
    pub fn shown(&self) -> String {
        let who = self.email.as_ref().or(self.name.as_ref());
        crate::redact::printable(who.or(self.subject.as_ref()).map_or("", String::as_str))
    }
}

/// Takes any identity out of the test account (a new grant may be another user's).
pub fn clear(fields: &mut Map<String, Value>) {
    for key in field::ALL {
        fields.shift_remove(key);
    }
}

fn text(map: &Map<String, Value>, key: &str) -> Option<String> {
    match map.get(key)? {
        Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_string()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn jwt(claims: Value) -> String {
        let enc = |v: &Value| URL_SAFE_NO_PAD.encode(v.to_string());
        format!("{}.{}.sig", enc(&json!({"alg": "RS256"})), enc(&claims))
    }

    #[test]
    fn an_id_tokens_claims_are_read_without_verifying_it() {
        let token = jwt(json!({"iss": "https://accounts.google.com", "sub": "1234",
            "email": "ada@example.com", "name": "Ada Lovelace", "aud": "x"}));
        let id = Identity::from_id_token(&token).unwrap();
        assert_eq!(id.issuer, "https://accounts.google.com");
        assert_eq!(id.subject.as_deref(), Some("1234"));
        assert_eq!(id.shown(), "ada@example.com");
        let mut fields = Map::new();
        id.write(&mut fields);
        assert_eq!(Identity::of(&fields), Some(id));
    }

    #[test]
    fn what_is_not_a_jwt_with_an_issuer_and_a_subject_is_no_identity() {
        for bad in [
            "opaque-token".to_string(),
            "a.b".into(),
            "a.!!!.c".into(),
            jwt(json!({"sub": "1"})),
            jwt(json!({"iss": "https://i"})),
        ] {
            assert_eq!(Identity::from_id_token(&bad), None, "{bad}");
        }
    }

    #[test]
    fn the_same_user_is_the_same_issuer_and_subject_or_else_the_same_email() {
        let id = |iss: &str, sub: Option<&str>, email: Option<&str>| Identity {
            issuer: iss.into(),
            subject: sub.map(str::to_string),
            name: None,
            email: email.map(str::to_string),
        };
        let ada = id("https://i", Some("1"), Some("ada@example.com"));
        assert!(ada.same_as(&id("https://i", Some("1"), None)));
        assert!(!ada.same_as(&id("https://other", Some("1"), Some("x@example.com"))));
        assert!(!ada.same_as(&id("https://i", Some("2"), Some("ada@example.com"))));
        assert!(ada.same_as(&id("https://j", None, Some("ADA@example.com"))));
        assert!(!ada.same_as(&id("https://j", None, None)));
    }

    #[test]
    fn each_who_am_i_answer_is_read_in_its_own_shape() {
        let github = json!({"id": 583231, "login": "octocat", "email": null});
        let id = Identity::from_answer(Shape::GitHubUser, github.as_object().unwrap(), "g");
        assert_eq!(id.as_ref().map(Identity::shown).as_deref(), Some("octocat"));
        assert_eq!(id.unwrap().subject.as_deref(), Some("583231"));
        let slack = json!({"ok": true, "user": "ada", "team": "Acme", "user_id": "U1"});
        let id = Identity::from_answer(Shape::SlackAuthTest, slack.as_object().unwrap(), "s");
        assert_eq!(id.unwrap().shown(), "ada in Acme");
        let refused = json!({"ok": false, "error": "invalid_auth"});
        let none = Identity::from_answer(Shape::SlackAuthTest, refused.as_object().unwrap(), "s");
        assert_eq!(none, None);
        let graph = json!({"id": "g1", "displayName": "Ada", "mail": null,
            "userPrincipalName": "ada@contoso.example"});
        let id = Identity::from_answer(Shape::GraphMe, graph.as_object().unwrap(), "m");
        assert_eq!(id.unwrap().shown(), "ada@contoso.example");
        let userinfo = json!({"sub": "u-1", "name": "Ada", "email": "ada@example.test"});
        let id = Identity::from_answer(Shape::Userinfo, userinfo.as_object().unwrap(), "o");
        let id = id.unwrap();
        assert_eq!(
            (id.subject.as_deref(), id.name.as_deref()),
            (Some("u-1"), Some("Ada"))
        );
        assert_eq!(id.shown(), "ada@example.test");
        let atlassian = json!({"account_id": "557058:fake", "name": "Ada", "email": null});
        let id = Identity::from_answer(Shape::AtlassianMe, atlassian.as_object().unwrap(), "a");
        let id = id.unwrap();
        assert_eq!(
            (id.subject.as_deref(), id.shown()),
            (Some("557058:fake"), "Ada".into())
        );
        let nobody = json!({"name": "Ada"});
        let none = Identity::from_answer(Shape::Userinfo, nobody.as_object().unwrap(), "o");
        assert_eq!(none, None, "a name alone says who no one is");
    }
}
