//! The project's AWS folder: config, credentials, the SSO token cache and the MFA cache.

use super::{Reader, fs};
use crate::ini;
use crate::model::aws::{
    AccessToken, AwsFile, AwsFiles, FileAccess, IniKind, IniProblem, IniProblemKind, MfaCacheFile,
    SsoToken, SsoTokenFile,
};
use crate::source::Span;
use chrono::{DateTime, Utc};
use std::path::Path;

/// Cache folders hold a handful of files; more than this is not a cache we should walk.
const MAX_CACHE_FILES: usize = 1000;

impl Reader {
    pub fn aws_files(&mut self, dir: &Path) -> AwsFiles {
        let config = self.ini_file(&dir.join("config"), IniKind::Config);
        let credentials = self.ini_file(&dir.join("credentials"), IniKind::Credentials);
        let sso_tokens = self.sso_tokens(&crate::leverage::sso_cache_dir(dir));
        let mfa_cache = self.mfa_cache(&crate::leverage::mfa_cache_dir(dir));
        let secret_files = std::iter::once(match &credentials {
            AwsFile::Parsed(ini) => Some(ini.file),
            _ => None,
        })
        .flatten()
        .chain(sso_tokens.iter().map(|t| t.file))
        .chain(mfa_cache.iter().map(|c| c.file));
        let access = secret_files
            .filter_map(|file| {
                let meta = std::fs::metadata(&self.sources.get(file).path).ok()?;
                #[cfg(unix)]
                {
                    use std::os::unix::fs::MetadataExt;
                    Some(FileAccess {
                        file,
                        mode: meta.mode() & 0o7777,
                        uid: meta.uid(),
                    })
                }
                #[cfg(not(unix))]
                {
                    let _ = meta;
                    None
                }
            })
            .collect();
        AwsFiles {
            dir: dir.to_path_buf(),
            dir_display: self.display_path(dir),
            config,
            credentials,
            sso_tokens,
            mfa_cache,
            access,
            uid: current_uid(),
            aws_cli_token: None,
            saved_session: saved_session(dir),
        }
    }

    /// Only `config` and `credentials` of the AWS folder: no token, no cache, no mode check
    /// (`credential-process` while the role's credentials are fresh).
    pub fn aws_ini_files(&mut self, dir: &Path) -> AwsFiles {
        AwsFiles {
            dir: dir.to_path_buf(),
            dir_display: self.display_path(dir),
            config: self.ini_file(&dir.join("config"), IniKind::Config),
            credentials: self.ini_file(&dir.join("credentials"), IniKind::Credentials),
            sso_tokens: Vec::new(),
            mfa_cache: Vec::new(),
            access: Vec::new(),
            uid: current_uid(),
            aws_cli_token: None,
            saved_session: None,
        }
    }

    fn ini_file(&mut self, path: &Path, kind: IniKind) -> AwsFile {
        let display = self.display_path(path);
        if !path.exists() && path.symlink_metadata().is_err() {
            return AwsFile::Missing {
                file: self.sources.add_opaque(path.to_path_buf(), display),
            };
        }
        match fs::read_text(path) {
            Ok(t) => {
                let file = self
                    .sources
                    .add(path.to_path_buf(), display, t.text.clone());
                let (mut parsed, secrets) = ini::parse(&t.text, file, kind);
                self.sources.mark_secrets(file, secrets);
                if let Some(at) = t.invalid_utf8_at {
                    parsed.problems.insert(
                        0,
                        IniProblem {
                            kind: IniProblemKind::InvalidUtf8,
                            span: Span::new(file, at..at + 1),
                            message: "invalid UTF-8: the AWS CLI refuses the whole file".into(),
                        },
                    );
                }
                AwsFile::Parsed(parsed)
            }
            Err(reason) => AwsFile::Unreadable {
                file: self.sources.add_opaque(path.to_path_buf(), display),
                reason,
            },
        }
    }

