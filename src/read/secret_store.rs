//! The OS secret store (Secret Service on Linux, the Keychain on macOS, the Windows Credential
//! Manager) as one entry per project: what `sso-login` keeps only for itself (the refresh token
//! and the OIDC client secret). Every call runs on a thread of its own and is given up after
//! `TIMEOUT`: a store that hangs (a locked keyring waiting for a prompt nobody answers, a bus
//! that does not reply) costs at most that, once a run, and the caller falls back to the file.

use crate::model::sign_in::{SecretStore, TokenStore};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// The service name of every entry; the account is the project's AWS folder.
pub const SERVICE: &str = "leverage-doctor";

/// The longest a store call is waited for.
pub const TIMEOUT: Duration = Duration::from_secs(3);

/// Set when a call timed out: the store is not asked again in this run.
static GAVE_UP: AtomicBool = AtomicBool::new(false);

/// The setting in force: `LEVERAGE_DOCTOR_TOKEN_STORE`, else the settings file's
/// `token-store`, else `auto`.
pub fn setting(from_file: Option<TokenStore>) -> anyhow::Result<TokenStore> {
    match std::env::var("LEVERAGE_DOCTOR_TOKEN_STORE") {
        Ok(v) if !v.is_empty() => TokenStore::parse(&v).ok_or_else(|| {
            anyhow::anyhow!(
                "LEVERAGE_DOCTOR_TOKEN_STORE must be one of {} (it is `{}`)",
                TokenStore::NAMES.join(", "),
                crate::secrets::one_line(&v, 40)
            )
        }),
        _ => Ok(from_file.unwrap_or_default()),
    }
}

/// The store `setting` writes to: None for the file; for `auto`, the OS store only where one
/// can answer (on Linux, a D-Bus session bus to ask).
pub fn for_writing(setting: TokenStore, aws_dir: &Path) -> Option<OsStore> {
    match setting {
        TokenStore::File => None,
        TokenStore::Keyring => Some(OsStore::for_project(aws_dir)),
        TokenStore::Auto if present() => Some(OsStore::for_project(aws_dir)),
        TokenStore::Auto => None,
    }
}

/// Whether this platform has a store the doctor can ask, without asking it.
pub fn present() -> bool {
    if !cfg!(any(
        target_os = "linux",
        target_os = "macos",
        target_os = "windows"
    )) {
        return false;
    }
    if cfg!(target_os = "linux") {
        // zbus finds the session bus from this variable, else `$XDG_RUNTIME_DIR/bus`.
        let address = std::env::var_os("DBUS_SESSION_BUS_ADDRESS").is_some_and(|a| !a.is_empty());
        let socket =
            std::env::var_os("XDG_RUNTIME_DIR").is_some_and(|d| Path::new(&d).join("bus").exists());
        return address || socket;
    }
    true
}

/// The project's entry in the OS store.
#[derive(Debug, Clone)]
pub struct OsStore {
    account: String,
}

impl OsStore {
    pub fn for_project(aws_dir: &Path) -> OsStore {
        let dir = std::fs::canonicalize(aws_dir).unwrap_or_else(|_| aws_dir.to_path_buf());
        OsStore {
            account: format!("sso-session {}", dir.display()),
        }
    }

    /// Runs `f` on the entry on a thread of its own (zbus runs its own runtime there, never
    /// inside the caller's), giving up after `TIMEOUT`.
    fn call<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Entry) -> Result<T, String> + Send + 'static,
    ) -> Result<T, String> {
        if GAVE_UP.load(Ordering::Relaxed) {
            return Err(format!(
                "the {} did not answer earlier in this run",
                self.label()
            ));
        }
        let (tx, rx) = std::sync::mpsc::channel();
        let account = self.account.clone();
        let spawned = std::thread::Builder::new()
            .name("secret-store".into())
            .spawn(move || {
                let result = Entry::new(&account).and_then(|e| f(&e));
                let _ = tx.send(result);
            });
        if let Err(e) = spawned {
            return Err(format!("could not ask the {}: {e}", self.label()));
        }
        match rx.recv_timeout(TIMEOUT) {
            Ok(result) => result,
            Err(_) => {
                // The thread is left behind; the process ends it.
                GAVE_UP.store(true, Ordering::Relaxed);
                Err(format!(
                    "the {} did not answer within {} s",
                    self.label(),
                    TIMEOUT.as_secs()
                ))
            }
        }
    }
}

impl SecretStore for OsStore {
    fn label(&self) -> String {
        label().to_string()
    }

    fn get(&self) -> Result<Option<String>, String> {
        self.call(Entry::get)
    }

    fn set(&self, value: &str) -> Result<(), String> {
        let value = value.to_string();
        self.call(move |e| e.set(&value))
    }

    fn delete(&self) -> Result<(), String> {
        self.call(Entry::delete)
    }
}

/// The store's name as reports show it.
pub fn label() -> &'static str {
    if cfg!(target_os = "macos") {
        "keyring (Keychain)"
    } else if cfg!(target_os = "windows") {
        "keyring (Windows Credential Manager)"
    } else {
        "keyring (Secret Service)"
    }
}

/// Forgets what the project kept in the OS store (sso-reset, or a switch back to the file).
/// Best effort: a store that does not answer keeps its copy.
pub fn forget(aws_dir: &Path) -> Result<(), String> {
    OsStore::for_project(aws_dir).delete()
}

#[cfg(any(target_os = "linux", target_os = "macos", target_os = "windows"))]
struct Entry(keyring::Entry);

#[cfg(any(target_os = "linux", target_os = "macos", target_os = "windows"))]
impl Entry {
    fn new(account: &str) -> Result<Entry, String> {
        keyring::Entry::new(SERVICE, account)
            .map(Entry)
            .map_err(|e| failed(&e))
    }

    fn get(&self) -> Result<Option<String>, String> {
        match self.0.get_password() {
            Ok(v) => {
                crate::secrets::register(&v);
                Ok(Some(v))
            }
            Err(keyring::Error::NoEntry) => Ok(None),
            Err(e) => Err(failed(&e)),
        }
    }

    fn set(&self, value: &str) -> Result<(), String> {
        self.0.set_password(value).map_err(|e| failed(&e))
    }

    fn delete(&self) -> Result<(), String> {
        match self.0.delete_credential() {
            Ok(()) | Err(keyring::Error::NoEntry) => Ok(()),
            Err(e) => Err(failed(&e)),
        }
    }
}

/// A store error as one line (its text names the platform's failure, never a stored value).
#[cfg(any(target_os = "linux", target_os = "macos", target_os = "windows"))]
fn failed(e: &keyring::Error) -> String {
    format!(
        "the {} failed: {}",
        label(),
        crate::secrets::one_line(&e.to_string(), 300)
    )
}

/// No OS store on this platform.
#[cfg(not(any(target_os = "linux", target_os = "macos", target_os = "windows")))]
struct Entry;

#[cfg(not(any(target_os = "linux", target_os = "macos", target_os = "windows")))]
impl Entry {
    fn new(_account: &str) -> Result<Entry, String> {
        Err("no OS secret store on this platform".into())
    }
    fn get(&self) -> Result<Option<String>, String> {
        Err("no OS secret store on this platform".into())
    }
    fn set(&self, _value: &str) -> Result<(), String> {
        Err("no OS secret store on this platform".into())
    }
    fn delete(&self) -> Result<(), String> {
        Err("no OS secret store on this platform".into())
    }
}
