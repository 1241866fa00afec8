//! The SSO session `sso-login` and `refresh` keep: the token the Leverage CLI reads
//! (`sso/cache/token`) and, privately, the client registration and the refresh token (the OS
//! secret store or a 0600 file, per `token-store`).

use crate::model::sign_in::{
    OLD_REGISTRATION_FILE, STATE_DIR, STATE_FILE, SavedSession, SecretStore, TokenStore,
};
use crate::read;
use crate::read::sso_oidc::{NewToken, Registration};
use anyhow::Context as _;
use std::path::Path;

/// What `sso-login` kept for this portal and region, with its secrets (from the OS secret store
/// when the file says they are there; registered with the output gate). None when nothing is
/// kept, or when the store keeping them cannot give them (said once).
pub fn saved_session(aws_dir: &Path, start_url: &str, region: &str) -> Option<SavedSession> {
    let text = read::fs::read_text(&aws_dir.join(STATE_DIR).join(STATE_FILE)).ok()?;
    let file: SavedSession = serde_json::from_str(&text.text).ok()?;
    if !file.is_for(start_url, region) {
        return None;
    }
    let store = file
        .secrets_in
        .is_some()
        .then(|| read::secret_store::OsStore::for_project(aws_dir));
    let saved = match crate::model::sign_in::with_secrets(
        file,
        store.as_ref().map(|s| s as &dyn SecretStore),
    ) {
        Ok(s) => s,
        Err(e) => {
            crate::say!("leverage-doctor: {e}: the kept SSO session cannot be renewed");
            return None;
        }
    };
    crate::secrets::register(&saved.registration.client_secret);
    if let Some(r) = &saved.refresh_token {
        crate::secrets::register(r);
    }
    Some(saved)
}

/// A fallback from the OS store to the file is said once a run.
static SAID_FALLBACK: std::sync::Once = std::sync::Once::new();

/// Writes the token the Leverage CLI reads (`sso/cache/token`, under the folder lock) and keeps
/// the registration and the refresh token privately, outside sso/cache/ (where the Leverage CLI
/// takes any file for a token). Returns the token file's JSON. Shared with `refresh`.
pub fn keep_token(
    aws_dir: &Path,
    start_url: &str,
    region: &str,
    token: &NewToken,
    registration: Registration,
    saved: Option<&SavedSession>,
    store: TokenStore,
) -> anyhow::Result<String> {
    let expires = token.expires_at.format("%Y-%m-%dT%H:%M:%SZ").to_string();
    let json = serde_json::json!({
        "startUrl": start_url,
        "region": region,
        "accessToken": token.access_token,
        "expiresAt": expires,
    })
    .to_string();
    let cache = crate::leverage::sso_cache_dir(aws_dir);
    let state_path = aws_dir.join(STATE_DIR).join(STATE_FILE);
    private_dir(&cache)?;
    let _lock = crate::write::FolderLock::acquire(aws_dir)?;
    crate::write::atomic_write(&crate::leverage::token_path(aws_dir), json.as_bytes())
        .context("writing the SSO token")?;
    let keep = SavedSession {
        start_url: start_url.to_string(),
        registration,
        refresh_token: token
            .refresh_token
            .clone()
            .or_else(|| saved.and_then(|s| s.refresh_token.clone())),
        secrets_in: None,
    };
    if let Some(r) = &keep.refresh_token {
        crate::secrets::register(r);
    }
    // The refresh token and the client secret go to the OS secret store when the setting says
    // so and it answers; to this 0600 file otherwise.
    let os_store = read::secret_store::for_writing(store, aws_dir);
    let kept = crate::model::sign_in::keep(&keep, os_store.as_ref().map(|s| s as &dyn SecretStore));
    if let Some(why) = &kept.fell_back {
        SAID_FALLBACK.call_once(|| {
            crate::say!(
                "warning: {why}: the refresh token is kept in {} instead",
                read::display_home(&state_path)
            );
        });
    }
    let was_in_store = read::fs::read_text(&state_path)
        .ok()
        .and_then(|t| serde_json::from_str::<SavedSession>(&t.text).ok())
        .is_some_and(|s| s.secrets_in.is_some());
    private_dir(&aws_dir.join(STATE_DIR))?;
    crate::write::atomic_write(
        &state_path,
        serde_json::to_string_pretty(&kept.file)?.as_bytes(),
    )
    .context("keeping the SSO session")?;
    // Kept in the file now (`token-store = "file"`, or a fallback): no older copy stays in the
    // OS store.
    if was_in_store
        && kept.file.secrets_in.is_none()
        && let Err(e) = read::secret_store::forget(aws_dir)
    {
        crate::say!("warning: {e}: an older copy of the refresh token stays there");
    }
    // An older leverage-doctor kept its registration in sso/cache/: not any more.
    let old = cache.join(OLD_REGISTRATION_FILE);
    if old.is_file() {
        crate::write::remove(&old)?;
    }
    Ok(json)
}

/// A folder only its owner can read (0700).
pub fn private_dir(dir: &Path) -> anyhow::Result<()> {
    crate::write::private_dir(dir)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
            .with_context(|| dir.display().to_string())?;
    }
    Ok(())
}
