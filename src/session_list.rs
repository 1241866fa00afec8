//! Every credential session a project has, with its expiry: the SSO token, Leverage's cached
//! role credentials, MFA sessions, the AWS CLI's token. Pure: computed from the model and the
//! analysis; `status` renders it, `check` takes each profile's expiry from it.

use crate::analysis::{Analysis, CredentialSource};
use crate::model::Model;
use crate::model::project::Mode;
use chrono::{DateTime, Utc};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    SsoToken,
    RoleCredentials,
    MfaSession,
    AwsCliSsoToken,
    /// A GitHub, GitLab, Vault or HCP Terraform token, as its service says (`status --live`).
    ProviderToken,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::SsoToken => "sso-token",
            Kind::RoleCredentials => "role-credentials",
            Kind::MfaSession => "mfa-session",
            Kind::AwsCliSsoToken => "aws-cli-sso-token",
            Kind::ProviderToken => "provider-token",
        }
    }
}

#[derive(Debug, Clone)]
pub struct Session {
    pub kind: Kind,
    pub profile: Option<String>,
    /// As reports show it (`~/.aws/bb/sso/cache/token`).
    pub file: String,
    /// None when missing, or present with no expiry the readers can parse.
    pub expires_at: Option<DateTime<Utc>>,
    /// The file (or its section) exists: a `None` expiry then means unreadable, not missing.
    pub present: bool,
    pub refreshable: bool,
    /// The scope cannot run without it: `--min-remaining` gates on these.
    pub needed: bool,
}

impl Session {
    pub fn remaining_s(&self, now: DateTime<Utc>) -> Option<i64> {
        self.expires_at.map(|t| (t - now).num_seconds())
    }

    /// What it has left, for a session short of a wanted time: "sso-token: 45m left".
    pub fn shortfall(&self, now: DateTime<Utc>) -> String {
        let left = match self.remaining_s(now) {
            None if self.present => "no readable expiry".to_string(),
            None => "missing".to_string(),
            Some(left) if left <= 0 => "expired".to_string(),
            Some(left) => format!(
                "{} left",
                crate::time::human_duration(crate::time::seconds(left))
            ),
        };
        let profile = self
            .profile
            .as_deref()
            .map(|p| format!(" `{p}`"))
            .unwrap_or_default();
        format!("{}{profile}: {left}", self.kind.as_str())
    }
}

/// What the scope needs and has. Needed but missing sessions come back with no file.
pub fn sessions(model: &Model, analysis: &Analysis) -> Vec<Session> {
    let (Some(aws), Some(project)) = (model.aws.as_ref(), model.project.as_ref()) else {
        return Vec::new();
    };
    let cli = model.cli();
    let mode = project.mode(cli);
    let shown = |file: crate::source::FileId| model.sources.get(file).display.clone();
    let mut out = Vec::new();
    // The project's SSO token (Leverage reads `token`; other files in the folder are extras).
    let mut have_token = false;
    let renewable = match (
        &aws.saved_session,
        project.common_str("sso_start_url"),
        project.common_str("sso_region"),
    ) {
        (Some(saved), Some(url), Some(region)) => {
            saved.renews(&url.value, &region.value, model.now)
        }
        _ => false,
    };
    for token in &aws.sso_tokens {
        let expires_at = token
            .content
            .as_ref()
            .ok()
            .and_then(|t| t.expires_at.clone())
            .and_then(Result::ok);
        let is_main = token.name == crate::leverage::TOKEN_FILE_NAME;
        have_token |= is_main;
        out.push(Session {
            kind: Kind::SsoToken,
            profile: None,
            file: shown(token.file),
            expires_at,
            present: true,
            // Exactly when `sso-login` would renew it without a browser.
            refreshable: is_main && renewable,
            needed: is_main && mode == Mode::Sso,
        });
    }
    if mode == Mode::Sso && !have_token {
        out.push(Session {
            kind: Kind::SsoToken,
            profile: None,
            file: format!("{}/{}", aws.dir_display, crate::leverage::TOKEN_FILE),
            expires_at: None,
            present: false,
            refreshable: false,
            needed: true,
        });
    }
    // Leverage's role credentials: `expiration` (ms) in config. Those the scope's runs refresh
    // are needed: Terraform keeps the keys it started with for the whole run.
    let used_roles: std::collections::BTreeSet<String> =
        crate::analysis::refresh_plan(model, analysis)
            .roles
            .into_iter()
            .flat_map(|f| f.names)
            .collect();
    if let Some(config) = aws.config.parsed() {
        for section in &config.sections {
            let Some(name) = section.name.profile_name() else {
                continue;
            };
            let Some(exp) = section.get("expiration") else {
                continue;
            };
            let expires_at = exp
                .value
                .parse::<i64>()
                .ok()
                .and_then(DateTime::<Utc>::from_timestamp_millis);
            out.push(Session {
                kind: Kind::RoleCredentials,
                profile: Some(name.to_string()),
                file: shown(config.file),
                expires_at,
                // Leverage gets new ones from the SSO token by itself.
                present: true,
                refreshable: mode == Mode::Sso,
                needed: used_roles.contains(name),
            });
        }
    }
    // MFA sessions: needed for every profile of the scope whose MFA step would run.
    for cache in &aws.mfa_cache {
        let needed = matches!(
            analysis.source(&cache.profile),
            Some(CredentialSource::LeverageMfa { .. })
        ) && analysis.used.contains_key(&cache.profile);
        out.push(Session {
            kind: Kind::MfaSession,
            profile: Some(cache.profile.clone()),
            file: shown(cache.file),
            expires_at: cache.expiration.as_ref().ok().copied(),
            present: true,
            refreshable: false,
            needed,
        });
    }
    for name in analysis.used.keys() {
        if matches!(
            analysis.source(name),
            Some(CredentialSource::LeverageMfa { .. })
        ) && !aws.mfa_cache.iter().any(|c| c.profile == *name)
        {
            out.push(Session {
                kind: Kind::MfaSession,
                profile: Some(name.clone()),
                file: format!("{}/cache/{name}", aws.dir_display),
                expires_at: None,
                present: false,
                refreshable: false,
                needed: true,
            });
        }
    }
    if let Some(token) = &aws.aws_cli_token {
        out.push(Session {
            kind: Kind::AwsCliSsoToken,
            profile: None,
            file: shown(token.file),
            expires_at: token
                .content
                .as_ref()
                .ok()
                .and_then(|t| t.expires_at.clone())
                .and_then(Result::ok),
            present: true,
            refreshable: token.content.as_ref().is_ok_and(|t| t.refreshable),
            needed: false,
        });
    }
    out
}

