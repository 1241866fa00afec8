//! `.leverage-doctor.toml`: which findings a team silences or re-grades, and where.

use crate::diagnostic::Severity;
use crate::source::Span;

#[derive(Debug, Clone)]
pub struct PerPath {
    pub glob: String,
    pub ignore: Vec<String>,
}

#[derive(Debug, Clone, Default)]
pub struct DoctorConfig {
    /// Where it was read from (None: no file).
    pub file: Option<crate::source::FileId>,
    pub ignore: Vec<String>,
    pub per_path: Vec<PerPath>,
    pub severity: Vec<(String, Severity)>,
    pub fail_on: Option<Severity>,
    /// `leverage-version`: the Leverage CLI the project runs (overrides detection).
    pub leverage_version: Option<String>,
    /// `token-store`: where `sso-login` and `refresh` keep the refresh token (None: auto).
    pub token_store: Option<crate::model::sign_in::TokenStore>,
    /// Unknown keys, unknown rule ids, bad values: each with its place (LD008).
    pub problems: Vec<(Span, String)>,
}

/// How deep `{…}` may nest in a glob: globset panics on deep nesting (found by fuzzing
/// `{{{…a…}}}`), and no real path pattern needs more than a few levels.
const MAX_GLOB_NESTING: usize = 8;
const MAX_GLOB_LEN: usize = 1024;

/// A `[[per-path]]` glob, matched as `check` matches it; refused before globset sees it
/// when it nests too deep or is too long.
pub fn compile_glob(glob: &str) -> Result<globset::GlobMatcher, String> {
    if glob.len() > MAX_GLOB_LEN {
        return Err(format!("longer than {MAX_GLOB_LEN} characters"));
    }
    let mut depth = 0usize;
    let mut escaped = false;
    for c in glob.chars() {
        match c {
            _ if escaped => escaped = false,
            '\\' => escaped = true,
            '{' => {
                depth += 1;
                if depth > MAX_GLOB_NESTING {
                    return Err(format!("`{{…}}` nests more than {MAX_GLOB_NESTING} deep"));
                }
            }
            '}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    globset::GlobBuilder::new(glob)
        .literal_separator(false)
        .build()
        .map(|g| g.compile_matcher())
        .map_err(|e| e.to_string())
}
