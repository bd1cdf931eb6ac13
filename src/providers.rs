//! What integration-cli knows about the providers behind real connectors: their endpoints,
//! the settings their documentation asks for, and what gets a refresh token from each.
//! `init --preset` writes from this table; the sandbox's personas serve stand-ins at these
//! endpoints' paths; a login that got no refresh token looks its provider up here to say
//! what would have got one. A plain table.

use serde_json::{Map, Value, json};
use url::Url;

use crate::template::Template;

/// Where token answers hold the tokens when not at the top, without a `tokenResponsePath`
/// saying so: Slack answers a user-token install with them under `authed_user` (and its
/// bot's, if any, at the top). Looked for in every answer, whatever the provider: the file's
/// URLs may be templates, a proxy's or the sandbox's.
pub const NESTED_TOKENS: &[&str] = &["authed_user"];

/// The sandbox's client, which everyone shares: its secret is public and opens only the
/// sandbox. Kept here, beside the preset that writes them, so the table depends on nothing.
pub const SANDBOX_CLIENT_ID: &str = "sandbox-client";
pub const SANDBOX_CLIENT_SECRET: &str = "sandbox-secret-not-a-real-secret";

/// What a template's names stand for when a preset's URLs are read for their domains.
const TENANT: &str = "tenant";

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
    /// A client secret everyone shares, as the client id: the sandbox's, which is public.
    pub public_secret: Option<&'static str>,
    /// What makes the provider issue a refresh token, when a setting of the authorization
    /// does; said after a login that got none.
    pub refresh_hint: Option<&'static str>,
    /// Where its documentation says so, for docs/providers.md's personas table.
    pub docs: &'static str,
    /// What its token endpoint's refusals usually mean, said with them.
    pub token_hint: Option<&'static str>,
    /// Other domains its endpoints live under (besides its two URLs' own).
    pub also: &'static [&'static str],
    /// What each test account must hold for its templated URLs (a tenant's subdomain),
    /// written into the authorization's `variables`.
    pub variables: &'static [VarSpec],
}

/// One of a preset's `variables`, as its provider's documentation describes the value.
pub struct VarSpec {
    pub name: &'static str,
    pub label: &'static str,
    pub help: &'static str,
    pub placeholder: &'static str,
    pub pattern: &'static str,
    pub default: Option<&'static str>,
}

impl VarSpec {
    /// The declaration, as the platform's file format writes one.
    pub fn declaration(&self) -> Value {
        let mut v = json!({
            "type": "string",
            "label": self.label,
            "required": true,
            "help": self.help,
            "placeholder": self.placeholder,
            "pattern": self.pattern,
        });
        if let Some(d) = self.default {
            v["defaultValue"] = json!(d);
        }
        v
    }
}

/// A host name: labels of letters, digits and inner hyphens (and a port, when `:PORT`
/// may follow).
const HOST: &str =
    "^[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)+$";
