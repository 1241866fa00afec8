//! Makes a scope ready to run (`refresh`, `exec`, `credential-process`). Renews the SSO token with the kept refresh token
//! (no browser), then fetches the role credentials every layer run in scope needs and writes
//! them exactly as the project's Leverage CLI would, so its next run refreshes nothing.
//!
//! Single flight: the whole renewal holds one lock per project (`write::REFRESH_LOCK`), and
//! everything is decided from the files read after the wait, so processes started together
//! make one CreateToken and fetch each role once.

use crate::analysis::{Analysis, RoleFetch};
use crate::fix::ini_edit::{self, EditPlan, SectionSpec};
use crate::model::Model;
use crate::model::aws::IniKind;
use crate::model::sign_in::SavedSession;
use crate::read::sso_portal::{RateLimit, RoleCredentials, RoleError};
use crate::read::{self, ReadSettings, project_and_aws, sso_settings};
use std::sync::Arc;
use std::time::Duration;

/// The margin within which the Leverage CLI fetches role credentials again itself: `refresh`
/// renews within it too, so that the CLI's next run makes no portal call.
const CLI_MARGIN_S: i64 = crate::leverage::REFRESH_MARGIN_MINUTES * 60;

/// Role credentials are renewed this much before the CLI would (clocks, a slow start).
const SLACK_S: i64 = 60;

/// What `ensure` left: the files as they are now, and what is still short (said on stderr).
pub struct Ready {
    pub model: Model,
    pub short: Vec<String>,
}

impl Ready {
    /// Says what is short, on stderr.
    pub fn say_short(&self) {
        for s in &self.short {
            crate::say!("{s}");
        }
    }
}

