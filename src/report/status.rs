//! `status`: the sessions as a table or as JSON (INTERFACE.md).

use crate::session_list::Session;
use chrono::{DateTime, Utc};
use serde::Serialize;

#[derive(Serialize)]
struct StatusReport<'a> {
    version: u32,
    project: Project<'a>,
    sessions: Vec<Row<'a>>,
    /// Where the kept refresh token is (`keyring (Secret Service)`, `file ~/.aws/…`); null
    /// when none is kept.
    token_store: Option<&'a str>,
}

#[derive(Serialize)]
struct Project<'a> {
    name: Option<String>,
    aws_dir: &'a str,
}

#[derive(Serialize)]
struct Row<'a> {
    kind: &'static str,
    profile: Option<&'a str>,
    file: &'a str,
    expires_at: Option<String>,
    remaining_s: Option<i64>,
    refreshable: bool,
    needed: bool,
}

/// One JSON object and a newline.
pub fn json(
    list: &[Session],
    name: Option<String>,
    aws_dir: &str,
    token_store: Option<&str>,
    now: DateTime<Utc>,
) -> String {
    let report = StatusReport {
        version: 1,
        project: Project { name, aws_dir },
        sessions: list
            .iter()
            .map(|s| Row {
                kind: s.kind.as_str(),
                profile: s.profile.as_deref(),
                file: &s.file,
                expires_at: s
                    .expires_at
                    .map(|t| t.format("%Y-%m-%dT%H:%M:%SZ").to_string()),
                remaining_s: s.remaining_s(now),
                refreshable: s.refreshable,
                needed: s.needed,
            })
            .collect(),
        token_store,
    };
    format!("{}\n", serde_json::to_string(&report).unwrap_or_default())
}

/// The table: one row a session, the time left coloured by urgency.
pub fn human(
    list: &[Session],
    now: DateTime<Utc>,
    color: bool,
    min: Option<i64>,
    width: Option<u16>,
    token_store: Option<&str>,
) -> String {
    let kept = token_store
        .map(|t| format!("refresh token kept in: {t}\n"))
        .unwrap_or_default();
    if list.is_empty() {
        return format!("no credential sessions: the project uses long-term keys only\n{kept}");
    }
    let mut table = comfy_table::Table::new();
    table.load_preset(comfy_table::presets::UTF8_FULL_CONDENSED);
    fit(&mut table, width);
    // Colour through comfy-table, which counts only the visible characters for the layout.
    if color {
        table.enforce_styling();
    }
    table.set_header([
        "session",
        "profile",
        "file",
        "expires (UTC)",
        "left",
        "refreshable",
    ]);
    for s in list {
        let left = match s.remaining_s(now) {
            None if s.present => "no readable expiry".to_string(),
            None => "missing".to_string(),
            Some(l) if l <= 0 => format!(
                "expired {} ago",
                crate::time::human_duration(crate::time::seconds(-l))
            ),
            Some(l) => crate::time::human_duration(crate::time::seconds(l)),
        };
        // Red: expired, missing or under the gate; yellow: under an hour; green: fine.
        use comfy_table::{Cell, Color};
        let urgency = match s.remaining_s(now) {
            None => Color::Red,
            Some(l) if l <= 0 || min.is_some_and(|m| l < m) => Color::Red,
            Some(l) if l < 3600 => Color::Yellow,
            _ => Color::Green,
        };
        let left = if color {
            Cell::new(left).fg(urgency)
        } else {
            Cell::new(left)
        };
        table.add_row(vec![
            Cell::new(format!(
                "{}{}",
                s.kind.as_str(),
                if s.needed { " *" } else { "" }
            )),
            Cell::new(s.profile.clone().unwrap_or_default()),
            Cell::new(&s.file),
            Cell::new(
                s.expires_at
                    .map(|t| t.format("%Y-%m-%d %H:%M").to_string())
                    .unwrap_or_default(),
            ),
            left,
            Cell::new(if s.refreshable { "yes" } else { "no" }),
        ]);
    }
    format!("{table}\n* needed by this scope (--min-remaining gates on these)\n{kept}")
}

/// A table as wide as the terminal at most: cells wrap (comfy-table's dynamic arrangement);
/// without a width it is as wide as its content (a pipe, a file, a CI log).
fn fit(table: &mut comfy_table::Table, width: Option<u16>) {
    use comfy_table::ContentArrangement;
    match width {
        Some(w) => {
            table
                .set_content_arrangement(ContentArrangement::Dynamic)
                .set_width(w);
        }
        None => {
            table.set_content_arrangement(ContentArrangement::Disabled);
        }
    }
}
