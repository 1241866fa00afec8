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
    /// Unknown keys, unknown rule ids, bad values: each with its place (LD008).
    pub problems: Vec<(Span, String)>,
}