    /// The AWS CLI's token for the project's SSO start URL (`~/.aws/sso/cache/<sha1>.json`),
    /// when there is one. Only its name is ever shown.
    pub fn aws_cli_token(&mut self, start_url: &str) -> Option<SsoTokenFile> {
        let home = super::home_dir()?;
        let name = format!("{}.json", crate::fix::reset::sha1_hex(start_url));
        let path = home.join(".aws").join("sso").join("cache").join(&name);
        std::fs::symlink_metadata(&path).ok()?;
        let display = self.display_path(&path);
        let file = self.sources.add_opaque(path.clone(), display);
        let content = fs::read_text(&path).and_then(|t| parse_token(&t.text));
        Some(SsoTokenFile {
            file,
            name,
            content,
        })
    }

    fn cache_entries(&self, dir: &Path) -> Vec<std::path::PathBuf> {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return Vec::new();
        };
        let mut paths: Vec<_> = entries
            .filter_map(Result::ok)
            .filter(|e| !e.file_type().is_ok_and(|t| t.is_dir()))
            .map(|e| e.path())
            .take(MAX_CACHE_FILES)
            .collect();
        paths.sort();
        paths
    }

    fn sso_tokens(&mut self, dir: &Path) -> Vec<SsoTokenFile> {
        let mut out = Vec::new();
        for path in self.cache_entries(dir) {
            let name = path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let display = self.display_path(&path);
            // Token files are secrets: only their name is ever shown.
            let file = self.sources.add_opaque(path.clone(), display);
            let content = fs::read_text(&path).and_then(|t| parse_token(&t.text));
            // Client registrations share the folder; they have no token and are not ours to judge.
            if let Ok(token) = &content
                && token.access_token.is_none()
                && name != crate::leverage::TOKEN_FILE_NAME
            {
                continue;
            }
            out.push(SsoTokenFile {
                file,
                name,
                content,
            });
        }
        out
    }

    fn mfa_cache(&mut self, dir: &Path) -> Vec<MfaCacheFile> {
        let mut out = Vec::new();
        for path in self.cache_entries(dir) {
            let profile = path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let display = self.display_path(&path);
            let file = self.sources.add_opaque(path.clone(), display);
            let mut flat = None;
            let expiration = fs::read_text(&path).and_then(|t| {
                let json: serde_json::Value =
                    serde_json::from_str(&t.text).map_err(|_| "not JSON".to_string())?;
                for key in [
                    "/Credentials/SecretAccessKey",
                    "/Credentials/SessionToken",
                    "/SecretAccessKey",
                    "/SessionToken",
                ] {
                    if let Some(secret) = json.pointer(key).and_then(|v| v.as_str()) {
                        crate::secrets::register(secret);
                    }
                }
                // 1.x/2.x keep the AssumeRole output (`.Credentials.Expiration`); 3.x a flat
                // object (`.Expiration`, exactly `%Y-%m-%dT%H:%M:%SZ`).
                let (raw, is_flat) = match json.pointer("/Credentials/Expiration") {
                    Some(v) => (v.as_str(), false),
                    None => (json.pointer("/Expiration").and_then(|v| v.as_str()), true),
                };
                flat = Some(is_flat);
                let raw = raw.ok_or("no Expiration")?;
                let parsed = if is_flat {
                    super::aws::parse_leverage_time(raw)
                } else {
                    parse_time(raw)
                };
                parsed.ok_or_else(|| {
                    format!(
                        "`{}` is not a date it can read",
                        crate::secrets::one_line(raw, 40)
                    )
                })
            });
            out.push(MfaCacheFile {
                file,
                profile,
                expiration,
                flat,
            });
        }
        out
    }
}

/// What `sso-login` kept to renew the session (its secrets registered), if anything readable.
fn saved_session(dir: &Path) -> Option<crate::model::sign_in::SavedSession> {
    use crate::model::sign_in::{STATE_DIR, STATE_FILE, SavedSession};
    let text = fs::read_text(&dir.join(STATE_DIR).join(STATE_FILE)).ok()?;
    let saved: SavedSession = serde_json::from_str(&text.text).ok()?;
    crate::secrets::register(&saved.registration.client_secret);
    if let Some(r) = &saved.refresh_token {
        crate::secrets::register(r);
    }
    Some(saved)
}

