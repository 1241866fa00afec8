//! Results of the live probes (STS GetCallerIdentity through each profile's chain).

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FailureKind {
    ExpiredToken,
    UnknownKey,
    BadSignature,
    AssumeRoleDenied,
    SsoSessionInvalid,
    MfaNeeded,
    Network,
    NoCredentials,
    Other,
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
