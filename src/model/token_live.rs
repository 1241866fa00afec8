//! Live checks of the other providers' tokens (LD704–LD706): one "who am I" call per token, and
//! what its answer means. The calls are made by `read::token_live`; this module holds the
//! plan's data, the typed outcome and the classification of a reply (pure, unit-tested on each
//! API's documented wire format).

use super::credentials::Provider;
use chrono::{DateTime, NaiveDateTime, Utc};

/// Where a provider's API is, and where that address comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiBase {
    /// `https://api.github.com/`, `https://vault.example.com:8200`… (no credentials in it).
    pub url: String,
    /// `base_url` attribute, `GITHUB_BASE_URL`, `default`…
    pub from: String,
    /// Written in the checkout (a provider attribute or a tfvars file): a pull request can
    /// change it.
    pub from_checkout: bool,
}

/// One call to make: a token, and the address its provider would send it to.
#[derive(Debug, Clone)]
pub struct TokenProbe {
    pub provider: Provider,
    /// The full URL of the "who am I" call.
    pub url: String,
    /// The token (registered as a secret when read; never shown).
    pub token: String,
}

/// Why a token check failed: a stable class (the JSON report's `live.failure`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenFailure {
    /// 401 (Vault: 403 to lookup-self, which any valid token may call): unknown, revoked or
    /// expired without the API saying which.
    Rejected,
    /// The API says the token has expired (GitLab's `expires_at` in the past / "Token is
    /// expired", Vault's `expire_time`).
    Expired,
    /// 403: the token is known but may not make the call (scope, SSO enforcement, IP list).
    Forbidden,
    /// 429 or GitHub's 403 with `x-ratelimit-remaining: 0`.
    Throttled,
    /// No connection: DNS, refused, TLS.
    Unreachable,
    Timeout,
    /// A redirect (never followed with the token), a 5xx, or a body that is not the API's.
    Unexpected,
}

impl TokenFailure {
    pub fn as_str(self) -> &'static str {
        match self {
            TokenFailure::Rejected => "rejected",
            TokenFailure::Expired => "expired",
            TokenFailure::Forbidden => "forbidden",
            TokenFailure::Throttled => "throttled",
            TokenFailure::Unreachable => "unreachable",
            TokenFailure::Timeout => "timeout",
            TokenFailure::Unexpected => "unexpected-reply",
        }
    }
}

/// What the service said about a token it accepted.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TokenInfo {
    /// The user (GitHub login, HCP Terraform username, Vault display name).
    pub identity: Option<String>,
    pub expires_at: Option<DateTime<Utc>>,
    /// GitHub `X-OAuth-Scopes`, GitLab `scopes`, Vault `policies`.
    pub scopes: Option<Vec<String>>,
    /// Vault: the token can be renewed (`vault token renew`).
    pub renewable: Option<bool>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenOutcome {
    Ok(TokenInfo),
    Failed {
        kind: TokenFailure,
        /// What happened, for people (a status line; never a body or a token).
        detail: String,
        /// What the service still said (GitLab's `expires_at` of an expired token).
        info: TokenInfo,
    },
    /// Not called, and why (the address comes from the checkout, the token from elsewhere).
    Skipped(String),
}

/// The result of one token check, for every layer whose provider uses that token at that
/// address.
#[derive(Debug, Clone)]
pub struct TokenCheck {
    pub layer: String,
    pub provider: Provider,
    pub alias: Option<String>,
    /// The API's address, as shown.
    pub base: String,
    pub outcome: TokenOutcome,
    pub millis: u64,
}