/// Renews what the scope of `settings` needs so that it lasts `min_s` seconds, without a browser.
/// `only`: just the role written under that name (`credential-process`). `mfa`: who gives an
/// MFA code when an MFA session must be renewed (`Unattended`: nobody, nothing is asked).
pub fn ensure(
    settings: &ReadSettings,
    min_s: i64,
    timeout: Duration,
    only: Option<&str>,
    mfa: &dyn crate::read::live::Console,
) -> anyhow::Result<Ready> {
    let first = read::load(settings)?;
    let (project, aws) = project_and_aws(&first)?;
    let cli = first.cli();
    match project.mode(cli) {
        crate::model::project::Mode::Sso => {}
        crate::model::project::Mode::IamMfa if cli.mfa_cache_is_flat() => {
            return ensure_mfa(settings, &aws.dir.clone(), min_s, timeout, only, mfa);
        }
        // Nothing to renew (IAM keys; the toolbox's MFA before 3.x): the sessions' own verdict.
        _ => return Ok(verdict(first, min_s, only)),
    }
    if !cli.writes_sso_role_credentials() {
        anyhow::bail!(
            "the project runs the Leverage CLI {}: its toolbox keeps SSO role credentials in the AWS CLI's cache, not in the project's files; `refresh` writes what 1.12 and later write",
            cli.generation.label()
        );
    }
    let (start_url, region) = sso_settings(project)?;
    read::endpoints::require_valid_env()?;
    // One renewal per project at a time; what another process renewed meanwhile is read again.
    let _flight = crate::write::FolderLock::acquire_named(&aws.dir, crate::write::REFRESH_LOCK)?;
    let model = read::load(settings)?;
    let (_, aws) = project_and_aws(&model)?;
    let aws_dir = aws.dir.clone();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;

    // 1. The token.
    let token = read::sso_portal::leverage_token(aws, model.now);
    let left = token
        .as_ref()
        .ok()
        .map(|t| (t.expires_at - model.now).num_seconds());
    let portal_of = Portal {
        aws_dir: aws_dir.clone(),
        start_url: start_url.clone(),
        region: region.clone(),
        store: read::secret_store::setting(model.config.token_store)?,
    };
    let mut renewed = false;
    let model = if left.is_none_or(|l| l < min_s.max(SLACK_S)) {
        let now_state = match (&token, left) {
            (Err(e), _) => e.to_string(),
            (Ok(_), Some(l)) => format!(
                "the SSO token has {} left, less than the {} asked",
                crate::time::human_duration(crate::time::seconds(l.max(0))),
                crate::time::human_duration(crate::time::seconds(min_s))
            ),
            (Ok(_), None) => "the SSO token is unreadable".to_string(),
        };
        if let Err(why) = renew(&runtime, &portal_of, timeout, model.now, &now_state)? {
            return Ok(Ready {
                model,
                short: vec![why],
            });
        }
        renewed = true;
        read::load(settings)?
    } else {
        model
    };

    // 2. The role credentials each layer run's SSO step would fetch.
    let analysis = Analysis::new(&model);
    let mut plan = crate::analysis::refresh_plan(&model, &analysis);
    if let Some(only) = only {
        plan.roles.retain(|f| f.names.iter().any(|n| n == only));
        plan.problems.clear();
    }
    let mut short = plan.problems.clone();
    let (project, aws) = project_and_aws(&model)?;
    let name = project.name().unwrap_or_default();
    let want_s = min_s.max(CLI_MARGIN_S) + SLACK_S;
    let stale: Vec<&RoleFetch> = plan
        .roles
        .iter()
        .filter(|f| {
            !f.names
                .iter()
                .all(|n| lasts_for(aws, n, model.now).is_some_and(|l| l >= want_s))
        })
        .collect();
    if stale.is_empty() {
        drop(runtime);
        let mut ready = verdict(model, min_s, only);
        short.append(&mut ready.short);
        ready.short = short;
        return Ok(ready);
    }
    let token =
        read::sso_portal::leverage_token(aws, model.now).map_err(|e| anyhow::anyhow!("{e}"))?;
    let sso_region = aws
        .profile_value(&crate::leverage::sso_base_profile(&name), "sso_region")
        .map(|e| e.value.clone())
        .unwrap_or(region);
    let mut fetched: Vec<(&RoleFetch, Result<RoleCredentials, RoleError>)> =
        fetch_roles(&runtime, &token, &sso_region, timeout, &stale);
    // A token the portal refuses (signed out, revoked) is renewed once, and those roles asked
    // again.
    let refused: Vec<&RoleFetch> = fetched
        .iter()
        .filter(|(_, r)| matches!(r, Err(RoleError::TokenRefused)))
        .map(|(f, _)| *f)
        .collect();
    if !refused.is_empty() && !renewed {
        match renew(
            &runtime,
            &portal_of,
            timeout,
            model.now,
            "the portal refused the SSO token",
        )? {
            Ok(()) => {
                let again = read::load(settings)?;
                let token = again
                    .aws
                    .as_ref()
                    .ok_or_else(|| anyhow::anyhow!("the project's AWS folder is gone"))
                    .and_then(|aws| {
                        read::sso_portal::leverage_token(aws, again.now)
                            .map_err(|e| anyhow::anyhow!("{e}"))
                    })?;
                fetched.retain(|(_, r)| !matches!(r, Err(RoleError::TokenRefused)));
                fetched.extend(fetch_roles(
                    &runtime,
                    &token,
                    &sso_region,
                    timeout,
                    &refused,
                ));
            }
            Err(why) => short.push(why),
        }
    }
    let mut sections: Vec<(String, RoleCredentials)> = Vec::new();
    for (f, result) in fetched {
        match result {
            Ok(c) => {
                crate::secrets::register_key_id(&c.access_key_id);
                for n in &f.names {
                    sections.push((n.clone(), c.clone()));
                }
            }
            Err(e) => short.push(format!(
                "role {} in account {} ({}): {e}",
                f.role, f.account, f.account_id
            )),
        }
    }
    write_credentials(&model, &sections)?;
    let names: Vec<&str> = sections.iter().map(|(n, _)| n.as_str()).collect();
    if !names.is_empty() {
        crate::say!("wrote role credentials for {}", names.join(", "));
    }
    let mut ready = verdict(read::load(settings)?, min_s, only);
    // What was just fetched may itself last less than asked (the role's session duration).
    if let Some(aws) = ready.model.aws.as_ref() {
        for f in &stale {
            for n in &f.names {
                if let Some(left) = lasts_for(aws, n, ready.model.now)
                    && left < min_s
                {
                    let said = format!(
                        "sso `{n}`: {} left; {} asked (the role's sessions last no longer: ask for less)",
                        crate::time::human_duration(crate::time::seconds(left.max(0))),
                        crate::time::human_duration(crate::time::seconds(min_s))
                    );
                    if !ready.short.iter().any(|s| s.contains(&format!("`{n}`"))) {
                        short.push(said);
                    }
                }
            }
        }
    }
    short.append(&mut ready.short);
    ready.short = short;
    Ok(ready)
}

