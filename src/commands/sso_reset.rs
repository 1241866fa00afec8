//! `sso-reset`: log out of the project's SSO session and clear what was derived from it —
//! token files, SSO role credentials, stale `expiration` keys — and nothing else. Static keys,
//! user sections, comments and other projects' files stay.

use super::{Exit, confirm, print_coloured, use_color};
use crate::cli::{Global, SsoResetArgs};
use crate::fix::ini_edit;
use crate::fix::reset;
use crate::model::aws::{AwsFile, IniKind};
use crate::read;
use crate::read::sso_portal::{self, TokenFile};
use crate::write::{Change, Done};
use std::path::{Path, PathBuf};
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
        let project = name.clone();
        change.edit(
            source.path.clone(),
            source.display.clone(),
            Some(source.text.clone()),
            move |text| {
                let edit = reset::credentials_edit(text, config_text.as_deref(), &project);
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
            |text| ini_edit::apply(text, IniKind::Config, &reset::config_edit(text)),
        );
    }
    let mut cli_cache = Vec::new();
    if args.aws_cli_cache {
        let home = read::home_dir();
        if let (Some(home), Some(url)) = (&home, &start_url) {
            cli_cache =
                reset::aws_cli_cache_files(aws.config.parsed(), &name, url, home, &start_url_in);
        }
        if let Some(home) = home {
            change.other_roots = vec![
                home.join(".aws").join("sso").join("cache"),
                home.join(".aws").join("cli").join("cache"),
            ];
        }
    }
    let removals = reset::removals(
        tokens.iter().map(|t| t.path.clone()).collect(),
        &aws.dir,
        cli_cache,
        &|p| p.is_file(),
    );
    change.removals = removals.all();

    // What will happen, before anything does.
    let shown = |paths: &[PathBuf]| -> Vec<String> {
        paths.iter().map(|p| read::display_home(p)).collect()
    };
    let mut out = String::new();
    for line in reset::preview(
        &aws.dir_display,
        &shown(&removals.tokens),
        &plan,
        &shown(&removals.others),
    ) {
        out.push_str(&line);
        out.push('\n');
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
        cleared(done, aws);
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

/// What the commit did, file by file; then the refresh token kept in the OS secret store goes
/// with the file that pointed to it.
fn cleared(done: Vec<Done>, aws: &crate::model::aws::AwsFiles) {
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

/// The `startUrl` a cached token file of the AWS CLI holds, if it can be read.
fn start_url_in(path: &Path) -> Option<String> {
    read::fs::read_text(path)
        .ok()
        .and_then(|t| serde_json::from_str::<serde_json::Value>(&t.text).ok())
        .and_then(|j| {
            j.get("startUrl")
                .and_then(|u| u.as_str())
                .map(str::to_string)
        })
}
