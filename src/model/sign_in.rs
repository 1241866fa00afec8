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
    /// Empty in the file when the secret store keeps it (`SavedSession::secrets_in`).
    #[serde(default)]
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
    /// Where the refresh token and the client secret are kept when not in this file: the
    /// secret store's name (`keyring (Secret Service)`). None: in this file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secrets_in: Option<String>,
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
            && (self.refresh_token.as_deref().is_some_and(|t| !t.is_empty())
                || self.secrets_in.is_some())
            && self.registration.reusable(region, &["refresh_token"], now)
    }
}

/// `token-store`: where the refresh token and the client secret are kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TokenStore {
    /// The 0600 file beside the registration (`leverage-doctor/sso-session.json`).
    File,
    /// The OS secret store; the file when it fails (said on stderr).
    Keyring,
    /// The OS secret store when one answers in time, else the file (said only when a store
    /// exists but failed).
    #[default]
    Auto,
}

impl TokenStore {
    pub const NAMES: &[&str] = &["file", "keyring", "auto"];

    pub fn parse(s: &str) -> Option<TokenStore> {
        match s {
            "file" => Some(TokenStore::File),
            "keyring" => Some(TokenStore::Keyring),
            "auto" => Some(TokenStore::Auto),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            TokenStore::File => "file",
            TokenStore::Keyring => "keyring",
            TokenStore::Auto => "auto",
        }
    }
}

/// One entry of an OS secret store (the project's), or a test double. Errors are text fit to
/// show (no secret in them).
pub trait SecretStore {
    /// How reports name it: `keyring (Secret Service)`.
    fn label(&self) -> String;
    fn get(&self) -> Result<Option<String>, String>;
    fn set(&self, value: &str) -> Result<(), String>;
    fn delete(&self) -> Result<(), String>;
}

/// What the secret store holds for a session: the values only the doctor needs.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct KeptSecrets {
    client_secret: String,
    refresh_token: Option<String>,
}

/// The kept session with its secrets, from the file and (when the file says so) the store.
/// Values found in the file win (an older doctor, or the file fallback, wrote them); they move
/// to the store on the next write.
pub fn with_secrets(
    mut file: SavedSession,
    store: Option<&dyn SecretStore>,
) -> Result<SavedSession, String> {
    let Some(place) = file.secrets_in.take() else {
        return Ok(file);
    };
    let have_file_values = !file.registration.client_secret.is_empty()
        && file.refresh_token.as_deref().is_some_and(|t| !t.is_empty());
    if have_file_values {
        return Ok(file);
    }
    let Some(store) = store else {
        return Err(format!(
            "the refresh token is kept in the {place}, which is not available here"
        ));
    };
    let text = store
        .get()?
        .ok_or_else(|| format!("the {place} has no refresh token for this project"))?;
    let kept: KeptSecrets = serde_json::from_str(&text)
        .map_err(|_| format!("the {place} holds something else than a kept session"))?;
    file.registration.client_secret = kept.client_secret;
    file.refresh_token = kept.refresh_token;
    Ok(file)
}

/// What is written, after the store was asked to keep the secrets.
#[derive(Debug)]
pub struct Kept {
    /// The file's content: without the secrets when the store keeps them.
    pub file: SavedSession,
    /// The store failed: the secrets stay in the file; why, to say once.
    pub fell_back: Option<String>,
}