/// IAM with MFA (3.x): every MFA session the scope's runs need that lasts less than the CLI's
/// margin or `min_s` is renewed with one MFA code (GetSessionToken per device, then AssumeRole
/// as the CLI's session `leverage-<profile>`), and written as the CLI's MFA step writes it: the
/// flat JSON of `cache/<profile>` and the keys in `[<profile>]` of credentials. A fresh cached
/// session whose keys are missing from credentials gets them back from the cache (the CLI reuses
/// the cache without writing keys). Under the same single-flight lock as SSO.
fn ensure_mfa(
    settings: &ReadSettings,
    aws_dir: &std::path::Path,
    min_s: i64,
    timeout: Duration,
    only: Option<&str>,
    mfa: &dyn crate::read::live::Console,
) -> anyhow::Result<Ready> {
    read::endpoints::require_valid_env()?;
    let _flight = crate::write::FolderLock::acquire_named(aws_dir, crate::write::REFRESH_LOCK)?;
    let model = read::load(settings)?;
    let (project, aws) = project_and_aws(&model)?;
    let analysis = Analysis::new(&model);
    let want_s = min_s.max(CLI_MARGIN_S) + SLACK_S;
    let mut stale: Vec<(String, String)> = Vec::new();
    let mut from_cache: Vec<(String, RoleCredentials)> = Vec::new();
    for name in analysis.used.keys() {
        let Some(crate::analysis::CredentialSource::LeverageMfa { section }) =
            analysis.source(name)
        else {
            continue;
        };
        if only.is_some_and(|o| o != name) {
            continue;
        }
        let cached = aws
            .mfa_cache
            .iter()
            .find(|c| c.profile == *name)
            .and_then(|c| c.expiration.as_ref().ok())
            .filter(|at| (**at - model.now).num_seconds() >= want_s)
            .and_then(|_| cached_keys(aws, name));
        match cached {
            Some(c) if !has_keys(aws, name) => from_cache.push((name.clone(), c)),
            Some(_) => {}
            None => stale.push((name.clone(), section.clone())),
        }
    }
    let mut short = Vec::new();
    let mut written: Vec<(String, RoleCredentials)> = Vec::new();
    if !stale.is_empty() {
        let devices: Vec<String> = stale
            .iter()
            .filter_map(|(_, section)| aws.profile_value(section, "mfa_serial"))
            .map(|e| e.value.clone())
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .collect();
        let names: Vec<&str> = stale.iter().map(|(n, _)| n.as_str()).collect();
        let question = format!(
            "MFA code for {} ({}, device {}): ",
            names.join(", "),
            project.name().unwrap_or_default(),
            devices.join(", ")
        );
        match mfa.ask(&question) {
            None => short.push(format!(
                "the MFA sessions of {} need renewing, and no MFA code was given: `leverage-doctor refresh --mfa-code CODE` (or on a terminal, `leverage-doctor refresh`) renews them",
                names.join(", ")
            )),
            Some(code) => {
                for (name, got) in crate::read::live::new_mfa_role_credentials(
                    &model, &analysis, &stale, &code, timeout,
                ) {
                    match got {
                        Ok(c) => {
                            crate::secrets::register_key_id(&c.access_key_id);
                            written.push((name, c));
                        }
                        Err(f) => short.push(format!("mfa `{name}`: {}", f.error)),
                    }
                }
            }
        }
    }
    write_mfa_sessions(&model, &written, &from_cache)?;
    if !written.is_empty() {
        let names: Vec<&str> = written.iter().map(|(n, _)| n.as_str()).collect();
        crate::say!("wrote MFA sessions for {}", names.join(", "));
    }
    let after = read::load(settings)?;
    let mut ready = match only {
        // `only` names an MFA profile here: its cached session is the verdict.
        Some(name) => {
            let lasts = after.aws.as_ref().is_some_and(|aws| {
                aws.mfa_cache.iter().any(|c| {
                    c.profile == name
                        && c.expiration
                            .as_ref()
                            .is_ok_and(|at| (*at - after.now).num_seconds() >= min_s)
                })
            });
            let short = if lasts {
                Vec::new()
            } else {
                vec![format!("mfa `{name}`: its session lasts less than asked")]
            };
            Ready {
                model: after,
                short,
            }
        }
        None => verdict(after, min_s, None),
    };
    short.append(&mut ready.short);
    ready.short = short;
    Ok(ready)
}

