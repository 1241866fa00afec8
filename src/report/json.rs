//! `--format json`: the report of INTERFACE.md, schema version 2 (version 1 with `fix` an
//! object: text, applicability, edits, command).

use super::{Report, place};
use crate::model::live::LiveOutcome;
use serde::Serialize;
use serde_json::{Value, json};

// Fields in alphabetical order: the order of the keys in the output.
#[derive(Serialize)]
struct Doc<'a> {
    /// Left out when no layer in scope needs one: reports without them stay as they were.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    credentials: Vec<CredentialOut<'a>>,
    diagnostics: Vec<DiagnosticOut<'a>>,
    profiles: Vec<ProfileOut<'a>>,
    project: Option<Value>,
    scope: Option<Value>,
    summary: Summary,
    tool: Tool,
    version: u32,
}

#[derive(Serialize)]
struct Tool {
    name: &'static str,
    version: &'static str,
}

#[derive(Serialize)]
struct Summary {
    errors: usize,
    infos: usize,
    live_ok: usize,
    profiles: usize,
    warnings: usize,
}

#[derive(Serialize)]
struct ProfileOut<'a> {
    account_expected: Option<&'a str>,
    expires_at: Option<String>,
    kind: &'a str,
    live: LiveOut<'a>,
    name: &'a str,
    referenced_by: Vec<FileLine<'a>>,
}

/// A non-AWS credential a layer needs (LD7xx): left out when there is none.
#[derive(Serialize)]
struct CredentialOut<'a> {
    alias: Option<&'a str>,
    credential: &'a str,
    file: &'a str,
    layer: &'a str,
    line: Option<usize>,
    provider: &'a str,
    source: &'a str,
    status: &'a str,
    /// The live token check (left out with `--offline` or when none was planned).
    #[serde(skip_serializing_if = "Option::is_none")]
    live: Option<Value>,
}

#[derive(Serialize)]
struct FileLine<'a> {
    file: &'a str,
    line: Option<usize>,
}

#[derive(Serialize, Clone, Copy)]
struct LiveOut<'a> {
    account: Option<&'a str>,
    arn: Option<&'a str>,
    error: Option<&'a str>,
    failure: Option<&'static str>,
    ms: Option<u64>,
    status: &'static str,
}

#[derive(Serialize)]
struct DiagnosticOut<'a> {
    column: Option<usize>,
    file: Option<String>,
    fix: Option<FixOut<'a>>,
    help: Option<&'a str>,
    line: Option<usize>,
    message: &'a str,
    name: &'a str,
    profile: Option<&'a str>,
    related: Vec<RelatedOut<'a>>,
    rule: &'a str,
    severity: &'static str,
}

/// A finding's fix as data: what to do (`text`), whether `check --fix` may apply it
/// (`safe`, `unsafe` with `--unsafe-fixes`, `manual` for a person), its edits (all or none)
/// and the command it runs.
#[derive(Serialize)]
struct FixOut<'a> {
    applicability: crate::diagnostic::FixApplicability,
    command: Option<&'a str>,
    edits: Vec<EditOut<'a>>,
    text: Option<&'a str>,
}

/// One edit: the text in place of `start`..`end`, or the file's permission bits (`mode`, no
/// positions: the whole file).
#[derive(Serialize)]
struct EditOut<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    end: Option<Position>,
    file: String,
    /// `0600`: the permission bits to set.
    #[serde(skip_serializing_if = "Option::is_none")]
    mode: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    replacement: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    start: Option<Position>,
}

#[derive(Serialize)]
struct Position {
    column: usize,
    line: usize,
}

#[derive(Serialize)]
struct RelatedOut<'a> {
    file: String,
    line: Option<usize>,
    message: &'a str,
}

fn fix_out<'a>(
    sources: &crate::source::Sources,
    d: &'a crate::diagnostic::Diagnostic,
) -> Option<FixOut<'a>> {
    Some(FixOut {
        applicability: d.fix_applicability()?,
        command: d.fix_command(),
        edits: d.edits().map(|e| edit_out(sources, e)).collect(),
        text: d.fix.as_deref(),
    })
}

fn edit_out<'a>(sources: &crate::source::Sources, e: &'a crate::diagnostic::Edit) -> EditOut<'a> {
    let file = sources.get(e.span.file);
    let position = |offset: usize| {
        let (line, column) = file.line_col(offset);
        Position { column, line }
    };
    EditOut {
        end: e.span.range.as_ref().map(|r| position(r.end)),
        file: place(sources, &e.span).file,
        start: e.span.range.as_ref().map(|r| position(r.start)),
        mode: match e.change {
            crate::diagnostic::EditChange::Mode(m) => Some(format!("{m:04o}")),
            crate::diagnostic::EditChange::Replace(_) => None,
        },
        replacement: match &e.change {
            crate::diagnostic::EditChange::Replace(r) => Some(r.as_str()),
            crate::diagnostic::EditChange::Mode(_) => None,
        },
    }
}

pub fn render(report: &Report) -> String {
    let mut out = Vec::new();
    match write(report, &mut out) {
        Ok(()) => String::from_utf8(out).unwrap_or_default(),
        Err(_) => String::new(),
    }
}