/// Puts the secrets of `session` in `store` (None: the file) and returns what the file keeps.
pub fn keep(session: &SavedSession, store: Option<&dyn SecretStore>) -> Kept {
    let mut file = session.clone();
    file.secrets_in = None;
    let Some(store) = store else {
        return Kept {
            file,
            fell_back: None,
        };
    };
    let kept = KeptSecrets {
        client_secret: session.registration.client_secret.clone(),
        refresh_token: session.refresh_token.clone(),
    };
    let text = match serde_json::to_string(&kept) {
        Ok(t) => t,
        Err(e) => {
            return Kept {
                file,
                fell_back: Some(e.to_string()),
            };
        }
    };
    match store.set(&text) {
        Ok(()) => {
            file.registration.client_secret = String::new();
            file.refresh_token = None;
            file.secrets_in = Some(store.label());
            Kept {
                file,
                fell_back: None,
            }
        }
        Err(e) => Kept {
            file,
            fell_back: Some(e),
        },
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
            secrets_in: None,
        }
    }

    /// The test double of an OS secret store: one entry in memory, or a store that fails.
    #[derive(Default)]
    struct Memory {
        value: std::cell::RefCell<Option<String>>,
        broken: bool,
    }

    impl SecretStore for Memory {
        fn label(&self) -> String {
            "keyring (test)".into()
        }
        fn get(&self) -> Result<Option<String>, String> {
            if self.broken {
                return Err("the test store did not answer".into());
            }
            Ok(self.value.borrow().clone())
        }
        fn set(&self, value: &str) -> Result<(), String> {
            if self.broken {
                return Err("the test store did not answer".into());
            }
            *self.value.borrow_mut() = Some(value.to_string());
            Ok(())
        }
        fn delete(&self) -> Result<(), String> {
            *self.value.borrow_mut() = None;
            Ok(())
        }
    }

    fn round_trip(session: &SavedSession) -> SavedSession {
        serde_json::from_str(&serde_json::to_string(session).unwrap()).unwrap()
    }

    #[test]
    fn the_store_keeps_the_secrets_and_the_file_none() {
        let store = Memory::default();
        let session = saved("2099-01-01T00:00:00Z", Some("refresh-secret-1"));
        let kept = keep(&session, Some(&store));
        assert!(kept.fell_back.is_none());
        let text = serde_json::to_string(&kept.file).unwrap();
        assert!(!text.contains("refresh-secret-1"), "{text}");
        assert!(!text.contains("\"clientSecret\":\"s\""), "{text}");
        assert_eq!(kept.file.secrets_in.as_deref(), Some("keyring (test)"));
        // status reads only the file: still renewable.
        let now = Utc::now();
        let file = round_trip(&kept.file);
        assert!(file.renews("https://bb.awsapps.com/start", "us-east-1", now));
        let back = with_secrets(file, Some(&store)).unwrap();
        assert_eq!(back.refresh_token.as_deref(), Some("refresh-secret-1"));
        assert_eq!(back.registration.client_secret, "s");
        assert!(back.secrets_in.is_none());
    }

    #[test]
    fn a_file_value_moves_to_the_store_on_the_next_write() {
        let store = Memory::default();
        // An older doctor (or the file fallback) wrote the secrets into the file.
        let old = round_trip(&saved("2099-01-01T00:00:00Z", Some("refresh-in-file")));
        let read = with_secrets(old, Some(&store)).unwrap();
        assert_eq!(read.refresh_token.as_deref(), Some("refresh-in-file"));
        assert!(store.value.borrow().is_none(), "reading moves nothing");
        let kept = keep(&read, Some(&store));
        assert!(kept.file.refresh_token.is_none());
        assert!(
            store
                .value
                .borrow()
                .as_deref()
                .is_some_and(|v| v.contains("refresh-in-file"))
        );
        // A file that says "in the store" but still has values (written by hand): the file's win.
        let mut both = saved("2099-01-01T00:00:00Z", Some("refresh-newer"));
        both.secrets_in = Some("keyring (test)".into());
        let read = with_secrets(both, Some(&store)).unwrap();
        assert_eq!(read.refresh_token.as_deref(), Some("refresh-newer"));
    }

    #[test]
    fn a_failing_store_leaves_the_secrets_in_the_file_and_says_why() {
        let store = Memory {
            broken: true,
            ..Memory::default()
        };
        let session = saved("2099-01-01T00:00:00Z", Some("refresh-secret-2"));
        let kept = keep(&session, Some(&store));
        assert_eq!(
            kept.fell_back.as_deref(),
            Some("the test store did not answer")
        );
        assert_eq!(kept.file.refresh_token.as_deref(), Some("refresh-secret-2"));
        assert!(kept.file.secrets_in.is_none());
        // The file setting: the file keeps them, nothing asked of any store.
        let kept = keep(&session, None);
        assert!(kept.fell_back.is_none());
        assert_eq!(kept.file.refresh_token.as_deref(), Some("refresh-secret-2"));
    }

    #[test]
    fn secrets_kept_in_a_store_that_fails_or_is_empty_are_an_error() {
        let mut file = saved("2099-01-01T00:00:00Z", None);
        file.registration.client_secret = String::new();
        file.secrets_in = Some("keyring (test)".into());
        let broken = Memory {
            broken: true,
            ..Memory::default()
        };
        assert!(with_secrets(file.clone(), Some(&broken)).is_err());
        assert!(with_secrets(file.clone(), Some(&Memory::default())).is_err());
        let err = with_secrets(file, None).unwrap_err();
        assert!(err.contains("keyring (test)"), "{err}");
    }

    #[test]
    fn token_store_names() {
        for name in TokenStore::NAMES {
            assert_eq!(TokenStore::parse(name).map(TokenStore::as_str), Some(*name));
        }
        assert_eq!(TokenStore::default(), TokenStore::Auto);
        assert_eq!(TokenStore::parse("Keyring"), None);
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
