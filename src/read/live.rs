//! Live probes: credentials for each profile the way the tool using them gets them, then STS
//! GetCallerIdentity. Gathering only: rules (LD6xx) judge the results.
//!
//! - Standard chains (static keys, role chains, credential_process, SSO profiles) go through the
//!   AWS SDK's own `ProfileFileCredentialsProvider` over the project's files.
//! - Leverage SSO (`<p>-<account>-<role>` in SSO mode): the token of `~/.aws/<p>/sso/cache/token`
//!   and SSO GetRoleCredentials for the account and role of `[profile <p>-sso-<account>]`, as
//!   the Leverage CLI does; one call per (account, role), shared.
//! - Leverage MFA: a valid cached session of `~/.aws/<p>/cache/<profile>`; else one MFA code per
//!   device gives one GetSessionToken, shared by every AssumeRole that needs it.
//!
//! Endpoints come from the SDK's standard settings (AWS_ENDPOINT_URL, AWS_ENDPOINT_URL_STS, …).

use crate::model::Model;
use crate::model::aws::AwsFiles;
use crate::model::live::{FailureKind, LiveOutcome, LiveResult};
use crate::read::failure::{Failure, Phase};
use aws_config::BehaviorVersion;
use aws_config::profile::ProfileFileCredentialsProvider;
use aws_config::provider_config::ProviderConfig;
use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_credential_types::Credentials;
use aws_credential_types::provider::ProvideCredentials;
use aws_runtime::env_config::file::{
    EnvConfigFileKind as ProfileFileKind, EnvConfigFiles as ProfileFiles,
};
use aws_sdk_sts::config::Region;
use futures::StreamExt;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::OnceCell;

/// Throttled calls are retried this many times in all, with doubling back-off.
const THROTTLE_ATTEMPTS: u32 = 3;

#[derive(Debug, Clone)]
pub struct LiveSettings {
    pub jobs: usize,
    pub timeout: Duration,
    /// MFA code for every device (`--mfa-code`), else asked through the console.
    pub mfa_code: Option<String>,
}

/// What a live run shows and asks, provided by the command: probes never print or prompt.
pub trait Console: Sync {
    /// An answer to `question` (an MFA code), or None when there is no one to ask.
    fn ask(&self, question: &str) -> Option<String>;
    /// `done` of `total` profiles probed (`done == total` at the end).
    fn progress(&self, done: usize, total: usize);
}

/// No one to ask, nothing shown (CI, tests).
pub struct Unattended;

impl Console for Unattended {
    fn ask(&self, _question: &str) -> Option<String> {
        None
    }
    fn progress(&self, _done: usize, _total: usize) {}
}

type Shared<T> = Arc<OnceCell<Result<T, Failure>>>;

/// Where a profile's chain ends: its credentials, and whose they are when the last call said
/// so (AssumeRole's reply names the role session as GetCallerIdentity would).
struct RoleSession {
    credentials: Credentials,
    identity: Option<(String, String)>,
}

impl RoleSession {
    fn unnamed(credentials: Credentials) -> RoleSession {
        RoleSession {
            credentials,
            identity: None,
        }
    }
}

/// What every probe of one run shares: the base SDK config and the chain hops resolved once.
struct Probe<'a> {
    model: &'a Model,
    analysis: &'a crate::analysis::Analysis,
    aws: &'a AwsFiles,
    base: aws_config::SdkConfig,
    files: ProfileFiles,
    settings: LiveSettings,
    mfa_codes: HashMap<String, String>,
    sso_roles: std::sync::Mutex<HashMap<(String, String), Shared<Credentials>>>,
    mfa_sessions: std::sync::Mutex<HashMap<(String, String), Shared<Credentials>>>,
}

