//! What `sso-reset` removes: only what Leverage derived from the SSO session. Pure.

use super::ini_edit::{EditPlan, normalize_header};
use crate::model::aws::{AwsFiles, IniFile};

/// Credentials sections and config keys that came from SSO, and what is kept on purpose.
#[derive(Debug, Default)]
pub struct ResetPlan {
    pub credentials: EditPlan,
    pub config: EditPlan,
    /// Credentials sections removed (profile names).
    pub removed_profiles: Vec<String>,
    /// Credentials sections kept because they hold long-term keys.
    pub kept_static: Vec<String>,
    pub expiration_keys: usize,
}

pub fn plan(aws: &AwsFiles, project: &str) -> ResetPlan {
    let mut out = ResetPlan::default();
    if let Some(creds) = aws.credentials.parsed() {
        let c = credentials_plan(creds, aws.config.parsed(), project);
        out.credentials = c.edit;
        out.removed_profiles = c.removed;
        out.kept_static = c.kept;
    }
    if let Some(config) = aws.config.parsed() {
        let (edit, n) = config_plan(config);
        out.config = edit;
        out.expiration_keys = n;
    }
    out
}

/// What is removed from one credentials file.
#[derive(Debug, Default)]
pub struct CredentialsReset {
    pub edit: EditPlan,
    pub removed: Vec<String>,
    pub kept: Vec<String>,
}

/// Credentials sections Leverage derived from the SSO session, judged one by one: a section is
/// removed only when it holds temporary keys (a session token, no `AKIA` key id) under a name
/// Leverage writes (`<p>-<account>-<role>`, or one whose config has an `expiration`). Long-term
/// keys are never removed, even beside a same-named section that is removed.
pub fn credentials_plan(
    creds: &IniFile,
    config: Option<&IniFile>,
    project: &str,
) -> CredentialsReset {
    let mut out = CredentialsReset::default();
    let mut seen: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
    for section in &creds.sections {
        let header = normalize_header(&section.raw);
        let occurrence = {
            let n = seen.entry(header.clone()).or_insert(0);
            *n += 1;
            *n - 1
        };
        let Some(name) = section.name.profile_name() else {
            continue;
        };
        let refreshed = config.is_some_and(|c| {
            c.profile_sections(name)
                .any(|s| s.get("expiration").is_some())
        });
        let session = section
            .get("aws_session_token")
            .is_some_and(|t| !t.value.is_empty());
        let key_id = section.get("aws_access_key_id");
        let long_term = key_id.is_some_and(|k| k.value.starts_with("AKIA")) || !session;
        let leverage_name = crate::leverage::is_role_credentials_name(project, name);
        if long_term || !(refreshed || leverage_name) {
            if key_id.is_some() && !out.kept.iter().any(|k| k == name) {
                out.kept.push(name.to_string());
            }
            continue;
        }
        if !out.removed.iter().any(|r| r == name) {
            out.removed.push(name.to_string());
        }
        out.edit.remove_occurrence.push((header, occurrence));
    }
    out
}

/// Stale `expiration` keys of the config file (Leverage's marks of refreshed credentials).
pub fn config_plan(config: &IniFile) -> (EditPlan, usize) {
    let mut edit = EditPlan::default();
    let mut count = 0;
    for section in &config.sections {
        let n = section
            .entries
            .iter()
            .filter(|e| e.key_is("expiration"))
            .count();
        if n > 0 {
            count += n;
            edit.remove_keys
                .push((section.raw.clone(), "expiration".into()));
        }
    }
    (edit, count)
}

/// sha1 hex of the text, as the AWS CLI names its cache files.
pub fn sha1_hex(text: &str) -> String {
    sha1_smol::Sha1::from(text).digest().to_string()
}

/// The AWS CLI's SSO role-credential cache key (botocore `SSOCredentialFetcher`).
pub fn cli_role_cache_key(start_url: &str, account_id: &str, role: &str) -> String {
    let args =
        serde_json::json!({"accountId": account_id, "roleName": role, "startUrl": start_url});
    // serde_json sorts object keys (no preserve_order feature) and writes no spaces, like
    // json.dumps(sort_keys=True, separators=(',', ':')).
    sha1_hex(&args.to_string())
}

/// The same key for a profile using an `sso-session` (botocore keys it by the session name).
pub fn cli_session_role_cache_key(session: &str, account_id: &str, role: &str) -> String {
    let args =
        serde_json::json!({"accountId": account_id, "roleName": role, "sessionName": session});
    sha1_hex(&args.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aws_cli_cache_names() {
        assert_eq!(sha1_hex("abc"), "a9993e364706816aba3e25717850c26c9cd0d89d");
        let key = cli_role_cache_key("https://x/start", "1", "R");
        assert_eq!(
            key,
            sha1_hex(r#"{"accountId":"1","roleName":"R","startUrl":"https://x/start"}"#)
        );
    }
}
