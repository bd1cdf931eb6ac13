//! A string that must never reach a log, an error, a panic message or stdout by accident.
//! `Debug` prints nothing of it and there is no `Display`: reading the value takes an explicit
//! `expose()`, which is easy to grep for in review.

use std::fmt;

#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }

    /// The only form in which a token is ever shown unasked: enough to tell two tokens apart,
    /// not enough to use one. Values too short to be real tokens show no prefix at all.
    pub fn masked(&self) -> String {
        mask(&self.0)
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(redacted)")
    }
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
/// guessed `state` was right.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    use subtle::ConstantTimeEq;
    a.ct_eq(b).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_the_value() {
        let s = Secret::new("super-secret-value-123");
        assert!(!format!("{s:?}").contains("super"));
        assert!(!format!("{:?}", Some(&s)).contains("secret-value"));
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
