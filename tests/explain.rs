//! `explain LDxxx` for the terminal: the page's Markdown laid out within the width.

use crate::support::doctor;
use leverage_doctor::rules::RULES;
use unicode_width::UnicodeWidthStr;

fn explain(id: &str, columns: Option<&str>, color: &str) -> String {
    let mut cmd = doctor();
    cmd.args(["explain", id, "--color", color]);
    if let Some(c) = columns {
        cmd.env("COLUMNS", c);
    }
    let out = cmd.output().unwrap();
    assert!(out.status.success(), "{id}");
    String::from_utf8(out.stdout).unwrap()
}

/// The text a person sees: colour codes removed.
fn visible(text: &str) -> String {
    let mut plain = String::new();
    let mut rest = text;
    while let Some(at) = rest.find('\x1b') {
        plain.push_str(&rest[..at]);
        rest = rest[at..].split_once('m').map_or("", |(_, r)| r);
    }
    plain.push_str(rest);
    plain
}

/// The lines of the page's fenced code blocks, which are shown as written (never wrapped).
fn code_lines(page: &str) -> Vec<&str> {
    let mut inside = false;
    let mut lines = Vec::new();
    for line in page.lines() {
        if line.trim_start().starts_with("```") {
            inside = !inside;
        } else if inside {
            lines.push(line.trim_end());
        }
    }
    lines
}

/// Every page at 80 and 120 columns, with and without colour: no line wider than the
/// terminal but the lines of code blocks, which are the page's lines verbatim (indented);
/// no Markdown marker left (`#` headings, `**`), backticks only without colour.
#[test]
fn every_page_fits_the_width() {
    for rule in RULES {
        let code = code_lines(rule.doc);
        for columns in [80usize, 120] {
            for color in ["never", "always"] {
                let out = explain(rule.id, Some(&columns.to_string()), color);
                let text = visible(&out);
                assert!(text.starts_with(&format!("{} {}\n", rule.id, rule.name)));
                for line in text.lines() {
                    if line.width() > columns {
                        assert!(
                            code.iter().any(|c| line == format!("    {c}")),
                            "{} at {columns} ({color}): {line:?} is {} wide",
                            rule.id,
                            line.width()
                        );
                    }
                    let is_code = code.iter().any(|c| line == format!("    {c}"));
                    if !is_code {
                        assert!(!line.starts_with('#'), "{}: {line}", rule.id);
                        assert!(!line.contains("**"), "{}: {line}", rule.id);
                        if color == "always" {
                            assert!(!line.contains('`'), "{}: {line}", rule.id);
                        }
                    }
                }
                for heading in ["What it checks", "Why it breaks", "How to fix", "Example"] {
                    assert!(text.contains(&format!("\n{heading}\n")), "{}", rule.id);
                }
            }
        }
    }
}

/// A pipe or a file gets the page at 80 columns, as `man` formats for one; colour off.
#[test]
fn a_pipe_gets_80_columns() {
    assert_eq!(
        explain("LD601", None, "auto"),
        explain("LD601", Some("80"), "never")
    );
}

/// A Markdown table's columns line up: every line of it is as wide as the others and its
/// column separators stand at the same places, within the width.
#[test]
fn a_table_is_aligned() {
    for columns in [60usize, 80, 120, 200] {
        for color in ["never", "always"] {
            let text = visible(&explain("LD601", Some(&columns.to_string()), color));
            let table: Vec<&str> = text
                .lines()
                .filter(|l| l.trim_start().starts_with(['┌', '│', '╞', '└']))
                .collect();
            assert!(table.len() > 15, "{text}");
            let width = table[0].width();
            assert!(width <= columns);
            let seps = |l: &str| -> Vec<usize> {
                l.chars()
                    .enumerate()
                    .filter(|(_, c)| matches!(c, '┆' | '│' | '┬' | '╪' | '┴' | '┼'))
                    .map(|(i, _)| i)
                    .collect()
            };
            let first = seps(table[1]);
            assert_eq!(first.len(), 4, "{}", table[1]);
            for line in &table {
                assert_eq!(line.width(), width, "{line}");
                if line.contains('│') {
                    assert_eq!(seps(line), first, "{line}");
                }
            }
            assert!(table.iter().any(|l| l.contains("expired-token")));
            assert!(!table.iter().any(|l| l.contains('`')));
        }
    }
}

/// The list of rules fits the terminal too: each summary wraps under itself; in a pipe each
/// rule stays on one line (for grep).
#[test]
fn the_list_fits_the_width() {
    let mut cmd = doctor();
    let out = cmd.env("COLUMNS", "80").arg("explain").output().unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.lines().all(|l| l.width() <= 80), "{text}");
    let starts: Vec<&str> = text.lines().filter(|l| l.starts_with("LD")).collect();
    assert_eq!(starts.len(), RULES.len());
    assert!(
        text.lines()
            .filter(|l| !l.starts_with("LD"))
            .all(|l| l.starts_with(&" ".repeat(45)))
    );
}

/// Two pages as a person sees them at 80 columns (a table; a list under a paragraph), so that
/// a change of the layout is seen in review.
#[test]
fn pages_at_80_columns() {
    for id in ["LD601", "LD007"] {
        insta::assert_snapshot!(format!("explain-{id}-80"), explain(id, Some("80"), "never"));
    }
}
