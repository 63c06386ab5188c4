//! Recovery codes: single-use second factors for a lost phone or passkey, shown once
//! and stored as SHA-256 digests.
//!
//! Each code carries 80 random bits, so its plain SHA-256 cannot be reversed by
//! guessing, and no server key is involved: the codes survive a rotation of
//! `ROSTER_SESSION_KEY`, which a keyed digest would not.

use sha2::{Digest, Sha256};

/// How many codes an account gets at a time.
pub const COUNT: usize = 10;
/// Random bytes per code: 80 bits, 16 base32 letters and digits.
const BYTES: usize = 10;
const LETTERS: usize = 16;

/// A recovery code as shown once: `abcd-efgh-ijkl-mnop`.
#[derive(Clone, PartialEq, Eq)]
pub struct RecoveryCode(String);

impl RecoveryCode {
    /// A fresh code from the operating system's random source.
    pub fn generate() -> Self {
        let mut bytes = [0u8; BYTES];
        super::random::fill(&mut bytes);
        Self(data_encoding::BASE32_NOPAD.encode(&bytes).to_ascii_lowercase())
    }

    /// [`COUNT`] fresh codes.
    pub fn generate_set() -> Vec<RecoveryCode> {
        (0..COUNT).map(|_| Self::generate()).collect()
    }

    /// A code as someone typed it: spaces and dashes dropped, any case, and the digits
    /// that look like letters base32 does not use (`0`, `1`, `8`) read as those
    /// letters. `None` when it cannot be a code.
    pub fn parse(typed: &str) -> Option<RecoveryCode> {
        let code: String = typed
            .chars()
            .filter(|c| !c.is_whitespace() && *c != '-')
            .map(|c| match c.to_ascii_lowercase() {
                '0' => 'o',
                '1' => 'l',
                '8' => 'b',
                other => other,
            })
            .collect();
        let base32 = |c: char| c.is_ascii_lowercase() || ('2'..='7').contains(&c);
        (code.chars().count() == LETTERS && code.chars().all(base32)).then_some(RecoveryCode(code))
    }

    /// The code in four groups, as shown and downloaded.
    pub fn shown(&self) -> String {
        self.0.as_bytes().chunks(4).map(|c| String::from_utf8_lossy(c).into_owned()).collect::<Vec<_>>().join("-")
    }

    /// What is stored: the SHA-256 of the code's letters.
    pub fn digest(&self) -> Vec<u8> {
        Sha256::digest(self.0.as_bytes()).to_vec()
    }
}

impl std::fmt::Debug for RecoveryCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RecoveryCode(**redacted**)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_set_is_ten_different_codes_shown_in_four_groups() {
        let set = RecoveryCode::generate_set();
        assert_eq!(set.len(), COUNT);
        let digests: std::collections::BTreeSet<Vec<u8>> = set.iter().map(RecoveryCode::digest).collect();
        assert_eq!(digests.len(), COUNT, "all different");
        let shown = set[0].shown();
        assert_eq!(shown.len(), 19, "{shown}");
        assert_eq!(shown.matches('-').count(), 3, "{shown}");
        assert_eq!(RecoveryCode::parse(&shown), Some(set[0].clone()), "a shown code reads back");
    }

    #[test]
    fn typed_codes_forgive_case_spacing_and_look_alike_digits() {
        let code = RecoveryCode::parse("abcd-efgh-ijkl-mnop").unwrap();
        for typed in ["ABCD EFGH IJKL MNOP", "abcdefghijklmnop", " abcd-efgh-ijkl-mnop ", "abcd-efgh-ijk1-mn0p"] {
            assert_eq!(RecoveryCode::parse(typed).as_ref(), Some(&code), "{typed:?}");
        }
        assert_eq!(RecoveryCode::parse("ab8d-efgh-ijkl-mnop").unwrap().shown(), "abbd-efgh-ijkl-mnop");
        for typed in ["", "abcd-efgh-ijkl", "abcd-efgh-ijkl-mnop-q", "abcd-efgh-ijkl-mn9p", "abcd-éfgh-ijkl-mnop"] {
            assert_eq!(RecoveryCode::parse(typed), None, "{typed:?}");
        }
    }

    #[test]
    fn only_the_digest_is_kept_and_it_names_the_code_alone() {
        let code = RecoveryCode::parse("abcd-efgh-ijkl-mnop").unwrap();
        assert_eq!(code.digest(), Sha256::digest(b"abcdefghijklmnop").to_vec());
        assert_ne!(code.digest(), RecoveryCode::parse("abcd-efgh-ijkl-mnoq").unwrap().digest());
        assert_eq!(format!("{code:?}"), "RecoveryCode(**redacted**)");
    }
}