/// Probes every profile the scope uses. Never fails as a whole: each profile gets an outcome.
pub fn probe_all(
    model: &Model,
    analysis: &crate::analysis::Analysis,
    settings: &LiveSettings,
    console: &dyn Console,
) -> Vec<LiveResult> {
    let profiles: Vec<String> = analysis.used.keys().cloned().collect();
    let profiles = profiles.as_slice();
    let (Some(aws), Some(project)) = (model.aws.as_ref(), model.project.as_ref()) else {
        return Vec::new();
    };
    if profiles.is_empty() {
        return Vec::new();
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(settings.jobs.clamp(1, 4))
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            return profiles
                .iter()
                .map(|p| LiveResult {
                    profile: p.clone(),
                    outcome: LiveOutcome::Skipped(format!("cannot start the async runtime: {e}")),
                    millis: 0,
                })
                .collect();
        }
    };
    let name = project.name().unwrap_or_default();
    let mfa_codes = collect_mfa_codes(model, analysis, aws, &name, profiles, settings, console);
    runtime.block_on(async {
        let probe = Probe::new(model, analysis, aws, settings.clone(), mfa_codes).await;
        let total = profiles.len();
        let done = std::sync::atomic::AtomicUsize::new(0);
        console.progress(0, total);
        let mut results: Vec<LiveResult> = futures::stream::iter(profiles.iter())
            .map(|p| {
                let probe = &probe;
                let done = &done;
                async move {
                    let r = probe.one(p).await;
                    let n = done.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
                    console.progress(n, total);
                    r
                }
            })
            .buffer_unordered(settings.jobs.max(1))
            .collect()
            .await;
        results.sort_by(|a, b| a.profile.cmp(&b.profile));
        results
    })
}

/// The SDK config every call shares, and the project's AWS files for it. The SDK gets the very
/// text the rules judged, read once by our reader (type checked, size capped): it opens no file
/// of its own, so a FIFO there cannot make it wait.
async fn base_config(
    model: &Model,
    aws: &AwsFiles,
    timeout: Duration,
) -> (aws_config::SdkConfig, ProfileFiles) {
    let text_of = |file: &crate::model::aws::AwsFile| {
        file.parsed()
            .map(|ini| model.sources.get(ini.file).text.clone())
            .unwrap_or_default()
    };
    let files = ProfileFiles::builder()
        .with_contents(ProfileFileKind::Config, text_of(&aws.config))
        .with_contents(ProfileFileKind::Credentials, text_of(&aws.credentials))
        .build();
    let mut loader = aws_config::defaults(BehaviorVersion::latest());
    if let Some(client) = super::http::client() {
        loader = loader.http_client(client);
    }
    let base = loader
        .profile_files(files.clone())
        .region(Region::new("us-east-1"))
        .retry_config(RetryConfig::disabled())
        .timeout_config(timeouts(timeout))
        .no_credentials()
        .load()
        .await;
    (base, files)
}

/// New role credentials for Leverage MFA profiles, as the Leverage CLI's MFA step gets them:
/// `code` for every device gives one GetSessionToken per source profile and device (shared),
/// then AssumeRole of each profile's `role_arn` as the session `leverage-<profile>`. `profiles`:
/// `(profile, the config section its MFA step reads)`. Never prompts.
pub fn new_mfa_role_credentials(
    model: &Model,
    analysis: &crate::analysis::Analysis,
    profiles: &[(String, String)],
    code: &str,
    timeout: Duration,
) -> Vec<(
    String,
    Result<crate::read::sso_portal::RoleCredentials, Failure>,
)> {
    let Some(aws) = model.aws.as_ref() else {
        return Vec::new();
    };
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            let why = format!("cannot start the async runtime: {e}");
            return profiles
                .iter()
                .map(|(p, _)| {
                    (
                        p.clone(),
                        Err(Failure::new(FailureKind::Other, why.clone())),
                    )
                })
                .collect();
        }
    };
    let mfa_codes: HashMap<String, String> = profiles
        .iter()
        .filter_map(|(_, section)| aws.profile_value(section, "mfa_serial"))
        .map(|serial| (serial.value.clone(), code.to_string()))
        .collect();
    runtime.block_on(async {
        let settings = LiveSettings {
            jobs: 1,
            timeout,
            mfa_code: Some(code.to_string()),
        };
        let probe = Probe::new(model, analysis, aws, settings, mfa_codes).await;
        let calls = profiles.iter().map(|(profile, section)| {
            let probe = &probe;
            async move {
                let region = probe
                    .aws
                    .profile_value(section, "region")
                    .map(|e| e.value.clone())
                    .unwrap_or_else(|| "us-east-1".to_string());
                let got = probe
                    .new_mfa_role(section, &region, &format!("leverage-{profile}"))
                    .await
                    .and_then(|RoleSession { credentials: c, .. }| {
                        let expiration_ms = c
                            .expiry()
                            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
                            .and_then(|d| i64::try_from(d.as_millis()).ok())
                            .ok_or_else(|| {
                                Failure::new(FailureKind::Other, "STS returned no expiration")
                            })?;
                        Ok(crate::read::sso_portal::RoleCredentials {
                            access_key_id: c.access_key_id().to_string(),
                            secret_access_key: c.secret_access_key().to_string(),
                            session_token: c.session_token().unwrap_or_default().to_string(),
                            expiration_ms,
                        })
                    });
                (profile.clone(), got)
            }
        });
        futures::future::join_all(calls).await
    })
}

