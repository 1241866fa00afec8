//! The human report of every bundled example (`fixtures/<case>`, checked offline at its
//! project root) at 80 and 120 columns, without and with colour, as insta snapshots
//! (`tests/snapshots/`): a layout change is seen in review. `cargo insta review` (or
//! `INSTA_UPDATE=always cargo test --test main -- human_snapshots`) takes a deliberate change.
//!
//! Stable across runs and machines: the run's temp folder is written `<case>`, the home folder
//! is `~` (HOME is the case's), and times from now are masked (`<duration>`).

use crate::rule_cases::durations_masked;
use crate::support::{Case, fixtures_dir};

fn examples() -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(fixtures_dir())
        .expect("fixtures")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.join("project").is_dir())
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn every_example_at_80_and_120_columns_with_and_without_colour() {
    let examples = examples();
    // A glob that matches nothing must fail.
    assert!(examples.len() >= 10, "fixtures missing: {examples:?}");
    for name in &examples {
        let case = Case::new(name);
        for columns in ["80", "120"] {
            for color in ["never", "always"] {
                let out = case
                    .cmd("")
                    .env("COLUMNS", columns)
                    // The local clock's offset matters to one LD502 case: every machine UTC.
                    .env("TZ", "UTC")
                    .args(["check", "--offline", "--color", color])
                    .output()
                    .expect("run");
                let dir = case.dir.path().display().to_string();
                let text = format!(
                    "exit {}\n{}{}",
                    out.status.code().unwrap_or(-1),
                    String::from_utf8_lossy(&out.stdout),
                    String::from_utf8_lossy(&out.stderr)
                )
                .replace(&dir, "<case>");
                insta::assert_snapshot!(
                    format!("{name}-{columns}-{color}"),
                    durations_masked(&text)
                );
            }
        }
    }
}

/// Times far away read as a person says them (`in 72 years`, not `in 26332d 4h`): the
/// examples' sessions run until 2099.
#[test]
fn far_off_times_read_naturally() {
    let case = Case::new("iam-mfa-healthy");
    let out = case
        .cmd("")
        .env("COLUMNS", "200")
        .args(["check", "--offline", "--color", "never"])
        .output()
        .expect("run");
    let text = String::from_utf8_lossy(&out.stdout);
    let years = text
        .split(" years")
        .next()
        .and_then(|before| before.rsplit(' ').next())
        .and_then(|n| n.parse::<u32>().ok());
    assert!(years.is_some_and(|n| n > 60), "{text}");
    assert!(!text.contains("d 0h") && !text.contains("h 0m"), "{text}");
}
