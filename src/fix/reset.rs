//! What `sso-reset` removes: only what Leverage derived from the SSO session. Pure.

use super::ini_edit::EditPlan;
use crate::model::aws::AwsFiles;
use crate::model::project::account_of_profile;

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
        for section in &creds.sections {
            let Some(name) = section.name.profile_name() else {
                continue;
            };
            let refreshed = aws.config.parsed().is_some_and(|c| {
                c.profile_sections(name)
                    .any(|s| s.get("expiration").is_some())
            });
            let session = section.get("aws_session_token").is_some();
            let leverage_name = account_of_profile(project, name).is_some()
                && !name.starts_with(&format!("{project}-sso"));
            let long_term = section
                .get("aws_access_key_id")
                .is_some_and(|k| k.value.starts_with("AKIA"));
            if long_term || !(refreshed || (session && leverage_name)) {
                if section.get("aws_access_key_id").is_some() {
                    out.kept_static.push(name.to_string());
                }
                continue;
            }
            out.removed_profiles.push(name.to_string());
            out.credentials.remove.push(section.raw.clone());
        }
    }
    if let Some(config) = aws.config.parsed() {
        for section in &config.sections {
            let n = section
                .entries
                .iter()
                .filter(|e| e.key_is("expiration"))
                .count();
            if n > 0 {
                out.expiration_keys += n;
                out.config
                    .remove_keys
                    .push((section.raw.clone(), "expiration".into()));
            }
        }
    }
    out.removed_profiles.dedup();
    out.kept_static.dedup();
    out
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
