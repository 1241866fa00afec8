//! Results of the live probes (STS GetCallerIdentity through each profile's chain).

/// Why a live check failed: a stable class (the JSON report's `live.failure`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailureKind {
    ExpiredToken,
    UnknownKey,
    BadSignature,
    ClockSkew,
    AssumeRoleDenied,
    SsoSessionInvalid,
    RoleNotAssigned,
    InvalidGrant,
    Throttled,
    MfaNeeded,
    Network,
    Timeout,
    NoCredentials,
    UnsupportedCredentials,
    Other,
}

impl FailureKind {
    /// The kebab-case name documented in the README and LD601's page.
    pub fn as_str(self) -> &'static str {
        match self {
            FailureKind::ExpiredToken => "expired-token",
            FailureKind::UnknownKey => "unknown-key",
            FailureKind::BadSignature => "bad-signature",
            FailureKind::ClockSkew => "clock-skew",
            FailureKind::AssumeRoleDenied => "assume-role-denied",
            FailureKind::SsoSessionInvalid => "sso-session-invalid",
            FailureKind::RoleNotAssigned => "role-not-assigned",
            FailureKind::InvalidGrant => "invalid-grant",
            FailureKind::Throttled => "throttled",
            FailureKind::MfaNeeded => "mfa-needed",
            FailureKind::Network => "network",
            FailureKind::Timeout => "timeout",
            FailureKind::NoCredentials => "no-credentials",
            FailureKind::UnsupportedCredentials => "unsupported-credentials",
            FailureKind::Other => "other",
        }
    }
}

#[derive(Debug, Clone)]
pub enum LiveOutcome {
    Ok { account: String, arn: String },
    Failed { kind: FailureKind, error: String },
    Skipped(String),
}

#[derive(Debug, Clone)]
pub struct LiveResult {
    pub profile: String,
    pub outcome: LiveOutcome,
    pub millis: u64,
}
