//! The SSO portal: the project's token, and every account and role the user can reach.

use crate::model::aws::AwsFiles;
use aws_config::BehaviorVersion;
use aws_config::retry::RetryConfig;
use aws_sdk_sso::config::Region;
use chrono::{DateTime, Utc};
use std::time::Duration;

/// Throttled calls are retried this many times in all, with doubling back-off.
const THROTTLE_ATTEMPTS: u32 = 4;

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

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortalAccount {
    pub id: String,
    pub name: String,
    pub roles: Vec<String>,
}

/// The Leverage token of `~/.aws/<p>/sso/cache/token`, if present and unexpired.
#[derive(Debug, Clone)]
pub struct LeverageToken {
    pub access_token: String,
    pub expires_at: DateTime<Utc>,
    pub region: Option<String>,
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
    let path = aws.dir.join("sso").join("cache").join("token");
    let dir = aws.dir_display.clone();
    let text = super::fs::read_text(&path)
        .map_err(|_| TokenError::Missing(dir.clone()))?
        .text;
    let invalid = |why: &str| TokenError::Invalid {
        dir: dir.clone(),
        why: why.to_string(),
    };
    let json: serde_json::Value = serde_json::from_str(&text).map_err(|_| invalid("not JSON"))?;
    let access_token = json
        .get("accessToken")
        .and_then(|v| v.as_str())
        .filter(|t| !t.is_empty())
        .ok_or_else(|| invalid("no accessToken"))?
        .to_string();
    crate::secrets::register(&access_token);
    let expires_at = json
        .get("expiresAt")
        .and_then(|v| v.as_str())
        .and_then(super::aws::parse_leverage_time)
        .ok_or_else(|| invalid("expiresAt missing or not YYYY-MM-DDTHH:MM:SSZ"))?;
    if expires_at <= now {
        return Err(TokenError::Expired {
            dir,
            ago: crate::rules::human_duration(now - expires_at),
        });
    }
    Ok(LeverageToken {
        access_token,
        expires_at,
        region: json
            .get("region")
            .and_then(|v| v.as_str())
            .map(str::to_string),
    })
}

/// A portal call failed: one line, no secrets.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct PortalError(String);

/// SDK settings for the unsigned SSO and SSO-OIDC calls: the region, our timeouts, no SDK
/// retries (throttling is retried here, boundedly), endpoints from the standard settings.
pub async fn unsigned_config(region: &str, timeout: Duration) -> aws_config::SdkConfig {
    aws_config::defaults(BehaviorVersion::latest())
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
}

impl Portal {
    pub async fn new(token: &LeverageToken, region: &str, timeout: Duration) -> Portal {
        let config = unsigned_config(region, timeout).await;
        Portal {
            client: aws_sdk_sso::Client::new(&config),
            token: token.access_token.clone(),
        }
    }

    /// Every page of ListAccounts.
    pub async fn accounts(&self) -> Result<Vec<PortalAccount>, PortalError> {
        let mut out = Vec::new();
        let mut next: Option<String> = None;
        let mut pages = Pages::default();
        loop {
            let page = retry(|| {
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
            let page = retry(|| {
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

async fn retry<T, E, F, Fut>(mut call: F) -> Result<T, PortalError>
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
        match call().await {
            Ok(v) => return Ok(v),
            Err(e) => {
                let code = e.as_service_error().and_then(|s| s.code()).unwrap_or("");
                let throttled = code == "TooManyRequestsException" || code.contains("Throttl");
                if throttled && attempt < THROTTLE_ATTEMPTS {
                    tokio::time::sleep(Duration::from_millis(250 * 2u64.pow(attempt - 1))).await;
                    continue;
                }
                let text = match e.as_service_error() {
                    Some(s) if s.code().is_some() => {
                        format!("{}: {}", s.code().unwrap_or(""), s.message().unwrap_or(""))
                    }
                    _ => super::live::error_text(&e),
                };
                return Err(PortalError(super::live::sanitize(&text)));
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

/// Every file of `<dir>/sso/cache/` that holds an `accessToken`.
pub fn token_files(aws: &AwsFiles) -> Vec<TokenFile> {
    let dir = aws.dir.join("sso").join("cache");
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return Vec::new();
    };
    let mut out: Vec<TokenFile> = entries
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
        .filter_map(|e| {
            let text = super::fs::read_text(&e.path()).ok()?.text;
            let json: serde_json::Value = serde_json::from_str(&text).ok()?;
            let access_token = json.get("accessToken")?.as_str()?.to_string();
            crate::secrets::register(&access_token);
            Some(TokenFile {
                path: e.path(),
                access_token,
                region: json
                    .get("region")
                    .and_then(|v| v.as_str())
                    .map(str::to_string),
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
        },
        region,
        timeout,
    )
    .await;
    retry(|| portal.client.logout().access_token(&portal.token).send())
        .await
        .map(|_| ())
}