fn timeouts(t: Duration) -> TimeoutConfig {
    TimeoutConfig::builder()
        .connect_timeout(t)
        .read_timeout(t)
        .operation_attempt_timeout(t)
        .operation_timeout(t)
        .build()
}

/// The MFA devices whose profiles have no valid cached session; one code each, asked now,
/// before the probes run in parallel (and never without a terminal).
fn collect_mfa_codes(
    model: &Model,
    analysis: &crate::analysis::Analysis,
    aws: &AwsFiles,
    project: &str,
    profiles: &[String],
    settings: &LiveSettings,
    console: &dyn Console,
) -> HashMap<String, String> {
    let mut codes = HashMap::new();
    for profile in profiles {
        let Some(crate::analysis::CredentialSource::LeverageMfa { section }) =
            analysis.source(profile)
        else {
            continue;
        };
        let Some(serial) = aws.profile_value(section, "mfa_serial") else {
            continue;
        };
        if cached_mfa_session(model, aws, profile).is_some() || codes.contains_key(&serial.value) {
            continue;
        }
        let code = match &settings.mfa_code {
            Some(code) => Some(code.clone()),
            None => console.ask(&format!(
                "MFA code for {} ({project}, device {}): ",
                profile, serial.value
            )),
        };
        if let Some(code) = code {
            codes.insert(serial.value.clone(), code);
        }
    }
    codes
}

/// A cached MFA (AssumeRole) session still valid now.
fn cached_mfa_session(model: &Model, aws: &AwsFiles, profile: &str) -> Option<Credentials> {
    let cache = aws.mfa_cache.iter().find(|c| c.profile == profile)?;
    match cache.expiration {
        Ok(at) if at > model.now => {}
        _ => return None,
    }
    let text = super::fs::read_text(&crate::leverage::mfa_cache_path(&aws.dir, profile))
        .ok()?
        .text;
    let json: serde_json::Value = serde_json::from_str(&text).ok()?;
    // 1.x/2.x: the AssumeRole output; 3.x: the flat credentials object.
    let c = json.get("Credentials").unwrap_or(&json);
    Some(Credentials::new(
        c.get("AccessKeyId")?.as_str()?,
        c.get("SecretAccessKey")?.as_str()?,
        c.get("SessionToken")
            .and_then(|v| v.as_str())
            .map(str::to_string),
        None,
        "leverage-mfa-cache",
    ))
}

