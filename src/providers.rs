//! What integration-cli knows about the providers behind real connectors: their endpoints,
//! the settings their documentation asks for, and what gets a refresh token from each.
//! `init --preset` writes from this table; the sandbox's personas serve stand-ins at these
//! endpoints' paths; a login that got no refresh token looks its provider up here to say
//! what would have got one. A plain table.

use serde_json::{Map, Value, json};
use url::Url;

/// One provider, as its documentation describes it.
pub struct Provider {
    pub key: &'static str,
    pub title: &'static str,
    pub authorization_url: &'static str,
    pub token_url: &'static str,
    pub scopes: &'static [&'static str],
    pub authorization_parameters: &'static [(&'static str, &'static str)],
    /// Other `oauth2` settings the provider needs (`requestContentType`,
    /// `tokenEndpointAuthMethod`).
    pub settings: &'static [(&'static str, &'static str)],
    /// For providers that want an exact, registered loopback URL rather than any port.
    pub redirect_url: Option<&'static str>,
    /// For providers that accept only HTTPS redirect URLs.
    pub tunnel: bool,
    /// What to register with the provider, in a sentence.
    pub note: &'static str,
    /// A client id everyone shares (the sandbox's); real providers issue one per app.
    pub client_id: Option<&'static str>,
    /// What makes the provider issue a refresh token, when a setting of the authorization
    /// does; said after a login that got none.
    pub refresh_hint: Option<&'static str>,
    /// Where its documentation says so, for the README's personas table.
    pub docs: &'static str,
    /// What its token endpoint's refusals usually mean, said with them.
    pub token_hint: Option<&'static str>,
    /// Other domains its endpoints live under (besides its two URLs' own).
    pub also: &'static [&'static str],
}

