//! What `sso-reset` removes: only what Leverage derived from the SSO session. Pure.

use super::ini_edit::{EditPlan, normalize_header};
use crate::ini;
use crate::model::aws::{AwsFiles, IniFile, IniKind, SectionName};
use crate::source::FileId;
use std::path::{Path, PathBuf};

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

/// The edit of a credentials file's text: [`credentials_plan`] of it, judged against the
/// config file's text when there is one.
pub fn credentials_edit(text: &str, config_text: Option<&str>, project: &str) -> EditPlan {
    let (creds, _) = ini::parse(text, FileId::DETACHED, IniKind::Credentials);
    let config = config_text.map(|c| ini::parse(c, FileId::DETACHED, IniKind::Config).0);
    credentials_plan(&creds, config.as_ref(), project).edit
}

/// The edit of a config file's text: [`config_plan`] of it.
pub fn config_edit(text: &str) -> EditPlan {
    let (config, _) = ini::parse(text, FileId::DETACHED, IniKind::Config);
    config_plan(&config).0
}

/// What `sso-login` kept to renew the session (refresh token, registration), and where older
/// versions kept the registration.
pub fn session_state_files(aws_dir: &Path) -> [PathBuf; 2] {
    [
        aws_dir
            .join(crate::model::sign_in::STATE_DIR)
            .join(crate::model::sign_in::STATE_FILE),
        crate::leverage::sso_cache_dir(aws_dir).join(crate::model::sign_in::OLD_REGISTRATION_FILE),
    ]
}

/// The files `sso-reset` deletes.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Removals {
    /// The project's token files: logged out, then deleted.
    pub tokens: Vec<PathBuf>,
    /// The rest: the session state, the AWS CLI's cache files.
    pub others: Vec<PathBuf>,
}

impl Removals {
    /// Every file, the tokens first.
    pub fn all(&self) -> Vec<PathBuf> {
        self.tokens.iter().chain(&self.others).cloned().collect()
    }
}

/// The token files, then the session state of `aws_dir` and the AWS CLI's cache files
/// (`cli_cache`) that are files now (`is_file`).
pub fn removals(
    tokens: Vec<PathBuf>,
    aws_dir: &Path,
    cli_cache: Vec<PathBuf>,
    is_file: &dyn Fn(&Path) -> bool,
) -> Removals {
    let others = session_state_files(aws_dir)
        .into_iter()
        .chain(cli_cache)
        .filter(|p| is_file(p))
        .collect();
    Removals { tokens, others }
}

/// What `sso-reset` will do, one line each, shown before anything is done. `aws_dir`, `tokens`
/// and `deleted` (the files deleted besides the tokens) are as shown to the user.
pub fn preview(
    aws_dir: &str,
    tokens: &[String],
    plan: &ResetPlan,
    deleted: &[String],
) -> Vec<String> {
    let mut out = Vec::new();
    if tokens.is_empty() {
        out.push(format!(
            "no SSO token in {aws_dir}/sso/cache/: nothing to log out of"
        ));
    }
    for t in tokens {
        out.push(format!("log out and delete  {t}"));
    }
    for p in &plan.removed_profiles {
        out.push(format!(
            "remove SSO role credentials  [{p}] from {aws_dir}/credentials"
        ));
    }
    if plan.expiration_keys > 0 {
        out.push(format!(
            "remove {} from {aws_dir}/config",
            crate::time::count_of(
                plan.expiration_keys,
                "stale `expiration` key",
                "stale `expiration` keys"
            ),
        ));
    }
    for f in deleted {
        out.push(format!("delete  {f}"));
    }
    for p in &plan.kept_static {
        out.push(format!("keep  [{p}] (long-term keys)"));
    }
    out
}

