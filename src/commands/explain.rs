//! `explain LDxxx`: prints the rule's page from `rules/`, laid out for the terminal.

use super::{Exit, print};
use crate::rules::{RULES, find};

pub fn run(id: Option<&str>, global: &crate::cli::Global) -> anyhow::Result<Exit> {
    let json = global.format == crate::cli::Format::Json;
    let as_json = |r: &crate::rules::Rule| {
        serde_json::json!({
            "id": r.id,
            "name": r.name,
            "severity": r.severity.as_str(),
            "summary": r.summary(),
            "page": r.doc,
        })
    };
    match id {
        Some(id) => {
            let rule = find(id).ok_or_else(|| {
                anyhow::anyhow!("no rule `{id}`; `leverage-doctor explain` lists them")
            })?;
            if json {
                super::print_json(&format!("{:#}\n", as_json(rule)))?;
            } else {
                // Filled to the terminal; a pipe or a file gets 80 columns, as `man` gives them.
                let width = super::terminal_width().map_or(80, usize::from);
                let color = super::use_color(global.color);
                let page = crate::report::markdown::render(rule.doc, width, color);
                super::print_coloured(&page, color)?;
            }
        }
        None if json => {
            let all: Vec<_> = RULES.iter().map(|r| as_json(r)).collect();
            super::print_json(&format!("{:#}\n", serde_json::Value::Array(all)))?;
        }
        None => {
            // On a terminal the summaries wrap under themselves; in a pipe, a rule a line.
            let width = super::terminal_width().map(usize::from);
            let list: String = RULES
                .iter()
                .map(|r| {
                    let head = format!("{}  {:<28} {:<8} ", r.id, r.name, r.severity.as_str());
                    let summary = match width {
                        Some(w) => crate::report::markdown::inline(
                            r.summary(),
                            w,
                            head.chars().count(),
                            false,
                        ),
                        None => format!("{}\n", r.summary()),
                    };
                    format!("{head}{summary}")
                })
                .collect();
            print(&list)?;
        }
    }
    Ok(Exit::Clean)
}
