//! `sso-login`: the device-authorization sign-in, writing the token where the Leverage CLI
//! (and, with `--aws-cli-cache`, the AWS CLI) reads it.

use super::{Exit, in_ci};
use crate::cli::{Global, LoginArgs, SsoLoginArgs};
use crate::fix::reset::sha1_hex;
use crate::model::Model;
use crate::read;
use crate::read::sso_oidc::{LoginError, NewToken, Oidc, Registration, SignInEvent};
use anyhow::Context as _;
use std::path::Path;
use std::time::Duration;

pub use crate::keep_alive::state::{keep_token, private_dir, saved_session};
pub use crate::model::sign_in::{STATE_DIR, STATE_FILE, SavedSession};

/// The authorization-code sign-in with PKCE: listener, authorize URL in the browser, the
/// redirect's code and `state` checked, then CreateToken with the verifier.
async fn browser_sign_in(
    oidc: &Oidc,
    registration: &Registration,
    region: &str,
    deadline: Duration,
) -> Result<NewToken, LoginError> {
    use read::browser_login::{self, Returned};
    let err = LoginError::Other;
    let verifier = browser_login::random_token(32).map_err(err)?;
    let state = browser_login::random_token(16).map_err(err)?;
    crate::secrets::register(&verifier);
    let callback = browser_login::Callback::bind().map_err(err)?;
    let redirect_uri = callback.redirect_uri();
    let endpoint = browser_login::oidc_endpoint(region);
    let url = browser_login::authorize_url(&browser_login::Authorize {
        endpoint: &endpoint,
        client_id: &registration.client_id,
        redirect_uri: &redirect_uri,
        state: &state,
        challenge: &browser_login::challenge(&verifier),
        scope: crate::read::sso_oidc::SCOPE,
    });
    crate::say!(
        "opening the browser to sign in; if it does not open, visit:\n\n    {}\n",
        crate::secrets::one_line(&url, 4000)
    );
    if let Err(e) = browser_login::open(&url) {
        crate::say!("warning: {e}");
    }
    crate::say!("waiting for the sign-in in the browser …");
    let until = std::time::Instant::now() + deadline;
    let returned = tokio::task::spawn_blocking(move || callback.wait(until))
        .await
        .map_err(|e| LoginError::Other(e.to_string()))?
        .map_err(LoginError::Other)?;
    let code = match returned {
        Returned::Code { code, state: got } if got == state => code,
        Returned::Code { .. } => {
            return Err(LoginError::Other(
                "the sign-in came back with another `state` than was sent (a forged or stale redirect): refused, nothing written".into(),
            ));
        }
        Returned::Error(e) => {
            return Err(LoginError::Other(format!(
                "the sign-in was not completed: {}",
                crate::secrets::one_line(&e, 200)
            )));
        }
    };
    crate::secrets::register(&code);
    oidc.exchange_code(registration, &code, &verifier, &redirect_uri)
        .await
}