pub const PROVIDERS: &[Provider] = &[
    Provider {
        key: "github",
        title: "GitHub (OAuth app)",
        authorization_url: "https://github.com/login/oauth/authorize",
        token_url: "https://github.com/login/oauth/access_token",
        scopes: &["repo", "read:user"],
        authorization_parameters: &[],
        settings: &[],
        redirect_url: None,
        tunnel: false,
        note: "register http://127.0.0.1:9002/callback as the callback URL (GitHub accepts any port on loopback)",
        client_id: None,
        refresh_hint: None,
        docs: "https://docs.github.com/en/apps/oauth-apps/building-oauth-apps/authorizing-oauth-apps",
        token_hint: Some(
            "GitHub answers failures with HTTP 200: incorrect_client_credentials is a wrong client id or secret, bad_verification_code a spent or expired code, redirect_uri_mismatch a callback URL other than the app's",
        ),
        also: &[],
    },
    Provider {
        key: "google",
        title: "Google",
        authorization_url: "https://accounts.google.com/o/oauth2/v2/auth",
        token_url: "https://oauth2.googleapis.com/token",
        scopes: &["openid", "email", "profile"],
        authorization_parameters: &[("access_type", "offline"), ("prompt", "consent")],
        settings: &[],
        redirect_url: None,
        tunnel: false,
        note: "create a Desktop app OAuth client (loopback redirects on any port are allowed)",
        client_id: None,
        refresh_hint: Some(
            "Google issues one only with the authorization parameter access_type=offline, and after the first consent only with prompt=consent too: add both to authorizationParameters",
        ),
        docs: "https://developers.google.com/identity/protocols/oauth2/native-app",
        token_hint: Some(
            "Google says invalid_client for a wrong client id or secret, and redirect_uri_mismatch for a callback the client does not allow (use a Desktop app client)",
        ),
        also: &["googleapis.com"],
    },
    Provider {
        key: "microsoft",
        title: "Microsoft identity platform",
        authorization_url: "https://login.microsoftonline.com/common/oauth2/v2.0/authorize",
        token_url: "https://login.microsoftonline.com/common/oauth2/v2.0/token",
        scopes: &["offline_access", "User.Read"],
        authorization_parameters: &[],
        settings: &[],
        redirect_url: Some("http://localhost:9002/callback"),
        tunnel: false,
        note: "add http://localhost:9002/callback as a redirect URI of the app registration",
        client_id: None,
        refresh_hint: Some(
            "Microsoft issues one only for the offline_access scope: add it to scopes",
        ),
        docs: "https://learn.microsoft.com/en-us/entra/identity-platform/v2-oauth2-auth-code-flow",
        token_hint: Some(
            "the AADSTS code names the cause: AADSTS7000215 is a wrong client secret (use its Value, not its ID), AADSTS50011 a redirect URI the app registration lacks",
        ),
        also: &["microsoft.com"],
    },
    Provider {
        key: "atlassian",
        title: "Atlassian (Jira, Confluence)",
        authorization_url: "https://auth.atlassian.com/authorize",
        token_url: "https://auth.atlassian.com/oauth/token",
        scopes: &["read:jira-work", "read:jira-user", "offline_access"],
        authorization_parameters: &[("audience", "api.atlassian.com"), ("prompt", "consent")],
        settings: &[],
        redirect_url: Some("http://localhost:9002/callback"),
        tunnel: false,
        note: "set the app's callback URL to http://localhost:9002/callback",
        client_id: None,
        refresh_hint: Some(
            "Atlassian issues one only for the offline_access scope: add it to scopes",
        ),
        docs: "https://developer.atlassian.com/cloud/jira/platform/oauth-2-3lo-apps/",
        token_hint: Some(
            "Atlassian says unauthorized_client or access_denied for a wrong client id or secret, and invalid_grant for a spent code or refresh token",
        ),
        also: &[],
    },
    Provider {
        key: "slack",
        title: "Slack",
        authorization_url: "https://slack.com/oauth/v2/authorize",
        token_url: "https://slack.com/api/oauth.v2.access",
        scopes: &["channels:read", "chat:write"],
        authorization_parameters: &[],
        settings: &[],
        redirect_url: None,
        tunnel: true,
        note: "Slack accepts only HTTPS redirect URLs: reserve an ngrok domain, set NGROK_DOMAIN, and register https://<domain>/callback",
        client_id: None,
        refresh_hint: None,
        docs: "https://api.slack.com/authentication/oauth-v2",
        token_hint: Some(
            "Slack answers failures with HTTP 200 and ok: false: bad_client_secret and invalid_client_id name the app's credentials (Basic Information), invalid_code a spent or expired code",
        ),
        also: &[],
    },
    Provider {
        key: "salesforce",
        title: "Salesforce",
        authorization_url: "https://login.salesforce.com/services/oauth2/authorize",
        token_url: "https://login.salesforce.com/services/oauth2/token",
        scopes: &["api", "refresh_token"],
        authorization_parameters: &[],
        settings: &[],
        redirect_url: Some("http://localhost:9002/callback"),
        tunnel: false,
        note: "set the connected app's callback URL to http://localhost:9002/callback",
        client_id: None,
        refresh_hint: Some(
            "Salesforce issues one only for the refresh_token (or offline_access) scope: add it to scopes",
        ),
        docs: "https://help.salesforce.com/s/articleView?id=sf.remoteaccess_oauth_web_server_flow.htm",
        token_hint: Some(
            "Salesforce says invalid_client_id or invalid_client for the connected app's consumer key or secret, and redirect_uri_mismatch for a callback URL it lacks",
        ),
        also: &["force.com"],
    },
    Provider {
        key: "hubspot",
        title: "HubSpot",
        authorization_url: "https://app.hubspot.com/oauth/authorize",
        token_url: "https://api.hubapi.com/oauth/v1/token",
        scopes: &["oauth", "crm.objects.contacts.read"],
        authorization_parameters: &[],
        settings: &[("tokenEndpointAuthMethod", "client_secret_post")],
        redirect_url: Some("http://localhost:9002/callback"),
        tunnel: false,
        note: "add http://localhost:9002/callback as a redirect URL of the app",
        client_id: None,
        refresh_hint: None,
        docs: "https://developers.hubspot.com/docs/api/oauth/tokens",
        token_hint: Some(
            "HubSpot wants a form body with the client id and secret in it: tokenEndpointAuthMethod client_secret_post and no requestContentType application/json (init --preset hubspot writes them)",
        ),
        also: &["hubapi.com"],
    },
    Provider {
        key: "dropbox",
        title: "Dropbox",
        authorization_url: "https://www.dropbox.com/oauth2/authorize",
        token_url: "https://api.dropboxapi.com/oauth2/token",
        scopes: &["account_info.read", "files.metadata.read"],
        authorization_parameters: &[("token_access_type", "offline")],
        settings: &[],
        redirect_url: Some("http://localhost:9002/callback"),
        tunnel: false,
        note: "add http://localhost:9002/callback as a redirect URI of the app",
        client_id: None,
        refresh_hint: Some(
            "Dropbox issues one only with the authorization parameter token_access_type=offline: add it to authorizationParameters",
        ),
        docs: "https://developers.dropbox.com/oauth-guide",
        token_hint: Some(
            "Dropbox says invalid_client for a wrong app key or secret, and invalid_grant for a spent code or a redirect URI the app lacks",
        ),
        also: &["dropboxapi.com"],
    },
    Provider {
        key: "notion",
        title: "Notion (public connection)",
        authorization_url: "https://api.notion.com/v1/oauth/authorize",
        token_url: "https://api.notion.com/v1/oauth/token",
        scopes: &[],
        authorization_parameters: &[("owner", "user")],
        settings: &[
            ("requestContentType", "application/json"),
            ("tokenEndpointAuthMethod", "client_secret_basic"),
        ],
        redirect_url: Some("http://localhost:9002/callback"),
        tunnel: false,
        note: "add http://localhost:9002/callback as a redirect URI of the connection",
        client_id: None,
        refresh_hint: None,
        docs: "https://developers.notion.com/docs/authorization",
        token_hint: Some(
            "Notion wants HTTP Basic and a JSON body: tokenEndpointAuthMethod client_secret_basic and requestContentType application/json (init --preset notion writes them)",
        ),
        also: &[],
    },
    Provider {
        key: "x",
        title: "X (Twitter)",
        authorization_url: "https://x.com/i/oauth2/authorize",
        token_url: "https://api.x.com/2/oauth2/token",
        scopes: &["tweet.read", "users.read", "offline.access"],
        authorization_parameters: &[],
        settings: &[],
        redirect_url: Some("http://127.0.0.1:9002/callback"),
        tunnel: false,
        note: "add http://127.0.0.1:9002/callback as a callback URI of the app (a confidential client)",
        client_id: None,
        refresh_hint: Some("X issues one only for the offline.access scope: add it to scopes"),
        docs: "https://docs.x.com/resources/fundamentals/authentication/oauth-2-0/authorization-code",
        token_hint: Some(
            "X wants a confidential client's id and secret in HTTP Basic: tokenEndpointAuthMethod client_secret_basic, the default",
        ),
        also: &["twitter.com"],
    },
    Provider {
        key: "sandbox",
        title: "integration-cli's own sandbox (run: integration-cli sandbox)",
        authorization_url: "http://127.0.0.1:9010/authorize",
        token_url: "http://127.0.0.1:9010/token",
        scopes: &["read", "profile"],
        authorization_parameters: &[],
        settings: &[],
        redirect_url: None,
        tunnel: false,
        note: "start it with `integration-cli sandbox`; client id sandbox-client, and export SANDBOX_CLIENT_SECRET=sandbox-secret-not-a-real-secret",
        client_id: Some("sandbox-client"),
        refresh_hint: None,
        docs: "",
        token_hint: None,
        also: &[],
    },
];

