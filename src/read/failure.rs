//! What went wrong with an AWS call, named for what it is. Classified from the SDK's typed
//! errors — the service's error code (from the SDK's error metadata, or the error document's
//! `Code` where the SDK did not parse it), the HTTP status, the dispatch/timeout variants, the
//! response's `Date` header for clock skew — never from words in a message. The message is kept
//! only to be shown, scrubbed.

pub use crate::model::live::FailureKind;
use aws_credential_types::provider::error::CredentialsError;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_runtime_api::http::Response;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use chrono::{DateTime, Utc};

/// A clock further off than this makes AWS refuse signatures (SigV4 allows 5 minutes).
const MAX_SKEW_S: i64 = 5 * 60;

/// A probe failure: its class and a one-line, secret-free reason.
#[derive(Debug, Clone)]
pub struct Failure {
    pub kind: FailureKind,
    pub error: String,
}

impl Failure {
    pub fn new(kind: FailureKind, error: impl Into<String>) -> Failure {
        Failure {
            kind,
            error: sanitize(&error.into()),
        }
    }
}

/// Which call failed: the same code means different things in different places.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// The SDK resolving a profile's chain (AssumeRole inside).
    Chain,
    AssumeRole,
    /// SSO GetRoleCredentials.
    Sso,
    Identity,
}

/// What the wire said, typed.
#[derive(Debug, Clone, Default)]
pub struct ErrorSignals {
    pub code: Option<String>,
    pub message: Option<String>,
    pub status: Option<u16>,
    pub timed_out: bool,
    pub unreachable: bool,
    /// The server's clock (the `Date` header), to measure skew.
    pub server_time: Option<DateTime<Utc>>,
}

/// A failed SDK call, classified.
pub fn from_sdk<E>(err: &SdkError<E, Response>, phase: Phase, now: DateTime<Utc>) -> Failure
where
    E: std::error::Error + ProvideErrorMetadata + 'static,
{
    let mut s = ErrorSignals::default();
    if let Some(e) = err.as_service_error() {
        s.code = e.code().map(str::to_string);
        s.message = e.message().map(str::to_string);
    }
    if let Some(raw) = err.raw_response() {
        s.status = Some(raw.status().as_u16());
        s.server_time = raw
            .headers()
            .get("date")
            .and_then(|d| DateTime::parse_from_rfc2822(d).ok())
            .map(|t| t.with_timezone(&Utc));
        // Servers whose error document the SDK does not parse (moto's STS): its `Code` tag.
        if s.code.is_none()
            && let Some(body) = raw.body().bytes()
        {
            let body = String::from_utf8_lossy(body);
            s.code = xml_tag(&body, "Code");
            s.message = s.message.or_else(|| xml_tag(&body, "Message"));
        }
    }
    match err {
        SdkError::TimeoutError(_) => s.timed_out = true,
        SdkError::DispatchFailure(d) => {
            if d.is_timeout() {
                s.timed_out = true;
            } else {
                s.unreachable = true;
            }
        }
        _ => {}
    }
    let text = match (&s.code, &s.message) {
        (Some(code), message) => format!("{code}: {}", message.as_deref().unwrap_or("")),
        (None, _) => error_text(err),
    };
    let mut failure = classify(&s, phase, now);
    failure.error = sanitize(&match &failure.error {
        extra if !extra.is_empty() => format!("{text} ({extra})"),
        _ => text,
    });
    failure
}

