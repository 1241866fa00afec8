//! What `sso-login` keeps to renew the SSO session without a browser (its client registration
//! and refresh token, in `~/.aws/<p>/leverage-doctor/`), and the one decision of whether that
//! renewal will work: `status` says `refreshable` exactly when `sso-login` would renew.

use chrono::{DateTime, Duration, Utc};

/// Where the client registration and the refresh token are kept: `~/.aws/<p>/leverage-doctor/`,
/// 0700/0600, outside `sso/cache/`.
pub const STATE_DIR: &str = "leverage-doctor";
pub const STATE_FILE: &str = "sso-session.json";
/// Where earlier versions kept the registration (removed on the next sign-in and by sso-reset).
pub const OLD_REGISTRATION_FILE: &str = "leverage-doctor-client.json";

/// The scope every sign-in asks for.
pub const SCOPE: &str = "sso:account:access";

/// A registration is reused only while it stays valid at least this long.
pub const REGISTRATION_MARGIN: Duration = Duration::hours(1);

/// An SSO-OIDC client registration (RegisterClient's answer, as kept).
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Registration {
    pub client_id: String,
    pub client_secret: String,
    pub expires_at: String,
    pub region: String,
    pub scopes: Vec<String>,
    #[serde(default)]
    pub grant_types: Vec<String>,
}

impl Registration {
    /// Usable for at least `REGISTRATION_MARGIN` more, for this region and these grants.
    pub fn reusable(&self, region: &str, grants: &[&str], now: DateTime<Utc>) -> bool {
        let expires = DateTime::parse_from_rfc3339(&self.expires_at)
            .ok()
            .map(|t| t.with_timezone(&Utc));
        self.region == region
            && self.scopes.iter().any(|s| s == SCOPE)
            && grants
                .iter()
                .all(|g| self.grant_types.iter().any(|h| h == g))
            && match (expires, now.checked_add_signed(REGISTRATION_MARGIN)) {
                (Some(t), Some(limit)) => t > limit,
                _ => false,
            }
    }
}

/// What a sign-in keeps to renew the session without a browser.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SavedSession {
    pub start_url: String,
    pub registration: Registration,
    pub refresh_token: Option<String>,
}

impl SavedSession {
    /// Kept for this portal (the same start URL, a trailing `/` or `#/` aside) and region.
    pub fn is_for(&self, start_url: &str, region: &str) -> bool {
        same_start_url(&self.start_url, start_url) && self.registration.region == region
    }

    /// Whether `sso-login` renews the session with the refresh token, with no browser and no
    /// code: kept for this portal and region, a refresh token, and a registration valid for
    /// the margin `sso-login` requires.
    pub fn renews(&self, start_url: &str, region: &str, now: DateTime<Utc>) -> bool {
        self.is_for(start_url, region)
            && self.refresh_token.as_deref().is_some_and(|t| !t.is_empty())
            && self.registration.reusable(region, &["refresh_token"], now)
    }
}

pub use crate::values::same_start_url;

/// An account the SSO portal lists for the signed-in user, with the roles it offers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortalAccount {
    pub id: String,
    pub name: String,
    pub roles: Vec<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn saved(expires_at: &str, refresh: Option<&str>) -> SavedSession {
        SavedSession {
            start_url: "https://bb.awsapps.com/start".into(),
            registration: Registration {
                client_id: "c".into(),
                client_secret: "s".into(),
                expires_at: expires_at.into(),
                region: "us-east-1".into(),
                scopes: vec![SCOPE.into()],
                grant_types: vec!["refresh_token".into()],
            },
            refresh_token: refresh.map(str::to_string),
        }
    }

    #[test]
    fn renews_only_where_sso_login_would() {
        let now = DateTime::parse_from_rfc3339("2026-11-27T12:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let url = "https://bb.awsapps.com/start/#/";
        assert!(saved("2026-12-27T12:00:00Z", Some("r")).renews(url, "us-east-1", now));
        assert!(!saved("2026-12-27T12:00:00Z", Some("r")).renews(url, "eu-west-1", now));
        assert!(!saved("2026-12-27T12:00:00Z", Some("r")).renews(
            "https://other.awsapps.com/start",
            "us-east-1",
            now
        ));
        assert!(!saved("2026-12-27T12:00:00Z", None).renews(url, "us-east-1", now));
        // Valid, but for less than the margin: sso-login registers again (a browser).
        assert!(!saved("2026-11-27T12:30:00Z", Some("r")).renews(url, "us-east-1", now));
        assert!(!saved("not a time", Some("r")).renews(url, "us-east-1", now));
        assert!(!saved("+262143-12-31T23:59:59Z", Some("r")).renews(
            url,
            "us-east-1",
            DateTime::<Utc>::MAX_UTC
        ));
    }
}
