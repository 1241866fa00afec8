//! `credential-process --profile NAME`: the AWS `credential_process` JSON of a profile Leverage
//! writes role credentials under (from SSO, or a 3.x MFA session), renewed first when stale. stdout holds the JSON and nothing
//! else; every message goes to stderr.

use super::Exit;
use crate::cli::{CredentialProcessArgs, Global};
use crate::read::ReadSettings;
use std::io::Write;
use std::time::Duration;

/// Every failure is exit 1 (with the reason on stderr), as `credential_process` expects.
pub fn run(args: &CredentialProcessArgs, global: &Global) -> anyhow::Result<Exit> {
    match print_credentials(args, global) {
        Ok(exit) => Ok(exit),
        Err(e) => {
            let chain: Vec<String> = e.chain().map(|c| c.to_string()).collect();
            crate::say!("leverage-doctor: error: {}", chain.join(": "));
            Ok(Exit::Findings)
        }
    }
}

fn print_credentials(args: &CredentialProcessArgs, global: &Global) -> anyhow::Result<Exit> {
    let settings = ReadSettings {
        all: true,
        ..super::read_settings(args.path.as_ref(), global)
    };
    // It runs before every SDK call that needs it: while the role's credentials are fresh, only
    // the project's two AWS files are read (no layer, no token).
    let now = chrono::Utc::now();
    let quick = crate::read::load_aws_ini_files(&settings)?;
    let fresh = quick
        .as_ref()
        .and_then(|aws| lasts_for(aws, &args.profile, now))
        .is_some_and(|left| left >= args.min_remaining);
    let json = match quick {
        Some(aws) if fresh => process_json(&aws, &args.profile),
        _ => {
            let ready = crate::keep_alive::renew::ensure(
                &settings,
                args.min_remaining,
                Duration::from_secs(args.timeout),
                Some(&args.profile),
                &crate::read::live::Unattended,
            )?;
            // Said on stderr; credentials that are still valid are still printed.
            for s in &ready.short {
                crate::say!("warning: {s}");
            }
            let Some(aws) = ready.model.aws.as_ref() else {
                return Ok(Exit::Findings);
            };
            let valid = lasts_for(aws, &args.profile, ready.model.now).is_some_and(|left| left > 0);
            if !valid {
                return Ok(Exit::Findings);
            }
            process_json(aws, &args.profile)
        }
    };
    let Some(json) = json else {
        crate::say!(
            "leverage-doctor: no role credentials for `{}` in the project's credentials file",
            crate::secrets::escape_controls(&args.profile, false)
        );
        return Ok(Exit::Findings);
    };
    // The credentials are the output: not through the gate that masks them.
    let mut out = std::io::stdout().lock();
    out.write_all(json.as_bytes())?;
    out.flush()?;
    Ok(Exit::Clean)
}

/// Seconds left of `name`'s credentials: role credentials Leverage wrote from SSO (config
/// `expiration`), else its 3.x MFA session (`cache/<name>`).
fn lasts_for(
    aws: &crate::model::aws::AwsFiles,
    name: &str,
    now: chrono::DateTime<chrono::Utc>,
) -> Option<i64> {
    crate::keep_alive::renew::lasts_for(aws, name, now).or_else(|| {
        crate::keep_alive::renew::cached_keys(aws, name)
            .map(|c| (c.expiration_ms - now.timestamp_millis()) / 1000)
    })
}

/// `{"Version": 1, "AccessKeyId", "SecretAccessKey", "SessionToken", "Expiration"}` from the
/// credentials section and config `expiration` Leverage wrote for `name`.
fn process_json(aws: &crate::model::aws::AwsFiles, name: &str) -> Option<String> {
    if crate::keep_alive::renew::lasts_for(aws, name, chrono::Utc::now()).is_none()
        && let Some(c) = crate::keep_alive::renew::cached_keys(aws, name)
    {
        // A 3.x MFA session: its cache holds the keys and their expiry.
        let expiration = chrono::DateTime::<chrono::Utc>::from_timestamp_millis(c.expiration_ms)?;
        let json = serde_json::json!({
            "Version": 1,
            "AccessKeyId": c.access_key_id,
            "SecretAccessKey": c.secret_access_key,
            "SessionToken": c.session_token,
            "Expiration": expiration.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
        });
        return Some(format!("{json}\n"));
    }
    let section = aws
        .credentials
        .parsed()?
        .profile_sections(name)
        .find(|s| s.get("aws_access_key_id").is_some())?;
    let value = |k: &str| section.get(k).map(|e| e.value.clone());
    let expiration = aws
        .profile_value(name, "expiration")
        .and_then(|e| e.value.trim().parse::<i64>().ok())
        .and_then(chrono::DateTime::<chrono::Utc>::from_timestamp_millis)
        .map(|t| t.format("%Y-%m-%dT%H:%M:%SZ").to_string());
    let mut json = serde_json::json!({
        "Version": 1,
        "AccessKeyId": value("aws_access_key_id")?,
        "SecretAccessKey": value("aws_secret_access_key")?,
    });
    if let Some(token) = value("aws_session_token") {
        json["SessionToken"] = token.into();
    }
    if let Some(e) = expiration {
        json["Expiration"] = e.into();
    }
    Some(format!("{json}\n"))
}