const HOST_PORT: &str = "^[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*(:[0-9]{1,5})?$";

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
        public_secret: None,
        refresh_hint: None,
        docs: "https://docs.github.com/en/apps/oauth-apps/building-oauth-apps/authorizing-oauth-apps",
        token_hint: Some(
            "GitHub answers failures with HTTP 200: incorrect_client_credentials is a wrong client id or secret, bad_verification_code a spent or expired code, redirect_uri_mismatch a callback URL other than the app's",
        ),
        also: &[],
        variables: &[],
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
        public_secret: None,
        refresh_hint: Some(
            "Google issues one only with the authorization parameter access_type=offline, and after the first consent only with prompt=consent too: add both to authorizationParameters",
        ),
        docs: "https://developers.google.com/identity/protocols/oauth2/native-app",
        token_hint: Some(
            "Google says invalid_client for a wrong client id or secret, and redirect_uri_mismatch for a callback the client does not allow (use a Desktop app client)",
        ),
        also: &["googleapis.com"],
        variables: &[],
    },
    Provider {
        key: "microsoft",
        title: "Microsoft identity platform",
        authorization_url: "https://login.microsoftonline.com/{+tenant}/oauth2/v2.0/authorize",
        token_url: "https://login.microsoftonline.com/{+tenant}/oauth2/v2.0/token",
        scopes: &["offline_access", "User.Read"],
        authorization_parameters: &[],
        settings: &[],
        redirect_url: Some("http://localhost:9002/callback"),
        tunnel: false,
        note: "add http://localhost:9002/callback as a redirect URI of the app registration",
        client_id: None,
        public_secret: None,
        refresh_hint: Some(
            "Microsoft issues one only for the offline_access scope: add it to scopes",
        ),
        docs: "https://learn.microsoft.com/en-us/entra/identity-platform/v2-oauth2-auth-code-flow",
        token_hint: Some(
            "the AADSTS code names the cause: AADSTS7000215 is a wrong client secret (use its Value, not its ID), AADSTS50011 a redirect URI the app registration lacks",
        ),
        also: &["microsoft.com"],
        variables: &[VarSpec {
            name: "tenant",
            label: "Microsoft tenant",
            help: "common for an app that takes any Microsoft account; your directory's tenant id or domain (contoso.onmicrosoft.com) for a single-tenant app, which common refuses with AADSTS50194",
            placeholder: "common",
            pattern: "^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?$",
            default: Some("common"),
        }],
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
        public_secret: None,
        refresh_hint: Some(
            "Atlassian issues one only for the offline_access scope: add it to scopes",
        ),
        docs: "https://developer.atlassian.com/cloud/jira/platform/oauth-2-3lo-apps/",
        token_hint: Some(
            "Atlassian says unauthorized_client or access_denied for a wrong client id or secret, and invalid_grant for a spent code or refresh token",
        ),
        also: &[],
        variables: &[],
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
        note: "Slack accepts only HTTPS redirect URLs, so the login goes through an ngrok tunnel: export NGROK_AUTHTOKEN (your ngrok account's authtoken), reserve an ngrok domain, set NGROK_DOMAIN to it, and register https://<domain>/callback",
        client_id: None,
        public_secret: None,
        refresh_hint: None,
        docs: "https://api.slack.com/authentication/oauth-v2",
        token_hint: Some(
            "Slack answers failures with HTTP 200 and ok: false: bad_client_secret and invalid_client_id name the app's credentials (Basic Information), invalid_code a spent or expired code",
        ),
        also: &[],
        variables: &[],
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
        public_secret: None,
        refresh_hint: Some(
            "Salesforce issues one only for the refresh_token (or offline_access) scope: add it to scopes",
        ),
        docs: "https://help.salesforce.com/s/articleView?id=sf.remoteaccess_oauth_web_server_flow.htm",
        token_hint: Some(
            "Salesforce says invalid_client_id or invalid_client for the connected app's consumer key or secret, and redirect_uri_mismatch for a callback URL it lacks",
        ),
        also: &["force.com"],
        variables: &[],
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
        public_secret: None,
        refresh_hint: None,
        docs: "https://developers.hubspot.com/docs/api/oauth/tokens",
        token_hint: Some(
            "HubSpot wants a form body with the client id and secret in it: tokenEndpointAuthMethod client_secret_post and no requestContentType application/json (init --preset hubspot writes them)",
        ),
        also: &["hubapi.com"],
        variables: &[],
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
        public_secret: None,
        refresh_hint: Some(
            "Dropbox issues one only with the authorization parameter token_access_type=offline: add it to authorizationParameters",
        ),
        docs: "https://developers.dropbox.com/oauth-guide",
        token_hint: Some(
            "Dropbox says invalid_client for a wrong app key or secret, and invalid_grant for a spent code or a redirect URI the app lacks",
        ),
        also: &["dropboxapi.com"],
        variables: &[],
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
        public_secret: None,
        refresh_hint: None,
        docs: "https://developers.notion.com/docs/authorization",
        token_hint: Some(
            "Notion wants HTTP Basic and a JSON body: tokenEndpointAuthMethod client_secret_basic and requestContentType application/json (init --preset notion writes them)",
        ),
        also: &[],
        variables: &[],
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
        public_secret: None,
        refresh_hint: Some("X issues one only for the offline.access scope: add it to scopes"),
        docs: "https://docs.x.com/resources/fundamentals/authentication/oauth-2-0/authorization-code",
        token_hint: Some(
            "X wants a confidential client's id and secret in HTTP Basic: tokenEndpointAuthMethod client_secret_basic, the default",
        ),
        also: &["twitter.com"],
        variables: &[],
    },
    Provider {
        key: "zendesk",
        title: "Zendesk (a customer's own subdomain)",
        authorization_url: "https://{+subdomain}.zendesk.com/oauth/authorizations/new",
        token_url: "https://{+subdomain}.zendesk.com/oauth/tokens",
        scopes: &["read", "write"],
        authorization_parameters: &[],
        settings: &[("requestContentType", "application/json")],
        redirect_url: None,
        tunnel: false,
        note: "create an OAuth client in that Zendesk's Admin Center (Apps and integrations > APIs > OAuth clients): its Identifier is the client id; register http://127.0.0.1:9002/callback as a redirect URL, with that exact port",
        client_id: None,
        public_secret: None,
        refresh_hint: None,
        docs: "https://developer.zendesk.com/documentation/ticketing/working-with-oauth/oauth-pkce/",
        token_hint: Some(
            "Zendesk wants a JSON token request with the client's id and secret in it (requestContentType application/json), answers a subdomain it does not know with a redirect to its help-center-closed page, and rotates refresh tokens (invalid_grant: one already used or expired); check the test account's subdomain",
        ),
        also: &[],
        variables: &[VarSpec {
            name: "subdomain",
            label: "Zendesk subdomain",
            help: "The part before .zendesk.com in your Zendesk's address: acme for https://acme.zendesk.com",
            placeholder: "acme",
            pattern: "^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$",
            default: None,
        }],
    },
    Provider {
        key: "servicenow",
        title: "ServiceNow (a customer's own instance)",
        authorization_url: "https://{+instance}.service-now.com/oauth_auth.do",
        token_url: "https://{+instance}.service-now.com/oauth_token.do",
        scopes: &["useraccount"],
        authorization_parameters: &[],
        settings: &[("tokenEndpointAuthMethod", "client_secret_post")],
        redirect_url: None,
        tunnel: false,
        note: "register an OAuth API endpoint for external clients in that instance's Application Registry, with http://127.0.0.1:9002/callback as its first redirect URL (ServiceNow falls back to the first one when none matches)",
        client_id: None,
        public_secret: None,
        refresh_hint: None,
        docs: "https://www.servicenow.com/docs/r/zurich/platform-security/authentication/authorization-workflow.html",
        token_hint: Some(
            "ServiceNow wants a form body with the client's id and secret in it (tokenEndpointAuthMethod client_secret_post); a refusal often reads server_error / access_denied: check the client id and secret in the Application Registry",
        ),
        also: &[],
        variables: &[VarSpec {
            name: "instance",
            label: "ServiceNow instance name",
            help: "The part before .service-now.com: acme for https://acme.service-now.com (developer instances look like dev123456)",
            placeholder: "dev123456",
            pattern: "^[A-Za-z0-9][A-Za-z0-9-]*$",
            default: None,
        }],
    },
    Provider {
        key: "okta",
        title: "Okta (a company's own Okta domain)",
        authorization_url: "https://{+domain}/oauth2/{+authorizationServerId}/v1/authorize",
        token_url: "https://{+domain}/oauth2/{+authorizationServerId}/v1/token",
        scopes: &["openid", "profile", "email", "offline_access"],
        authorization_parameters: &[],
        settings: &[],
        redirect_url: None,
        tunnel: false,
        note: "create an OIDC Native application with the Authorization Code and Refresh Token grants, and http://127.0.0.1:9002/callback as its sign-in redirect URI (Okta matches the port too)",
        client_id: None,
        public_secret: None,
        refresh_hint: Some(
            "Okta issues a refresh token only for the offline_access scope, to an app with the Refresh Token grant enabled",
        ),
        docs: "https://developer.okta.com/docs/guides/refresh-tokens/get-refresh-token/",
        token_hint: None,
        also: &["okta.com", "oktapreview.com", "okta-emea.com"],
        variables: &[
            VarSpec {
                name: "domain",
                label: "Okta domain",
                help: "Your Okta org's address without https://: acme.okta.com, dev-123456.okta.com or your custom domain (not the -admin one)",
                placeholder: "dev-123456.okta.com",
                pattern: HOST,
                default: None,
            },
            VarSpec {
                name: "authorizationServerId",
                label: "Okta authorization server id",
                help: "default, unless your admin made another custom authorization server (the org authorization server has no id: then write the URLs as https://{+domain}/oauth2/v1/...)",
                placeholder: "default",
                pattern: "^[A-Za-z0-9]+$",
                default: Some("default"),
            },
        ],
    },
    Provider {
        key: "auth0",
        title: "Auth0 (a tenant's own domain)",
        authorization_url: "https://{+domain}/authorize",
        token_url: "https://{+domain}/oauth/token",
        scopes: &["openid", "profile", "email", "offline_access"],
        authorization_parameters: &[("audience", "{+audience}")],
        settings: &[],
        redirect_url: None,
        tunnel: false,
        note: "add http://127.0.0.1:9002/callback, exactly, to the application's Allowed Callback URLs; a refresh token needs offline_access and Allow Offline Access on the API",
        client_id: None,
        public_secret: None,
        refresh_hint: Some(
            "Auth0 issues a refresh token only for the offline_access scope, for an API with Allow Offline Access on",
        ),
        docs: "https://auth0.com/docs/api/authentication/authorization-code-flow/authorize-application",
        token_hint: None,
        also: &["auth0.com"],
        variables: &[
            VarSpec {
                name: "domain",
                label: "Auth0 domain",
                help: "Your tenant's domain (Applications > your application > Settings > Domain), such as acme.us.auth0.com, or your custom domain",
                placeholder: "acme.us.auth0.com",
                pattern: HOST,
                default: None,
            },
            VarSpec {
                name: "audience",
                label: "Auth0 API identifier (audience)",
                help: "The Identifier of the API the tokens are for (Applications > APIs), sent as audience: Auth0 gives a token for that API only when asked for one",
                placeholder: "https://api.acme.example",
                pattern: "^\\S+$",
                default: None,
            },
        ],
    },
    Provider {
        key: "gitlab",
        title: "GitLab (gitlab.com or a self-managed instance)",
        authorization_url: "https://{+host}/oauth/authorize",
        token_url: "https://{+host}/oauth/token",
        scopes: &["read_user", "read_api"],
        authorization_parameters: &[],
        settings: &[],
        redirect_url: None,
        tunnel: false,
        note: "create an application (User settings > Applications, or the instance's Admin area) with redirect URI http://127.0.0.1:9002/callback (GitLab accepts any port on 127.0.0.1); an instance served under a path (https://example.com/gitlab) needs that path after {+host} in both URLs",
        client_id: None,
        public_secret: None,
        refresh_hint: None,
        docs: "https://docs.gitlab.com/api/oauth2/",
        token_hint: None,
        also: &["gitlab.com"],
        variables: &[VarSpec {
            name: "host",
            label: "GitLab host",
            help: "gitlab.com, or your self-managed instance's host name (with :PORT if it has one)",
            placeholder: "gitlab.example.com",
            pattern: HOST_PORT,
            default: Some("gitlab.com"),
        }],
    },
    Provider {
        key: "jira-datacenter",
        title: "Jira Data Center (a company's own server; Jira Cloud is atlassian)",
        authorization_url: "https://{+host}/rest/oauth2/latest/authorize",
        token_url: "https://{+host}/rest/oauth2/latest/token",
        scopes: &["READ", "WRITE"],
        authorization_parameters: &[],
        settings: &[("tokenEndpointAuthMethod", "client_secret_post")],
        redirect_url: None,
        tunnel: false,
        note: "a Jira admin creates an incoming application link (Administration > Applications > Application links) with redirect URL http://127.0.0.1:9002/callback; Jira wants HTTPS redirect URLs unless atlassian.oauth2.provider.skip.redirect.url.https.requirement is true (else use --tunnel); a base URL with a path (https://acme.com/jira) needs that path after {+host} in both URLs",
        client_id: None,
        public_secret: None,
        refresh_hint: None,
        docs: "https://confluence.atlassian.com/adminjiraserver101/jira-oauth-2-0-provider-api-1455427907.html",
        token_hint: None,
        also: &[],
        variables: &[VarSpec {
            name: "host",
            label: "Jira host",
            help: "The host of your Jira's base URL (Administration > System > General configuration), such as jira.acme.com",
            placeholder: "jira.acme.com",
            pattern: HOST_PORT,
            default: None,
        }],
    },
    Provider {
        key: "salesforce-mydomain",
        title: "Salesforce through a My Domain (when login.salesforce.com is refused)",
        authorization_url: "https://{+myDomain}/services/oauth2/authorize",
        token_url: "https://{+myDomain}/services/oauth2/token",
        scopes: &["api", "refresh_token"],
        authorization_parameters: &[],
        settings: &[],
        redirect_url: Some("http://localhost:9002/callback"),
        tunnel: false,
        note: "for an org whose admin turned on \"Prevent login from https://login.salesforce.com\": in the connected app, enable OAuth settings with callback URL http://localhost:9002/callback, and the api and refresh_token scopes",
        client_id: None,
        public_secret: None,
        refresh_hint: Some(
            "Salesforce issues a refresh token only for the refresh_token (or offline_access) scope",
        ),
        docs: "https://help.salesforce.com/s/articleView?id=xcloud.remoteaccess_oauth_endpoints.htm&language=en_US&type=5",
        token_hint: None,
        also: &[],
        variables: &[VarSpec {
            name: "myDomain",
            label: "Salesforce My Domain login host",
            help: "Setup > My Domain: acme.my.salesforce.com (a sandbox: acme--uat.sandbox.my.salesforce.com)",
            placeholder: "acme.my.salesforce.com",
            pattern: HOST,
            default: None,
        }],
    },
    Provider {
        key: "sandbox",
        title: "integration-cli's own sandbox",
        authorization_url: "http://127.0.0.1:9010/authorize",
        token_url: "http://127.0.0.1:9010/token",
        scopes: &["read", "profile"],
        authorization_parameters: &[],
        settings: &[],
        redirect_url: None,
        tunnel: false,
        note: "start it first with `integration-cli sandbox` (its client id is sandbox-client)",
        client_id: Some(SANDBOX_CLIENT_ID),
        public_secret: Some(SANDBOX_CLIENT_SECRET),
        refresh_hint: None,
        docs: "",
        token_hint: None,
        also: &[],
        variables: &[],
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
    /// The authorization's `variables`, as the file declares them (none for most).
    pub fn variables_json(&self) -> Option<Value> {
        (!self.variables.is_empty()).then(|| {
            Value::Object(
                self.variables
                    .iter()
                    .map(|v| (v.name.to_string(), v.declaration()))
                    .collect(),
            )
        })
    }

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

/// How a grant ends at a provider: its revocation endpoint (filled in like `tokenUrl`), or
/// where its user removes the app's access by hand when it has none.
pub struct SignOut {
    pub key: &'static str,
    /// `revocationUrl` for `logout` (see `revoke::Style` for how each is spoken to).
    pub revocation_url: Option<&'static str>,
    /// Where the user sees and removes the apps they granted access.
    pub manage: &'static str,
}

/// Each provider's, from its documentation: GitHub's grant DELETE, Slack's `auth.revoke`,
/// Dropbox's token revoke, HubSpot's refresh-token DELETE, Google's RFC 7009 endpoint.
pub const SIGN_OUT: &[SignOut] = &[
    SignOut {
        key: "github",
        revocation_url: Some("https://api.github.com/applications/{+clientId}/grant"),
        manage: "https://github.com/settings/applications",
    },
    SignOut {
        key: "google",
        revocation_url: Some("https://oauth2.googleapis.com/revoke"),
        manage: "https://myaccount.google.com/connections",
    },
    SignOut {
        key: "slack",
        revocation_url: Some("https://slack.com/api/auth.revoke"),
        manage: "https://slack.com/apps/manage",
    },
    SignOut {
        key: "dropbox",
        revocation_url: Some("https://api.dropboxapi.com/2/auth/token/revoke"),
        manage: "https://www.dropbox.com/account/connected_apps",
    },
    SignOut {
        key: "hubspot",
        revocation_url: Some("https://api.hubapi.com/oauth/v1/refresh-tokens"),
        manage: "https://app.hubspot.com/ (Settings > Integrations > Connected apps)",
    },
    SignOut {
        key: "microsoft",
        revocation_url: None,
        manage: "https://myapps.microsoft.com/ (or https://account.live.com/consent/Manage)",
    },
    SignOut {
        key: "atlassian",
        revocation_url: None,
        manage: "https://id.atlassian.com/manage-profile/apps",
    },
    SignOut {
        key: "notion",
        revocation_url: None,
        manage: "Notion's Settings > Connections",
    },
    SignOut {
        key: "x",
        revocation_url: Some("https://api.x.com/2/oauth2/revoke"),
        manage: "https://x.com/settings/connected_apps",
    },
    SignOut {
        key: "salesforce",
        revocation_url: Some("https://login.salesforce.com/services/oauth2/revoke"),
        manage: "Salesforce's Settings > Connected Apps OAuth Usage",
    },
];

/// A provider whose published metadata `init --issuer` does not use: missing, or known to
/// mislead, so its preset's endpoints are written instead.
pub struct KnownIssuer {
    pub key: &'static str,
    /// The issuer URL, with the preset's variables where a tenant's own part goes.
    pub issuer: &'static str,
    /// Why its metadata is passed over, said when the preset is used in its place.
    pub why: &'static str,
}

const MICROSOFT_ISSUER: &str =
    "Microsoft's metadata names its issuer with a {tenantid} placeholder";

/// From each provider's documentation and its well-known URLs.
pub const KNOWN_ISSUERS: &[KnownIssuer] = &[
    KnownIssuer {
        key: "github",
        issuer: "https://github.com",
        why: "GitHub publishes no OAuth metadata",
    },
    KnownIssuer {
        key: "microsoft",
        issuer: "https://login.microsoftonline.com/{+tenant}/v2.0",
        why: MICROSOFT_ISSUER,
    },
    KnownIssuer {
        key: "microsoft",
        issuer: "https://login.microsoftonline.com/{+tenant}",
        why: MICROSOFT_ISSUER,
    },
    KnownIssuer {
        key: "slack",
        issuer: "https://slack.com",
        why: "Slack's metadata is for Sign in with Slack, not for installing an app (oauth.v2)",
    },
    KnownIssuer {
        key: "google",
        issuer: "https://accounts.google.com",
        why: "Google's metadata does not say that a refresh token needs access_type=offline",
    },
];

/// A preset used in place of an issuer's metadata.
pub struct InPlace {
    pub preset: &'static Provider,
    /// Why the metadata is passed over.
    pub why: &'static str,
    /// The values of the preset's variables that the issuer URL holds (Microsoft's tenant).
    pub values: Vec<(String, String)>,
}

/// The preset to use in place of `issuer`'s metadata, when it is one of `KNOWN_ISSUERS`.
pub fn for_issuer(issuer: &str) -> Option<InPlace> {
    let url = Url::parse(issuer.trim()).ok()?;
    KNOWN_ISSUERS.iter().find_map(|known| {
        Some(InPlace {
            values: matched(known.issuer, &url)?,
            preset: find(known.key)?,
            why: known.why,
        })
    })
}

/// The values of `template`'s `{+name}` path segments in `url`, when `url` is `template`
/// filled in: the same origin, and each other segment the same (a trailing slash aside).
fn matched(template: &str, url: &Url) -> Option<Vec<(String, String)>> {
    let shape = Url::parse(&template.replace("{+", "%7B").replace('}', "%7D")).ok()?;
    if shape.origin() != url.origin() || url.query().is_some() || url.fragment().is_some() {
        return None;
    }
    let segments = |u: &Url| -> Vec<String> {
        u.path()
            .split('/')
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect()
    };
    let (want, got) = (segments(&shape), segments(url));
    if want.len() != got.len() {
        return None;
    }
    let mut values = Vec::new();
    for (w, g) in want.iter().zip(&got) {
        match w.strip_prefix("%7B").and_then(|n| n.strip_suffix("%7D")) {
            Some(name) => values.push((name.to_string(), g.clone())),
            None if w.eq_ignore_ascii_case(g) => {}
            None => return None,
        }
    }
    Some(values)
}

/// How a grant of the provider behind `token_url` ends, when we know. A sandbox stand-in's
/// (`http://127.0.0.1:9010/oauth2.googleapis.com/token`) is the stand-in's revocation URL.
pub fn sign_out_for(token_url: &str) -> Option<(&'static Provider, &'static SignOut)> {
    let provider = for_url(token_url)?;
    let sign_out = SIGN_OUT.iter().find(|s| s.key == provider.key)?;
    Some((provider, sign_out))
}

/// `real` served where `token_url` is: itself for the provider, its stand-in beside a
/// sandbox stand-in token URL.
pub fn beside(token_url: &str, real: &str) -> String {
    let Ok(url) = Url::parse(token_url) else {
        return real.to_string();
    };
    let loopback = url
        .host_str()
        .is_some_and(|h| crate::loopback::LoopbackHost::from_name(h).is_some());
    if !loopback {
        return real.to_string();
    }
    let path = real.split_once("://").map_or(real, |(_, rest)| rest);
    format!("{}/{path}", url.origin().ascii_serialization())
}

pub fn find(key: &str) -> Option<&'static Provider> {
    PROVIDERS.iter().find(|p| p.key == key)
}