/// The AWS CLI's cache files for this project only, sorted, each once (whether they exist is
/// the caller's to check): a token file only when it says so (`start_url_in`: the `startUrl`
/// the file at a path holds, if it can be read; its `startUrl` must be the project's — a file
/// name proves nothing: an `[sso-session NAME]` of another config may share the name), and the
/// SSO role credentials cached under the key botocore derives from (start URL, account, role),
/// or from a session whose token was proven ours. `home` is the user's home folder.
pub fn aws_cli_cache_files(
    config: Option<&IniFile>,
    project: &str,
    start_url: &str,
    home: &Path,
    start_url_in: &dyn Fn(&Path) -> Option<String>,
) -> Vec<PathBuf> {
    let token_dir = home.join(".aws/sso/cache");
    let role_dir = home.join(".aws/cli/cache");
    let ours = |path: &Path| {
        start_url_in(path).is_some_and(|u| crate::values::same_start_url(&u, start_url))
    };
    let mut names = Vec::new();
    let legacy = token_dir.join(format!("{}.json", sha1_hex(start_url)));
    if ours(&legacy) {
        names.push(legacy);
    }
    if let Some(config) = config {
        // `[sso-session NAME]` sections for the project's start URL: the AWS CLI keys their
        // token by sha1(NAME), and role credentials by the session name instead of the start
        // URL.
        let sessions: Vec<&str> = config
            .sections
            .iter()
            .filter_map(|s| match &s.name {
                SectionName::SsoSession(name)
                    if s.get("sso_start_url")
                        .is_some_and(|u| crate::values::same_start_url(&u.value, start_url)) =>
                {
                    Some(name.as_str())
                }
                _ => None,
            })
            .filter(|name| {
                let token = token_dir.join(format!("{}.json", sha1_hex(name)));
                let proven = ours(&token);
                if proven {
                    names.push(token);
                }
                proven
            })
            .collect();
        for section in &config.sections {
            let Some(profile) = section.name.profile_name() else {
                continue;
            };
            if let (Some(session), Some(account), Some(role)) = (
                section.get("sso_session"),
                section.get("sso_account_id"),
                section.get("sso_role_name"),
            ) && sessions.contains(&session.value.as_str())
            {
                let key = cli_session_role_cache_key(&session.value, &account.value, &role.value);
                names.push(role_dir.join(format!("{key}.json")));
            }
            if !crate::leverage::is_sso_profile_name(project, profile) {
                continue;
            }
            let pairs = [
                ("account_id", "role_name"),
                ("sso_account_id", "sso_role_name"),
            ];
            for (a, r) in pairs {
                if let (Some(account), Some(role)) = (section.get(a), section.get(r)) {
                    let key = cli_role_cache_key(start_url, &account.value, &role.value);
                    names.push(role_dir.join(format!("{key}.json")));
                }
            }
        }
    }
    names.sort();
    names.dedup();
    names
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

    fn config(text: &str) -> IniFile {
        ini::parse(text, FileId::DETACHED, IniKind::Config).0
    }

    #[test]
    fn the_preview_says_what_will_happen_in_order() {
        let plan = ResetPlan {
            removed_profiles: vec!["bb-shared-devops".into()],
            kept_static: vec!["bb-security".into()],
            expiration_keys: 2,
            ..ResetPlan::default()
        };
        assert_eq!(
            preview(
                "~/.aws/bb",
                &["~/.aws/bb/sso/cache/token".into()],
                &plan,
                &["~/.aws/bb/leverage-doctor/sso-session.json".into()],
            ),
            [
                "log out and delete  ~/.aws/bb/sso/cache/token",
                "remove SSO role credentials  [bb-shared-devops] from ~/.aws/bb/credentials",
                "remove 2 stale `expiration` keys from ~/.aws/bb/config",
                "delete  ~/.aws/bb/leverage-doctor/sso-session.json",
                "keep  [bb-security] (long-term keys)",
            ]
        );
        let one = ResetPlan {
            expiration_keys: 1,
            ..ResetPlan::default()
        };
        assert_eq!(
            preview("~/.aws/bb", &[], &one, &[]),
            [
                "no SSO token in ~/.aws/bb/sso/cache/: nothing to log out of",
                "remove 1 stale `expiration` key from ~/.aws/bb/config",
            ]
        );
    }

    #[test]
    fn removals_are_the_tokens_then_the_state_and_cache_files_that_exist() {
        let dir = Path::new("/h/.aws/bb");
        let [state, old_registration] = session_state_files(dir);
        assert_eq!(
            state,
            Path::new("/h/.aws/bb/leverage-doctor/sso-session.json")
        );
        assert_eq!(
            old_registration,
            Path::new("/h/.aws/bb/sso/cache/leverage-doctor-client.json")
        );
        let token = PathBuf::from("/h/.aws/bb/sso/cache/token");
        let cached = PathBuf::from("/h/.aws/cli/cache/k.json");
        let gone = PathBuf::from("/h/.aws/cli/cache/gone.json");
        let present = [old_registration.clone(), cached.clone()];
        let r = removals(vec![token.clone()], dir, vec![cached.clone(), gone], &|p| {
            present.iter().any(|x| x == p)
        });
        assert_eq!(r.tokens, std::slice::from_ref(&token));
        assert_eq!(r.others, [old_registration.clone(), cached.clone()]);
        assert_eq!(r.all(), [token, old_registration, cached]);
    }

    #[test]
    fn aws_cli_cache_files_are_only_the_projects() {
        let url = "https://bb.awsapps.com/start";
        let home = Path::new("/h");
        let legacy = home.join(format!(".aws/sso/cache/{}.json", sha1_hex(url)));
        let ours_session = home.join(format!(".aws/sso/cache/{}.json", sha1_hex("bb")));
        let cfg = config(
            "[sso-session bb]\nsso_start_url = https://bb.awsapps.com/start/\n\
             [sso-session other]\nsso_start_url = https://other.awsapps.com/start\n\
             [profile bb-sso]\nsso_account_id = 111111111111\nsso_role_name = DevOps\n\
             [profile x]\nsso_session = bb\nsso_account_id = 2\nsso_role_name = R\n\
             [profile y]\nsso_session = other\nsso_account_id = 3\nsso_role_name = R\n",
        );
        // Only the legacy token and the `bb` session's token say they are the project's.
        let start_url_in = |p: &Path| {
            if p == legacy || p == ours_session {
                Some(url.to_string())
            } else {
                Some("https://other.awsapps.com/start".to_string())
            }
        };
        let files = aws_cli_cache_files(Some(&cfg), "bb", url, home, &start_url_in);
        let role = |key: String| home.join(format!(".aws/cli/cache/{key}.json"));
        let mut expected = vec![
            legacy.clone(),
            ours_session.clone(),
            role(cli_session_role_cache_key("bb", "2", "R")),
            role(cli_role_cache_key(url, "111111111111", "DevOps")),
        ];
        expected.sort();
        assert_eq!(files, expected);
        // A token that names another portal is not ours, whatever its file name.
        let none = aws_cli_cache_files(None, "bb", url, home, &|_| None);
        assert!(none.is_empty());
        assert_eq!(
            aws_cli_cache_files(None, "bb", url, home, &start_url_in),
            [legacy]
        );
    }

    #[test]
    fn the_file_edits_come_from_the_texts() {
        let creds = "[bb-shared-devops]\naws_access_key_id = ASIAX\naws_secret_access_key = s\naws_session_token = t\n[bb-security]\naws_access_key_id = AKIAX\naws_secret_access_key = s\n";
        let edit = credentials_edit(creds, None, "bb");
        assert_eq!(
            edit.remove_occurrence,
            [("bb-shared-devops".to_string(), 0)]
        );
        // A name Leverage does not write goes only when its config says it was refreshed.
        let creds =
            "[mine]\naws_access_key_id = ASIAX\naws_secret_access_key = s\naws_session_token = t\n";
        assert!(
            credentials_edit(creds, None, "bb")
                .remove_occurrence
                .is_empty()
        );
        let refreshed = "[profile mine]\nexpiration = 2020-01-01\n";
        assert_eq!(
            credentials_edit(creds, Some(refreshed), "bb").remove_occurrence,
            [("mine".to_string(), 0)]
        );
        assert_eq!(
            config_edit(refreshed).remove_keys,
            [("profile mine".to_string(), "expiration".to_string())]
        );
    }
}
