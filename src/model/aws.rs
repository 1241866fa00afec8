//! The project's AWS files as they are written: every section and key with its place.

use crate::source::{FileId, Span};
use chrono::{DateTime, Utc};
use std::path::PathBuf;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IniKind {
    Config,
    Credentials,
}

/// What a section header names, the way the AWS CLI and SDKs read it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum SectionName {
    /// `[default]` (config or credentials) or `[profile default]` (config).
    Default,
    /// `[profile x]` in config, `[x]` in credentials.
    Profile(String),
    SsoSession(String),
    Services(String),
    /// A config section no reader uses as a profile (e.g. `[x]` without `profile `).
    Other(String),
}

impl SectionName {
    pub fn profile_name(&self) -> Option<&str> {
        match self {
            SectionName::Default => Some("default"),
            SectionName::Profile(name) => Some(name),
            _ => None,
        }
    }
}

#[derive(Debug, Clone)]
pub struct IniEntry {
    /// Key as written (readers lower-case it).
    pub key: String,
    /// Value with surrounding white space removed, as botocore reads it.
    pub value: String,
    pub key_span: Span,
    pub value_span: Span,
    /// The whole line.
    pub line_span: Span,
    pub separator: char,
    pub secret: bool,
}

impl IniEntry {
    pub fn key_is(&self, key: &str) -> bool {
        self.key.eq_ignore_ascii_case(key)
    }
}

#[derive(Debug, Clone)]
pub struct IniSection {
    pub name: SectionName,
    /// Text between the brackets.
    pub raw: String,
    pub header: Span,
    pub entries: Vec<IniEntry>,
}

