//! `sso-reset`: log out of the project's SSO session and clear what was derived from it —
//! token files, SSO role credentials, stale `expiration` keys — and nothing else. Static keys,
//! user sections, comments and other projects' files stay.

use super::{Exit, confirm, print_coloured, use_color};
use crate::cli::{Global, SsoResetArgs};
use crate::fix::ini_edit;
use crate::fix::reset::{self, cli_role_cache_key, sha1_hex};
use crate::ini;
use crate::model::aws::{AwsFile, IniKind};
use crate::read;
use crate::read::sso_portal::{self, TokenFile};
use crate::source::FileId;
use crate::write::{Change, Done};
use std::path::PathBuf;
use std::time::Duration;

pub fn run(args: &SsoResetArgs, global: &Global) -> anyhow::Result<Exit> {
    let path = args.path.clone().unwrap_or_else(|| ".".into());
    let settings = super::read_settings(Some(&path), global);
    let model = read::load(&settings)?;
    let (project, aws) = super::project_and_aws(&model)?;
    read::endpoints::require_valid_env()?;
    let name = project.name().unwrap_or_default();
    let start_url = project.common_str("sso_start_url").map(|l| l.value);
    let default_region = project.common_str("sso_region").map(|l| l.value);

    let tokens = sso_portal::token_files(aws, &model.sources);
    let plan = reset::plan(aws, &name);
    let color = use_color(global.color);
    let mut change = Change::new(&aws.dir);
    let config_text = aws
        .config
        .parsed()
        .map(|ini| model.sources.get(ini.file).text.clone());
    if let AwsFile::Parsed(ini) = &aws.credentials {
        let source = model.sources.get(ini.file);
        let config_text = config_text.clone();
        let project = name.clone();
        change.edit(
            source.path.clone(),
            source.display.clone(),
            Some(source.text.clone()),
            move |text| {
                let (creds, _) = ini::parse(text, FileId::DETACHED, IniKind::Credentials);
                let config = config_text
                    .as_deref()
                    .map(|c| ini::parse(c, FileId::DETACHED, IniKind::Config).0);
                let edit = reset::credentials_plan(&creds, config.as_ref(), &project).edit;
                ini_edit::apply(text, IniKind::Credentials, &edit)
            },
        );
    }
    if let AwsFile::Parsed(ini) = &aws.config {
        let source = model.sources.get(ini.file);
        change.edit(
            source.path.clone(),
            source.display.clone(),
            Some(source.text.clone()),
            |text| {
                let (config, _) = ini::parse(text, FileId::DETACHED, IniKind::Config);
                ini_edit::apply(text, IniKind::Config, &reset::config_plan(&config).0)
            },
        );
    }
    change.removals = tokens.iter().map(|t| t.path.clone()).collect();
    // What sso-login kept to renew the session (refresh token, registration), and where older
    // versions kept the registration.
    for kept in [
        aws.dir
            .join(crate::model::sign_in::STATE_DIR)
            .join(crate::model::sign_in::STATE_FILE),
        crate::leverage::sso_cache_dir(&aws.dir).join(crate::model::sign_in::OLD_REGISTRATION_FILE),
    ] {
        if kept.is_file() {
            change.removals.push(kept);
        }
    }
    if args.aws_cli_cache {
        let cli_files = aws_cli_cache_files(aws, &name, start_url.as_deref());
        if let Some(home) = read::home_dir() {
            change.other_roots = vec![
                home.join(".aws").join("sso").join("cache"),
                home.join(".aws").join("cli").join("cache"),
            ];
        }
        change.removals.extend(cli_files);
    }

    // What will happen, before anything does.
    let mut out = String::new();
    if tokens.is_empty() {
        out.push_str(&format!(
            "no SSO token in {}/sso/cache/: nothing to log out of\n",
            aws.dir_display
        ));
    }
    for t in &tokens {
        out.push_str(&format!(
            "log out and delete  {}\n",
            read::display_home(&t.path)
        ));
    }
    for p in &plan.removed_profiles {
        out.push_str(&format!(
            "remove SSO role credentials  [{p}] from {}/credentials\n",
            aws.dir_display
        ));
    }
    if plan.expiration_keys > 0 {
        out.push_str(&format!(
            "remove {} from {}/config\n",
            crate::time::count_of(
                plan.expiration_keys,
                "stale `expiration` key",
                "stale `expiration` keys"
            ),
            aws.dir_display
        ));
    }
    for f in change.removals.iter().skip(tokens.len()) {
        out.push_str(&format!("delete  {}\n", read::display_home(f)));
    }
    for p in &plan.kept_static {
        out.push_str(&format!("keep  [{p}] (long-term keys)\n"));
    }
    out.push_str(&change.preview(color));
    print_coloured(&out, color)?;
    if change.is_empty() {
        crate::say!("nothing to reset");
    } else if args.write.dry_run {
        crate::say!("dry run: nothing written, no session logged out");
        return Ok(Exit::Clean);
    } else {
        // Refuse what cannot be written before asking, and before any server call.
        change.check()?;
        if !confirm(&args.write, "Log out and remove these?")? {
            crate::say!("nothing written, no session logged out");
            return Ok(Exit::Clean);
        }
        let timeout = Duration::from_secs(args.timeout);
        let done = change.commit(model.now, || {
            // Under the lock: a token another run already removed is not logged out twice.
            let still: Vec<TokenFile> =
                tokens.iter().filter(|t| t.path.exists()).cloned().collect();
            logout_all(&still, default_region.as_deref(), timeout);
        })?;
        for d in done {
            match d {
                Done::Written {
                    shown,
                    backup: Some(b),
                } => crate::say!("edited {shown} (backup: {})", read::display_home(&b)),
                Done::Written {
                    shown,
                    backup: None,
                } => crate::say!("edited {shown}"),
                Done::AlreadyDone { shown } => {
                    crate::say!("{shown}: already cleared by another run")
                }
            }
        }
        // The refresh token kept in the OS secret store goes with the file that pointed to it.
        if let Some(place) = aws
            .saved_session
            .as_ref()
            .and_then(|s| s.secrets_in.as_deref())
        {
            match read::secret_store::forget(&aws.dir) {
                Ok(()) => crate::say!("removed the refresh token from the {place}"),
                Err(e) => crate::say!("warning: {e}: the refresh token stays in the {place}"),
            }
        }
        crate::say!("the project's SSO session is closed and its caches are clear");
    }
    if let Some(url) = &start_url {
        crate::say!(
            "also sign out in the browser: open {url} and choose \"Sign out\", or the next login may reuse the stuck session"
        );
    }
    if args.login {
        let fresh = read::load(&settings)?;
        return super::sso_login::login(
            &fresh,
            &args.login_args,
            args.aws_cli_cache,
            Duration::from_secs(args.timeout),
        );
    }
    Ok(Exit::Clean)
}

