//! `sso-login`: the device-authorization sign-in, writing the token where the Leverage CLI
//! (and, with `--aws-cli-cache`, the AWS CLI) reads it.

use super::{Exit, in_ci};
use crate::cli::{Global, LoginArgs, SsoLoginArgs};
use crate::fix::reset::sha1_hex;
use crate::model::Model;
use crate::read::sso_oidc::{LoginError, Oidc, Registration};
use crate::read::{self, ReadSettings};
use anyhow::{Context as _, anyhow};
use std::path::Path;
use std::time::Duration;

/// Where the client registration is kept (no token: the doctor's readers pass it by).
const REGISTRATION_FILE: &str = "leverage-doctor-client.json";

pub fn run(args: &SsoLoginArgs, global: &Global) -> anyhow::Result<Exit> {
    let model = read::load(&ReadSettings {
        path: args.path.clone().unwrap_or_else(|| ".".into()),
        aws_dir: global.aws_dir.clone(),
        all: false,
        config: None,
        leverage_version: global.leverage_version.clone(),
    })?;
    login(
        &model,
        &args.login,
        args.aws_cli_cache,
        Duration::from_secs(args.timeout),
    )
}

/// Signs in for the project of `model`; shared with `sso-reset --login`.
pub fn login(
    model: &Model,
    args: &LoginArgs,
    aws_cli_cache: bool,
    timeout: Duration,
) -> anyhow::Result<Exit> {
    let (project, aws) = super::project_and_aws(model)?;
    read::endpoints::require_valid_env()?;
    let start_url = project
        .common_str("sso_start_url")
        .ok_or_else(|| anyhow!("config/common.tfvars has no `sso_start_url`"))?
        .value;
    let region = project
        .common_str("sso_region")
        .ok_or_else(|| anyhow!("config/common.tfvars has no `sso_region`"))?
        .value;
    for (what, value, check) in [
        (
            "sso_start_url",
            &start_url,
            crate::fix::values::start_url as fn(&str) -> _,
        ),
        ("sso_region", &region, crate::fix::values::region),
    ] {
        check(value).map_err(|why| {
            anyhow!(
                "config/common.tfvars `{what}` `{}` {why}: not used for a sign-in",
                crate::secrets::escape_controls(value, false)
            )
        })?;
    }
    let cache = aws.dir.join("sso").join("cache");
    let registration_path = cache.join(REGISTRATION_FILE);
    let unit = Duration::from_millis(args.poll_unit_ms.max(1));
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let result = runtime.block_on(async {
        let oidc = Oidc::new(&region, timeout).await;
        let cached: Option<Registration> = read::fs::read_text(&registration_path)
            .ok()
            .and_then(|t| serde_json::from_str(&t.text).ok())
            .filter(|r: &Registration| r.reusable(&region, model.now));
        let registration = match cached {
            Some(r) => r,
            None => {
                let r = oidc.register().await?;
                let json = serde_json::to_string_pretty(&r).map_err(|e| LoginError::Other(e.to_string()))?;
                private_dir(&cache).map_err(|e| LoginError::Other(e.to_string()))?;
                crate::write::atomic_write(&registration_path, json.as_bytes())
                    .map_err(|e| LoginError::Other(e.to_string()))?;
                r
            }
        };
        let no_browser = args.no_browser || in_ci();
        oidc.sign_in(&registration, &start_url, unit, Duration::from_secs(args.login_timeout), |code| {
            let url = code.verification_uri_complete.as_deref().unwrap_or(&code.verification_uri);
            // Text from the server: shown escaped, opened only when it is a plain https URL.
            let shown_url = crate::secrets::one_line(url, 2000);
            let user_code = crate::secrets::one_line(&code.user_code, 64);
            crate::say!("To sign in to {start_url}, open:\n\n    {shown_url}\n\nand check that it shows the code {user_code}\n");
            if !no_browser && crate::fix::values::start_url(url).is_ok() {
                open_browser(url);
            }
            crate::say!("waiting for the approval in the browser …");
        })
        .await
    });
    let token = match result {
        Ok(t) => t,
        Err(e) => {
            crate::say!("leverage-doctor: error: {e}");
            return Ok(Exit::Findings);
        }
    };
    let expires = token.expires_at.format("%Y-%m-%dT%H:%M:%SZ").to_string();
    let json = serde_json::json!({
        "startUrl": start_url,
        "region": region,
        "accessToken": token.access_token,
        "expiresAt": expires,
    })
    .to_string();
    private_dir(&cache)?;
    let _lock = crate::write::FolderLock::acquire(&aws.dir)?;
    crate::write::atomic_write(&cache.join("token"), json.as_bytes())
        .context("writing the SSO token")?;
    if aws_cli_cache && let Some(home) = read::home_dir() {
        let cli_cache = home.join(".aws").join("sso").join("cache");
        private_dir(&cli_cache)?;
        let path = cli_cache.join(format!("{}.json", sha1_hex(&start_url)));
        crate::write::atomic_write(&path, json.as_bytes())
            .context("writing the AWS CLI token cache")?;
        crate::say!("also wrote {} for the AWS CLI", read::display_home(&path));
    }
    let lasts = crate::rules::human_duration(token.expires_at - chrono::Utc::now());
    crate::say!(
        "signed in to {start_url}: the session lasts {lasts} (until {}); token in {}/sso/cache/token",
        token.expires_at.format("%Y-%m-%d %H:%M UTC"),
        aws.dir_display
    );
    Ok(Exit::Clean)
}

/// A folder only its owner can read (0700).
fn private_dir(dir: &Path) -> anyhow::Result<()> {
    crate::write::private_dir(dir)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
            .with_context(|| dir.display().to_string())?;
    }
    Ok(())
}

fn open_browser(url: &str) {
    let opener = if cfg!(target_os = "macos") {
        "open"
    } else {
        "xdg-open"
    };
    let _ = std::process::Command::new(opener)
        .arg(url)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn();
}