/// Which login settings an authorization gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Login {
    /// None: the grant needs no browser.
    None,
    /// The provider's own: its authorization parameters, its registered redirect URL, a
    /// tunnel where it wants HTTPS.
    Real,
    /// The sandbox's stand-in: the parameters only, since it takes any loopback redirect.
    StandIn,
}

impl Provider {
    /// What an authorization for this provider holds beyond its URLs and scopes: its
    /// settings (`requestContentType`, …), and what a login needs (see `Login`).
    pub fn oauth2_settings(&self, login: Login) -> Map<String, Value> {
        let mut oauth2: Map<String, Value> = self
            .settings
            .iter()
            .map(|(k, v)| (k.to_string(), json!(v)))
            .collect();
        if login == Login::None {
            return oauth2;
        }
        if !self.authorization_parameters.is_empty() {
            let params: Map<String, Value> = self
                .authorization_parameters
                .iter()
                .map(|(k, v)| (k.to_string(), json!(v)))
                .collect();
            oauth2.insert("authorizationParameters".into(), Value::Object(params));
        }
        if login == Login::Real {
            if let Some(r) = self.redirect_url {
                oauth2.insert("redirectUrl".into(), json!(r));
            }
            if self.tunnel {
                oauth2.insert("tunnel".into(), json!(true));
            }
        }
        oauth2
    }
}