/// A reply: status, the headers that matter (lower-case names), the body.
#[derive(Debug, Clone, Default)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Reply {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// The "who am I" URL of each provider for an API base (as the provider builds it).
pub fn probe_url(provider: Provider, base: &str) -> Option<String> {
    let base = base.trim_end_matches('/');
    match provider {
        // docs.github.com/rest/users/users#get-the-authenticated-user: GET /user. The provider
        // (integrations/github `config.go`) adds `api/v3/` to a GitHub Enterprise base_url.
        Provider::Github => Some(
            if base == "https://api.github.com" || base.ends_with("/api/v3") {
                format!("{base}/user")
            } else {
                format!("{base}/api/v3/user")
            },
        ),
        // docs.gitlab.com/api/personal_access_tokens/#get-details-on-a-personal-access-token:
        // GET /personal_access_tokens/self; the client adds `api/v4/` when the base lacks it.
        Provider::Gitlab => Some(if base.ends_with("/api/v4") {
            format!("{base}/personal_access_tokens/self")
        } else {
            format!("{base}/api/v4/personal_access_tokens/self")
        }),
        // developer.hashicorp.com/vault/api-docs/auth/token#lookup-a-token-self
        Provider::Vault => Some(format!("{base}/v1/auth/token/lookup-self")),
        // developer.hashicorp.com/terraform/cloud-docs/api-docs/account#get-your-account-details
        Provider::Tfe => Some(format!("{base}/api/v2/account/details")),
        Provider::Hcp | Provider::Kubernetes | Provider::Helm => None,
    }
}

/// The header carrying the token, as each API documents it.
pub fn auth_header(provider: Provider, token: &str) -> (&'static str, String) {
    match provider {
        Provider::Gitlab => ("PRIVATE-TOKEN", token.to_string()),
        Provider::Vault => ("X-Vault-Token", token.to_string()),
        _ => ("Authorization", format!("Bearer {token}")),
    }
}

fn failed(kind: TokenFailure, detail: impl Into<String>) -> TokenOutcome {
    TokenOutcome::Failed {
        kind,
        detail: detail.into(),
        info: TokenInfo::default(),
    }
}

/// `2026-12-01 10:00:00 UTC` (GitHub's `github-authentication-token-expiration`), or with a
/// numeric offset (`-0800`).
fn github_expiry(value: &str) -> Option<DateTime<Utc>> {
    let value = value.trim();
    if let Some(utc) = value.strip_suffix(" UTC") {
        return NaiveDateTime::parse_from_str(utc, "%Y-%m-%d %H:%M:%S")
            .ok()
            .map(|n| n.and_utc());
    }
    DateTime::parse_from_str(value, "%Y-%m-%d %H:%M:%S %z")
        .ok()
        .map(|d| d.with_timezone(&Utc))
}

/// GitLab's `expires_at`: a date (`2026-12-01`), the token's last valid day (it expires at
/// the start of the next day, UTC).
fn gitlab_expiry(value: &str) -> Option<DateTime<Utc>> {
    if let Ok(date) = chrono::NaiveDate::parse_from_str(value, "%Y-%m-%d") {
        return date
            .succ_opt()
            .and_then(|d| d.and_hms_opt(0, 0, 0))
            .map(|n| n.and_utc());
    }
    DateTime::parse_from_rfc3339(value)
        .ok()
        .map(|d| d.with_timezone(&Utc))
}

fn strings(v: &serde_json::Value) -> Option<Vec<String>> {
    v.as_array().map(|a| {
        a.iter()
            .filter_map(|s| s.as_str().map(str::to_string))
            .collect()
    })
}

fn text(v: &serde_json::Value) -> Option<String> {
    v.as_str().filter(|s| !s.is_empty()).map(str::to_string)
}