/// The scope rules of the provider whose endpoints these are (the first that names one),
/// or the standard's.
pub fn scope_rules_for<'a>(urls: impl IntoIterator<Item = &'a str>) -> crate::scopes::Rules {
    urls.into_iter()
        .find_map(for_url)
        .map_or(crate::scopes::STANDARD, Provider::scope_rules)
}

/// How each provider writes the scopes it granted, and where it says who the user is:
/// kept here, beside the endpoints, and checked against the sandbox's personas (each
/// persona's answers read by its provider's rules find nothing missing).
impl Provider {
    /// How its answer's `scope` is to be read (`scopes::STANDARD` for most).
    pub fn scope_rules(&self) -> crate::scopes::Rules {
        use crate::scopes::{Rules, Spelling};
        let spelling = match self.key {
            "google" => Spelling::Google,
            "microsoft" => Spelling::Microsoft,
            "github" => Spelling::GitHub,
            _ => Spelling::AsAsked,
        };
        // Salesforce's answer lists what the connected app's policy gives (`full` covers
        // every other scope), not what was asked: it proves nothing missing.
        let reliable = self.key != "salesforce" && self.key != "salesforce-mydomain";
        Rules { spelling, reliable }
    }

    /// Its "who am I" endpoint and the shape of its answer, for a login whose answer
    /// carries no `id_token`.
    pub fn who_am_i(&self) -> Option<(&'static str, crate::identity::Shape)> {
        use crate::identity::Shape;
        Some(match self.key {
            "github" => ("https://api.github.com/user", Shape::GitHubUser),
            "google" => (
                "https://openidconnect.googleapis.com/v1/userinfo",
                Shape::Userinfo,
            ),
            "microsoft" => ("https://graph.microsoft.com/v1.0/me", Shape::GraphMe),
            "slack" => ("https://slack.com/api/auth.test", Shape::SlackAuthTest),
            "atlassian" => ("https://api.atlassian.com/me", Shape::AtlassianMe),
            _ => return None,
        })
    }
}

