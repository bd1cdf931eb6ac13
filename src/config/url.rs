//! The provider's URLs as types, so a request can only go to a URL that passed today's rules.
//! At load a URL field is a `UrlTemplate` (a checked URL, or a template whose shape is
//! checked); filled in for a test account it becomes a `ProviderUrl`, checked again whole.

use std::fmt;

use super::expand::check_url;
use crate::redact::display_url;
use crate::template::Template;

/// `tokenUrl` or `authorizationUrl` as the file writes it. A plain one is already a URL by
/// today's rules; a templated one has been checked for its shape (`check_templates`), and
/// its values are checked when they are filled in.
#[derive(Clone, PartialEq, Eq)]
pub struct UrlTemplate(String);

impl UrlTemplate {
    /// The field as written, checked now when it holds no template (a templated one is
    /// checked with the other templates, once the whole authorization is read).
    pub(super) fn parse(field: &str, raw: String) -> Result<UrlTemplate, String> {
        if Template::parse(&raw).is_plain() {
            check_url(field, &raw)?;
        }
        Ok(UrlTemplate(raw))
    }

    /// The text as the file has it, for filling in.
    pub fn as_written(&self) -> &str {
        &self.0
    }

    /// The URL itself when it holds no template: it was checked at load.
    pub(super) fn plain(&self) -> Option<ProviderUrl> {
        Template::parse(&self.0)
            .is_plain()
            .then(|| ProviderUrl(self.0.clone()))
    }
}

/// A provider URL filled in for one test account: an http(s) URL with a host, and for the
/// token endpoint no credentials of its own. Made only by `UrlTemplate` and the filling in.
#[derive(Clone, PartialEq, Eq)]
pub struct ProviderUrl(String);

impl ProviderUrl {
    /// `raw`, filled in from `field`'s template, if it passes the rules a written one does.
    pub(super) fn checked(field: &str, raw: String) -> Result<ProviderUrl, String> {
        check_url(field, &raw)?;
        Ok(ProviderUrl(raw))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl PartialEq<&str> for ProviderUrl {
    fn eq(&self, other: &&str) -> bool {
        self.0 == *other
    }
}

/// A URL's query may hold a key: `Debug` shows it as it may be printed.
impl fmt::Debug for UrlTemplate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&display_url(&self.0), f)
    }
}

impl fmt::Debug for ProviderUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&display_url(&self.0), f)
    }
}
