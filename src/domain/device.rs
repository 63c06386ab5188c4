//! What a signed-in browser is, in words, from its `User-Agent` (for Account → Sessions).

/// The longest `User-Agent` kept with a session; longer ones are cut (at a character boundary).
pub const MAX_USER_AGENT: usize = 512;

/// "Chrome on Linux", "Firefox on Windows 10", "Safari on iPhone"; a browser that
/// cannot be told apart is "Unknown browser". Parsed by the `woothee` crate.
pub fn describe(user_agent: &str) -> String {
    const UNKNOWN: &str = "UNKNOWN";
    let parsed = woothee::parser::Parser::new().parse(user_agent);
    match parsed {
        Some(p) if p.name != UNKNOWN && p.os != UNKNOWN => format!("{} on {}", p.name, p.os),
        Some(p) if p.name != UNKNOWN => p.name.to_owned(),
        _ => "Unknown browser".to_owned(),
    }
}

/// `user_agent` cut to [`MAX_USER_AGENT`] bytes without splitting a character.
pub fn shortened(user_agent: &str) -> &str {
    if user_agent.len() <= MAX_USER_AGENT {
        return user_agent;
    }
    let mut end = MAX_USER_AGENT;
    while !user_agent.is_char_boundary(end) {
        end -= 1;
    }
    &user_agent[..end]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn browsers_are_named_as_people_know_them() {
        let chrome =
            "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0.0.0 Safari/537.36";
        assert_eq!(describe(chrome), "Chrome on Linux");
        let firefox = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:130.0) Gecko/20100101 Firefox/130.0";
        assert_eq!(describe(firefox), "Firefox on Windows 10");
        assert_eq!(describe(""), "Unknown browser");
        assert_eq!(describe("curl/8.5.0"), "HTTP Library");
        assert_eq!(describe("something else entirely"), "Unknown browser");
    }

    #[test]
    fn long_agents_are_cut_at_a_character_boundary() {
        let long = "é".repeat(400);
        let cut = shortened(&long);
        assert!(cut.len() <= MAX_USER_AGENT && cut.chars().all(|c| c == 'é'));
        assert_eq!(shortened("short"), "short");
    }
}