impl<'a> Probe<'a> {
    async fn new(
        model: &'a Model,
        analysis: &'a crate::analysis::Analysis,
        aws: &'a AwsFiles,
        settings: LiveSettings,
        mfa_codes: HashMap<String, String>,
    ) -> Probe<'a> {
        let (base, files) = base_config(model, aws, settings.timeout).await;
        Probe {
            model,
            analysis,
            aws,
            base,
            files,
            settings,
            mfa_codes,
            sso_roles: Default::default(),
            mfa_sessions: Default::default(),
        }
    }

    async fn one(&self, profile: &str) -> LiveResult {
        let started = Instant::now();
        // Whole-probe guard: a chain has at most a few hops, each under the per-call timeout.
        let guard = self.settings.timeout * 4;
        let outcome = match tokio::time::timeout(guard, self.run(profile)).await {
            Ok(Ok(outcome)) => outcome,
            Ok(Err(f)) => LiveOutcome::Failed {
                kind: f.kind,
                error: f.error,
            },
            Err(_) => LiveOutcome::Failed {
                kind: FailureKind::Network,
                error: format!("no answer within {} s", guard.as_secs()),
            },
        };
        LiveResult {
            profile: profile.to_string(),
            outcome,
            millis: started.elapsed().as_millis() as u64,
        }
    }

    fn region_of(&self, profile: &str) -> String {
        self.aws
            .profile_value(profile, "region")
            .or_else(|| self.aws.profile_value("default", "region"))
            .map(|e| e.value.clone())
            .or_else(|| {
                self.model
                    .project
                    .as_ref()
                    .and_then(|p| p.common_str("region_primary"))
                    .map(|l| l.value)
            })
            .unwrap_or_else(|| "us-east-1".into())
    }

    async fn run(&self, profile: &str) -> Result<LiveOutcome, Failure> {
        let region = self.region_of(profile);
        use crate::analysis::CredentialSource;
        // How to get the credentials is the analysis's answer, executed here.
        let session = match self.analysis.source(profile) {
            Some(CredentialSource::LeverageSso { .. }) => {
                match self.leverage_credentials(profile).await? {
                    Some(c) => RoleSession::unnamed(c),
                    None => {
                        return Ok(LiveOutcome::Skipped(
                            "no Leverage SSO account profile for it (see LD103)".into(),
                        ));
                    }
                }
            }
            Some(CredentialSource::LeverageMfa { section }) => {
                self.leverage_mfa(profile, section, &region).await?
            }
            Some(CredentialSource::Missing) | None => {
                return Ok(LiveOutcome::Skipped("not defined (see LD102)".into()));
            }
            // A role chained from credentials Leverage gets from SSO: those first (the Leverage
            // way), then AssumeRole; the account checked is the role's.
            Some(CredentialSource::AssumeRole {
                source_profile: Some(source),
            }) if matches!(
                self.analysis.source(source),
                Some(CredentialSource::LeverageSso { .. })
            ) =>
            {
                let Some(base) = self.leverage_credentials(source).await? else {
                    return Ok(LiveOutcome::Skipped(format!(
                        "no Leverage SSO account profile for its source `{source}` (see LD103)"
                    )));
                };
                let role_arn = self
                    .aws
                    .profile_value(profile, "role_arn")
                    .map(|e| e.value.clone())
                    .unwrap_or_default();
                self.assume_role_named(base, &role_arn, &region, "leverage-doctor", None)
                    .await?
            }
            Some(CredentialSource::Unsupported { key }) => {
                return Err(Failure::new(
                    FailureKind::UnsupportedCredentials,
                    format!(
                        "`{key}` credentials (written by `aws login`) cannot be read by Terraform or its AWS SDK (see LD311)"
                    ),
                ));
            }
            // The SDK's own two steps, done here so that AssumeRole's reply, which names the
            // role session as GetCallerIdentity would, saves the second call.
            Some(CredentialSource::AssumeRole {
                source_profile: Some(source),
            }) if self.role_over_static_keys(profile, source) => {
                let base = self.sdk_chain(source, &region).await?;
                let value = |key: &str| {
                    self.aws
                        .profile_value(profile, key)
                        .map(|e| e.value.as_str())
                };
                self.assume_role_named(
                    base,
                    value("role_arn").unwrap_or_default(),
                    &region,
                    value("role_session_name").unwrap_or("leverage-doctor"),
                    value("external_id"),
                )
                .await?
            }
            Some(_) => RoleSession::unnamed(self.sdk_chain(profile, &region).await?),
        };
        let (account, arn) = match session.identity {
            Some(identity) => identity,
            None => self.caller_identity(session.credentials, &region).await?,
        };
        Ok(LiveOutcome::Ok { account, arn })
    }

    /// A role profile the SDK resolves in exactly two steps: the static keys of `source`, then
    /// AssumeRole with nothing but the keys below (an MFA device, a credential source or any
    /// other setting leaves it to the SDK's chain).
    fn role_over_static_keys(&self, profile: &str, source: &str) -> bool {
        const PLAIN_ROLE_KEYS: [&str; 6] = [
            "role_arn",
            "source_profile",
            "region",
            "output",
            "role_session_name",
            "external_id",
        ];
        matches!(
            self.analysis.source(source),
            Some(crate::analysis::CredentialSource::StaticKeys)
        ) && self.aws.profile_sections(profile).all(|s| {
            s.entries
                .iter()
                .all(|e| PLAIN_ROLE_KEYS.contains(&e.key.to_ascii_lowercase().as_str()))
        })
    }

    /// Keys Leverage already wrote for this profile and still considers fresh (`expiration`).
    fn fresh_leverage_keys(&self, profile: &str) -> Option<Credentials> {
        let expiration: i64 = self
            .aws
            .profile_value(profile, "expiration")?
            .value
            .parse()
            .ok()?;
        let at = chrono::DateTime::<chrono::Utc>::from_timestamp_millis(expiration)?;
        if at <= self.model.now + chrono::Duration::minutes(30) {
            return None;
        }
        let key = self.aws.profile_value(profile, "aws_access_key_id")?;
        let secret = self.aws.profile_value(profile, "aws_secret_access_key")?;
        let token = self.aws.profile_value(profile, "aws_session_token");
        Some(Credentials::new(
            key.value.clone(),
            secret.value.clone(),
            token.map(|t| t.value.clone()),
            None,
            "leverage-sso-cache",
        ))
    }

    async fn sdk_chain(&self, profile: &str, region: &str) -> Result<Credentials, Failure> {
        let mut config = ProviderConfig::without_region()
            .with_region(Some(Region::new(region.to_string())))
            .with_retry_config(RetryConfig::disabled())
            .with_timeout_config(timeouts(self.settings.timeout));
        // The chain's own calls (AssumeRole, SSO) go through the same client as the rest.
        if let Some(client) = self.base.http_client() {
            config = config.with_http_client(client);
        }
        let provider = ProfileFileCredentialsProvider::builder()
            .configure(&config)
            .profile_files(self.files.clone())
            .profile_name(profile)
            .build();
        let provider = &provider;
        retrying_throttled(move || async move {
            provider
                .provide_credentials()
                .await
                .map_err(|e| crate::read::failure::from_credentials(&e, self.model.now))
        })
        .await
    }

    /// Leverage's SSO path: token → GetRoleCredentials(account_id, role_name) of `<p>-sso-<account>`.
    async fn leverage_sso(&self, profile: &str) -> Result<Option<Credentials>, Failure> {
        // The section the analysis found for the account (1.6–1.11: `<p>-sso-<acct>-<Role>`
        // with the standard `sso_account_id`/`sso_role_name` keys; 1.12 →: `<p>-sso-<acct>`
        // with Leverage's own `account_id`/`role_name`).
        let Some(crate::analysis::CredentialSource::LeverageSso { sso_profile, .. }) =
            self.analysis.source(profile).cloned()
        else {
            return Ok(None);
        };
        let value = |keys: [&str; 2]| {
            keys.iter()
                .find_map(|k| self.aws.profile_value(&sso_profile, k))
        };
        let (Some(account_id), Some(role)) = (
            value(["account_id", "sso_account_id"]),
            value(["role_name", "sso_role_name"]),
        ) else {
            return Ok(None);
        };
        let key = (account_id.value.clone(), role.value.clone());
        let cell = {
            let mut map = self.sso_roles.lock().unwrap_or_else(|p| p.into_inner());
            map.entry(key.clone()).or_default().clone()
        };
        let sso_region = self
            .aws
            .profile_value(&sso_profile, "sso_region")
            .map(|e| e.value.clone())
            .or_else(|| {
                self.model
                    .project
                    .as_ref()?
                    .common_str("sso_region")
                    .map(|l| l.value)
            })
            .unwrap_or_else(|| "us-east-1".into());
        cell.get_or_init(|| self.get_role_credentials(key.0.clone(), key.1.clone(), sso_region))
            .await
            .clone()
            .map(Some)
    }

    async fn get_role_credentials(
        &self,
        account_id: String,
        role: String,
        region: String,
    ) -> Result<Credentials, Failure> {
        let token = read_leverage_token(self.aws)?;
        crate::secrets::register(&token);
        let config = aws_sdk_sso::config::Builder::from(&self.base)
            .region(Region::new(region))
            .build();
        let client = aws_sdk_sso::Client::from_conf(config);
        let (client, token, account, role_name) = (&client, &token, &account_id, &role);
        let got = retrying_throttled(move || async move {
            let out = client
                .get_role_credentials()
                .account_id(account)
                .role_name(role_name)
                .access_token(token)
                .send()
                .await
                .map_err(|e| crate::read::failure::from_sdk(&e, Phase::Sso, self.model.now))?;
            let rc = out.role_credentials.ok_or_else(|| Failure {
                kind: FailureKind::Other,
                error: "SSO GetRoleCredentials returned no credentials".into(),
            })?;
            let (Some(key), Some(secret)) = (rc.access_key_id, rc.secret_access_key) else {
                return Err(Failure {
                    kind: FailureKind::Other,
                    error: "SSO GetRoleCredentials returned partial credentials".into(),
                });
            };
            crate::secrets::register(&secret);
            if let Some(t) = &rc.session_token {
                crate::secrets::register(t);
            }
            Ok(Credentials::new(
                key,
                secret,
                rc.session_token,
                None,
                "leverage-sso",
            ))
        })
        .await;
        let mut failure = match got {
            Err(failure) if failure.kind == FailureKind::RoleNotAssigned => failure,
            other => return other,
        };
        // Say which roles the user does have there (ListAccountRoles).
        let roles = client
            .list_account_roles()
            .access_token(token)
            .account_id(account)
            .send()
            .await
            .ok()
            .and_then(|o| o.role_list)
            .unwrap_or_default();
        let names: Vec<String> = roles
            .into_iter()
            .filter_map(|r| r.role_name)
            .map(|r| crate::secrets::one_line(&r, 64))
            .collect();
        failure.error = format!(
            "{} — role `{}` in {account_id}; your roles there: {}",
            failure.error,
            crate::secrets::one_line(&role, 64),
            if names.is_empty() {
                "none".to_string()
            } else {
                names.join(", ")
            }
        );
        Err(failure)
    }

    /// Leverage's MFA path: the cached session, else a shared MFA session and AssumeRole.
    async fn leverage_mfa(
        &self,
        profile: &str,
        section: &str,
        region: &str,
    ) -> Result<RoleSession, Failure> {
        if let Some(c) = cached_mfa_session(self.model, self.aws, profile) {
            return Ok(RoleSession::unnamed(c));
        }
        self.new_mfa_role(section, region, "leverage-doctor").await
    }

    /// A new MFA session (one GetSessionToken per source profile and device, shared), then
    /// AssumeRole of the role of `section` (`[profile X-mfa]` on 3.x).
    async fn new_mfa_role(
        &self,
        section: &str,
        region: &str,
        session_name: &str,
    ) -> Result<RoleSession, Failure> {
        let serial = self
            .aws
            .profile_value(section, "mfa_serial")
            .map(|e| e.value.clone())
            .unwrap_or_default();
        let Some(code) = self.mfa_codes.get(&serial).cloned() else {
            return Err(Failure {
                kind: FailureKind::MfaNeeded,
                error: format!(
                    "no valid cached MFA session and no code for {serial} (no terminal; use --mfa-code)"
                ),
            });
        };
        let role_arn = self
            .aws
            .profile_value(section, "role_arn")
            .map(|e| e.value.clone())
            .unwrap_or_default();
        let source = self
            .aws
            .profile_value(section, "source_profile")
            .map(|e| e.value.clone())
            .unwrap_or_default();
        let cell = {
            let mut map = self.mfa_sessions.lock().unwrap_or_else(|p| p.into_inner());
            map.entry((source.clone(), serial.clone()))
                .or_default()
                .clone()
        };
        let session = cell
            .get_or_init(|| async {
                let source_creds = self.sdk_chain(&source, region).await?;
                let client = self.sts(source_creds, region);
                let out = client
                    .get_session_token()
                    .serial_number(&serial)
                    .token_code(&code)
                    .send()
                    .await
                    .map_err(|e| {
                        crate::read::failure::from_sdk(&e, Phase::Chain, self.model.now)
                    })?;
                sts_credentials(out.credentials)
            })
            .await
            .clone()?;
        self.assume_role_named(session, &role_arn, region, session_name, None)
            .await
    }

    /// STS AssumeRole with `credentials`, the session called `session_name`.
    async fn assume_role_named(
        &self,
        credentials: Credentials,
        role_arn: &str,
        region: &str,
        session_name: &str,
        external_id: Option<&str>,
    ) -> Result<RoleSession, Failure> {
        let client = &self.sts(credentials, region);
        retrying_throttled(move || async move {
            let out = client
                .assume_role()
                .role_arn(role_arn)
                .role_session_name(session_name)
                .set_external_id(external_id.map(str::to_string))
                .send()
                .await
                .map_err(|e| {
                    crate::read::failure::from_sdk(&e, Phase::AssumeRole, self.model.now)
                })?;
            let identity = assumed_identity(out.assumed_role_user.as_ref());
            Ok(RoleSession {
                credentials: sts_credentials(out.credentials)?,
                identity,
            })
        })
        .await
    }

    /// Credentials Leverage writes from SSO for `profile`, got the Leverage way: the keys it
    /// already wrote while fresh, else GetRoleCredentials. None without an account profile.
    async fn leverage_credentials(&self, profile: &str) -> Result<Option<Credentials>, Failure> {
        match self.fresh_leverage_keys(profile) {
            Some(c) => Ok(Some(c)),
            None => self.leverage_sso(profile).await,
        }
    }

    fn sts(&self, credentials: Credentials, region: &str) -> aws_sdk_sts::Client {
        let config = aws_sdk_sts::config::Builder::from(&self.base)
            .region(Region::new(region.to_string()))
            .credentials_provider(credentials)
            .build();
        aws_sdk_sts::Client::from_conf(config)
    }

    async fn caller_identity(
        &self,
        credentials: Credentials,
        region: &str,
    ) -> Result<(String, String), Failure> {
        let client = &self.sts(credentials, region);
        retrying_throttled(move || async move {
            let out = client.get_caller_identity().send().await.map_err(|e| {
                crate::read::failure::from_sdk(&e, Phase::Identity, self.model.now)
            })?;
            // An empty or truncated reply parses as an identity with no fields: that is a
            // failed call, not "ok in account ''".
            let account = out.account.unwrap_or_default();
            if crate::values::account_id(&account).is_err() {
                return Err(Failure {
                    kind: FailureKind::Other,
                    error: format!(
                        "STS GetCallerIdentity answered without a valid account id (`{}`): an empty or truncated reply",
                        crate::secrets::one_line(&account, 40)
                    ),
                });
            }
            Ok((account, out.arn.unwrap_or_default()))
        })
        .await
    }
}