/// Where the refresh token `sso-login` kept is: the OS secret store's name
/// (`keyring (Secret Service)`), or `file ~/.aws/<p>/leverage-doctor/sso-session.json`. None
/// when none is kept. Read from the file alone: the store is not asked.
pub fn token_store(model: &Model) -> Option<String> {
    let aws = model.aws.as_ref()?;
    let saved = aws.saved_session.as_ref()?;
    match &saved.secrets_in {
        Some(place) => Some(place.clone()),
        None if saved
            .refresh_token
            .as_deref()
            .is_some_and(|t| !t.is_empty()) =>
        {
            Some(format!(
                "file {}/{}/{}",
                aws.dir_display,
                crate::model::sign_in::STATE_DIR,
                crate::model::sign_in::STATE_FILE
            ))
        }
        None => None,
    }
}

/// When a profile's credentials expire, where known.
pub fn profile_expiry(
    sessions: &[Session],
    analysis: &Analysis,
    profile: &str,
) -> Option<DateTime<Utc>> {
    let of = |kind: Kind, name: Option<&str>| {
        sessions
            .iter()
            .find(|s| s.kind == kind && s.profile.as_deref() == name && s.expires_at.is_some())
            .and_then(|s| s.expires_at)
    };
    match analysis.source(profile)? {
        CredentialSource::LeverageSso { .. } => {
            of(Kind::RoleCredentials, Some(profile)).or_else(|| of(Kind::SsoToken, None))
        }
        CredentialSource::LeverageMfa { .. } => of(Kind::MfaSession, Some(profile)),
        CredentialSource::Sso => of(Kind::AwsCliSsoToken, None),
        _ => None,
    }
}

/// The sessions this scope needs that have less than `min` seconds left (or none at all): what
/// `status --min-remaining` fails on.
/// The provider tokens the live checks asked about, once each (a token several layers use
/// is one row): `profile` is the provider (`vault`, `github.org2`), `file` the address asked.
/// A token the service accepts with an expiry, or says has expired, is needed (it gates
/// `--min-remaining`); one with no expiry never runs short. Refused or unreachable ones are
/// `check`'s to explain (LD704, LD706): not listed.
pub fn provider_tokens(checks: &[crate::model::token_live::TokenCheck]) -> Vec<Session> {
    use crate::model::token_live::{TokenFailure, TokenOutcome};
    let mut out: Vec<Session> = Vec::new();
    for check in checks {
        let (info, expired) = match &check.outcome {
            TokenOutcome::Ok(info) => (info, false),
            TokenOutcome::Failed {
                kind: TokenFailure::Expired,
                info,
                ..
            } => (info, true),
            _ => continue,
        };
        let profile = match &check.alias {
            Some(alias) => format!("{}.{alias}", check.provider.name()),
            None => check.provider.name().to_string(),
        };
        let row = Session {
            kind: Kind::ProviderToken,
            profile: Some(profile),
            file: check.base.clone(),
            expires_at: info.expires_at,
            // The service said so: the token is there.
            present: true,
            refreshable: info.renewable == Some(true),
            needed: expired || info.expires_at.is_some(),
        };
        let seen = out.iter().any(|s| {
            s.profile == row.profile && s.file == row.file && s.expires_at == row.expires_at
        });
        if !seen {
            out.push(row);
        }
    }
    out
}

pub fn short_of(list: &[Session], min: i64, now: DateTime<Utc>) -> Vec<&Session> {
    list.iter()
        .filter(|s| s.needed && s.remaining_s(now).is_none_or(|left| left < min))
        .collect()
}
