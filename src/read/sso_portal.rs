//! The SSO portal: the project's token, and every account and role the user can reach.

use crate::model::aws::AwsFiles;
use aws_config::BehaviorVersion;
use aws_config::retry::RetryConfig;
use aws_sdk_sso::config::Region;
use chrono::{DateTime, Utc};
use std::time::Duration;

/// A throttled or failing (5xx) call is tried this many times in all, with jittered
/// exponential back-off.
const MAX_ATTEMPTS: u32 = 6;
/// The first back-off, doubled each time, capped.
const BACKOFF_BASE: Duration = Duration::from_millis(200);
const BACKOFF_CAP: Duration = Duration::from_secs(8);

/// A client-side rate limit shared by every worker: calls start at least `1/rate` apart, so a
/// portal that holds N requests a second is not pushed into throttling in the first place.
#[derive(Debug)]
pub struct RateLimit {
    interval: Duration,
    next: tokio::sync::Mutex<tokio::time::Instant>,
    retried: std::sync::atomic::AtomicUsize,
}

impl RateLimit {
    pub fn new(per_second: u32) -> RateLimit {
        RateLimit {
            interval: Duration::from_secs(1) / per_second.max(1),
            next: tokio::sync::Mutex::new(tokio::time::Instant::now()),
            retried: std::sync::atomic::AtomicUsize::new(0),
        }
    }

    /// Waits for this call's slot.
    pub async fn wait(&self) {
        let slot = {
            let mut next = self.next.lock().await;
            let now = tokio::time::Instant::now();
            let slot = (*next).max(now);
            *next = slot + self.interval;
            slot
        };
        tokio::time::sleep_until(slot).await;
    }

    /// How many calls were retried (throttled or 5xx).
    pub fn retried(&self) -> usize {
        self.retried.load(std::sync::atomic::Ordering::Relaxed)
    }
}

/// `attempt`'s back-off: base × 2^(attempt-1), capped, with jitter in its upper half (so that
/// workers throttled together do not retry together).
fn backoff(attempt: u32) -> Duration {
    let full = BACKOFF_BASE
        .saturating_mul(2u32.saturating_pow(attempt.saturating_sub(1)))
        .min(BACKOFF_CAP);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    let jitter = u64::from(nanos) % (full.as_millis() as u64 / 2 + 1);
    full / 2 + Duration::from_millis(jitter)
}

/// No real portal has more pages than this (1000 accounts a page would be a million accounts).
pub const MAX_PAGES: usize = 1000;

/// The tokens of a paged listing: a repeated token (a looping server) or too many pages end
/// it with an error instead of running forever.
#[derive(Default)]
struct Pages {
    seen: std::collections::HashSet<String>,
}

impl Pages {
    /// The next page's token, `None` at the end.
    fn next(&mut self, what: &str, token: Option<String>) -> Result<Option<String>, PortalError> {
        let Some(token) = token.filter(|t| !t.is_empty()) else {
            return Ok(None);
        };
        if self.seen.len() + 1 >= MAX_PAGES {
            return Err(PortalError(format!(
                "{what}: the portal sent more than {MAX_PAGES} pages; stopped"
            )));
        }
        if !self.seen.insert(token.clone()) {
            return Err(PortalError(format!(
                "{what}: the portal sent a page token it had sent before (a loop); stopped"
            )));
        }
        Ok(Some(token))
    }
}

pub use crate::model::sign_in::PortalAccount;

/// The Leverage token of `~/.aws/<p>/sso/cache/token`, if present and unexpired.
#[derive(Debug, Clone)]
pub struct LeverageToken {
    pub access_token: String,
    pub expires_at: DateTime<Utc>,
    pub region: Option<String>,
    pub start_url: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    #[error("no SSO token in {0}/sso/cache/token: you are not logged in")]
    Missing(String),
    #[error("the SSO token in {dir}/sso/cache/token expired {ago} ago")]
    Expired { dir: String, ago: String },
    #[error("the SSO token in {dir}/sso/cache/token is invalid: {why}")]
    Invalid { dir: String, why: String },
}

pub fn leverage_token(aws: &AwsFiles, now: DateTime<Utc>) -> Result<LeverageToken, TokenError> {
    let dir = aws.dir_display.clone();
    let file = aws
        .leverage_token()
        .ok_or_else(|| TokenError::Missing(dir.clone()))?;
    let invalid = |why: &str| TokenError::Invalid {
        dir: dir.clone(),
        why: why.to_string(),
    };
    let token = file.content.as_ref().map_err(|_| invalid("not JSON"))?;
    let access_token = token
        .access_token
        .as_ref()
        .ok_or_else(|| invalid("no accessToken"))?
        .expose()
        .to_string();
    let expires_at = match &token.expires_at {
        Some(Ok(at)) => *at,
        _ => return Err(invalid("expiresAt missing or not YYYY-MM-DDTHH:MM:SSZ")),
    };
    if expires_at <= now {
        return Err(TokenError::Expired {
            dir,
            ago: crate::time::human_duration(now - expires_at),
        });
    }
    Ok(LeverageToken {
        access_token,
        expires_at,
        region: token.region.clone(),
        start_url: token.start_url.clone(),
    })
}