/// The keys of `name`'s cached MFA session (3.x flat JSON).
pub fn cached_keys(aws: &crate::model::aws::AwsFiles, name: &str) -> Option<RoleCredentials> {
    let text = read::fs::read_text(&crate::leverage::mfa_cache_path(&aws.dir, name))
        .ok()?
        .text;
    let json: serde_json::Value = serde_json::from_str(&text).ok()?;
    let get = |k: &str| json.get(k).and_then(|v| v.as_str()).map(str::to_string);
    let expiration_ms =
        chrono::NaiveDateTime::parse_from_str(&get("Expiration")?, "%Y-%m-%dT%H:%M:%SZ")
            .ok()?
            .and_utc()
            .timestamp_millis();
    Some(RoleCredentials {
        access_key_id: get("AccessKeyId")?,
        secret_access_key: get("SecretAccessKey")?,
        session_token: get("SessionToken")?,
        expiration_ms,
    })
}

fn has_keys(aws: &crate::model::aws::AwsFiles, name: &str) -> bool {
    aws.credentials.parsed().is_some_and(|c| {
        c.profile_sections(name).any(|s| {
            [
                "aws_access_key_id",
                "aws_secret_access_key",
                "aws_session_token",
            ]
            .iter()
            .all(|k| s.get(k).is_some())
        })
    })
}

/// The CLI 3.x's MFA cache file: `json.dumps` of AssumeRole's `Credentials` with `Expiration`
/// as `%Y-%m-%dT%H:%M:%SZ`, keys in the service's order.
fn mfa_cache_json(c: &RoleCredentials) -> Option<String> {
    let at = chrono::DateTime::<chrono::Utc>::from_timestamp_millis(c.expiration_ms)?;
    let quote = |v: &str| serde_json::to_string(v).ok();
    Some(format!(
        "{{\"AccessKeyId\": {}, \"SecretAccessKey\": {}, \"SessionToken\": {}, \"Expiration\": {}}}",
        quote(&c.access_key_id)?,
        quote(&c.secret_access_key)?,
        quote(&c.session_token)?,
        quote(&at.format("%Y-%m-%dT%H:%M:%SZ").to_string())?
    ))
}