/// The account and ARN of an AssumeRole reply's role session, when its ARN is a valid one.
fn assumed_identity(
    user: Option<&aws_sdk_sts::types::AssumedRoleUser>,
) -> Option<(String, String)> {
    let arn = &user?.arn;
    let account = crate::values::arn_account(arn, "sts", "assumed-role")?;
    Some((account.to_string(), arn.clone()))
}

fn sts_credentials(c: Option<aws_sdk_sts::types::Credentials>) -> Result<Credentials, Failure> {
    let c = c
        .filter(|c| !c.access_key_id.is_empty() && !c.secret_access_key.is_empty())
        .ok_or_else(|| Failure {
            kind: FailureKind::Other,
            error: "STS returned no credentials".into(),
        })?;
    crate::secrets::register(&c.secret_access_key);
    crate::secrets::register(&c.session_token);
    let expiry = std::time::SystemTime::try_from(c.expiration).ok();
    Ok(Credentials::new(
        c.access_key_id,
        c.secret_access_key,
        Some(c.session_token),
        expiry,
        "leverage-mfa",
    ))
}

/// The token as `check` read it with the rest of the files (one read per run).
fn read_leverage_token(aws: &AwsFiles) -> Result<String, Failure> {
    let invalid = |error: &str| Failure {
        kind: FailureKind::SsoSessionInvalid,
        error: error.into(),
    };
    let token = aws
        .leverage_token()
        .ok_or_else(|| invalid("no SSO token in the project's sso/cache (not logged in)"))?;
    match &token.content {
        Ok(t) => t
            .access_token
            .as_ref()
            .map(|a| a.expose().to_string())
            .ok_or_else(|| invalid("the SSO token file has no accessToken")),
        Err(_) => Err(invalid("the SSO token file is not JSON")),
    }
}

/// `call`, made again after a backoff while the service says it is throttling, up to
/// THROTTLE_ATTEMPTS times in all.
async fn retrying_throttled<T, Fut>(call: impl Fn() -> Fut) -> Result<T, Failure>
where
    Fut: std::future::Future<Output = Result<T, Failure>>,
{
    let mut attempt = 0;
    loop {
        attempt += 1;
        match call().await {
            Err(f) if f.kind == FailureKind::Throttled && attempt < THROTTLE_ATTEMPTS => {
                backoff(attempt).await
            }
            other => return other,
        }
    }
}

async fn backoff(attempt: u32) {
    tokio::time::sleep(Duration::from_millis(200 * 2u64.pow(attempt - 1))).await;
}
