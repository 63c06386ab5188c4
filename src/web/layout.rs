//! What every page's frame needs: header, navigation, flash messages, CSRF token.

use actix_web::dev::Payload;
use actix_web::{web, FromRequest, HttpRequest};
use futures_util::future::LocalBoxFuture;

use super::csrf::CsrfToken;
use super::session::{Flash, TypedSession};
use super::state::AppState;
use crate::services::viewer::{OrgChoice, Viewer};

/// Main navigation entries (DESIGN.md §1), marked active on their page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Nav {
    None,
    Dashboard,
    Overview,
    Members,
    /// Members → Requests.
    Requests,
    Invitations,
    Teams,
    Projects,
    Access,
    Seats,
    Audit,
    Settings,
}

impl Nav {
    pub fn as_str(self) -> &'static str {
        match self {
            Nav::None => "",
            Nav::Dashboard => "dashboard",
            Nav::Overview => "overview",
            Nav::Members => "members",
            Nav::Requests => "requests",
            Nav::Invitations => "invitations",
            Nav::Teams => "teams",
            Nav::Projects => "projects",
            Nav::Access => "access",
            Nav::Seats => "seats",
            Nav::Audit => "audit",
            Nav::Settings => "settings",
        }
    }
}

/// The data `templates/base.html` renders around every page.
pub struct Layout {
    pub title: String,
    pub csrf: String,
    pub flashes: Vec<Flash>,
    pub viewer: Option<Viewer>,
    /// False when who is signed in could not be known (the database is down): the
    /// header then offers neither `Sign in` nor the account menu.
    pub viewer_known: bool,
    /// The organization the page is about, for the switcher and the navigation.
    pub org: Option<OrgChoice>,
    pub nav: Nav,
    pub support_url: Option<String>,
    pub dev_mailbox: bool,
    /// The page offers its own way to sign in or create an account (an invitation
    /// link's page): the header's plain `Sign in` and `Create account`, which would
    /// lose the invitation, are left out.
    pub offers_sign_in: bool,
}

impl Layout {
    /// Whether `name` ("dashboard", "overview", ...) is the current navigation entry.
    pub fn is(&self, name: &str) -> bool {
        self.nav.as_str() == name
    }
    pub fn current_org_name(&self) -> &str {
        self.org.as_ref().map(|o| o.name.as_str()).unwrap_or("")
    }
    pub fn current_org_slug(&self) -> &str {
        self.org.as_ref().map(|o| o.slug.as_str()).unwrap_or("")
    }
}

/// Request-scoped pieces of the layout; handlers finish it with [`Frame::layout`].
pub struct Frame {
    csrf: String,
    flashes: Vec<Flash>,
    support_url: Option<String>,
    dev_mailbox: bool,
    pub session: TypedSession,
}

impl Frame {
    /// The layout for a page titled `title`, seen by `viewer`, about organization `org` (a slug).
    pub fn layout(self, title: impl Into<String>, viewer: Option<Viewer>, org: Option<&str>, nav: Nav) -> Layout {
        let org = org.and_then(|slug| viewer.as_ref()?.orgs.iter().find(|o| o.slug == slug).cloned());
        Layout {
            title: title.into(),
            csrf: self.csrf,
            flashes: self.flashes,
            viewer,
            viewer_known: true,
            org,
            nav,
            support_url: self.support_url,
            dev_mailbox: self.dev_mailbox,
            offers_sign_in: false,
        }
    }

    pub fn csrf(&self) -> &str {
        &self.csrf
    }
}

impl FromRequest for Frame {
    type Error = actix_web::Error;
    type Future = LocalBoxFuture<'static, Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let csrf = CsrfToken::from_request(req, payload);
        let session = TypedSession::from_request(req, payload);
        let state = req.app_data::<web::Data<AppState>>().cloned();
        // One-time messages are for the next full page: an htmx request (a live
        // refresh, a boosted table link) leaves them for it.
        let full_page = !super::htmx::is_htmx(req);
        Box::pin(async move {
            let csrf = csrf.await?;
            let session = session.await?;
            let (support_url, dev_mailbox) = state
                .map(|s| (s.settings.support_url.as_ref().map(|u| u.to_string()), s.settings.uses_dev_mailbox()))
                .unwrap_or_default();
            let flashes = if full_page { session.take_flashes() } else { Vec::new() };
            Ok(Frame { csrf: csrf.0, flashes, support_url, dev_mailbox, session })
        })
    }
}
