//! Where mail goes: an SMTP server through lettre, or the dev mailbox.

use lettre::message::header::ContentType;
use lettre::message::{Mailbox, MultiPart, SinglePart};
use lettre::{Address, Message, SmtpTransport, Transport as _};

use crate::db::outbox;

/// A configured way of delivering mail.
#[derive(Clone)]
pub enum Transport {
    /// Real delivery through an SMTP server.
    Smtp { transport: Box<SmtpTransport>, from: Mailbox },
    /// No delivery: the message stays in the outbox, which `/dev/mailbox` shows.
    DevMailbox,
}

impl Transport {
    /// From the settings: SMTP when a URL is given, the dev mailbox otherwise.
    pub fn from_settings(smtp_url: Option<&str>, from: &str) -> anyhow::Result<Self> {
        match smtp_url {
            None => Ok(Transport::DevMailbox),
            Some(url) => {
                let transport = SmtpTransport::from_url(url)
                    .map_err(|e| anyhow::anyhow!("ROSTER_SMTP_URL is not usable: {e}"))?
                    .timeout(Some(std::time::Duration::from_secs(20)))
                    .build();
                let from =
                    from.parse().map_err(|e| anyhow::anyhow!("ROSTER_MAIL_FROM is not an address ({from}): {e}"))?;
                Ok(Transport::Smtp { transport: Box::new(transport), from })
            }
        }
    }

    /// Delivers one message; the error text is kept on its job and its outbox row.
    pub fn send(&self, message: &outbox::Message) -> Result<(), String> {
        match self {
            Transport::DevMailbox => Ok(()),
            Transport::Smtp { transport, from } => {
                let email = build(from, message)?;
                transport.send(&email).map(|_| ()).map_err(|e| e.to_string())
            }
        }
    }
}

/// Why a test message did not go out, in a sentence for the operator.
fn explain(error: &lettre::transport::smtp::Error) -> String {
    if let Some(code) = error.status() {
        let kind = if error.is_permanent() { "refused it" } else { "could not take it now" };
        return format!("The SMTP server {kind} with {code}: {error}.");
    }
    if error.is_tls() {
        return format!(
            "The TLS connection to the SMTP server failed: {error}. Check the port and `?tls=` in ROSTER_SMTP_URL."
        );
    }
    format!("Could not talk to the SMTP server: {error}. Check the host and port in ROSTER_SMTP_URL, and that it is reachable from here.")
}

impl Transport {
    /// `roster check-mail`: sends one test message to `to` through this transport
    /// and says what happened in a sentence.
    pub fn check(&self, to: &str) -> Result<String, String> {
        let Transport::Smtp { transport, from } = self else {
            return Err("No mail server is configured: ROSTER_SMTP_URL is unset, so Roster keeps mail in the dev \
                        mailbox (/dev/mailbox) on a local address and sends nothing. Set ROSTER_SMTP_URL, \
                        e.g. smtp://user:pass@host:587."
                .into());
        };
        let to: Mailbox = to.parse().map_err(|e| format!("--to is not an email address ({to}): {e}"))?;
        let email = Message::builder()
            .from(from.clone())
            .to(to.clone())
            .subject("Roster mail check")
            .header(ContentType::TEXT_PLAIN)
            .body("This is a test message from `roster check-mail`. Mail from Roster reaches this inbox.\n".to_owned())
            .map_err(|e| e.to_string())?;
        match transport.send(&email) {
            Ok(response) => Ok(format!(
                "The SMTP server accepted a test message to {} ({}). Check that inbox, and its spam folder.",
                to.email,
                response.message().collect::<Vec<_>>().join(" ")
            )),
            Err(error) => Err(explain(&error)),
        }
    }
}

fn build(from: &Mailbox, message: &outbox::Message) -> Result<Message, String> {
    let address: Address =
        message.to_address.parse().map_err(|e| format!("bad recipient {}: {e}", message.to_address))?;
    // lettre quotes or encodes the name as the header needs (commas, quotes, non-ASCII).
    let to = Mailbox::new(message.to_name.clone(), address);
    Message::builder()
        .from(from.clone())
        .to(to)
        .subject(&message.subject)
        .multipart(
            MultiPart::alternative()
                .singlepart(SinglePart::builder().header(ContentType::TEXT_PLAIN).body(message.text_body.clone()))
                .singlepart(SinglePart::builder().header(ContentType::TEXT_HTML).body(message.html_body.clone())),
        )
        .map_err(|e| e.to_string())
}
