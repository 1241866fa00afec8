//! `--format json`: the report of INTERFACE.md, schema version 1.

use super::{Report, place};
use crate::model::live::LiveOutcome;
use serde_json::{Value, json};

pub fn render(report: &Report) -> String {
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
    let profiles: Vec<Value> = report
        .profiles
        .iter()
        .map(|row| {
            let live = match &row.live {
                None => json!({"status": "skipped", "account": null, "arn": null, "error": null, "failure": null, "ms": null}),
                Some(l) => match &l.outcome {
                    LiveOutcome::Ok { account, arn } => json!({"status": "ok", "account": account, "arn": arn, "error": null, "failure": null, "ms": l.millis}),
                    LiveOutcome::Failed { error, kind } => json!({"status": "failed", "account": null, "arn": null, "error": error, "failure": kind.as_str(), "ms": l.millis}),
                    LiveOutcome::Skipped(why) => json!({"status": "skipped", "account": null, "arn": null, "error": why, "failure": null, "ms": null}),
                },
            };
            json!({
                "name": row.name,
                "referenced_by": row.referenced_by.iter().map(|p| json!({"file": p.file, "line": p.line})).collect::<Vec<_>>(),
                "kind": row.kind,
                "account_expected": row.account_expected,
                "expires_at": row.expires_at.map(|t| t.format("%Y-%m-%dT%H:%M:%SZ").to_string()),
                "live": live,
            })
        })
        .collect();
    let diagnostics: Vec<Value> = report
        .diagnostics
        .iter()
        .map(|d| {
            let p = d.primary.as_ref().map(|l| place(sources, &l.span));
            json!({
                "rule": d.rule,
                "name": d.name,
                "severity": d.severity.as_str(),
                "message": d.message,
                "file": p.as_ref().map(|p| p.file.clone()),
                "line": p.as_ref().and_then(|p| p.line),
                "column": p.as_ref().and_then(|p| p.column),
                "profile": d.profile,
                "related": d.related.iter().map(|l| {
                    let r = place(sources, &l.span);
                    json!({"file": r.file, "line": r.line, "message": l.message})
                }).collect::<Vec<_>>(),
                "help": d.help,
                "fix": d.fix,
            })
        })
        .collect();
    use crate::diagnostic::Severity::*;
    let doc = json!({
        "version": 1,
        "tool": {"name": "leverage-doctor", "version": env!("CARGO_PKG_VERSION")},
        "project": project,
        "scope": scope,
        "profiles": profiles,
        "diagnostics": diagnostics,
        "summary": {
            "errors": report.count(Error),
            "warnings": report.count(Warning),
            "infos": report.count(Info),
            "profiles": report.profiles.len(),
            "live_ok": report.live_ok(),
        },
    });
    let mut out = serde_json::to_string_pretty(&doc).unwrap_or_default();
    out.push('\n');
    out
}
