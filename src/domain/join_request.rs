//! Join requests (DESIGN.md §2.12): a person asks to join an organization, and its
//! Owner or an Admin approves or denies. What a request may say, and its states.

/// Where a request stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequestStatus {
    /// Waiting for an answer.
    Open,
    Approved,
    Denied,
    /// Taken back by the person who asked.
    Withdrawn,
    /// Closed because they became a member another way (an invitation, their
    /// domain, provisioning, an invite link) while it was open.
    Joined,
}

impl RequestStatus {
    pub const ALL: [RequestStatus; 5] = [
        RequestStatus::Open,
        RequestStatus::Approved,
        RequestStatus::Denied,
        RequestStatus::Withdrawn,
        RequestStatus::Joined,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            RequestStatus::Open => "open",
            RequestStatus::Approved => "approved",
            RequestStatus::Denied => "denied",
            RequestStatus::Withdrawn => "withdrawn",
            RequestStatus::Joined => "joined",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            RequestStatus::Open => "Open",
            RequestStatus::Approved => "Approved",
            RequestStatus::Denied => "Denied",
            RequestStatus::Withdrawn => "Withdrawn",
            RequestStatus::Joined => "Joined",
        }
    }

    pub fn from_db(value: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == value)
    }
}

/// The longest note a request carries, or reason a denial gives.
pub const MAX_TEXT: usize = 500;

/// A note or a reason as typed: trimmed; empty means none. `what` names the field
/// in the message ("note", "reason").
pub fn parse_text(input: &str, what: &str) -> Result<Option<String>, String> {
    let text = input.trim();
    if text.is_empty() {
        return Ok(None);
    }
    let length = text.chars().count();
    if length > MAX_TEXT {
        return Err(format!("Keep the {what} to {MAX_TEXT} characters; it has {length}."));
    }
    Ok(Some(text.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_empty_or_blank_note_is_no_note() {
        assert_eq!(parse_text("", "note"), Ok(None));
        assert_eq!(parse_text("   \n ", "note"), Ok(None));
    }

    #[test]
    fn a_note_is_trimmed() {
        assert_eq!(parse_text("  I run the data team.\n", "note"), Ok(Some("I run the data team.".into())));
    }

    #[test]
    fn a_note_of_more_than_500_characters_is_refused_with_its_length() {
        let long = "é".repeat(501);
        assert_eq!(parse_text(&long, "reason"), Err("Keep the reason to 500 characters; it has 501.".into()));
        assert!(parse_text(&"é".repeat(500), "reason").is_ok());
    }

    #[test]
    fn every_status_reads_back_from_what_is_stored() {
        for status in RequestStatus::ALL {
            assert_eq!(RequestStatus::from_db(status.as_str()), Some(status));
        }
        assert_eq!(RequestStatus::from_db("pending"), None);
    }
}