/// The provider an endpoint belongs to: by its host, under one of the provider's domains
/// (`test.salesforce.com`, `api.hubapi.com`, `twitter.com`), or, for a loopback URL whose
/// path starts with a provider's host name, by that: the sandbox's personas serve their
/// stand-ins so (`http://127.0.0.1:9010/accounts.google.com/o/oauth2/v2/auth`), and the
/// hints after a login then read as they would against the provider itself.
pub fn for_url(raw: &str) -> Option<&'static Provider> {
    let url = Url::parse(raw).ok()?;
    let host = url.host_str()?.to_ascii_lowercase();
    let stand_in = crate::loopback::LoopbackHost::from_name(&host).is_some();
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
            .filter_map(|u| {
                // A templated host names its domain by what follows the template
                // (`{+subdomain}.zendesk.com`); a host that is all template names none.
                let filled = Template::parse(u).fill(&|_| Some(TENANT.into()), false);
                let host = Url::parse(&filled).ok()?.host_str()?.to_ascii_lowercase();
                (host != TENANT).then_some(host)
            })
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
    fn known_issuers_name_their_preset_and_the_tenant_their_url_holds() {
        let github = for_issuer("https://github.com/").unwrap();
        assert_eq!((github.preset.key, github.values.len()), ("github", 0));
        assert!(github.why.contains("no OAuth metadata"));
        let ms = for_issuer("https://login.microsoftonline.com/contoso.onmicrosoft.com/v2.0");
        let ms = ms.unwrap();
        assert_eq!(ms.preset.key, "microsoft");
        let tenant = ("tenant".to_string(), "contoso.onmicrosoft.com".to_string());
        assert_eq!(ms.values, [tenant]);
        let ms = for_issuer("https://login.microsoftonline.com/common").unwrap();
        assert_eq!(ms.values, [("tenant".into(), "common".into())]);
        for other in [
            "https://github.com/enterprises/acme",
            "http://github.com",
            "https://login.microsoftonline.com/common/v2.0/extra",
            "https://login.example.com",
            "https://github.com/?x=1",
        ] {
            assert!(for_issuer(other).is_none(), "{other}");
        }
        for known in KNOWN_ISSUERS {
            let p = find(known.key).unwrap();
            for name in Template::parse(known.issuer).names() {
                assert!(p.variables.iter().any(|v| v.name == name), "{name}");
            }
        }
    }

    /// Every preset is a file the CLI reads: its URLs, parameters and variables are checked
    /// as a `.unito.json`'s are.
    #[test]
    fn every_preset_reads_as_a_valid_authorization() {
        for p in PROVIDERS {
            let mut authorization = json!({
                "name": p.key,
                "oauth2": {"clientId": "fake-id", "authorizationUrl": p.authorization_url,
                    "tokenUrl": p.token_url},
            });
            authorization["oauth2"]
                .as_object_mut()
                .unwrap()
                .extend(p.oauth2_settings(Login::Real));
            if let Some(v) = p.variables_json() {
                authorization["variables"] = v;
            }
            let root = json!({ "authorizations": [authorization] });
            let config = crate::config::Config::parse(
                std::path::Path::new(".unito.json"),
                root.as_object().unwrap(),
            );
            let all = config.oauth2().unwrap();
            let o = all[0]
                .1
                .as_ref()
                .unwrap_or_else(|e| panic!("{}: {e}", p.key));
            for name in o.template_names() {
                assert!(
                    o.variables.get(&name).is_some(),
                    "{}: {name} is used but not declared",
                    p.key
                );
            }
            for v in p.variables {
                let declared = o.variables.get(v.name).unwrap();
                assert!(
                    declared.check(v.placeholder).is_ok(),
                    "{}: {}",
                    p.key,
                    v.name
                );
            }
        }
    }

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
        assert_eq!(
            key("https://acme.zendesk.com/oauth/tokens"),
            Some("zendesk")
        );
        assert_eq!(
            key("http://127.0.0.1:9010/acme.zendesk.com/oauth/tokens"),
            Some("zendesk")
        );
        assert_eq!(
            key("https://dev-1.okta.com/oauth2/default/v1/token"),
            Some("okta")
        );
        assert_eq!(
            key("https://tenant/oauth/token"),
            None,
            "no domain from a whole-host template"
        );
        assert_eq!(key("https://notgithub.com/login"), None);
        assert_eq!(key("http://127.0.0.1:9010/authorize"), None);
        assert_eq!(key("https://idp.example/authorize"), None);
    }
}