/// `render`, written to `out` as it is serialized (never held whole).
pub fn write(report: &Report, out: &mut dyn std::io::Write) -> std::io::Result<()> {
    let model = report.model;
    let sources = &model.sources;
    let project = model.project.as_ref().map(|p| {
        json!({
            "root": p.root.display().to_string(),
            "name": report.name,
            "mode": report.mode.map(|m| m.as_str()),
            "aws_dir": model.aws.as_ref().map(|a| a.dir_display.clone()),
            "leverage": {
                "version": model.leverage.version,
                "generation": model.leverage.generation.as_str(),
                "source": model.leverage.source,
            },
        })
    });
    let scope = model
        .project
        .as_ref()
        .map(|p| json!({"kind": p.scope.kind.as_str(), "path": p.scope.path}));
    let profiles: Vec<ProfileOut> = report
        .profiles
        .iter()
        .map(|row| {
            let none = LiveOut {
                account: None,
                arn: None,
                error: None,
                failure: None,
                ms: None,
                status: "skipped",
            };
            let live = match &row.live {
                None => none,
                Some(l) => match &l.outcome {
                    LiveOutcome::Ok { account, arn } => LiveOut {
                        account: Some(account),
                        arn: Some(arn),
                        ms: Some(l.millis),
                        status: "ok",
                        ..none
                    },
                    LiveOutcome::Failed { error, kind } => LiveOut {
                        error: Some(error),
                        failure: Some(kind.as_str()),
                        ms: Some(l.millis),
                        status: "failed",
                        ..none
                    },
                    LiveOutcome::Skipped(why) => LiveOut {
                        error: Some(why),
                        ..none
                    },
                },
            };
            ProfileOut {
                account_expected: row.account_expected.as_deref(),
                expires_at: row
                    .expires_at
                    .map(|t| t.format("%Y-%m-%dT%H:%M:%SZ").to_string()),
                kind: row.kind,
                live,
                name: &row.name,
                referenced_by: row
                    .referenced_by
                    .iter()
                    .map(|p| FileLine {
                        file: &p.file,
                        line: p.line,
                    })
                    .collect(),
            }
        })
        .collect();
    let diagnostics: Vec<DiagnosticOut> = report
        .diagnostics
        .iter()
        .map(|d| {
            let p = d.primary.as_ref().map(|l| place(sources, &l.span));
            DiagnosticOut {
                column: p.as_ref().and_then(|p| p.column),
                line: p.as_ref().and_then(|p| p.line),
                file: p.map(|p| p.file),
                fix: fix_out(sources, d),
                help: d.help.as_deref(),
                message: &d.message,
                name: d.name,
                profile: d.profile.as_deref(),
                related: d
                    .related
                    .iter()
                    .map(|l| {
                        let r = place(sources, &l.span);
                        RelatedOut {
                            file: r.file,
                            line: r.line,
                            message: &l.message,
                        }
                    })
                    .collect(),
                rule: d.rule,
                severity: d.severity.as_str(),
            }
        })
        .collect();
    use crate::diagnostic::Severity::*;
    let credentials = report
        .credentials
        .iter()
        .map(|c| CredentialOut {
            alias: c.alias.as_deref(),
            credential: c.credential,
            file: &c.place.file,
            layer: &c.layer,
            line: c.place.line,
            provider: c.provider,
            source: &c.source,
            status: c.status,
            live: c
                .live
                .as_ref()
                .map(|l| token_live_json(l, report.model.now)),
        })
        .collect();
    let doc = Doc {
        credentials,
        diagnostics,
        profiles,
        project,
        scope,
        summary: Summary {
            errors: report.count(Error),
            infos: report.count(Info),
            live_ok: report.live_ok(),
            profiles: report.profiles.len(),
            warnings: report.count(Warning),
        },
        tool: Tool {
            name: "leverage-doctor",
            version: env!("CARGO_PKG_VERSION"),
        },
        version: 2,
    };
    serde_json::to_writer_pretty(&mut *out, &doc)?;
    out.write_all(b"\n")
}

/// A token's live check: `status` ok/failed/skipped, `failure` (its class), `detail`, the
/// service's `expires_at` and `remaining_s`, `identity`, `scopes`, `renewable`, the `base`
/// called and `ms`.
fn token_live_json(
    l: &crate::model::token_live::TokenCheck,
    now: chrono::DateTime<chrono::Utc>,
) -> Value {
    use crate::model::token_live::{TokenInfo, TokenOutcome};
    let empty = TokenInfo::default();
    let (status, failure, detail, info) = match &l.outcome {
        TokenOutcome::Ok(info) => ("ok", None, None, info),
        TokenOutcome::Failed { kind, detail, info } => {
            ("failed", Some(kind.as_str()), Some(detail.as_str()), info)
        }
        TokenOutcome::Skipped(why) => ("skipped", None, Some(why.as_str()), &empty),
    };
    json!({
        "base": l.base,
        "detail": detail,
        "expires_at": info.expires_at.map(|t| t.format("%Y-%m-%dT%H:%M:%SZ").to_string()),
        "failure": failure,
        "identity": info.identity,
        "ms": l.millis,
        "remaining_s": info.expires_at.map(|t| (t - now).num_seconds()),
        "renewable": info.renewable,
        "scopes": info.scopes,
        "status": status,
    })
}