/// What a reply to the provider's "who am I" call means.
pub fn classify(provider: Provider, reply: &Reply, now: DateTime<Utc>) -> TokenOutcome {
    let status = reply.status;
    let body: Option<serde_json::Value> = serde_json::from_slice(&reply.body).ok();
    if (300..400).contains(&status) {
        return failed(
            TokenFailure::Unexpected,
            format!("answered {status} (a redirect): not followed, the token is sent nowhere else"),
        );
    }
    if status == 429 {
        return failed(TokenFailure::Throttled, "answered 429 (too many requests)");
    }
    if status >= 500 {
        return failed(
            TokenFailure::Unexpected,
            format!("answered {status} (a server error)"),
        );
    }
    match provider {
        Provider::Github => match status {
            200 => TokenOutcome::Ok(TokenInfo {
                identity: body.as_ref().and_then(|b| text(&b["login"])),
                expires_at: reply
                    .header("github-authentication-token-expiration")
                    .and_then(github_expiry),
                // Classic tokens list their scopes; fine-grained tokens send no such header.
                scopes: reply.header("x-oauth-scopes").map(|s| {
                    s.split(',')
                        .map(|x| x.trim().to_string())
                        .filter(|x| !x.is_empty())
                        .collect()
                }),
                renewable: None,
            }),
            // "Bad credentials": unknown, revoked or expired (GitHub does not say which).
            401 => failed(TokenFailure::Rejected, "answered 401 Bad credentials"),
            403 if reply.header("x-ratelimit-remaining") == Some("0") => failed(
                TokenFailure::Throttled,
                "answered 403 with x-ratelimit-remaining: 0 (rate limit)",
            ),
            403 => failed(
                TokenFailure::Forbidden,
                "answered 403 Forbidden (an organization's SSO or IP allow list, or a token without the access)",
            ),
            _ => failed(TokenFailure::Unexpected, format!("answered {status}")),
        },
        Provider::Gitlab => match (status, body) {
            (200, Some(b)) if b.is_object() => {
                let info = TokenInfo {
                    identity: text(&b["name"]),
                    expires_at: b["expires_at"].as_str().and_then(gitlab_expiry),
                    scopes: strings(&b["scopes"]),
                    renewable: None,
                };
                if b["revoked"].as_bool() == Some(true) {
                    TokenOutcome::Failed {
                        kind: TokenFailure::Rejected,
                        detail: "the token is revoked".into(),
                        info,
                    }
                } else if info.expires_at.is_some_and(|e| e <= now)
                    || b["active"].as_bool() == Some(false)
                {
                    TokenOutcome::Failed {
                        kind: TokenFailure::Expired,
                        detail: "the token is no longer active (expired)".into(),
                        info,
                    }
                } else {
                    TokenOutcome::Ok(info)
                }
            }
            (200, _) => failed(
                TokenFailure::Unexpected,
                "answered 200 without a personal access token's JSON",
            ),
            // GitLab's 401 body is OAuth's `{"error":"invalid_token","error_description":
            // "Token is expired. …"}` for an expired token (lib/gitlab/auth/auth_finders.rb),
            // `{"message":"401 Unauthorized"}` otherwise.
            (401, Some(b))
                if b["error_description"]
                    .as_str()
                    .is_some_and(|d| d.starts_with("Token is expired")) =>
            {
                failed(TokenFailure::Expired, "answered 401: Token is expired")
            }
            (401, Some(b))
                if b["error_description"]
                    .as_str()
                    .is_some_and(|d| d.starts_with("Token was revoked")) =>
            {
                failed(TokenFailure::Rejected, "answered 401: Token was revoked")
            }
            (401, _) => failed(TokenFailure::Rejected, "answered 401 Unauthorized"),
            (403, _) => failed(
                TokenFailure::Forbidden,
                "answered 403 Forbidden (the token lacks the read_api or api scope the provider needs, or is not a personal access token)",
            ),
            (404, _) => failed(
                TokenFailure::Unexpected,
                "answered 404: no personal_access_tokens/self here (GitLab before 15.5, or not a GitLab API base)",
            ),
            _ => failed(TokenFailure::Unexpected, format!("answered {status}")),
        },
        Provider::Vault => match (status, body) {
            (200, Some(b)) if b["data"].is_object() => {
                let d = &b["data"];
                let expire_time = d["expire_time"]
                    .as_str()
                    .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
                    .map(|t| t.with_timezone(&Utc));
                // `ttl` 0 and no expire_time: a token that never expires (root).
                let expires_at = expire_time.or_else(|| {
                    d["ttl"]
                        .as_i64()
                        .filter(|t| *t > 0)
                        .map(|t| now + chrono::Duration::seconds(t))
                });
                TokenOutcome::Ok(TokenInfo {
                    identity: text(&d["display_name"]),
                    expires_at,
                    scopes: strings(&d["policies"]),
                    renewable: d["renewable"].as_bool(),
                })
            }
            (200, _) => failed(
                TokenFailure::Unexpected,
                "answered 200 without lookup-self's `data`",
            ),
            // Vault answers 403 "permission denied" to a token it does not know (expired
            // tokens are revoked and forgotten); every valid token may look itself up.
            (403, _) => failed(
                TokenFailure::Rejected,
                "answered 403 permission denied (Vault's answer to an unknown, revoked or expired token)",
            ),
            (401, _) => failed(TokenFailure::Rejected, "answered 401"),
            _ => failed(TokenFailure::Unexpected, format!("answered {status}")),
        },
        Provider::Tfe => match (status, body) {
            (200, Some(b)) if b["data"].is_object() => TokenOutcome::Ok(TokenInfo {
                identity: text(&b["data"]["attributes"]["username"]),
                ..TokenInfo::default()
            }),
            (200, _) => failed(
                TokenFailure::Unexpected,
                "answered 200 without account details' `data`",
            ),
            // JSON:API `{"errors":[{"status":"401","title":"unauthorized"}]}`.
            (401, _) => failed(TokenFailure::Rejected, "answered 401 unauthorized"),
            (403, _) => failed(TokenFailure::Forbidden, "answered 403 forbidden"),
            // A team or organization token has no account: HCP Terraform answers 404.
            (404, _) => failed(
                TokenFailure::Unexpected,
                "answered 404 (an organization or team token has no account details, or not an HCP Terraform API here)",
            ),
            _ => failed(TokenFailure::Unexpected, format!("answered {status}")),
        },
        Provider::Hcp | Provider::Kubernetes | Provider::Helm => {
            failed(TokenFailure::Unexpected, "not checked")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-11-27T12:00:00Z")
            .unwrap()
            .with_timezone(&Utc)
    }

    fn reply(status: u16, headers: &[(&str, &str)], body: &str) -> Reply {
        Reply {
            status,
            headers: headers
                .iter()
                .map(|(n, v)| (n.to_string(), v.to_string()))
                .collect(),
            body: body.as_bytes().to_vec(),
        }
    }

    #[test]
    fn urls_as_the_providers_build_them() {
        assert_eq!(
            probe_url(Provider::Github, "https://api.github.com/").unwrap(),
            "https://api.github.com/user"
        );
        assert_eq!(
            probe_url(Provider::Github, "https://ghe.example.com/").unwrap(),
            "https://ghe.example.com/api/v3/user"
        );
        assert_eq!(
            probe_url(Provider::Gitlab, "https://gitlab.example.com/api/v4/").unwrap(),
            "https://gitlab.example.com/api/v4/personal_access_tokens/self"
        );
        assert_eq!(
            probe_url(Provider::Vault, "https://vault:8200").unwrap(),
            "https://vault:8200/v1/auth/token/lookup-self"
        );
    }

    #[test]
    fn github() {
        let ok = classify(
            Provider::Github,
            &reply(
                200,
                &[
                    ("X-OAuth-Scopes", "repo, read:org"),
                    (
                        "github-authentication-token-expiration",
                        "2026-12-01 10:00:00 UTC",
                    ),
                ],
                r#"{"login":"octocat","id":1}"#,
            ),
            now(),
        );
        let TokenOutcome::Ok(info) = ok else {
            panic!("{ok:?}")
        };
        assert_eq!(info.identity.as_deref(), Some("octocat"));
        assert_eq!(info.scopes.unwrap(), ["repo", "read:org"]);
        assert_eq!(
            info.expires_at.unwrap().to_rfc3339(),
            "2026-12-01T10:00:00+00:00"
        );
        assert_eq!(
            github_expiry("2026-12-01 10:00:00 -0800")
                .unwrap()
                .to_rfc3339(),
            "2026-12-01T18:00:00+00:00"
        );
        let bad = classify(
            Provider::Github,
            &reply(401, &[], r#"{"message":"Bad credentials"}"#),
            now(),
        );
        assert!(matches!(
            bad,
            TokenOutcome::Failed {
                kind: TokenFailure::Rejected,
                ..
            }
        ));
        let moved = classify(
            Provider::Github,
            &reply(302, &[("location", "https://elsewhere/")], ""),
            now(),
        );
        assert!(matches!(
            moved,
            TokenOutcome::Failed {
                kind: TokenFailure::Unexpected,
                ..
            }
        ));
    }

    #[test]
    fn gitlab() {
        let body = r#"{"id":4,"name":"ci","revoked":false,"scopes":["api"],"active":true,"expires_at":"2026-12-01"}"#;
        let TokenOutcome::Ok(info) = classify(Provider::Gitlab, &reply(200, &[], body), now())
        else {
            panic!()
        };
        assert_eq!(
            info.expires_at.unwrap().to_rfc3339(),
            "2026-12-02T00:00:00+00:00"
        );
        let expired = r#"{"error":"invalid_token","error_description":"Token is expired. You can either do re-authorization or token refresh."}"#;
        assert!(matches!(
            classify(Provider::Gitlab, &reply(401, &[], expired), now()),
            TokenOutcome::Failed {
                kind: TokenFailure::Expired,
                ..
            }
        ));
        let revoked =
            r#"{"id":4,"revoked":true,"scopes":["api"],"active":false,"expires_at":null}"#;
        assert!(matches!(
            classify(Provider::Gitlab, &reply(200, &[], revoked), now()),
            TokenOutcome::Failed {
                kind: TokenFailure::Rejected,
                ..
            }
        ));
    }

    #[test]
    fn vault() {
        let body = r#"{"data":{"display_name":"token","ttl":3600,"renewable":true,"policies":["default","ops"],"expire_time":"2026-11-27T13:00:00.000000Z"}}"#;
        let TokenOutcome::Ok(info) = classify(Provider::Vault, &reply(200, &[], body), now())
        else {
            panic!()
        };
        assert_eq!(info.renewable, Some(true));
        assert_eq!(info.scopes.unwrap(), ["default", "ops"]);
        assert_eq!(
            info.expires_at.unwrap().to_rfc3339(),
            "2026-11-27T13:00:00+00:00"
        );
        let root = r#"{"data":{"ttl":0,"expire_time":null,"policies":["root"]}}"#;
        let TokenOutcome::Ok(info) = classify(Provider::Vault, &reply(200, &[], root), now())
        else {
            panic!()
        };
        assert_eq!(info.expires_at, None);
        assert!(matches!(
            classify(
                Provider::Vault,
                &reply(403, &[], r#"{"errors":["permission denied"]}"#),
                now()
            ),
            TokenOutcome::Failed {
                kind: TokenFailure::Rejected,
                ..
            }
        ));
    }

    #[test]
    fn tfe() {
        let body = r#"{"data":{"id":"user-V3R563qtJNcExAkN","type":"users","attributes":{"username":"admin"}}}"#;
        let TokenOutcome::Ok(info) = classify(Provider::Tfe, &reply(200, &[], body), now()) else {
            panic!()
        };
        assert_eq!(info.identity.as_deref(), Some("admin"));
        assert!(matches!(
            classify(
                Provider::Tfe,
                &reply(
                    401,
                    &[],
                    r#"{"errors":[{"status":"401","title":"unauthorized"}]}"#
                ),
                now()
            ),
            TokenOutcome::Failed {
                kind: TokenFailure::Rejected,
                ..
            }
        ));
    }
}
