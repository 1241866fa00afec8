//! What a `check` run found, ready to render. Reporters only format this; they read no files.

pub mod diff;
pub mod drift;
pub mod github;
pub mod human;
pub mod json;
pub mod junit;
pub mod markdown;
pub mod sarif;
pub mod status;

use crate::diagnostic::{Diagnostic, Severity};
use crate::model::Model;
use crate::model::live::{LiveOutcome, LiveResult};
use crate::model::project::Mode;
use crate::source::{Sources, Span};

/// A place resolved for printing.
#[derive(Debug, Clone)]
pub struct Place {
    pub file: String,
    pub line: Option<usize>,
    pub column: Option<usize>,
}

pub fn place(sources: &Sources, span: &Span) -> Place {
    let file = sources.get(span.file).display.clone();
    match sources.start_of(span) {
        Some((line, column)) => Place {
            file,
            line: Some(line),
            column: Some(column),
        },
        None => Place {
            file,
            line: None,
            column: None,
        },
    }
}

#[derive(Debug, Clone)]
pub struct ProfileRow {
    pub name: String,
    pub kind: &'static str,
    pub account_expected: Option<String>,
    pub referenced_by: Vec<Place>,
    /// Worst finding about this profile, if any.
    pub worst: Option<Severity>,
    pub live: Option<LiveResult>,
    /// When the profile's credentials expire, where known (cached role credentials, MFA
    /// session, SSO token).
    pub expires_at: Option<chrono::DateTime<chrono::Utc>>,
}

/// A credential other than an AWS profile that a layer needs (LD7xx), as listed.
pub struct CredentialRow {
    pub layer: String,
    pub provider: &'static str,
    pub alias: Option<String>,
    pub credential: &'static str,
    pub place: Place,
    pub source: String,
    pub status: &'static str,
    /// The live check of its token (LD704–LD706), when one was planned.
    pub live: Option<crate::model::token_live::TokenCheck>,
}

impl CredentialRow {
    /// `ok`, `failed` or `skipped` and, for people, what the live check found: the identity,
    /// time left, or the failure.
    pub fn live_summary(&self, now: chrono::DateTime<chrono::Utc>) -> Option<String> {
        use crate::model::token_live::TokenOutcome;
        let live = self.live.as_ref()?;
        Some(match &live.outcome {
            TokenOutcome::Ok(info) => {
                let mut s = "live ok".to_string();
                if let Some(who) = &info.identity {
                    s.push_str(&format!(" as {who}"));
                }
                match info.expires_at {
                    Some(at) if at > now => s.push_str(&format!(
                        ", expires in {}",
                        crate::time::human_duration(crate::time::seconds((at - now).num_seconds()))
                    )),
                    Some(_) => s.push_str(", expired"),
                    None => s.push_str(", no expiry"),
                }
                s
            }
            TokenOutcome::Failed { kind, .. } => format!("live failed: {}", kind.as_str()),
            TokenOutcome::Skipped(why) => format!("live skipped: {why}"),
        })
    }
}

pub struct Report<'a> {
    pub model: &'a Model,
    pub diagnostics: Vec<Diagnostic>,
    pub profiles: Vec<ProfileRow>,
    /// Non-AWS credentials the layers in scope need.
    pub credentials: Vec<CredentialRow>,
    pub mode: Option<Mode>,
    pub name: Option<String>,
    /// Severity at or above which the run fails.
    pub fail_on: Severity,
}

