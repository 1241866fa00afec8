//! `explain LDxxx`: prints the rule's page from `rules/`.

use super::{Exit, print};
use crate::rules::{RULES, find};

pub fn run(id: Option<&str>) -> anyhow::Result<Exit> {
    match id {
        Some(id) => {
            let rule = find(id).ok_or_else(|| {
                anyhow::anyhow!("no rule `{id}`; `leverage-doctor explain` lists them")
            })?;
            print(rule.doc)?;
        }
        None => {
            let list: String = RULES
                .iter()
                .map(|r| {
                    format!(
                        "{}  {:<28} {:<8} {}\n",
                        r.id,
                        r.name,
                        r.severity.as_str(),
                        r.summary()
                    )
                })
                .collect();
            print(&list)?;
        }
    }
    Ok(Exit::Clean)
}
