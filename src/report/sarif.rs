//! `--format sarif`: SARIF 2.1.0 from the typed model of `serde-sarif` (never hand-built JSON).
//! Rule descriptions and help come from the same `rules/` pages `explain` prints.

use super::{Report, place};
use crate::diagnostic::Severity;
use crate::rules::RULES;
use serde_sarif::sarif::{
    ArtifactChange, ArtifactContent, ArtifactLocation, Fix, Location, Message,
    MultiformatMessageString, PhysicalLocation, Region, Replacement, ReportingConfiguration,
    ReportingDescriptor, Result as SarifResult, ResultLevel, Run, Sarif, Tool, ToolComponent,
};

/// A fix's text edits as a SARIF `fix`: per edit, the region it replaces and the text it
/// puts there (the same misspelt name in several files: one change each).
fn fix_of(sources: &crate::source::Sources, d: &crate::diagnostic::Diagnostic) -> Option<Fix> {
    let changes: Vec<ArtifactChange> = d
        .edits()
        .filter_map(|edit| artifact_change(sources, edit))
        .collect();
    if changes.is_empty() {
        return None;
    }
    Some(
        Fix::builder()
            .description(
                Message::builder()
                    .text(d.fix.clone().unwrap_or_default())
                    .build(),
            )
            .artifact_changes(changes)
            .build(),
    )
}

fn artifact_change(
    sources: &crate::source::Sources,
    edit: &crate::diagnostic::Edit,
) -> Option<ArtifactChange> {
    let crate::diagnostic::EditChange::Replace(text) = &edit.change else {
        return None;
    };
    let range = edit.span.range.as_ref()?;
    let file = sources.get(edit.span.file);
    let (start_line, start_column) = file.line_col(range.start);
    let (end_line, end_column) = file.line_col(range.end);
    let p = place(sources, &edit.span);
    let artifact = location(&p.file, None, None, None)
        .physical_location?
        .artifact_location?;
    let region = Region::builder()
        .start_line(start_line as i64)
        .start_column(start_column as i64)
        .end_line(end_line as i64)
        .end_column(end_column as i64)
        .build();
    let replacement = Replacement::builder()
        .deleted_region(region)
        .inserted_content(ArtifactContent::builder().text(text.clone()).build())
        .build();
    Some(
        ArtifactChange::builder()
            .artifact_location(artifact)
            .replacements(vec![replacement])
            .build(),
    )
}

fn level(s: Severity) -> ResultLevel {
    match s {
        Severity::Error => ResultLevel::Error,
        Severity::Warning => ResultLevel::Warning,
        Severity::Info => ResultLevel::Note,
    }
}

fn location(
    file: &str,
    line: Option<usize>,
    column: Option<usize>,
    message: Option<&str>,
) -> Location {
    // Files in HOME (the AWS folder) are relative to %HOME%; the rest to the project root.
    let artifact = match file.strip_prefix("~/") {
        Some(rest) => ArtifactLocation::builder()
            .uri(rest.to_string())
            .uri_base_id("HOME".to_string())
            .build(),
        None => ArtifactLocation::builder()
            .uri(file.to_string())
            .uri_base_id("%SRCROOT%".to_string())
            .build(),
    };
    let physical = match line {
        Some(l) => {
            let region = Region::builder()
                .start_line(l as i64)
                .start_column(column.unwrap_or(1) as i64)
                .build();
            PhysicalLocation::builder()
                .artifact_location(artifact)
                .region(region)
                .build()
        }
        None => PhysicalLocation::builder()
            .artifact_location(artifact)
            .build(),
    };
    match message {
        Some(m) if !m.is_empty() => Location::builder()
            .physical_location(physical)
            .message(Message::builder().text(m.to_string()).build())
            .build(),
        _ => Location::builder().physical_location(physical).build(),
    }
}

pub fn render(report: &Report) -> String {
    let sources = &report.model.sources;
    let rules: Vec<ReportingDescriptor> = RULES
        .iter()
        .map(|r| {
            let config = ReportingConfiguration::builder()
                .level(serde_json::json!(level(r.severity)))
                .build();
            ReportingDescriptor::builder()
                .id(r.id.to_string())
                .name(r.name.to_string())
                .short_description(
                    MultiformatMessageString::builder()
                        .text(r.summary().to_string())
                        .build(),
                )
                .help(
                    MultiformatMessageString::builder()
                        .text(r.summary().to_string())
                        .markdown(r.doc.to_string())
                        .build(),
                )
                .default_configuration(config)
                .build()
        })
        .collect();
    let results: Vec<SarifResult> = report
        .diagnostics
        .iter()
        .map(|d| {
            let mut text = d.message.clone();
            if let Some(fix) = &d.fix {
                text.push_str(&format!("\nfix: {fix}"));
            }
            let rule_index = RULES.iter().position(|r| r.id == d.rule).unwrap_or(0) as i64;
            let locations: Vec<Location> = d
                .primary
                .iter()
                .map(|l| {
                    let p = place(sources, &l.span);
                    location(&p.file, p.line, p.column, None)
                })
                .collect();
            let related: Vec<Location> = d
                .related
                .iter()
                .map(|l| {
                    let p = place(sources, &l.span);
                    location(&p.file, p.line, p.column, Some(&l.message))
                })
                .collect();
            let mut result = SarifResult::builder()
                .rule_id(d.rule.to_string())
                .rule_index(rule_index)
                .level(level(d.severity))
                .message(Message::builder().text(text).build())
                .locations(locations)
                .build();
            if !related.is_empty() {
                result.related_locations = Some(related);
            }
            if let Some(fix) = fix_of(sources, d) {
                result.fixes = Some(vec![fix]);
            }
            result
        })
        .collect();
    let driver = ToolComponent::builder()
        .name("leverage-doctor".to_string())
        .version(env!("CARGO_PKG_VERSION").to_string())
        .semantic_version(env!("CARGO_PKG_VERSION").to_string())
        .rules(rules)
        .build();
    let run = Run::builder()
        .tool(Tool::builder().driver(driver).build())
        .results(results)
        .build();
    let sarif = Sarif::builder()
        .schema("https://json.schemastore.org/sarif-2.1.0.json".to_string())
        .version(serde_json::json!("2.1.0"))
        .runs(vec![run])
        .build();
    let mut out = serde_json::to_string_pretty(&sarif).unwrap_or_default();
    out.push('\n');
    out
}
