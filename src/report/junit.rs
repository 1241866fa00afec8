//! `--format junit`: a test suite per layer (plus one for the project's own files), a test
//! case per checked profile and per rule that fired. Built with `quick-junit`.

use super::{Report, place};
use crate::diagnostic::{Diagnostic, Severity};
use quick_junit::{NonSuccessKind, Report as JUnit, TestCase, TestCaseStatus, TestSuite};
use std::collections::BTreeMap;

/// The layer a diagnostic belongs to: the longest layer path its file sits in.
fn layer_of<'a>(report: &'a Report, d: &Diagnostic) -> Option<&'a str> {
    let file = d
        .primary
        .as_ref()
        .map(|l| place(&report.model.sources, &l.span).file)?;
    report
        .model
        .project
        .as_ref()?
        .layers_in_scope()
        .map(|l| l.path.as_str())
        .filter(|p| file.starts_with(&format!("{p}/")))
        .max_by_key(|p| p.len())
}

pub fn render(report: &Report) -> String {
    let mut suites: BTreeMap<String, Vec<TestCase>> = BTreeMap::new();
    let project_suite = "project".to_string();
    suites.entry(project_suite.clone()).or_default();
    let layers: Vec<String> = report
        .model
        .project
        .as_ref()
        .map(|p| p.layers_in_scope().map(|l| l.path.clone()).collect())
        .unwrap_or_default();
    for l in &layers {
        suites.entry(l.clone()).or_default();
    }
    // Profiles: one case per profile in every layer that uses it.
    for row in &report.profiles {
        let failing: Vec<&Diagnostic> = report
            .diagnostics
            .iter()
            .filter(|d| d.profile.as_deref() == Some(&row.name) && d.severity >= report.fail_on)
            .collect();
        let mut homes: Vec<String> = layers
            .iter()
            .filter(|l| {
                row.referenced_by
                    .iter()
                    .any(|r| r.file.starts_with(&format!("{l}/")))
            })
            .cloned()
            .collect();
        if homes.is_empty() {
            homes.push(project_suite.clone());
        }
        for home in homes {
            let status = if failing.is_empty() {
                TestCaseStatus::success()
            } else {
                let mut s = TestCaseStatus::non_success(NonSuccessKind::Failure);
                s.set_message(
                    failing
                        .iter()
                        .map(|d| format!("{}: {}", d.rule, d.message))
                        .collect::<Vec<_>>()
                        .join("; "),
                );
                s
            };
            let mut case = TestCase::new(format!("profile {}", row.name), status);
            case.set_classname(home.clone());
            suites.entry(home).or_default().push(case);
        }
    }
    // Rules that fired: one case per (suite, rule).
    let mut fired: BTreeMap<(String, &str), Vec<&Diagnostic>> = BTreeMap::new();
    for d in &report.diagnostics {
        let suite = layer_of(report, d)
            .map(str::to_string)
            .unwrap_or_else(|| project_suite.clone());
        fired.entry((suite, d.rule)).or_default().push(d);
    }
    for ((suite, rule), diags) in fired {
        let worst = diags
            .iter()
            .map(|d| d.severity)
            .max()
            .unwrap_or(Severity::Info);
        let text = diags
            .iter()
            .map(|d| {
                let at = d
                    .primary
                    .as_ref()
                    .map(|l| {
                        let p = place(&report.model.sources, &l.span);
                        match p.line {
                            Some(line) => format!("{}:{line}: ", p.file),
                            None => format!("{}: ", p.file),
                        }
                    })
                    .unwrap_or_default();
                format!("{at}{}", d.message)
            })
            .collect::<Vec<_>>()
            .join("\n");
        let failed = worst >= report.fail_on;
        let status = if failed {
            let mut s = TestCaseStatus::non_success(NonSuccessKind::Failure);
            s.set_message(crate::time::count_of(diags.len(), "finding", "findings"));
            s.set_description(text.clone());
            s
        } else {
            TestCaseStatus::success()
        };
        let mut case = TestCase::new(format!("{rule} {}", diags[0].name), status);
        case.set_classname(suite.clone());
        if !failed {
            case.set_system_out(text);
        }
        suites.entry(suite).or_default().push(case);
    }
    let mut junit = JUnit::new("leverage-doctor");
    for (name, cases) in suites {
        let mut suite = TestSuite::new(name);
        suite.add_test_cases(cases);
        junit.add_test_suite(suite);
    }
    junit.to_string().unwrap_or_default()
}
