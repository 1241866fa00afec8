//! `status`: every credential session of the project with its expiry; `--min-remaining` makes
//! it the gate a pipeline runs before a long apply.

use super::{Exit, print_coloured, use_color};
use crate::cli::{Format, Global, StatusArgs};
use crate::read::{self, ReadSettings};
use crate::session_list::{self, Session};

pub fn run(args: &StatusArgs, global: &Global) -> anyhow::Result<Exit> {
    let model = read::load(&ReadSettings {
        path: args.path.clone().unwrap_or_else(|| ".".into()),
        aws_dir: global.aws_dir.clone(),
        all: false,
        config: None,
        leverage_version: global.leverage_version.clone(),
        programs: read::Programs::None,
    })?;
    let (project, aws) = super::project_and_aws(&model)?;
    let analysis = crate::analysis::Analysis::new(&model);
    let list = session_list::sessions(&model, &analysis);
    let now = model.now;
    let short = |s: &Session| {
        args.min_remaining
            .is_some_and(|min| s.needed && s.remaining_s(now).is_none_or(|left| left < min))
    };
    let failing: Vec<&Session> = list.iter().filter(|s| short(s)).collect();
    let text = match global.format {
        Format::Json => {
            let rows: Vec<serde_json::Value> = list
                .iter()
                .map(|s| {
                    serde_json::json!({
                        "kind": s.kind.as_str(),
                        "profile": s.profile,
                        "file": s.file,
                        "expires_at": s.expires_at.map(|t| t.format("%Y-%m-%dT%H:%M:%SZ").to_string()),
                        "remaining_s": s.remaining_s(now),
                        "refreshable": s.refreshable,
                        "needed": s.needed,
                    })
                })
                .collect();
            format!(
                "{}\n",
                serde_json::json!({
                    "version": 1,
                    "project": {"name": project.name(), "aws_dir": aws.dir_display},
                    "sessions": rows,
                })
            )
        }
        _ => human(&list, now, use_color(global.color), args.min_remaining),
    };
    match global.format {
        Format::Json => super::print_json(&text)?,
        _ => print_coloured(&text, use_color(global.color))?,
    }
    if let Some(min) = args.min_remaining {
        for s in &failing {
            crate::say!(
                "{}{}: {} (less than {} required)",
                s.kind.as_str(),
                s.profile
                    .as_deref()
                    .map(|p| format!(" `{p}`"))
                    .unwrap_or_default(),
                match s.remaining_s(now) {
                    None => "missing or unreadable".to_string(),
                    Some(left) if left <= 0 => "expired".to_string(),
                    Some(left) => format!(
                        "{} left",
                        crate::time::human_duration(crate::time::seconds(left))
                    ),
                },
                crate::time::human_duration(crate::time::seconds(min))
            );
        }
        return Ok(if failing.is_empty() {
            Exit::Clean
        } else {
            Exit::Findings
        });
    }
    Ok(Exit::Clean)
}

fn human(
    list: &[Session],
    now: chrono::DateTime<chrono::Utc>,
    color: bool,
    min: Option<i64>,
) -> String {
    if list.is_empty() {
        return "no credential sessions: the project uses long-term keys only\n".into();
    }
    let mut table = comfy_table::Table::new();
    table
        .load_preset(comfy_table::presets::UTF8_FULL_CONDENSED)
        .set_header([
            "session",
            "profile",
            "file",
            "expires (UTC)",
            "left",
            "refreshable",
        ]);
    for s in list {
        let left = match s.remaining_s(now) {
            None => "missing".to_string(),
            Some(l) if l <= 0 => format!(
                "expired {} ago",
                crate::time::human_duration(crate::time::seconds(-l))
            ),
            Some(l) => crate::time::human_duration(crate::time::seconds(l)),
        };
        // Red: expired, missing or under the gate; yellow: under an hour; green: fine.
        let urgency = match s.remaining_s(now) {
            None => "31",
            Some(l) if l <= 0 || min.is_some_and(|m| l < m) => "31",
            Some(l) if l < 3600 => "33",
            _ => "32",
        };
        let left = if color {
            format!("\x1b[{urgency}m{left}\x1b[0m")
        } else {
            left
        };
        table.add_row([
            format!("{}{}", s.kind.as_str(), if s.needed { " *" } else { "" }),
            s.profile.clone().unwrap_or_default(),
            s.file.clone(),
            s.expires_at
                .map(|t| t.format("%Y-%m-%d %H:%M").to_string())
                .unwrap_or_default(),
            left,
            if s.refreshable { "yes" } else { "no" }.to_string(),
        ]);
    }
    format!("{table}\n* needed by this scope (--min-remaining gates on these)\n")
}