impl<'a> Report<'a> {
    pub fn new(
        model: &'a Model,
        analysis: &'a crate::analysis::Analysis,
        mut diagnostics: Vec<Diagnostic>,
        fail_on: Severity,
    ) -> Report<'a> {
        let sources = &model.sources;
        let key = |d: &Diagnostic| {
            let p = d.primary.as_ref().map(|l| place(sources, &l.span));
            // Errors first, then warnings, then notes; by place within each.
            (
                std::cmp::Reverse(d.severity),
                p.as_ref().map(|p| p.file.clone()).unwrap_or_default(),
                p.as_ref().and_then(|p| p.line).unwrap_or(0),
                p.as_ref().and_then(|p| p.column).unwrap_or(0),
                d.rule,
            )
        };
        diagnostics.sort_by_cached_key(key);
        // Values from files, the environment and servers are inside these texts: no control
        // character reaches any format (newlines only where a help or fix has several lines).
        for d in &mut diagnostics {
            escape_diagnostic(d);
        }
        let cx = crate::rules::Context::new(model, analysis);
        let sessions = crate::session_list::sessions(model, analysis);
        // Each profile's worst finding and live result, looked up by name: one pass each, not
        // one per profile (60 000 profiles named nowhere took minutes).
        let mut worst_of: std::collections::HashMap<&str, Severity> =
            std::collections::HashMap::new();
        for d in &diagnostics {
            if let Some(profile) = d.profile.as_deref() {
                let worst = worst_of.entry(profile).or_insert(d.severity);
                *worst = (*worst).max(d.severity);
            }
        }
        let mut live_of: std::collections::HashMap<&str, &crate::model::live::LiveResult> =
            std::collections::HashMap::new();
        for l in &model.live {
            live_of.entry(l.profile.as_str()).or_insert(l);
        }
        let profiles = cx
            .used
            .iter()
            .map(|(name, refs)| {
                let shown_name = crate::secrets::escape_controls(name, false);
                // With the AWS config missing or unreadable, no profile it should hold is fine,
                // whatever else was found (the row never says ok for a profile defined nowhere).
                let no_config = model.aws.as_ref().is_some_and(|a| {
                    a.config.parsed().is_none()
                        && a.credentials
                            .parsed()
                            .is_none_or(|c| c.profile_sections(name).next().is_none())
                });
                let worst = worst_of
                    .get(shown_name.as_str())
                    .copied()
                    .into_iter()
                    .chain(no_config.then_some(Severity::Error))
                    .max();
                ProfileRow {
                    name: shown_name,
                    kind: analysis.source(name).map_or("unknown", |s| s.kind()),
                    account_expected: cx
                        .account_of(name)
                        .and_then(|a| cx.account_id(a))
                        .map(str::to_string),
                    referenced_by: refs.iter().map(|r| place(sources, &r.span)).collect(),
                    worst,
                    live: live_of.get(name.as_str()).map(|l| (*l).clone()),
                    expires_at: crate::session_list::profile_expiry(&sessions, analysis, name),
                }
            })
            .collect();
        let credentials = crate::rules::credential_statuses(&cx)
            .into_iter()
            .map(|c| {
                let live = (c.credential == "token")
                    .then(|| {
                        model.token_live.iter().find(|t| {
                            t.layer == c.layer
                                && t.provider.name() == c.provider
                                && t.alias == c.alias
                        })
                    })
                    .flatten()
                    .cloned();
                CredentialRow {
                    place: place(sources, &c.span),
                    layer: c.layer,
                    provider: c.provider,
                    alias: c.alias,
                    credential: c.credential,
                    source: c.source,
                    status: c.status,
                    live,
                }
            })
            .collect();
        Report {
            model,
            diagnostics,
            profiles,
            credentials,
            mode: model.project.as_ref().map(|p| p.mode(model.cli())),
            name: model.project.as_ref().and_then(|p| p.name()),
            fail_on,
        }
    }

    pub fn count(&self, severity: Severity) -> usize {
        self.diagnostics
            .iter()
            .filter(|d| d.severity == severity)
            .count()
    }

    pub fn failed(&self) -> bool {
        self.diagnostics.iter().any(|d| d.severity >= self.fail_on)
    }

    pub fn live_ok(&self) -> usize {
        self.model
            .live
            .iter()
            .filter(|l| matches!(l.outcome, LiveOutcome::Ok { .. }))
            .count()
    }
}

/// Every text of a finding made printable (see `Report::new`).
fn escape_diagnostic(d: &mut Diagnostic) {
    use crate::secrets::escape_controls;
    d.message = escape_controls(&d.message, false);
    if let Some(p) = &mut d.profile {
        *p = escape_controls(p, false);
    }
    for text in [&mut d.help, &mut d.fix].into_iter().flatten() {
        *text = escape_controls(text, true);
    }
    for label in d.primary.iter_mut().chain(d.related.iter_mut()) {
        label.message = escape_controls(&label.message, false);
    }
}