/// Writes new MFA sessions (cache file and credentials keys) and the keys of fresh cached ones
/// (credentials only), through the writers' lock and re-read.
fn write_mfa_sessions(
    model: &Model,
    new: &[(String, RoleCredentials)],
    from_cache: &[(String, RoleCredentials)],
) -> anyhow::Result<()> {
    if new.is_empty() && from_cache.is_empty() {
        return Ok(());
    }
    let (_, aws) = project_and_aws(model)?;
    let credentials_path = match &aws.credentials {
        crate::model::aws::AwsFile::Parsed(ini) => model.sources.get(ini.file).path.clone(),
        _ => aws.dir.join("credentials"),
    };
    let credentials_plan = keys_plan(new.iter().chain(from_cache));
    let cache_dir = crate::leverage::mfa_cache_dir(&aws.dir);
    if !new.is_empty() {
        crate::write::private_dir(&cache_dir)?;
    }
    let mut change = crate::write::Change::new(&aws.dir);
    for (name, c) in new {
        let json = mfa_cache_json(c)
            .ok_or_else(|| anyhow::anyhow!("STS returned an expiration out of range"))?;
        let path = crate::leverage::mfa_cache_path(&aws.dir, name);
        let before = read::fs::read_text(&path).ok().map(|t| t.text);
        let shown = read::display_home(&path);
        change.edit(path, shown, before, move |_| json.clone());
    }
    let before = read::fs::read_text(&credentials_path).ok().map(|t| t.text);
    let shown = read::display_home(&credentials_path);
    change.edit(credentials_path, shown, before, move |text| {
        ini_edit::apply(text, IniKind::Credentials, &credentials_plan)
    });
    change.no_backup = true;
    change.commit(model.now, || {})?;
    Ok(())
}

/// GetRoleCredentials for each role, at once (within a shared rate limit).
fn fetch_roles<'a>(
    runtime: &tokio::runtime::Runtime,
    token: &read::sso_portal::LeverageToken,
    sso_region: &str,
    timeout: Duration,
    roles: &[&'a RoleFetch],
) -> Vec<(&'a RoleFetch, Result<RoleCredentials, RoleError>)> {
    runtime.block_on(async {
        let portal =
            read::sso_portal::Portal::new(token, sso_region, timeout, Arc::new(RateLimit::new(20)))
                .await;
        let calls = roles.iter().map(|f| {
            let portal = &portal;
            async move { (*f, portal.role_credentials(&f.account_id, &f.role).await) }
        });
        futures::future::join_all(calls).await
    })
}

/// The project's SSO portal, as `refresh` renews its token.
struct Portal {
    aws_dir: std::path::PathBuf,
    start_url: String,
    region: String,
    /// `token-store`: where the renewed refresh token is kept.
    store: crate::model::sign_in::TokenStore,
}

/// Renews the token with the refresh token `sso-login` kept (no browser) and writes it where
/// the Leverage CLI reads it. `Err(text)`: why not, naming the sign-in that is needed.
fn renew(
    runtime: &tokio::runtime::Runtime,
    portal: &Portal,
    timeout: Duration,
    now: chrono::DateTime<chrono::Utc>,
    now_state: &str,
) -> anyhow::Result<Result<(), String>> {
    let sign_in = "sign in with `leverage aws sso login` or `leverage-doctor sso-login`";
    let saved: Option<SavedSession> =
        super::state::saved_session(&portal.aws_dir, &portal.start_url, &portal.region)
            .filter(|s| s.renews(&portal.start_url, &portal.region, now));
    let Some(saved) = saved else {
        return Ok(Err(format!(
            "{now_state}, and no refresh token kept by `leverage-doctor sso-login` can renew it: {sign_in}"
        )));
    };
    let renewed = runtime.block_on(async {
        let oidc = crate::read::sso_oidc::Oidc::new(&portal.region, timeout).await;
        let refresh = saved.refresh_token.as_deref().unwrap_or_default();
        oidc.refresh(&saved.registration, refresh).await
    });
    let token = match renewed {
        Ok(t) => t,
        Err(e) => {
            return Ok(Err(format!(
                "{now_state}, and the refresh token was refused ({e}): {sign_in}"
            )));
        }
    };
    crate::secrets::register(&token.access_token);
    super::state::keep_token(
        &portal.aws_dir,
        &portal.start_url,
        &portal.region,
        &token,
        saved.registration.clone(),
        Some(&saved),
        portal.store,
    )?;
    crate::say!(
        "renewed the SSO session with the refresh token: it lasts until {}",
        token.expires_at.format("%Y-%m-%d %H:%M UTC")
    );
    Ok(Ok(()))
}