/// A portal call failed: one line, no secrets.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct PortalError(String);

/// SDK settings for the unsigned SSO and SSO-OIDC calls: the region, our timeouts, no SDK
/// retries (throttling is retried here, boundedly), endpoints from the standard settings.
pub async fn unsigned_config(region: &str, timeout: Duration) -> aws_config::SdkConfig {
    let mut loader = aws_config::defaults(BehaviorVersion::latest());
    if let Some(client) = super::http::client() {
        loader = loader.http_client(client);
    }
    // No profile file is read for unsigned calls (AWS_CONFIG_FILE could name a FIFO).
    let no_files = aws_runtime::env_config::file::EnvConfigFiles::builder()
        .with_contents(
            aws_runtime::env_config::file::EnvConfigFileKind::Config,
            String::new(),
        )
        .build();
    loader
        .profile_files(no_files)
        .region(Region::new(region.to_string()))
        .retry_config(RetryConfig::disabled())
        .timeout_config(
            aws_config::timeout::TimeoutConfig::builder()
                .connect_timeout(timeout)
                .read_timeout(timeout)
                .operation_timeout(timeout)
                .build(),
        )
        .no_credentials()
        .load()
        .await
}

pub struct Portal {
    client: aws_sdk_sso::Client,
    token: String,
    limit: std::sync::Arc<RateLimit>,
}

impl Portal {
    pub async fn new(
        token: &LeverageToken,
        region: &str,
        timeout: Duration,
        limit: std::sync::Arc<RateLimit>,
    ) -> Portal {
        let config = unsigned_config(region, timeout).await;
        Portal {
            client: aws_sdk_sso::Client::new(&config),
            token: token.access_token.clone(),
            limit,
        }
    }

    /// Every page of ListAccounts.
    pub async fn accounts(&self) -> Result<Vec<PortalAccount>, PortalError> {
        let mut out = Vec::new();
        let mut next: Option<String> = None;
        let mut pages = Pages::default();
        loop {
            let page = retry(&self.limit, true, || {
                self.client
                    .list_accounts()
                    .access_token(&self.token)
                    .set_next_token(next.clone())
                    .send()
            })
            .await?;
            for a in page.account_list.unwrap_or_default() {
                out.push(PortalAccount {
                    id: a.account_id.unwrap_or_default(),
                    name: a.account_name.unwrap_or_default(),
                    roles: Vec::new(),
                });
            }
            next = pages.next("ListAccounts", page.next_token)?;
            if next.is_none() {
                return Ok(out);
            }
        }
    }

    /// Every page of ListAccountRoles for one account.
    pub async fn roles(&self, account_id: &str) -> Result<Vec<String>, PortalError> {
        let mut out = Vec::new();
        let mut next: Option<String> = None;
        let mut pages = Pages::default();
        loop {
            let page = retry(&self.limit, true, || {
                self.client
                    .list_account_roles()
                    .access_token(&self.token)
                    .account_id(account_id)
                    .set_next_token(next.clone())
                    .send()
            })
            .await?;
            out.extend(
                page.role_list
                    .unwrap_or_default()
                    .into_iter()
                    .filter_map(|r| r.role_name),
            );
            next = pages.next("ListAccountRoles", page.next_token)?;
            if next.is_none() {
                return Ok(out);
            }
        }
    }
}

/// Role credentials from GetRoleCredentials, as the Leverage CLI writes them.
#[derive(Clone)]
pub struct RoleCredentials {
    pub access_key_id: String,
    pub secret_access_key: String,
    pub session_token: String,
    /// Milliseconds since the epoch (the service's `expiration`, written as is).
    pub expiration_ms: i64,
}

impl std::fmt::Debug for RoleCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RoleCredentials")
            .field("expiration_ms", &self.expiration_ms)
            .finish_non_exhaustive()
    }
}

/// Why GetRoleCredentials gave nothing.
#[derive(Debug, thiserror::Error)]
pub enum RoleError {
    /// AccessDenied / Forbidden: the user has no such role in the account.
    #[error("no permission for the role (the portal said {0})")]
    Denied(String),
    /// Unauthorized: the token was refused (expired or signed out).
    #[error("the SSO token was refused (UnauthorizedException): sign in again")]
    TokenRefused,
    #[error("{0}")]
    Other(String),
}

