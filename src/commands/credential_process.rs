//! `credential-process --profile NAME`: the AWS `credential_process` JSON of a profile Leverage
//! writes role credentials under (from SSO, or a 3.x MFA session), renewed first when stale. stdout holds the JSON and nothing
//! else; every message goes to stderr.

use super::Exit;
use crate::cli::{CredentialProcessArgs, Global};
use crate::keep_alive::renew;
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
        .and_then(|aws| renew::process_seconds_left(aws, &args.profile, now))
        .is_some_and(|left| left >= args.min_remaining);
    let json = match quick {
        Some(aws) if fresh => renew::process_credentials(&aws, &args.profile),
        _ => {
            let ready = renew::ensure(
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
            let valid = renew::process_seconds_left(aws, &args.profile, ready.model.now)
                .is_some_and(|left| left > 0);
            if !valid {
                return Ok(Exit::Findings);
            }
            renew::process_credentials(aws, &args.profile)
        }
    };
    let Some(credentials) = json else {
        crate::say!(
            "leverage-doctor: no role credentials for `{}` in the project's credentials file",
            crate::secrets::escape_controls(&args.profile, false)
        );
        return Ok(Exit::Findings);
    };
    // The credentials are the output: not through the gate that masks them.
    let json = serde_json::to_string(&credentials)? + "\n";
    let mut out = std::io::stdout().lock();
    out.write_all(json.as_bytes())?;
    out.flush()?;
    Ok(Exit::Clean)
}