/// A failed profile chain (the SDK's own provider), classified by its typed variants and, for
/// a failed AssumeRole or GetRoleCredentials inside, by that call's error.
pub fn from_credentials(err: &CredentialsError, now: DateTime<Utc>) -> Failure {
    let text = error_text(err);
    match err {
        CredentialsError::CredentialsNotLoaded(_) | CredentialsError::InvalidConfiguration(_) => {
            Failure::new(FailureKind::NoCredentials, text)
        }
        CredentialsError::ProviderTimedOut(_) => Failure::new(FailureKind::Timeout, text),
        _ => {
            let mut level: Option<&(dyn std::error::Error + 'static)> = Some(err);
            while let Some(e) = level {
                if let Some(sdk) = e.downcast_ref::<SdkError<
                    aws_sdk_sts::operation::assume_role::AssumeRoleError,
                    Response,
                >>() {
                    return from_sdk(sdk, Phase::AssumeRole, now);
                }
                if let Some(sdk) = e.downcast_ref::<SdkError<
                    aws_sdk_sso::operation::get_role_credentials::GetRoleCredentialsError,
                    Response,
                >>() {
                    return from_sdk(sdk, Phase::Sso, now);
                }
                level = e.source();
            }
            Failure::new(FailureKind::Other, text)
        }
    }
}

/// The class of a failure from its typed signals. `error` of the result holds only what the
/// classification adds (the measured skew).
pub fn classify(s: &ErrorSignals, phase: Phase, now: DateTime<Utc>) -> Failure {
    let code = s.code.as_deref().unwrap_or("");
    let skew = s.server_time.map(|t| (now - t).num_seconds());
    let skewed = skew.is_some_and(|d| d.abs() > MAX_SKEW_S);
    let extra = match skew {
        Some(d) if skewed => format!(
            "this machine's clock is {} {} the server's",
            crate::time::human_duration(crate::time::seconds(d.abs())),
            if d > 0 { "ahead of" } else { "behind" }
        ),
        _ => String::new(),
    };
    let kind = match code {
        "ExpiredToken" | "ExpiredTokenException" | "TokenRefreshRequired" => {
            FailureKind::ExpiredToken
        }
        "InvalidClientTokenId" | "UnrecognizedClientException" | "InvalidAccessKeyId" => {
            FailureKind::UnknownKey
        }
        "RequestExpired" | "RequestTimeTooSkewed" => FailureKind::ClockSkew,
        "SignatureDoesNotMatch" | "InvalidSignatureException" if skewed => FailureKind::ClockSkew,
        "SignatureDoesNotMatch" | "InvalidSignatureException" => FailureKind::BadSignature,
        "UnauthorizedException" => FailureKind::SsoSessionInvalid,
        "ForbiddenException" if phase == Phase::Sso => FailureKind::RoleNotAssigned,
        "InvalidGrantException" => FailureKind::InvalidGrant,
        "Throttling"
        | "ThrottlingException"
        | "TooManyRequestsException"
        | "RequestLimitExceeded"
        | "SlowDown"
        | "SlowDownException" => FailureKind::Throttled,
        "AccessDenied" | "AccessDeniedException"
            if matches!(phase, Phase::AssumeRole | Phase::Chain) =>
        {
            FailureKind::AssumeRoleDenied
        }
        _ if s.status == Some(429) => FailureKind::Throttled,
        _ if phase == Phase::Sso && s.status == Some(401) => FailureKind::SsoSessionInvalid,
        _ if phase == Phase::Sso && s.status == Some(403) => FailureKind::RoleNotAssigned,
        _ if s.timed_out => FailureKind::Timeout,
        _ if s.unreachable => FailureKind::Network,
        _ if skewed && s.status == Some(403) => FailureKind::ClockSkew,
        _ => FailureKind::Other,
    };
    Failure { kind, error: extra }
}

fn xml_tag(body: &str, tag: &str) -> Option<String> {
    let open = format!("<{tag}>");
    let start = body.find(&open)? + open.len();
    let end = body[start..].find(&format!("</{tag}>"))? + start;
    Some(body[start..end].trim().to_string())
}

/// An error's own messages, outermost first, joined with `: ` — each level's Display only,
/// never a Debug form (the SDK's Debug of a failed request holds the whole signed request).
/// A level that quotes a request is cut before it. Not yet scrubbed: pass it to `sanitize`.
pub fn error_text(err: &(dyn std::error::Error + 'static)) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut level: Option<&(dyn std::error::Error + 'static)> = Some(err);
    while let Some(e) = level {
        let text = e.to_string();
        let text = match text.find(" to request `") {
            Some(at) => text[..at].to_string(),
            None => text,
        };
        let text = match text.find(['(', '{']).filter(|_| text.contains("Request")) {
            Some(at) => text[..at].trim_end().to_string(),
            None => text,
        };
        if !text.is_empty() && !parts.last().is_some_and(|p| p.ends_with(&text)) {
            parts.push(text);
        }
        if parts.len() >= 8 {
            break;
        }
        level = e.source();
    }
    parts.join(": ")
}

/// One line of an error text from outside, safe to print: known secrets and key ids masked,
/// control characters escaped, at most 400 characters.
pub fn sanitize(text: &str) -> String {
    crate::secrets::one_line(text, 400)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kind(code: &str, status: u16, phase: Phase) -> FailureKind {
        classify(
            &ErrorSignals {
                code: Some(code.into()),
                status: Some(status),
                ..Default::default()
            },
            phase,
            Utc::now(),
        )
        .kind
    }

    #[test]
    fn classes_come_from_codes_statuses_and_transport() {
        assert_eq!(
            kind("ExpiredToken", 403, Phase::Identity),
            FailureKind::ExpiredToken
        );
        assert_eq!(
            kind("InvalidClientTokenId", 403, Phase::Identity),
            FailureKind::UnknownKey
        );
        assert_eq!(
            kind("SignatureDoesNotMatch", 403, Phase::Identity),
            FailureKind::BadSignature
        );
        assert_eq!(
            kind("AccessDenied", 403, Phase::AssumeRole),
            FailureKind::AssumeRoleDenied
        );
        assert_eq!(
            kind("AccessDenied", 403, Phase::Identity),
            FailureKind::Other
        );
        assert_eq!(
            kind("UnauthorizedException", 401, Phase::Sso),
            FailureKind::SsoSessionInvalid
        );
        assert_eq!(
            kind("ForbiddenException", 403, Phase::Sso),
            FailureKind::RoleNotAssigned
        );
        assert_eq!(
            kind("InvalidGrantException", 400, Phase::Sso),
            FailureKind::InvalidGrant
        );
        assert_eq!(
            kind("TooManyRequestsException", 429, Phase::Sso),
            FailureKind::Throttled
        );
        assert_eq!(kind("", 429, Phase::Identity), FailureKind::Throttled);
        let timeout = ErrorSignals {
            timed_out: true,
            ..Default::default()
        };
        assert_eq!(
            classify(&timeout, Phase::Identity, Utc::now()).kind,
            FailureKind::Timeout
        );
        let unreachable = ErrorSignals {
            unreachable: true,
            ..Default::default()
        };
        assert_eq!(
            classify(&unreachable, Phase::Identity, Utc::now()).kind,
            FailureKind::Network
        );
        // A message naming a profile is no longer "no credentials": words are not classes.
        let worded = ErrorSignals {
            message: Some("the profile could not be found".into()),
            ..Default::default()
        };
        assert_eq!(
            classify(&worded, Phase::Chain, Utc::now()).kind,
            FailureKind::Other
        );
    }

    #[test]
    fn clock_skew_is_measured_from_the_date_header() {
        let now = Utc::now();
        let signals = |offset_min: i64| ErrorSignals {
            code: Some("SignatureDoesNotMatch".into()),
            status: Some(403),
            server_time: Some(now - chrono::Duration::minutes(offset_min)),
            ..Default::default()
        };
        let skewed = classify(&signals(42), Phase::Identity, now);
        assert_eq!(skewed.kind, FailureKind::ClockSkew);
        assert!(skewed.error.contains("42m ahead of"), "{}", skewed.error);
        assert_eq!(
            classify(&signals(1), Phase::Identity, now).kind,
            FailureKind::BadSignature
        );
    }

    #[test]
    fn sanitize_masks_key_ids() {
        assert_eq!(sanitize("key AKIAABCDEFGHIJKLMNOP used"), "key AKIA… used");
        assert_eq!(sanitize("line one\nline two"), "line one");
    }
}