impl Portal {
    /// GetRoleCredentials for one account and role (the secrets are registered for masking).
    pub async fn role_credentials(
        &self,
        account_id: &str,
        role: &str,
    ) -> Result<RoleCredentials, RoleError> {
        self.limit.wait().await;
        let out = self
            .client
            .get_role_credentials()
            .access_token(&self.token)
            .account_id(account_id)
            .role_name(role)
            .send()
            .await
            .map_err(|e| {
                let code = e
                    .as_service_error()
                    .and_then(aws_sdk_sso::error::ProvideErrorMetadata::code)
                    .unwrap_or("")
                    .to_string();
                match code.as_str() {
                    "AccessDeniedException" | "ForbiddenException" => RoleError::Denied(code),
                    "UnauthorizedException" => RoleError::TokenRefused,
                    "" => {
                        RoleError::Other(super::failure::sanitize(&super::failure::error_text(&e)))
                    }
                    _ => RoleError::Other(code),
                }
            })?;
        let c = out
            .role_credentials
            .ok_or_else(|| RoleError::Other("GetRoleCredentials returned no credentials".into()))?;
        let (Some(access_key_id), Some(secret_access_key), Some(session_token)) =
            (c.access_key_id, c.secret_access_key, c.session_token)
        else {
            return Err(RoleError::Other(
                "GetRoleCredentials returned incomplete credentials".into(),
            ));
        };
        crate::secrets::register(&secret_access_key);
        crate::secrets::register(&session_token);
        Ok(RoleCredentials {
            access_key_id,
            secret_access_key,
            session_token,
            expiration_ms: c.expiration,
        })
    }
}

/// A portal call, within the rate limit; throttled calls are retried, and so are server errors
/// (5xx) when `server_errors` (listings, which are idempotent reads).
async fn retry<T, E, F, Fut>(
    limit: &RateLimit,
    server_errors: bool,
    mut call: F,
) -> Result<T, PortalError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<
            Output = Result<
                T,
                aws_sdk_sso::error::SdkError<E, aws_smithy_runtime_api::http::Response>,
            >,
        >,
    E: std::error::Error + aws_sdk_sso::error::ProvideErrorMetadata + Send + Sync + 'static,
{
    let mut attempt = 0;
    loop {
        attempt += 1;
        limit.wait().await;
        match call().await {
            Ok(v) => return Ok(v),
            Err(e) => {
                // Typed: the service's error code and the HTTP status, never the message.
                let code = e.as_service_error().and_then(|s| s.code()).unwrap_or("");
                let status = e.raw_response().map(|r| r.status().as_u16());
                let throttled = code == "TooManyRequestsException"
                    || code.contains("Throttl")
                    || status == Some(429);
                let server_error = server_errors && status.is_some_and(|s| s >= 500);
                if (throttled || server_error) && attempt < MAX_ATTEMPTS {
                    limit
                        .retried
                        .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    tokio::time::sleep(backoff(attempt)).await;
                    continue;
                }
                let text = match e.as_service_error() {
                    Some(s) if s.code().is_some() => {
                        format!("{}: {}", s.code().unwrap_or(""), s.message().unwrap_or(""))
                    }
                    _ => super::failure::error_text(&e),
                };
                return Err(PortalError(super::failure::sanitize(&text)));
            }
        }
    }
}

/// A token file of the project's SSO cache, with what Logout needs.
#[derive(Debug, Clone)]
pub struct TokenFile {
    pub path: std::path::PathBuf,
    pub access_token: String,
    pub region: Option<String>,
}

/// Every token file of the project's SSO cache that holds an `accessToken`: the same files
/// `check` and `status` read (links included), so every command agrees on what is open.
pub fn token_files(aws: &AwsFiles, sources: &crate::source::Sources) -> Vec<TokenFile> {
    let mut out: Vec<TokenFile> = aws
        .sso_tokens
        .iter()
        .filter_map(|t| {
            let token = t.content.as_ref().ok()?;
            Some(TokenFile {
                path: sources.get(t.file).path.clone(),
                access_token: token.access_token.as_ref()?.expose().to_string(),
                region: token.region.clone(),
            })
        })
        .collect();
    out.sort_by(|a, b| a.path.cmp(&b.path));
    out
}

/// SSO Logout for one token: ends the portal session server-side.
pub async fn logout(token: &str, region: &str, timeout: Duration) -> Result<(), PortalError> {
    let portal = Portal::new(
        &LeverageToken {
            access_token: token.to_string(),
            expires_at: Utc::now(),
            region: None,
            start_url: None,
        },
        region,
        timeout,
        std::sync::Arc::new(RateLimit::new(10)),
    )
    .await;
    retry(&portal.limit, false, || {
        portal.client.logout().access_token(&portal.token).send()
    })
    .await
    .map(|_| ())
}
