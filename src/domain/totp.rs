//! Authenticator apps (RFC 6238 TOTP: SHA-1, 6 digits, 30-second steps, one step of
//! clock skew either way), on the `totp-rs` crate; a code is accepted once.

/// The bytes of a new secret: 160 bits, what RFC 4226 recommends for SHA-1.
pub const SECRET_LEN: usize = 20;
/// Steps of clock skew accepted either side of now.
const SKEW: u16 = 1;

/// An authenticator app's shared secret.
#[derive(Clone, PartialEq, Eq)]
pub struct TotpSecret(Vec<u8>);

/// Why a code is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum CodeError {
    #[error("Enter the 6-digit code your authenticator app shows.")]
    Malformed,
    #[error("That code is not right. Check the time on your phone, then enter the code shown now.")]
    Wrong,
    #[error("That code was used already. Wait for the next one.")]
    Used,
}

impl TotpSecret {
    /// A fresh secret from the operating system's random source.
    pub fn generate() -> Self {
        let mut bytes = vec![0u8; SECRET_LEN];
        super::random::fill(&mut bytes);
        Self(bytes)
    }

    /// The secret as it was stored (unsealed).
    pub fn from_bytes(bytes: Vec<u8>) -> Self {
        Self(bytes)
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// The secret as people type it into an app that cannot scan: RFC 4648 base32, in
    /// groups of four.
    pub fn for_typing(&self) -> String {
        let text = data_encoding::BASE32_NOPAD.encode(&self.0);
        text.as_bytes().chunks(4).map(|c| String::from_utf8_lossy(c).into_owned()).collect::<Vec<_>>().join(" ")
    }

    /// The `otpauth://` URL the QR code carries: the app lists it as `issuer (account)`.
    pub fn url(&self, issuer: &str, account: &str) -> Option<String> {
        // `:` separates issuer and account in the label, so neither may hold one.
        let (issuer, account) = (issuer.replace(':', " "), account.replace(':', " "));
        self.totp(Some(issuer), account).ok()?.to_url().ok()
    }

    fn totp(&self, issuer: Option<String>, account: String) -> Result<totp_rs::Totp, totp_rs::TotpError> {
        totp_rs::Builder::new()
            .with_secret(self.0.clone())
            .with_skew(SKEW)
            .with_issuer(issuer)
            .with_account_name(account)
            .build()
    }

    /// The step a code typed at `now` (Unix seconds) belongs to, if it is right within
    /// one step either way and newer than `last_used`, the step of the last code the
    /// account used: a code is accepted once, and never an older one after it.
    pub fn check(&self, typed: &str, now: u64, last_used: Option<i64>) -> Result<i64, CodeError> {
        let digits: String = typed.chars().filter(|c| !c.is_whitespace() && *c != '-').collect();
        if digits.len() != 6 || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(CodeError::Malformed);
        }
        let totp = self.totp(None, String::new()).map_err(|_| CodeError::Wrong)?;
        let step = totp.check(&digits, now).ok_or(CodeError::Wrong)?;
        let step = i64::try_from(step).map_err(|_| CodeError::Wrong)?;
        match last_used {
            Some(last) if step <= last => Err(CodeError::Used),
            _ => Ok(step),
        }
    }
}

impl std::fmt::Debug for TotpSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TotpSecret(**redacted**)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 6238 appendix B's SHA-1 secret.
    fn rfc_secret() -> TotpSecret {
        TotpSecret::from_bytes(b"12345678901234567890".to_vec())
    }

    /// The code an app shows at `time`.
    fn code_at(secret: &TotpSecret, time: u64) -> String {
        secret.totp(None, String::new()).unwrap().generate(time).to_string()
    }

    #[test]
    fn codes_match_the_rfc_6238_test_vectors() {
        // Appendix B gives 8 digits; an app shows the last 6.
        let vectors = [
            (59, "94287082"),
            (1_111_111_109, "07081804"),
            (1_111_111_111, "14050471"),
            (1_234_567_890, "89005924"),
            (2_000_000_000, "69279037"),
            (20_000_000_000, "65353130"),
        ];
        let secret = rfc_secret();
        for (time, eight) in vectors {
            assert_eq!(code_at(&secret, time), &eight[2..], "T = {time}");
            assert_eq!(secret.check(&eight[2..], time, None), Ok(i64::try_from(time / 30).unwrap()));
        }
    }

    #[test]
    fn one_step_of_clock_skew_is_accepted_and_two_are_not() {
        let secret = TotpSecret::generate();
        let now = 1_800_000_000;
        assert!(secret.check(&code_at(&secret, now - 30), now, None).is_ok(), "the phone is 30 s behind");
        assert!(secret.check(&code_at(&secret, now + 30), now, None).is_ok(), "the phone is 30 s ahead");
        assert_eq!(secret.check(&code_at(&secret, now - 60), now, None), Err(CodeError::Wrong));
        assert_eq!(secret.check(&code_at(&secret, now + 60), now, None), Err(CodeError::Wrong));
    }

    #[test]
    fn a_code_is_accepted_once_and_no_older_one_after_it() {
        let secret = TotpSecret::generate();
        let now = 1_800_000_000;
        let step = secret.check(&code_at(&secret, now), now, None).unwrap();
        assert_eq!(secret.check(&code_at(&secret, now), now + 5, Some(step)), Err(CodeError::Used));
        assert_eq!(secret.check(&code_at(&secret, now - 30), now + 5, Some(step)), Err(CodeError::Used));
        assert_eq!(secret.check(&code_at(&secret, now + 30), now + 30, Some(step)), Ok(step + 1));
    }

    #[test]
    fn typed_codes_may_have_spaces_and_anything_else_is_refused_as_malformed() {
        let secret = rfc_secret();
        assert!(secret.check("287 082", 59, None).is_ok());
        assert!(secret.check(" 287-082 ", 59, None).is_ok());
        for typed in ["", "28708", "2870821", "28708a", "２８７０８２"] {
            assert_eq!(secret.check(typed, 59, None), Err(CodeError::Malformed), "{typed:?}");
        }
    }

    #[test]
    fn the_secret_is_shown_in_base32_and_carried_by_an_otpauth_url() {
        let secret = rfc_secret();
        assert_eq!(secret.for_typing(), "GEZD GNBV GY3T QOJQ GEZD GNBV GY3T QOJQ");
        let url = secret.url("Roster", "ada@example.com").unwrap();
        assert!(url.starts_with("otpauth://totp/Roster:ada%40example.com?"), "{url}");
        assert!(url.contains("secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ") && url.contains("issuer=Roster"), "{url}");
        assert!(secret.url("Roster", "odd:name@example.com").is_some(), "a colon cannot break the label");
        assert_eq!(format!("{secret:?}"), "TotpSecret(**redacted**)");
        assert_eq!(TotpSecret::generate().as_bytes().len(), SECRET_LEN);
    }
}