pub fn find(key: &str) -> Option<&'static Provider> {
    PROVIDERS.iter().find(|p| p.key == key)
}

/// The provider an endpoint belongs to: by its host, under one of the provider's domains
/// (`test.salesforce.com`, `api.hubapi.com`, `twitter.com`), or, for a loopback URL whose
/// path starts with a provider's host name, by that: the sandbox's personas serve their
/// stand-ins so (`http://127.0.0.1:9010/accounts.google.com/o/oauth2/v2/auth`), and the
/// hints after a login then read as they would against the provider itself.
pub fn for_url(raw: &str) -> Option<&'static Provider> {
    let url = Url::parse(raw).ok()?;
    let host = url.host_str()?.to_ascii_lowercase();
    let stand_in = matches!(host.as_str(), "127.0.0.1" | "localhost" | "[::1]");
    let named = if stand_in {
        url.path_segments()?.next()?.to_ascii_lowercase()
    } else {
        host
    };
    PROVIDERS.iter().filter(|p| p.key != "sandbox").find(|p| {
        p.domains()
            .any(|d| named == d || named.ends_with(&format!(".{d}")))
    })
}

impl Provider {
    /// The domains its endpoints live under: its URLs' hosts less their first label
    /// (`accounts.google.com` → `google.com`), and `also`.
    fn domains(&self) -> impl Iterator<Item = String> + '_ {
        [self.authorization_url, self.token_url]
            .into_iter()
            .filter_map(|u| Url::parse(u).ok()?.host_str().map(str::to_ascii_lowercase))
            .map(|host| match host.split_once('.') {
                Some((_, rest)) if rest.contains('.') => rest.to_string(),
                _ => host,
            })
            .chain(self.also.iter().map(|d| d.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_authorization_url_names_its_provider_or_its_stand_in() {
        let key = |u: &str| for_url(u).map(|p| p.key);
        assert_eq!(
            key("https://accounts.google.com/o/oauth2/v2/auth"),
            Some("google")
        );
        assert_eq!(
            key("http://127.0.0.1:9010/accounts.google.com/o/oauth2/v2/auth"),
            Some("google")
        );
        assert_eq!(
            key("https://AUTH.atlassian.com/authorize"),
            Some("atlassian")
        );
        assert_eq!(
            key("https://test.salesforce.com/services/oauth2/authorize"),
            Some("salesforce")
        );
        assert_eq!(
            key("https://acme.my.salesforce.com/services/oauth2/token"),
            Some("salesforce")
        );
        assert_eq!(key("https://twitter.com/i/oauth2/authorize"), Some("x"));
        assert_eq!(
            key("https://api.hubapi.com/oauth/v1/token"),
            Some("hubspot")
        );
        assert_eq!(
            key("https://login.microsoft.com/common/oauth2/v2.0/authorize"),
            Some("microsoft")
        );
        assert_eq!(key("https://notgithub.com/login"), None);
        assert_eq!(key("http://127.0.0.1:9010/authorize"), None);
        assert_eq!(key("https://idp.example/authorize"), None);
    }
}
