//! One type per kind of secret, as oauth2-rs has them: a refresh token cannot be passed where
//! a client secret is wanted, and none can reach a log, an error, a panic message or stdout
//! by accident. `Debug` prints only the kind and there is no `Display`: reading the value
//! takes an explicit `expose()`, which is easy to grep for in review. Equality runs in
//! constant time (`subtle`), so how long a comparison takes says nothing about how much of
//! a guess was right.

use std::fmt;

/// Defines a secret newtype: `new`, `expose`, `masked`, `is`, a redacted `Debug` and a
/// constant-time `PartialEq`, the same for every kind.
macro_rules! secrets {
    ($($(#[$doc:meta])* $name:ident;)+) => {$(
        $(#[$doc])*
        #[derive(Clone)]
        pub struct $name(String);

        impl $name {
            pub fn new(value: impl Into<String>) -> Self {
                $name(value.into())
            }

            pub fn expose(&self) -> &str {
                &self.0
            }

            /// The only form in which it is ever shown unasked: enough to tell two apart,
            /// not enough to use one (see `mask`).
            pub fn masked(&self) -> String {
                mask(&self.0)
            }

            /// Whether it is `value`, compared in constant time.
            pub fn is(&self, value: &str) -> bool {
                constant_time_eq(self.0.as_bytes(), value.as_bytes())
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(concat!(stringify!($name), "(redacted)"))
            }
        }

        impl PartialEq for $name {
            fn eq(&self, other: &Self) -> bool {
                self.is(&other.0)
            }
        }

        impl Eq for $name {}
    )+};
}

secrets! {
    /// The client's password at the provider (`clientSecret`, `UNITO_CLIENT_SECRET`).
    ClientSecret;
    /// What the connector is called with; the file's `accessToken`.
    AccessToken;
    /// What new access tokens are asked with; the file's `refreshToken`. Some providers
    /// rotate it, and presenting a spent one can revoke the grant.
    RefreshToken;
    /// The single-use `code` the provider's redirect carries.
    AuthorizationCode;
    /// The PKCE `code_verifier` only this login attempt knows.
    PkceVerifier;
    /// The `state` one login attempt sent, which the redirect must bring back unchanged.
    LoginState;
    /// The resource owner's password (the password grant).
    Password;
    /// A private key, or an HS256 shared secret, that signs assertions.
    SigningKey;
    /// A signed JWT assertion (jwt-bearer, `private_key_jwt`): a credential until it expires.
    Assertion;
    /// The ngrok agent's authtoken (`NGROK_AUTHTOKEN`).
    NgrokAuthtoken;
}

pub fn mask(value: &str) -> String {
    let len = value.chars().count();
    if len < 8 {
        format!("… ({len} chars)")
    } else {
        let head: String = value.chars().take(4).collect();
        format!("{head}… ({len} chars)")
    }
}

/// Compares without an early exit, so the time taken says nothing about how much of a
/// guess was right. Only the length can differ in time, and a length is no secret.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    use subtle::ConstantTimeEq;
    #[cfg(test)]
    CONSTANT_TIME_CALLS.with(|c| c.set(c.get() + 1));
    a.ct_eq(b).into()
}

#[cfg(test)]
thread_local! {
    /// How many comparisons went through `constant_time_eq` on this thread.
    static CONSTANT_TIME_CALLS: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each kind's `Debug`, alone and inside another value, names the kind and nothing of
    /// the value.
    #[test]
    fn debug_of_every_kind_is_redacted() {
        let value = "fake-super-secret-value-123";
        let shown = [
            (format!("{:?}", ClientSecret::new(value)), "ClientSecret"),
            (format!("{:?}", AccessToken::new(value)), "AccessToken"),
            (format!("{:?}", RefreshToken::new(value)), "RefreshToken"),
            (
                format!("{:?}", AuthorizationCode::new(value)),
                "AuthorizationCode",
            ),
            (format!("{:?}", PkceVerifier::new(value)), "PkceVerifier"),
            (format!("{:?}", LoginState::new(value)), "LoginState"),
            (format!("{:?}", Password::new(value)), "Password"),
            (format!("{:?}", SigningKey::new(value)), "SigningKey"),
            (format!("{:?}", Assertion::new(value)), "Assertion"),
            (
                format!("{:?}", NgrokAuthtoken::new(value)),
                "NgrokAuthtoken",
            ),
        ];
        for (debug, kind) in shown {
            assert_eq!(debug, format!("{kind}(redacted)"));
        }
        let nested = format!("{:?}", Some(vec![RefreshToken::new(value)]));
        assert!(!nested.contains("secret-value"), "{nested}");
    }

    #[test]
    fn equality_compares_the_values() {
        let a = AccessToken::new("fake-access-0001");
        assert_eq!(a, AccessToken::new("fake-access-0001"));
        assert_ne!(a, AccessToken::new("fake-access-0002"));
        assert_ne!(a, AccessToken::new("fake-access-00011"));
        assert_ne!(a, AccessToken::new(""));
        assert!(a.is("fake-access-0001"));
        assert!(!a.is("fake-access-000"));
        assert_eq!(ClientSecret::new(""), ClientSecret::new(""));
    }

    /// A derived `PartialEq` would give the same answers, only in variable time: what is
    /// checked is that every comparison goes through `constant_time_eq`.
    #[test]
    fn equality_goes_through_the_constant_time_path() {
        let through = || CONSTANT_TIME_CALLS.with(|c| c.get());
        let pairs = [
            ("fake-a", "fake-a"),
            ("fake-a", "fake-b"),
            ("fake-a", "fake-ab"),
        ];
        for (x, y) in pairs {
            let before = through();
            let equal = RefreshToken::new(x) == RefreshToken::new(y);
            assert_eq!(
                through(),
                before + 1,
                "{x} == {y} bypassed constant_time_eq"
            );
            assert_eq!(equal, x == y);
            assert_eq!(RefreshToken::new(x).is(y), x == y);
            assert_eq!(through(), before + 2, "is({y}) bypassed constant_time_eq");
        }
    }

    #[test]
    fn mask_shows_four_chars_and_length_only_for_long_values() {
        assert_eq!(mask("abcdefghijklmnop"), "abcd… (16 chars)");
        assert_eq!(mask("abcdefgh"), "abcd… (8 chars)");
        assert_eq!(mask("short"), "… (5 chars)");
    }

    #[test]
    fn constant_time_eq_matches_plain_equality() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"abcd"));
        assert!(!constant_time_eq(b"", b"a"));
    }
}
