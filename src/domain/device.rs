//! What a signed-in browser is, in words, from its `User-Agent` (for Account → Sessions).

use std::sync::LazyLock;

/// The longest `User-Agent` kept with a session; longer ones are cut (at a character boundary).
pub const MAX_USER_AGENT: usize = 512;

/// The browser and system patterns of the ua-parser project (vendor/uap-core), read
/// once, on the first description.
struct Parsers {
    browser: ua_parser::user_agent::Extractor<'static>,
    os: ua_parser::os::Extractor<'static>,
}

static PARSERS: LazyLock<Option<Parsers>> = LazyLock::new(|| {
    let regexes: ua_parser::Regexes<'static> =
        serde_json::from_str(include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/vendor/uap-core/regexes.json")))
            .ok()?;
    Some(Parsers {
        browser: ua_parser::user_agent::Builder::new().push_all(regexes.user_agent_parsers).ok()?.build().ok()?,
        os: ua_parser::os::Builder::new().push_all(regexes.os_parsers).ok()?.build().ok()?,
    })
});

/// Programs that fetch pages without being a browser: named as such, not by name.
const HTTP_LIBRARIES: &[&str] = &[
    "curl",
    "Wget",
    "Python Requests",
    "Python-urllib",
    "PycURL",
    "Go-http-client",
    "okhttp",
    "Apache-HttpClient",
    "HTTPie",
    "libwww-perl",
];

/// "Chrome on Linux", "Firefox on Windows 10", "Mobile Safari on iOS"; a program
/// like curl is "HTTP Library", and a browser that cannot be told apart is "Unknown
/// browser". Parsed with the `ua-parser` crate and the ua-parser project's patterns.
pub fn describe(user_agent: &str) -> String {
    let unknown = || "Unknown browser".to_owned();
    let Some(parsers) = PARSERS.as_ref() else { return unknown() };
    let browser = match parsers.browser.extract(user_agent) {
        Some(found) if found.family != "Other" => found.family,
        _ => return unknown(),
    };
    if HTTP_LIBRARIES.contains(&&*browser) {
        return "HTTP Library".to_owned();
    }
    match parsers.os.extract(user_agent) {
        Some(os) if os.os != "Other" => {
            let system = match (&*os.os, os.major.as_deref()) {
                ("Windows", Some(major)) => format!("Windows {major}"),
                ("Mac OS X", _) => "macOS".to_owned(),
                (name, _) => name.to_owned(),
            };
            format!("{browser} on {system}")
        }
        _ => browser.into_owned(),
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
        let iphone = "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) \
                      Version/18.1 Mobile/15E148 Safari/604.1";
        assert_eq!(describe(iphone), "Mobile Safari on iOS");
        let mac = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) \
                   Version/18.1 Safari/605.1.15";
        assert_eq!(describe(mac), "Safari on macOS");
        for library in ["Wget/1.21.4", "python-requests/2.32.3", "Go-http-client/2.0"] {
            assert_eq!(describe(library), "HTTP Library", "{library}");
        }
    }

    #[test]
    fn the_vendored_patterns_load() {
        assert!(PARSERS.is_some(), "vendor/uap-core/regexes.json is read and every pattern compiles");
    }

    #[test]
    fn long_agents_are_cut_at_a_character_boundary() {
        let long = "é".repeat(400);
        let cut = shortened(&long);
        assert!(cut.len() <= MAX_USER_AGENT && cut.chars().all(|c| c == 'é'));
        assert_eq!(shortened("short"), "short");
    }
}
