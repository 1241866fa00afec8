//! Code and documentation stay in sync: every rule has exactly one page and every page a rule.

use leverage_doctor::rules::RULES;
use std::collections::BTreeSet;

#[test]
fn every_rule_has_a_page_and_every_page_a_rule() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("rules");
    let pages: BTreeSet<String> = std::fs::read_dir(&dir)
        .expect("rules/")
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .filter(|n| n.ends_with(".md"))
        .map(|n| n.trim_end_matches(".md").to_string())
        .collect();
    let ids: BTreeSet<String> = RULES.iter().map(|r| r.id.to_string()).collect();
    assert_eq!(pages, ids);
}

#[test]
fn pages_have_title_summary_and_sections() {
    for rule in RULES {
        let title = format!("# {} {}\n", rule.id, rule.name);
        assert!(
            rule.doc.starts_with(&title),
            "{}: title must be `{title}`",
            rule.id
        );
        assert!(!rule.summary().is_empty(), "{}: summary", rule.id);
        for heading in [
            "## What it checks",
            "## Why it breaks",
            "## How to fix",
            "## Example",
        ] {
            assert!(rule.doc.contains(heading), "{} lacks {heading}", rule.id);
        }
        let severity = format!("Default severity: **{}**", rule.severity.as_str());
        assert!(
            rule.doc.contains(&severity),
            "{}: page says another severity",
            rule.id
        );
    }
}

#[test]
fn ids_and_names_are_unique() {
    let names: BTreeSet<_> = RULES.iter().map(|r| r.name).collect();
    assert_eq!(names.len(), RULES.len());
    assert!(RULES.windows(2).all(|w| w[0].id < w[1].id));
}
