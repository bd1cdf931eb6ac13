//! What a run says about what it did, in one place: operations return what happened (a
//! `status::Status`, ...) and this turns it into the text a person reads or the JSON a
//! script reads. Nothing here decides anything or touches a file; every outside string is
//! made printable here, on its way out.

pub mod status;

/// What a run did to a test account's tokens, as `--json` says it in `action` (scripts
/// match on these words: they never change).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// A login in the browser (the authorization code grant).
    Login,
    Refresh,
    ClientCredentials,
    JwtBearer,
    Password,
    /// Still fresh: nothing was requested.
    Kept,
    /// Tokens a failed save had set aside, saved now.
    Recovered,
}

impl Action {
    pub fn word(self) -> &'static str {
        match self {
            Action::Login => "login",
            Action::Refresh => "refresh",
            Action::ClientCredentials => "client_credentials",
            Action::JwtBearer => "jwt_bearer",
            Action::Password => "password",
            Action::Kept => "kept",
            Action::Recovered => "recovered",
        }
    }
}
