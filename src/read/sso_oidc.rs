//! SSO-OIDC: RegisterClient (kept while valid), the device-authorization sign-in
//! (StartDeviceAuthorization, then CreateToken polled at the interval the service asks for),
//! the authorization-code exchange of the PKCE sign-in, and the refresh-token grant.

use chrono::{DateTime, Duration as Span, Utc};
use std::time::Duration;

const GRANT_TYPE: &str = "urn:ietf:params:oauth:grant-type:device_code";

/// The longest polling interval honoured (seconds of the service's unit): a server asking for
/// more is not waited for beyond this, and never beyond the sign-in deadline.
pub const MAX_INTERVAL: u32 = 60;
pub use crate::model::sign_in::SCOPE;

/// The grants a client is registered for.
pub const DEVICE_GRANTS: &[&str] = &[GRANT_TYPE, "refresh_token"];
pub const CODE_GRANTS: &[&str] = &["authorization_code", "refresh_token"];
/// The loopback redirect registered for the PKCE sign-in; the port is the listener's (RFC 8252).
pub const REDIRECT_URI: &str = "http://127.0.0.1/oauth/callback";

pub use crate::model::sign_in::Registration;

/// What the device flow has to tell the person signing in; the command says it.
#[derive(Debug)]
pub enum SignInEvent<'a> {
    /// The code to approve, and where.
    Code(&'a DeviceCode),
    /// The service asked to poll less often.
    SlowDown { interval_s: u32 },
}

#[derive(Debug, Clone)]
pub struct DeviceCode {
    pub user_code: String,
    pub verification_uri: String,
    pub verification_uri_complete: Option<String>,
}

#[derive(Debug, Clone)]
pub struct NewToken {
    pub access_token: String,
    pub expires_at: DateTime<Utc>,
    /// Kept (privately) to renew the access token without a browser.
    pub refresh_token: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum LoginError {
    #[error(
        "sign-in was denied (AccessDenied): approve the request in the browser, with the right user"
    )]
    AccessDenied,
    #[error(
        "the sign-in code expired before it was approved: run the command again and approve within {0}"
    )]
    Expired(String),
    #[error(
        "{0}: SSO-OIDC refused the grant (InvalidGrantException); the usual cause is an `sso_region` that is not the region of the IAM Identity Center your start URL belongs to: set `sso_region` in config/common.tfvars to that region (the portal's sign-in page shows it), then sign in again"
    )]
    InvalidGrant(String),
    #[error("{0}")]
    Other(String),
}

/// A CreateToken answer made a token, or refused: no access token, or one already expired.
fn new_token(
    access_token: Option<String>,
    refresh_token: Option<String>,
    expires_in: i32,
) -> Result<NewToken, LoginError> {
    let access_token = access_token.unwrap_or_default();
    crate::secrets::register(&access_token);
    if let Some(refresh) = &refresh_token {
        crate::secrets::register(refresh);
    }
    if access_token.is_empty() {
        return Err(LoginError::Other(
            "SSO-OIDC CreateToken: the service answered no access token".into(),
        ));
    }
    if expires_in <= 0 {
        return Err(LoginError::Other(format!(
            "SSO-OIDC CreateToken: the service answered a token that expires in {expires_in} s; nothing written"
        )));
    }
    Ok(NewToken {
        access_token,
        expires_at: Utc::now() + Span::seconds(i64::from(expires_in)),
        refresh_token: refresh_token.filter(|t| !t.is_empty()),
    })
}

pub struct Oidc {
    client: aws_sdk_ssooidc::Client,
    region: String,
}

fn other<E: std::error::Error + 'static>(what: &str, e: &E) -> LoginError {
    let text = super::failure::error_text(e);
    if text.contains("InvalidGrant") || text.contains("invalid_grant") {
        return LoginError::InvalidGrant(what.to_string());
    }
    LoginError::Other(format!("{what}: {}", super::failure::sanitize(&text)))
}

impl Oidc {
    pub async fn new(region: &str, timeout: Duration) -> Oidc {
        let config = super::sso_portal::unsigned_config(region, timeout).await;
        Oidc {
            client: aws_sdk_ssooidc::Client::new(&config),
            region: region.to_string(),
        }
    }

    /// Registers a public client for `grants` (with the loopback redirect and the start URL as
    /// issuer for the authorization-code grant).
    pub async fn register(
        &self,
        grants: &[&str],
        start_url: &str,
    ) -> Result<Registration, LoginError> {
        let mut call = self
            .client
            .register_client()
            .client_name("leverage-doctor")
            .client_type("public")
            .scopes(SCOPE);
        for g in grants {
            call = call.grant_types(*g);
        }
        if grants.contains(&"authorization_code") {
            call = call.redirect_uris(REDIRECT_URI).issuer_url(start_url);
        }
        let out = call
            .send()
            .await
            .map_err(|e| other("SSO-OIDC RegisterClient", &e))?;
        if let Some(secret) = &out.client_secret {
            crate::secrets::register(secret);
        }
        let expires = DateTime::<Utc>::from_timestamp(out.client_secret_expires_at, 0)
            .unwrap_or_else(Utc::now);
        Ok(Registration {
            client_id: out.client_id.unwrap_or_default(),
            client_secret: out.client_secret.unwrap_or_default(),
            expires_at: expires.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
            region: self.region.clone(),
            scopes: vec![SCOPE.into()],
            grant_types: grants.iter().map(|g| g.to_string()).collect(),
        })
    }