/// SSO Logout for each token; a failure is reported, and the local state is cleared anyway.
fn logout_all(tokens: &[TokenFile], default_region: Option<&str>, timeout: Duration) {
    if tokens.is_empty() {
        return;
    }
    let Ok(runtime) = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    else {
        crate::say!("warning: could not start the network runtime: SSO Logout not called");
        return;
    };
    runtime.block_on(async {
        for t in tokens {
            let region = t
                .region
                .as_deref()
                .or(default_region)
                .unwrap_or("us-east-1");
            match sso_portal::logout(&t.access_token, region, timeout).await {
                Ok(()) => crate::say!("logged out: {}", read::display_home(&t.path)),
                Err(e) => crate::say!(
                    "warning: SSO Logout failed for {} ({e}); the local token is deleted anyway",
                    read::display_home(&t.path)
                ),
            }
        }
    });
}

/// The AWS CLI's files for this project only: a token file only when it says so (its
/// `startUrl` is the project's — a file name proves nothing: an `[sso-session NAME]` of another
/// config may share the name), and the SSO role credentials cached under the key botocore
/// derives from (start URL, account, role), or from a session whose token was proven ours.
fn aws_cli_cache_files(
    aws: &crate::model::aws::AwsFiles,
    project: &str,
    start_url: Option<&str>,
) -> Vec<PathBuf> {
    let (Some(home), Some(url)) = (read::home_dir(), start_url) else {
        return Vec::new();
    };
    let token_dir = home.join(".aws/sso/cache");
    let role_dir = home.join(".aws/cli/cache");
    let ours = |path: &std::path::Path| {
        read::fs::read_text(path)
            .ok()
            .and_then(|t| serde_json::from_str::<serde_json::Value>(&t.text).ok())
            .and_then(|j| {
                j.get("startUrl")
                    .and_then(|u| u.as_str())
                    .map(str::to_string)
            })
            .is_some_and(|u| crate::values::same_start_url(&u, url))
    };
    let mut names = Vec::new();
    let legacy = token_dir.join(format!("{}.json", sha1_hex(url)));
    if ours(&legacy) {
        names.push(legacy);
    }
    let Some(config) = aws.config.parsed() else {
        return existing(names);
    };
    // `[sso-session NAME]` sections for the project's start URL: the AWS CLI keys their token
    // by sha1(NAME), and role credentials by the session name instead of the start URL.
    let sessions: Vec<&str> = config
        .sections
        .iter()
        .filter_map(|s| match &s.name {
            crate::model::aws::SectionName::SsoSession(name)
                if s.get("sso_start_url")
                    .is_some_and(|u| crate::values::same_start_url(&u.value, url)) =>
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
            let key =
                reset::cli_session_role_cache_key(&session.value, &account.value, &role.value);
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
                let key = cli_role_cache_key(url, &account.value, &role.value);
                names.push(role_dir.join(format!("{key}.json")));
            }
        }
    }
    existing(names)
}

fn existing(mut paths: Vec<PathBuf>) -> Vec<PathBuf> {
    paths.sort();
    paths.dedup();
    paths.retain(|p| p.is_file());
    paths
}