pub fn run(args: &SsoLoginArgs, global: &Global) -> anyhow::Result<Exit> {
    let model = read::load(&super::read_settings(args.path.as_ref(), global))?;
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
    let (start_url, region) = super::sso_settings(project)?;
    let unit = Duration::from_millis(args.poll_unit_ms.max(1));
    let deadline = Duration::from_secs(args.login_timeout);
    // Single flight with `refresh` and other sign-ins: one at a time per project; one that
    // finished while this one waited is used, not repeated.
    let started = std::time::SystemTime::now();
    let _flight = crate::write::FolderLock::acquire_named(&aws.dir, crate::write::REFRESH_LOCK)?;
    if let Some(until) = signed_in_since(&aws.dir, started) {
        crate::say!(
            "another leverage-doctor signed in to {start_url} while this one waited: its session lasts until {}",
            until.format("%Y-%m-%d %H:%M UTC")
        );
        return Ok(Exit::Clean);
    }
    let store = read::secret_store::setting(model.config.token_store)?;
    let saved = saved_session(&aws.dir, &start_url, &region);
    // The browser sign-in where a browser can be opened; the device code elsewhere.
    let use_code = !(args.use_device_code
        || args.no_browser
        || in_ci()
        || !read::browser_login::browser_available());
    let grants = if use_code {
        crate::read::sso_oidc::CODE_GRANTS
    } else {
        crate::read::sso_oidc::DEVICE_GRANTS
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let result: Result<(NewToken, Registration), LoginError> = runtime.block_on(async {
        let oidc = Oidc::new(&region, timeout).await;
        // A kept refresh token renews the session without a browser or a code.
        if let Some(s) = &saved
            && s.renews(&start_url, &region, model.now)
            && let Some(refresh) = &s.refresh_token
        {
            match oidc.refresh(&s.registration, refresh).await {
                Ok(t) => {
                    crate::say!("renewed the SSO session with the refresh token (no browser, no code)");
                    return Ok((t, s.registration.clone()));
                }
                Err(e) => crate::say!("the refresh token was refused ({e}): signing in again"),
            }
        }
        let registration = match saved
            .as_ref()
            .map(|s| s.registration.clone())
            .filter(|r| r.reusable(&region, grants, model.now))
        {
            Some(r) => r,
            None => oidc.register(grants, &start_url).await?,
        };
        crate::secrets::register(&registration.client_secret);
        let token = if use_code {
            browser_sign_in(&oidc, &registration, &region, deadline).await?
        } else {
            let no_browser = args.no_browser || in_ci();
            oidc.sign_in(&registration, &start_url, unit, deadline, |event| match event {
                SignInEvent::Code(code) => {
                    let url = code.verification_uri_complete.as_deref().unwrap_or(&code.verification_uri);
                    // Text from the server: shown escaped, opened only when it is a plain https URL.
                    let shown_url = crate::secrets::one_line(url, 2000);
                    let user_code = crate::secrets::one_line(&code.user_code, 64);
                    crate::say!("To sign in to {start_url}, open:\n\n    {shown_url}\n\nand check that it shows the code {user_code}\n");
                    if !no_browser && crate::values::start_url(url).is_ok() {
                        let _ = read::browser_login::open(url);
                    }
                    crate::say!("waiting for the approval in the browser …");
                }
                SignInEvent::SlowDown { interval_s } => {
                    crate::say!("the service asked to slow down: polling every {interval_s} s");
                }
            })
            .await?
        };
        Ok((token, registration))
    });
    let (token, registration) = match result {
        Ok(t) => t,
        Err(e) => {
            crate::say!("leverage-doctor: error: {e}");
            return Ok(Exit::Findings);
        }
    };
    let json = keep_token(
        &aws.dir,
        &start_url,
        &region,
        &token,
        registration,
        saved.as_ref(),
        store,
    )?;
    if aws_cli_cache && let Some(home) = read::home_dir() {
        let cli_cache = home.join(".aws").join("sso").join("cache");
        private_dir(&cli_cache)?;
        let path = cli_cache.join(format!("{}.json", sha1_hex(&start_url)));
        crate::write::atomic_write(&path, json.as_bytes())
            .context("writing the AWS CLI token cache")?;
        crate::say!("also wrote {} for the AWS CLI", read::display_home(&path));
    }
    let lasts = crate::time::human_duration(token.expires_at - chrono::Utc::now());
    crate::say!(
        "signed in to {start_url}: the session lasts {lasts} (until {}); token in {}/sso/cache/token",
        token.expires_at.format("%Y-%m-%d %H:%M UTC"),
        aws.dir_display
    );
    Ok(Exit::Clean)
}

/// The expiry of a token written after `since` that lasts at least an hour more: another
/// process's sign-in.
fn signed_in_since(
    aws_dir: &Path,
    since: std::time::SystemTime,
) -> Option<chrono::DateTime<chrono::Utc>> {
    let path = crate::leverage::token_path(aws_dir);
    let written = std::fs::symlink_metadata(&path).ok()?.modified().ok()?;
    if written < since {
        return None;
    }
    let text = read::fs::read_text(&path).ok()?.text;
    let json: serde_json::Value = serde_json::from_str(&text).ok()?;
    let until = chrono::DateTime::parse_from_rfc3339(json.get("expiresAt")?.as_str()?)
        .ok()?
        .with_timezone(&chrono::Utc);
    (until > chrono::Utc::now() + chrono::Duration::hours(1)).then_some(until)
}