    /// CreateToken for the registered client with `grant`; `fill` adds the grant's own fields.
    async fn create_token(
        &self,
        reg: &Registration,
        grant: &str,
        fill: impl FnOnce(
            aws_sdk_ssooidc::operation::create_token::builders::CreateTokenFluentBuilder,
        ) -> aws_sdk_ssooidc::operation::create_token::builders::CreateTokenFluentBuilder,
    ) -> Result<NewToken, LoginError> {
        let call = self
            .client
            .create_token()
            .client_id(&reg.client_id)
            .client_secret(&reg.client_secret)
            .grant_type(grant);
        match fill(call).send().await {
            Ok(out) => new_token(out.access_token, out.refresh_token, out.expires_in),
            Err(e) => Err(other(&format!("SSO-OIDC CreateToken ({grant})"), &e)),
        }
    }

    /// CreateToken with the refresh-token grant: a new access token without a browser.
    pub async fn refresh(
        &self,
        reg: &Registration,
        refresh_token: &str,
    ) -> Result<NewToken, LoginError> {
        self.create_token(reg, "refresh_token", |c| c.refresh_token(refresh_token))
            .await
    }

    /// CreateToken with the authorization-code grant (PKCE): the code the browser brought back,
    /// the verifier whose S256 challenge the authorize request carried, the same redirect.
    pub async fn exchange_code(
        &self,
        reg: &Registration,
        code: &str,
        verifier: &str,
        redirect_uri: &str,
    ) -> Result<NewToken, LoginError> {
        self.create_token(reg, "authorization_code", |c| {
            c.code(code)
                .code_verifier(verifier)
                .redirect_uri(redirect_uri)
        })
        .await
    }

    /// Starts the device flow, shows the code, and polls until the user approves, denies, or
    /// the code expires. `unit` is one second of the service's interval (tests shorten it).
    pub async fn sign_in(
        &self,
        reg: &Registration,
        start_url: &str,
        unit: Duration,
        max_wait: Duration,
        mut tell: impl FnMut(SignInEvent<'_>),
    ) -> Result<NewToken, LoginError> {
        let auth = self
            .client
            .start_device_authorization()
            .client_id(&reg.client_id)
            .client_secret(&reg.client_secret)
            .start_url(start_url)
            .send()
            .await
            .map_err(|e| other("SSO-OIDC StartDeviceAuthorization", &e))?;
        let device_code = auth.device_code.unwrap_or_default();
        crate::secrets::register(&device_code);
        if auth.expires_in <= 0 {
            return Err(LoginError::Other(format!(
                "SSO-OIDC StartDeviceAuthorization: the service answered a code that expires in {} s",
                auth.expires_in
            )));
        }
        tell(SignInEvent::Code(&DeviceCode {
            user_code: auth.user_code.unwrap_or_default(),
            verification_uri: auth.verification_uri.unwrap_or_default(),
            verification_uri_complete: auth.verification_uri_complete,
        }));
        let mut interval = u32::try_from(
            auth.interval
                .clamp(1, i32::try_from(MAX_INTERVAL).unwrap_or(60)),
        )
        .unwrap_or(5);
        let lifetime = unit * u32::try_from(auth.expires_in.max(1)).unwrap_or(600);
        let deadline = std::time::Instant::now() + lifetime.min(max_wait);
        loop {
            // Never past the deadline, whatever interval the server asks for.
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            tokio::time::sleep((unit * interval).min(left)).await;
            let result = self
                .client
                .create_token()
                .client_id(&reg.client_id)
                .client_secret(&reg.client_secret)
                .grant_type(GRANT_TYPE)
                .device_code(&device_code)
                .send()
                .await;
            match result {
                Ok(out) => {
                    return new_token(out.access_token, out.refresh_token, out.expires_in);
                }
                Err(e) => {
                    let code = e
                        .as_service_error()
                        .and_then(|s| aws_sdk_ssooidc::error::ProvideErrorMetadata::code(s))
                        .unwrap_or("");
                    match code {
                        "AuthorizationPendingException" => {}
                        "SlowDownException" => {
                            interval = (interval + 5).min(MAX_INTERVAL);
                            tell(SignInEvent::SlowDown {
                                interval_s: interval,
                            });
                        }
                        "AccessDeniedException" => return Err(LoginError::AccessDenied),
                        "ExpiredTokenException" => {
                            return Err(LoginError::Expired(crate::time::human_duration(
                                Span::from_std(lifetime).unwrap_or_default(),
                            )));
                        }
                        _ => return Err(other("SSO-OIDC CreateToken", &e)),
                    }
                }
            }
            if std::time::Instant::now() >= deadline {
                return Err(LoginError::Expired(crate::time::human_duration(
                    Span::from_std(lifetime.min(max_wait)).unwrap_or_default(),
                )));
            }
        }
    }
}