impl IniSection {
    /// The value readers use: SDKs take the last of repeated keys.
    pub fn get(&self, key: &str) -> Option<&IniEntry> {
        self.entries.iter().rev().find(|e| e.key_is(key))
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IniProblemKind {
    TextBeforeSection,
    NoSeparator,
    BrokenHeader,
    InvalidUtf8,
    ByteOrderMark,
    EmptyKey,
    Truncated,
}

#[derive(Debug, Clone)]
pub struct IniProblem {
    pub kind: IniProblemKind,
    pub span: Span,
    pub message: String,
}

#[derive(Debug, Clone)]
pub struct IniFile {
    pub file: FileId,
    pub kind: IniKind,
    pub sections: Vec<IniSection>,
    pub problems: Vec<IniProblem>,
}

impl IniFile {
    pub fn profile_sections<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a IniSection> {
        self.sections
            .iter()
            .filter(move |s| s.name.profile_name() == Some(name))
    }
}

/// An AWS file that should be there, and what happened when it was read.
#[derive(Debug, Clone)]
pub enum AwsFile {
    Parsed(IniFile),
    Missing { file: FileId },
    Unreadable { file: FileId, reason: String },
}

impl AwsFile {
    pub fn parsed(&self) -> Option<&IniFile> {
        match self {
            AwsFile::Parsed(ini) => Some(ini),
            _ => None,
        }
    }
}

/// `~/.aws/<p>/sso/cache/<file>`: what matters of it, never the token itself.
#[derive(Debug, Clone)]
pub struct SsoTokenFile {
    pub file: FileId,
    pub name: String,
    pub content: Result<SsoToken, String>,
}

/// An SSO access token: kept once, when the file is read, for every call that needs it. Its
/// `Debug` never shows it.
#[derive(Clone, PartialEq, Eq)]
pub struct AccessToken(String);

impl AccessToken {
    pub fn new(token: &str) -> AccessToken {
        crate::secrets::register(token);
        AccessToken(token.to_string())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for AccessToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AccessToken(***)")
    }
}

#[derive(Debug, Clone)]
pub struct SsoToken {
    /// A non-empty `accessToken`.
    pub access_token: Option<AccessToken>,
    /// `Err(raw)` when present but not RFC 3339 UTC.
    pub expires_at: Option<Result<DateTime<Utc>, String>>,
    pub region: Option<String>,
    pub start_url: Option<String>,
    /// A refresh token and the client registration to use it are in the file.
    pub refreshable: bool,
}

/// `~/.aws/<p>/cache/<profile>`: a cached MFA (AssumeRole) session.
#[derive(Debug, Clone)]
pub struct MfaCacheFile {
    pub file: FileId,
    pub profile: String,
    pub expiration: Result<DateTime<Utc>, String>,
    /// `Some(true)`: 3.x's flat format; `Some(false)`: the AssumeRole output of 1.x/2.x.
    pub flat: Option<bool>,
}

/// Who may read a file that holds secrets, and who owns it.
#[derive(Debug, Clone)]
pub struct FileAccess {
    pub file: FileId,
    /// Permission bits (`0o644`).
    pub mode: u32,
    pub uid: u32,
}

#[derive(Debug, Clone)]
pub struct AwsFiles {
    pub dir: PathBuf,
    pub dir_display: String,
    pub config: AwsFile,
    pub credentials: AwsFile,
    pub sso_tokens: Vec<SsoTokenFile>,
    pub mfa_cache: Vec<MfaCacheFile>,
    /// The credentials file, token and MFA cache files: their mode and owner.
    pub access: Vec<FileAccess>,
    /// The user running the doctor.
    pub uid: u32,
    /// The AWS CLI's token for the project's start URL, if any.
    pub aws_cli_token: Option<SsoTokenFile>,
    /// What `sso-login` kept to renew the session without a browser, if anything.
    pub saved_session: Option<crate::model::sign_in::SavedSession>,
}

impl AwsFiles {
    /// The token the Leverage CLI reads (`sso/cache/token`), as read with the rest of the files.
    pub fn leverage_token(&self) -> Option<&SsoTokenFile> {
        self.sso_tokens
            .iter()
            .find(|t| t.name == crate::leverage::TOKEN_FILE_NAME)
    }

    pub fn files(&self) -> impl Iterator<Item = &IniFile> {
        self.config
            .parsed()
            .into_iter()
            .chain(self.credentials.parsed())
    }

    /// Every section that defines profile `name`, config first.
    pub fn profile_sections<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a IniSection> {
        self.files().flat_map(move |f| f.profile_sections(name))
    }

    pub fn has_profile(&self, name: &str) -> bool {
        self.profile_anchor(name).is_some()
    }

    /// The value SDKs use for `key` of profile `name`: credentials beat config, the last
    /// repeated section or key wins.
    pub fn profile_value(&self, name: &str, key: &str) -> Option<&IniEntry> {
        fn pick<'f>(file: &'f AwsFile, name: &str, key: &str) -> Option<&'f IniEntry> {
            let ini = file.parsed()?;
            ini.sections
                .iter()
                .rev()
                .filter(|s| s.name.profile_name() == Some(name))
                .find_map(|s| s.get(key))
        }
        pick(&self.credentials, name, key).or_else(|| pick(&self.config, name, key))
    }

    /// The first section that defines a profile (where a diagnostic points).
    pub fn profile_anchor(&self, name: &str) -> Option<&IniSection> {
        self.files()
            .flat_map(|f| f.sections.iter())
            .find(|s| s.name.profile_name() == Some(name))
    }

    pub fn sso_session(&self, name: &str) -> Option<&IniSection> {
        self.config.parsed().and_then(|f| {
            f.sections
                .iter()
                .rev()
                .find(|s| s.name == SectionName::SsoSession(name.to_string()))
        })
    }

    /// All profile names defined anywhere.
    pub fn profile_names(&self) -> Vec<&str> {
        let mut names: Vec<&str> = self
            .files()
            .flat_map(|f| f.sections.iter())
            .filter_map(|s| s.name.profile_name())
            .collect();
        names.sort_unstable();
        names.dedup();
        names
    }
}
