//! Bulk address input (DESIGN.md §2.4): addresses separated by newlines, commas,
//! semicolons or spaces, `Name <address>` forms accepted, duplicates collapsed,
//! and every invalid entry reported with its text and reason.

use super::email_address::{EmailAddress, EmailError};

/// An entry that is not an address, as typed, with the reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidEntry {
    pub text: String,
    pub reason: String,
}

/// The outcome of parsing a pasted list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EmailList {
    /// Valid addresses, first occurrence first, no two equal (ignoring case).
    pub addresses: Vec<EmailAddress>,
    pub invalid: Vec<InvalidEntry>,
    /// How many repeated addresses were collapsed.
    pub duplicates: usize,
}

#[derive(Debug, PartialEq)]
enum Token {
    Word(String),
    Bracketed(String),
    Break,
}

/// Splits input into words, `<...>` groups and entry breaks, respecting quotes.
fn tokenize(input: &str) -> Vec<Token> {
    let mut tokens = Vec::new();
    let mut word = String::new();
    let mut chars = input.chars().peekable();
    let flush = |word: &mut String, tokens: &mut Vec<Token>| {
        if !word.trim().is_empty() {
            tokens.push(Token::Word(word.trim().to_owned()));
        }
        word.clear();
    };
    while let Some(c) = chars.next() {
        match c {
            '"' => {
                // A quoted display name: kept whole, separators inside it ignored.
                word.push('"');
                for q in chars.by_ref() {
                    word.push(q);
                    if q == '"' {
                        break;
                    }
                }
            }
            '<' => {
                flush(&mut word, &mut tokens);
                // An address in brackets holds no space and no separator: an unclosed
                // `<` ends there, so it cannot swallow the entries after it.
                let mut inner = String::new();
                let mut closed = false;
                while let Some(&b) = chars.peek() {
                    if matches!(b, ',' | ';' | '\n' | '\r') || b.is_whitespace() {
                        break;
                    }
                    chars.next();
                    if b == '>' {
                        closed = true;
                        break;
                    }
                    inner.push(b);
                }
                if closed {
                    tokens.push(Token::Bracketed(inner));
                } else {
                    tokens.push(Token::Word(format!("<{inner}")));
                }
            }
            ',' | ';' | '\n' | '\r' => {
                flush(&mut word, &mut tokens);
                tokens.push(Token::Break);
            }
            c if c.is_whitespace() => flush(&mut word, &mut tokens),
            c => word.push(c),
        }
    }
    flush(&mut word, &mut tokens);
    tokens
}