/// Seconds left of the role credentials Leverage wrote for `name`: keys in credentials and
/// `expiration` (ms) in config.
pub fn lasts_for(
    aws: &crate::model::aws::AwsFiles,
    name: &str,
    now: chrono::DateTime<chrono::Utc>,
) -> Option<i64> {
    let has_keys = has_keys(aws, name);
    if !has_keys {
        return None;
    }
    let until = aws
        .profile_value(name, "expiration")
        .and_then(|e| e.value.trim().parse::<i64>().ok())
        .and_then(chrono::DateTime::<chrono::Utc>::from_timestamp_millis)?;
    Some((until - now).num_seconds())
}

/// Writes `[name]` keys in credentials and `[profile name] expiration` in config, as the
/// Leverage CLI's `update_config_section` does, through the writers' lock and re-read.
fn write_credentials(model: &Model, sections: &[(String, RoleCredentials)]) -> anyhow::Result<()> {
    if sections.is_empty() {
        return Ok(());
    }
    let (_, aws) = project_and_aws(model)?;
    let cli = model.cli();
    let path_of = |file: &crate::model::aws::AwsFile, default: &str| match file {
        crate::model::aws::AwsFile::Parsed(ini) => model.sources.get(ini.file).path.clone(),
        crate::model::aws::AwsFile::Missing { file }
        | crate::model::aws::AwsFile::Unreadable { file, .. } => {
            let p = model.sources.get(*file).path.clone();
            if p.as_os_str().is_empty() {
                aws.dir.join(default)
            } else {
                p
            }
        }
    };
    let config_plan = EditPlan {
        upsert: sections
            .iter()
            .map(|(n, c)| SectionSpec {
                header: cli.section_header(n),
                keys: vec![("expiration".into(), c.expiration_ms.to_string())],
            })
            .collect(),
        ..EditPlan::default()
    };
    let credentials_plan = keys_plan(sections.iter());
    let mut change = crate::write::Change::new(&aws.dir);
    for (path, kind, plan) in [
        (path_of(&aws.config, "config"), IniKind::Config, config_plan),
        (
            path_of(&aws.credentials, "credentials"),
            IniKind::Credentials,
            credentials_plan,
        ),
    ] {
        let before = read::fs::read_text(&path).ok().map(|t| t.text);
        let shown = read::display_home(&path);
        change.edit(path, shown, before, move |text| {
            ini_edit::apply(text, kind, &plan)
        });
    }
    change.no_backup = true;
    change.commit(model.now, || {})?;
    Ok(())
}

/// The sessions the scope needs with less than `min_s` left, as `status --min-remaining` says
/// (`only`: that profile's role credentials).
fn verdict(model: Model, min_s: i64, only: Option<&str>) -> Ready {
    if let Some(name) = only {
        let left = model
            .aws
            .as_ref()
            .and_then(|aws| lasts_for(aws, name, model.now));
        let short = match left {
            Some(l) if l >= min_s => Vec::new(),
            Some(l) => vec![format!(
                "`{name}`: {} left; {} asked",
                crate::time::human_duration(crate::time::seconds(l.max(0))),
                crate::time::human_duration(crate::time::seconds(min_s))
            )],
            None => vec![format!(
                "`{name}`: no role credentials Leverage writes for the project's layers go by this name"
            )],
        };
        return Ready { model, short };
    }
    let analysis = Analysis::new(&model);
    let list = crate::session_list::sessions(&model, &analysis);
    let now = model.now;
    let short = crate::session_list::short_of(&list, min_s, now)
        .into_iter()
        .map(|s| {
            format!(
                "{}; {} asked",
                s.shortfall(now),
                crate::time::human_duration(crate::time::seconds(min_s))
            )
        })
        .collect();
    Ready { model, short }
}

