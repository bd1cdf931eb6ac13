//! What integration-cli knows about the providers behind real connectors: their endpoints,
//! the settings their documentation asks for, and what gets a refresh token from each.
//! `init --preset` writes from this table; the sandbox's personas serve stand-ins at these
//! endpoints' paths; a login that got no refresh token looks its provider up here to say
//! what would have got one. A plain table.

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
    },
];

pub fn find(key: &str) -> Option<&'static Provider> {
    PROVIDERS.iter().find(|p| p.key == key)
}

/// The provider an authorization URL belongs to: by its host, or, for a loopback URL whose
/// path starts with a provider's host name, by that (the sandbox's stand-ins are served so:
/// `http://127.0.0.1:9010/accounts.google.com/o/oauth2/v2/auth`).
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
        Url::parse(p.authorization_url)
            .ok()
            .and_then(|u| u.host_str().map(str::to_ascii_lowercase))
            .is_some_and(|h| h == named)
    })
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
        assert_eq!(key("http://127.0.0.1:9010/authorize"), None);
        assert_eq!(key("https://idp.example/authorize"), None);
    }
}