/// The effective user id (the owner new files get).
fn current_uid() -> u32 {
    #[cfg(unix)]
    {
        // SAFETY: geteuid has no preconditions and cannot fail.
        unsafe { libc::geteuid() }
    }
    #[cfg(not(unix))]
    {
        0
    }
}

pub fn parse_token(text: &str) -> Result<SsoToken, String> {
    let json: serde_json::Value =
        serde_json::from_str(text).map_err(|e| format!("not JSON ({e})"))?;
    let obj = json.as_object().ok_or("not a JSON object")?;
    for key in ["accessToken", "refreshToken", "clientSecret"] {
        if let Some(secret) = obj.get(key).and_then(|v| v.as_str()) {
            crate::secrets::register(secret);
        }
    }
    let expires_at = obj.get("expiresAt").map(|v| match v.as_str() {
        Some(raw) => parse_leverage_time(raw).ok_or_else(|| raw.to_string()),
        None => Err(v.to_string()),
    });
    Ok(SsoToken {
        access_token: obj
            .get("accessToken")
            .and_then(|v| v.as_str())
            .filter(|s| !s.is_empty())
            .map(AccessToken::new),
        expires_at,
        region: obj
            .get("region")
            .and_then(|v| v.as_str())
            .map(str::to_string),
        start_url: obj
            .get("startUrl")
            .and_then(|v| v.as_str())
            .map(str::to_string),
        refreshable: ["refreshToken", "clientId", "clientSecret"]
            .iter()
            .all(|k| {
                obj.get(*k)
                    .and_then(|v| v.as_str())
                    .is_some_and(|v| !v.is_empty())
            }),
    })
}

/// `expiresAt` exactly as the Leverage CLI parses it (`%Y-%m-%dT%H:%M:%SZ`: no fraction, no
/// offset, no space); anything else makes the CLI fail before Terraform runs.
pub fn parse_leverage_time(raw: &str) -> Option<DateTime<Utc>> {
    let b = raw.as_bytes();
    let digits = |r: std::ops::Range<usize>| b[r].iter().all(u8::is_ascii_digit);
    let shape = b.len() == 20
        && digits(0..4)
        && b[4] == b'-'
        && digits(5..7)
        && b[7] == b'-'
        && digits(8..10)
        && b[10] == b'T'
        && digits(11..13)
        && b[13] == b':'
        && digits(14..16)
        && b[16] == b':'
        && digits(17..19)
        && b[19] == b'Z';
    if !shape {
        return None;
    }
    chrono::NaiveDateTime::parse_from_str(raw, "%Y-%m-%dT%H:%M:%SZ")
        .ok()
        .map(|t| t.and_utc())
}

/// `expiresAt` as the CLI and botocore accept it: RFC 3339 in UTC (`…Z`).
pub fn parse_utc(raw: &str) -> Option<DateTime<Utc>> {
    if !raw.ends_with('Z') && !raw.ends_with("UTC") {
        return None;
    }
    parse_time(raw)
}

/// Any RFC 3339 time, or botocore's `YYYY-MM-DDTHH:MM:SSUTC`.
pub fn parse_time(raw: &str) -> Option<DateTime<Utc>> {
    let normalized = raw.strip_suffix("UTC").map(|r| format!("{r}Z"));
    let raw = normalized.as_deref().unwrap_or(raw);
    DateTime::parse_from_rfc3339(raw)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_fields() {
        let t = parse_token(
            r#"{"accessToken":"x","expiresAt":"2030-01-01T00:00:00Z","region":"us-east-1"}"#,
        )
        .unwrap();
        assert!(t.access_token.is_some());
        assert!(matches!(t.expires_at, Some(Ok(_))));
        let t = parse_token(r#"{"accessToken":"x","expiresAt":"2030-01-01 00:00"}"#).unwrap();
        assert!(matches!(t.expires_at, Some(Err(_))));
        assert!(parse_token("not json").is_err());
        assert!(parse_utc("2030-01-01T00:00:00+02:00").is_none());
        assert!(parse_utc("2030-01-01T00:00:00UTC").is_some());
    }
}