/// The credentials file's sections for role keys, as the Leverage CLI writes them.
fn keys_plan<'a>(sections: impl Iterator<Item = &'a (String, RoleCredentials)>) -> EditPlan {
    EditPlan {
        upsert: sections
            .map(|(n, c)| SectionSpec {
                header: n.clone(),
                keys: vec![
                    ("aws_access_key_id".into(), c.access_key_id.clone()),
                    ("aws_secret_access_key".into(), c.secret_access_key.clone()),
                    ("aws_session_token".into(), c.session_token.clone()),
                ],
            })
            .collect(),
        ..EditPlan::default()
    }
}

/// What `credential_process` prints (the AWS CLI's process credential format, version 1).
/// Fields in alphabetical order, as the output has always had them. No `Debug`: it holds the
/// keys.
#[derive(serde::Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ProcessCredentials {
    pub access_key_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expiration: Option<String>,
    pub secret_access_key: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub session_token: Option<String>,
    pub version: u8,
}

/// Seconds left of `name`'s process credentials: role credentials Leverage wrote from SSO
/// (config `expiration`), else its 3.x MFA session (`cache/<name>`).
pub fn process_seconds_left(
    aws: &crate::model::aws::AwsFiles,
    name: &str,
    now: chrono::DateTime<chrono::Utc>,
) -> Option<i64> {
    lasts_for(aws, name, now).or_else(|| {
        cached_keys(aws, name).map(|c| (c.expiration_ms - now.timestamp_millis()) / 1000)
    })
}

/// `name`'s process credentials: the credentials section and config `expiration` Leverage
/// wrote for it, else its 3.x MFA session's cache (keys and expiry).
pub fn process_credentials(
    aws: &crate::model::aws::AwsFiles,
    name: &str,
) -> Option<ProcessCredentials> {
    let utc = |ms: i64| {
        chrono::DateTime::<chrono::Utc>::from_timestamp_millis(ms)
            .map(|t| t.format("%Y-%m-%dT%H:%M:%SZ").to_string())
    };
    if lasts_for(aws, name, chrono::Utc::now()).is_none()
        && let Some(c) = cached_keys(aws, name)
    {
        return Some(ProcessCredentials {
            expiration: Some(utc(c.expiration_ms)?),
            access_key_id: c.access_key_id,
            secret_access_key: c.secret_access_key,
            session_token: Some(c.session_token),
            version: 1,
        });
    }
    let section = aws
        .credentials
        .parsed()?
        .profile_sections(name)
        .find(|s| s.get("aws_access_key_id").is_some())?;
    let value = |k: &str| section.get(k).map(|e| e.value.clone());
    Some(ProcessCredentials {
        access_key_id: value("aws_access_key_id")?,
        expiration: aws
            .profile_value(name, "expiration")
            .and_then(|e| e.value.trim().parse::<i64>().ok())
            .and_then(utc),
        secret_access_key: value("aws_secret_access_key")?,
        session_token: value("aws_session_token"),
        version: 1,
    })
}

#[cfg(test)]
mod tests {
    /// The process credentials JSON, exactly: keys in the order the output has always had,
    /// `SessionToken`/`Expiration` only when Leverage wrote them.
    #[test]
    fn process_credentials_json() {
        let aws = crate::ini::aws_files_of(
            "[profile bb-apps-devops]\nexpiration = 4102444800000\n",
            "[bb-apps-devops]\naws_access_key_id = ASIAX\naws_secret_access_key = s\naws_session_token = t\n[bb-keys]\naws_access_key_id = AKIAX\naws_secret_access_key = k\n",
        );
        let json = |name| {
            serde_json::to_string(&super::process_credentials(&aws, name).expect(name))
                .expect("json")
        };
        assert_eq!(
            json("bb-apps-devops"),
            r#"{"AccessKeyId":"ASIAX","Expiration":"2100-01-01T00:00:00Z","SecretAccessKey":"s","SessionToken":"t","Version":1}"#
        );
        assert_eq!(
            json("bb-keys"),
            r#"{"AccessKeyId":"AKIAX","SecretAccessKey":"k","Version":1}"#
        );
        assert!(super::process_credentials(&aws, "bb-none").is_none());
    }
}