impl EmailList {
    /// Parses a pasted list of addresses.
    pub fn parse(input: &str) -> EmailList {
        let mut list = EmailList::default();
        let mut seen = std::collections::HashSet::new();
        // Words that may be the display name of a following `<address>`.
        let mut name: Vec<String> = Vec::new();
        let mut add = |list: &mut EmailList, text: &str, shown: &str| match EmailAddress::parse(text) {
            Ok(email) => {
                if seen.insert(email.canonical().to_owned()) {
                    list.addresses.push(email);
                } else {
                    list.duplicates += 1;
                }
            }
            Err(error) => list.invalid.push(InvalidEntry { text: shown.to_owned(), reason: error.to_string() }),
        };
        let not_an_address = |list: &mut EmailList, name: &mut Vec<String>| {
            if !name.is_empty() {
                list.invalid.push(InvalidEntry { text: name.join(" "), reason: EmailError::MissingAt.to_string() });
                name.clear();
            }
        };
        for token in tokenize(input) {
            match token {
                Token::Bracketed(address) => {
                    let shown = if name.is_empty() {
                        format!("<{address}>")
                    } else {
                        format!("{} <{address}>", name.join(" "))
                    };
                    name.clear();
                    add(&mut list, &address, &shown);
                }
                Token::Word(word) if word.contains('@') && !word.starts_with('"') => {
                    not_an_address(&mut list, &mut name);
                    add(&mut list, &word, &word);
                }
                Token::Word(word) => name.push(word),
                Token::Break => not_an_address(&mut list, &mut name),
            }
        }
        not_an_address(&mut list, &mut name);
        list
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unclosed_bracket_is_one_invalid_entry_and_the_addresses_after_it_count() {
        let list = EmailList::parse("ann@example.com, Bob <bob@example.com carol@example.com\ndan@example.com");
        let addresses: Vec<&str> = list.addresses.iter().map(|a| a.as_str()).collect();
        assert_eq!(addresses, ["ann@example.com", "carol@example.com", "dan@example.com"]);
        assert_eq!(list.invalid.len(), 2, "{:?}", list.invalid);
        assert_eq!(list.invalid[0].text, "Bob");
        assert_eq!(list.invalid[1].text, "<bob@example.com");
    }
    use proptest::prelude::*;

    fn addresses(list: &EmailList) -> Vec<&str> {
        list.addresses.iter().map(|a| a.as_str()).collect()
    }

    #[test]
    fn every_separator_and_name_form_is_understood() {
        let list = EmailList::parse(
            "ada@example.com, grace@example.com; alan@example.com\nKatherine Johnson <kj@example.com>\n\
             \"Liskov, Barbara\" <barbara@example.com> edsger@example.com\r\n  linus@example.com  ",
        );
        assert_eq!(
            addresses(&list),
            vec![
                "ada@example.com",
                "grace@example.com",
                "alan@example.com",
                "kj@example.com",
                "barbara@example.com",
                "edsger@example.com",
                "linus@example.com"
            ]
        );
        assert!(list.invalid.is_empty(), "{:?}", list.invalid);
    }

    #[test]
    fn duplicates_collapse_ignoring_case() {
        let list = EmailList::parse("ada@example.com ADA@example.com, Ada <ada@Example.com>");
        assert_eq!(addresses(&list), vec!["ada@example.com"]);
        assert_eq!(list.duplicates, 2);
    }

    #[test]
    fn invalid_entries_are_reported_with_their_text_and_reason() {
        let list = EmailList::parse("ada@example.com, bob, carol@, Dan Brown, <nope>, eve@example");
        assert_eq!(addresses(&list), vec!["ada@example.com"]);
        let invalid: Vec<(&str, &str)> = list.invalid.iter().map(|e| (e.text.as_str(), e.reason.as_str())).collect();
        assert_eq!(
            invalid,
            vec![
                ("bob", EmailError::MissingAt.to_string().as_str()),
                ("carol@", EmailError::MissingAt.to_string().as_str()),
                ("Dan Brown", EmailError::MissingAt.to_string().as_str()),
                ("<nope>", EmailError::MissingAt.to_string().as_str()),
                ("eve@example", EmailError::BadDomain.to_string().as_str()),
            ]
        );
    }

    #[test]
    fn empty_input_gives_an_empty_list() {
        assert_eq!(EmailList::parse(" \n ,; "), EmailList::default());
    }

    proptest! {
        #[test]
        fn nothing_is_dropped_silently(input in "[a-z@., ;<>\"\n]{0,80}") {
            let list = EmailList::parse(&input);
            // Every non-separator character ends up in an address, an invalid entry, or a collapsed duplicate.
            let kept: usize = list.addresses.iter().map(|a| a.as_str().len()).sum::<usize>()
                + list.invalid.iter().map(|e| e.text.len()).sum::<usize>();
            let has_content = input.chars().any(|c| c.is_ascii_alphanumeric() || c == '@' || c == '.');
            prop_assert!(kept > 0 || list.duplicates > 0 || !has_content, "lost {:?}", input);
            let mut seen = std::collections::HashSet::new();
            for address in &list.addresses {
                prop_assert!(seen.insert(address.canonical().to_owned()));
            }
        }
    }
}
