//! Where mail goes: an SMTP server through lettre, or the dev mailbox.

use lettre::message::header::ContentType;
use lettre::message::{Mailbox, MultiPart, SinglePart};
use lettre::{Message, SmtpTransport, Transport as _};

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

fn build(from: &Mailbox, message: &outbox::Message) -> Result<Message, String> {
    let to: Mailbox = message.to_address.parse().map_err(|e| format!("bad recipient {}: {e}", message.to_address))?;
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
