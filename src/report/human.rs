//! `--format human`: rustc/cargo-style findings, then the profiles table and a summary.

use super::{Report, place};
use crate::diagnostic::{Diagnostic, Label, Severity};
use crate::model::live::LiveOutcome;
use crate::source::Sources;
use std::fmt::Write;

#[derive(Debug, Clone)]
pub struct Style {
    pub color: bool,
    pub verbose: bool,
    pub quiet: bool,
    /// The terminal's columns: tables wrap their cells to fit (None: a pipe or a file, no limit).
    pub width: Option<u16>,
    /// Where the user stands: file paths are shown so that they open from there.
    pub here: Here,
}

/// The current folder as the report sees it (INTERFACE.md: the human report shows every file
/// relative to the current folder, or `~/…`). Project files are known relative to the root,
/// the rest (AWS files) already as they open from here.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Here {
    /// The project's root as the reader was given it: the files below it are project files.
    pub root: std::path::PathBuf,
    pub at: Where,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Where {
    /// At the project root (or not known): project paths as they are.
    #[default]
    Root,
    /// Inside the project: the current folder's components below the root.
    Inside(Vec<String>),
    /// Outside it: the root as reached from the current folder (`../p`, `~/p` or absolute).
    Outside(String),
}

impl Here {
    /// A file as it opens from here.
    pub fn file(&self, file: &crate::source::SourceFile) -> String {
        if !self.root.as_os_str().is_empty() && file.path.starts_with(&self.root) {
            self.path(&file.display)
        } else {
            file.display.clone()
        }
    }

    /// A project file (as the report names it: relative to the root), from here.
    pub fn path(&self, shown: &str) -> String {
        if shown.starts_with("~/") || shown.starts_with('/') {
            return shown.to_string();
        }
        match &self.at {
            Where::Root => shown.to_string(),
            Where::Outside(root) => format!("{}/{shown}", root.trim_end_matches('/')),
            Where::Inside(parts) => {
                let mut file: Vec<&str> = shown.split('/').collect();
                let name = file.pop().unwrap_or_default();
                let common = parts
                    .iter()
                    .zip(&file)
                    .take_while(|(a, b)| a.as_str() == **b)
                    .count();
                let mut out: Vec<&str> = vec![".."; parts.len() - common];
                out.extend(&file[common..]);
                out.push(name);
                out.join("/")
            }
        }
    }
}

struct Paint(bool);

impl Paint {
    fn wrap(&self, code: &str, text: &str) -> String {
        if self.0 {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_string()
        }
    }
    fn severity(&self, s: Severity, text: &str) -> String {
        let code = match s {
            Severity::Error => "1;31",
            Severity::Warning => "1;33",
            Severity::Info => "1;36",
        };
        self.wrap(code, text)
    }
    fn blue(&self, text: &str) -> String {
        self.wrap("1;34", text)
    }
    fn bold(&self, text: &str) -> String {
        self.wrap("1", text)
    }
}

pub fn render(report: &Report, style: Style) -> String {
    let paint = Paint(style.color);
    let mut out = String::new();
    let sources = &report.model.sources;
    if report.model.project.is_some() && !style.quiet {
        let l = &report.model.leverage;
        let version = l
            .version
            .as_deref()
            .map(|v| format!(" {v}"))
            .unwrap_or_default();
        let _ = writeln!(
            out,
            "{}",
            paint.bold(&format!(
                "Leverage CLI{version}: {} ({}{})\n",
                l.generation.label(),
                if l.source.starts_with("assumed") {
                    ""
                } else {
                    "from "
                },
                crate::secrets::escape_controls(&l.source, false)
            ))
        );
    }
    let shown: Vec<&Diagnostic> = report
        .diagnostics
        .iter()
        .filter(|d| !(style.quiet && d.severity < report.fail_on))
        .collect();
    // With more than one layer in scope, findings are grouped by the layer they point into;
    // project-wide ones (project files, the AWS folder) come first.
    let layers: Vec<&str> = report
        .model
        .project
        .as_ref()
        .map(|p| p.layers_in_scope().map(|l| l.path.as_str()).collect())
        .unwrap_or_default();
    // The innermost layer holding the file: its folders looked up from the deepest (one map,
    // not a scan of every layer per finding: a project has thousands).
    let index: std::collections::HashMap<&str, usize> = layers
        .iter()
        .enumerate()
        .map(|(i, l)| (*l, i + 1))
        .collect();
    let group_of = |d: &Diagnostic| -> usize {
        let Some(label) = d.primary.as_ref() else {
            return 0;
        };
        let file = sources.get(label.span.file).display.as_str();
        file.rmatch_indices('/')
            .find_map(|(at, _)| index.get(&file[..at]).copied())
            .unwrap_or(0)
    };
    if layers.len() > 1 {
        let mut groups: Vec<(Option<&str>, Vec<&Diagnostic>)> = vec![(None, Vec::new())];
        groups.extend(layers.iter().map(|l| (Some(*l), Vec::new())));
        for d in shown {
            groups[group_of(d)].1.push(d);
        }
        for (layer, diags) in groups {
            if diags.is_empty() {
                continue;
            }
            let title = layer.map_or("project and AWS files".to_string(), |l| {
                format!("layer {l}")
            });
            let _ = writeln!(out, "{}\n", paint.bold(&format!("── {title} ──")));
            for d in diags {
                diagnostic(&mut out, sources, d, &paint, &style);
            }
        }
    } else {
        for d in shown {
            diagnostic(&mut out, sources, d, &paint, &style);
        }
    }
    if !style.quiet {
        profiles_table(&mut out, report, style);
        credentials_lines(&mut out, report);
    }
    summary(&mut out, report, &paint);
    out
}

/// Places of one kind ("also used here") shown before the rest is counted; `-v` shows all.
const RELATED_SHOWN: usize = 3;

fn diagnostic(out: &mut String, sources: &Sources, d: &Diagnostic, paint: &Paint, style: &Style) {
    let (verbose, here) = (style.verbose, &style.here);
    let head = paint.severity(d.severity, &format!("{}[{}]", d.severity.as_str(), d.rule));
    let _ = writeln!(out, "{head}{} {}", paint.bold(":"), paint.bold(&d.message));
    let width = std::iter::once(d.primary.as_ref())
        .flatten()
        .chain(d.related.iter())
        .filter_map(|l| sources.start_of(&l.span))
        .map(|(line, _)| line.to_string().len())
        .max()
        .unwrap_or(1);
    let pad = " ".repeat(width);
    match &d.primary {
        Some(label) => snippet(
            out, sources, label, "-->", '^', d.severity, &pad, paint, here,
        ),
        None => {
            let _ = writeln!(out, "{pad}{} environment", paint.blue("-->"));
        }
    }
    // A profile a hundred layers name would bury the report under its places: a few of each
    // kind, then how many more, where they would have been (JSON and SARIF keep them all).
    let total = |message: &str| d.related.iter().filter(|l| l.message == message).count();
    let mut seen: Vec<(&str, usize)> = Vec::new();
    for label in &d.related {
        let n = match seen.iter_mut().find(|(m, _)| *m == label.message) {
            Some((_, n)) => {
                *n += 1;
                *n
            }
            None => {
                seen.push((&label.message, 1));
                1
            }
        };
        if verbose || n <= RELATED_SHOWN {
            snippet(
                out,
                sources,
                label,
                "-->",
                '-',
                Severity::Info,
                &pad,
                paint,
                here,
            );
        } else if n == RELATED_SHOWN + 1 {
            let more = total(&label.message) - RELATED_SHOWN;
            let what = if label.message.is_empty() {
                "places"
            } else {
                &label.message
            };
            let _ = writeln!(
                out,
                "{pad} {} {more} more ({what}; -v lists them)",
                paint.blue("=")
            );
        }
    }
    if let Some(help) = &d.help {
        let _ = writeln!(
            out,
            "{pad} {} {}",
            paint.blue("="),
            indent_rest(&format!("{} {help}", paint.bold("help:")), &pad, 6)
        );
    }
    if let Some(fix) = &d.fix {
        let _ = writeln!(
            out,
            "{pad} {} {}",
            paint.blue("="),
            indent_rest(&format!("{} {fix}", paint.bold("fix:")), &pad, 5)
        );
    }
    out.push('\n');
}

/// Continuation lines of a multi-line help or fix line up under its first line.
fn indent_rest(text: &str, pad: &str, extra: usize) -> String {
    let indent = format!("\n{pad}   {}", " ".repeat(extra));
    text.lines().collect::<Vec<_>>().join(&indent)
}

#[allow(clippy::too_many_arguments)]
fn snippet(
    out: &mut String,
    sources: &Sources,
    label: &Label,
    arrow: &str,
    mark: char,
    sev: Severity,
    pad: &str,
    paint: &Paint,
    here: &Here,
) {
    let mut p = place(sources, &label.span);
    p.file = here.file(sources.get(label.span.file));
    let file = sources.get(label.span.file);
    let (Some(line), Some(col), Some(range), true) =
        (p.line, p.column, label.span.range.as_ref(), file.showable)
    else {
        let _ = writeln!(out, "{pad}{} {}", paint.blue(arrow), p.file);
        if !label.message.is_empty() {
            let _ = writeln!(out, "{pad} {} {}", paint.blue("="), label.message);
        }
        return;
    };
    let _ = writeln!(out, "{pad}{} {}:{line}:{col}", paint.blue(arrow), p.file);
    let text = file.masked_line(line);
    let _ = writeln!(out, "{pad} {}", paint.blue("|"));
    let _ = writeln!(
        out,
        "{} {} {text}",
        paint.blue(&format!("{line:>w$}", w = pad.len())),
        paint.blue("|")
    );
    let line_range = file.line_range(line);
    let end = range.end.min(line_range.end).max(range.start);
    let width = file
        .text
        .get(range.start..end)
        .map(|s| s.chars().count())
        .unwrap_or(1)
        .max(1);
    let marks: String = std::iter::repeat_n(mark, width).collect();
    let marker = format!("{}{marks} {}", " ".repeat(col - 1), label.message);
    let colored = if mark == '^' {
        paint.severity(sev, &marker)
    } else {
        paint.blue(&marker)
    };
    let _ = writeln!(out, "{pad} {} {colored}", paint.blue("|"));
}

fn profiles_table(out: &mut String, report: &Report, style: Style) {
    if report.profiles.is_empty() {
        return;
    }
    use comfy_table::{Table, presets::UTF8_FULL_CONDENSED};
    let header = [
        "profile",
        "kind",
        "account",
        "referenced at",
        "expires",
        "status",
    ];
    let mut rows: Vec<[String; 6]> = Vec::new();
    for row in &report.profiles {
        let mut refs: Vec<String> = row
            .referenced_by
            .iter()
            .map(|p| match p.line {
                Some(l) => format!("{}:{l}", style.here.path(&p.file)),
                None => style.here.path(&p.file),
            })
            .collect();
        if !style.verbose && refs.len() > 2 {
            let more = refs.len() - 2;
            refs.truncate(2);
            refs.push(format!("(+{more} more)"));
        }
        let status = match &row.live {
            Some(l) => match &l.outcome {
                LiveOutcome::Ok { account, arn } => {
                    // `arn:aws:sts::<acct>:assumed-role/Role/session` → `assumed-role/Role`.
                    let who = arn.splitn(6, ':').nth(5).unwrap_or(arn);
                    let who = if style.verbose {
                        arn.as_str()
                    } else if who.starts_with("assumed-role/") {
                        who.rsplit_once('/').map(|(r, _)| r).unwrap_or(who)
                    } else {
                        who
                    };
                    format!("ok {account} {who} ({} ms)", l.millis)
                }
                LiveOutcome::Failed { .. } => format!("FAILED ({} ms)", l.millis),
                LiveOutcome::Skipped(why) => format!("skipped: {why}"),
            },
            None => match row.worst {
                Some(s) => s.as_str().to_string(),
                None => "ok (offline)".into(),
            },
        };
        rows.push([
            row.name.clone(),
            row.kind.to_string(),
            row.account_expected.clone().unwrap_or_else(|| "-".into()),
            refs.join("\n"),
            row.expires_at
                .map(|t| {
                    let left = t - report.model.now;
                    if left <= chrono::Duration::zero() {
                        "expired".to_string()
                    } else {
                        format!("in {}", crate::time::human_duration(left))
                    }
                })
                .unwrap_or_else(|| "-".into()),
            status,
        ]);
    }
    // A column that says nothing (no profile has a session to expire) is left out.
    let keep: Vec<usize> = (0..header.len())
        .filter(|&i| i != 4 || rows.iter().any(|r| r[i] != "-"))
        .collect();
    // Laid out at its natural width (comfy-table's default), then measured against the terminal.
    let mut table = Table::new();
    table.load_preset(UTF8_FULL_CONDENSED);
    table.set_header(keep.iter().map(|&i| header[i]));
    for row in &rows {
        table.add_row(keep.iter().map(|&i| row[i].as_str()));
    }
    let text = table.to_string();
    let too_wide = style
        .width
        .is_some_and(|w| text.lines().any(|l| l.chars().count() > usize::from(w)));
    if !too_wide {
        let _ = writeln!(out, "{text}\n");
        return;
    }
    // Narrower than the table: one line a profile (its columns aligned), its places under it,
    // so that nothing is cut inside a name or a path.
    let columns: Vec<usize> = keep.iter().copied().filter(|&i| i != 3).collect();
    let widths: Vec<usize> = columns
        .iter()
        .map(|&i| {
            rows.iter()
                .map(|r| r[i].chars().count())
                .chain([header[i].len()])
                .max()
                .unwrap_or(0)
        })
        .collect();
    let line = |cells: Vec<&str>| -> String {
        let mut l = String::new();
        for (cell, w) in cells.iter().zip(&widths) {
            let _ = write!(l, "{cell:<w$}  ");
        }
        l.trim_end().to_string()
    };
    let _ = writeln!(
        out,
        "{}",
        line(columns.iter().map(|&i| header[i]).collect())
    );
    for row in &rows {
        let _ = writeln!(
            out,
            "{}",
            line(columns.iter().map(|&i| row[i].as_str()).collect())
        );
        for place in row[3].lines() {
            let _ = writeln!(out, "    {place}");
        }
    }
    out.push('\n');
}

/// The layers' other credentials (LD7xx), one line each under the profiles: provider, what,
/// where it comes from, its status, and where it is configured.
fn credentials_lines(out: &mut String, report: &Report) {
    if report.credentials.is_empty() {
        return;
    }
    let _ = writeln!(out, "other credentials:");
    for c in &report.credentials {
        let provider = match &c.alias {
            Some(alias) => format!("{}.{alias}", c.provider),
            None => c.provider.to_string(),
        };
        let at = match c.place.line {
            Some(line) => format!("{}:{line}", c.place.file),
            None => c.place.file.clone(),
        };
        let from = match c.source.as_str() {
            "none" => "found nowhere".to_string(),
            source => format!("from {source}"),
        };
        let live = c
            .live_summary(report.model.now)
            .map(|l| format!(", {l}"))
            .unwrap_or_default();
        let _ = writeln!(
            out,
            "  {provider} {}: {}, {from}{live}  {at}",
            c.credential, c.status
        );
    }
    out.push('\n');
}

fn summary(out: &mut String, report: &Report, paint: &Paint) {
    let errors = report.count(Severity::Error);
    let warnings = report.count(Severity::Warning);
    let infos = report.count(Severity::Info);
    let what = match (&report.name, report.mode, report.model.project.as_ref()) {
        (Some(name), Some(mode), Some(p)) => match p.scope.kind {
            crate::model::project::ScopeKind::Project => {
                format!("project `{name}` ({}), every layer", mode.as_str())
            }
            kind => format!(
                "project `{name}` ({}), {} `{}`",
                mode.as_str(),
                kind.as_str(),
                p.scope.path
            ),
        },
        _ => "no project".into(),
    };
    use crate::time::count_of;
    let counts = format!(
        "{}, {}, {infos} info; {} checked",
        count_of(errors, "error", "errors"),
        count_of(warnings, "warning", "warnings"),
        count_of(report.profiles.len(), "profile", "profiles"),
    );
    let verdict = if report.failed() {
        paint.severity(Severity::Error, "failed")
    } else {
        paint.wrap("1;32", "ok")
    };
    let _ = writeln!(out, "{verdict}: {what}: {counts}");
    if let Some(next) = next_step(report) {
        let _ = writeln!(out, "{} {next}", paint.bold("next:"));
    }
}

/// The most useful next command: apply what `check --fix` can, else the first error's own
/// command, else the first error's page.
fn next_step(report: &Report) -> Option<String> {
    use crate::diagnostic::Applicability;
    let edits = || report.diagnostics.iter().filter_map(|d| d.edit.as_ref());
    if edits().any(|e| e.applicability == Applicability::Safe) {
        return Some(
            "leverage-doctor check --fix   (applies the safe fixes, shows them first)".into(),
        );
    }
    if edits().next().is_some() {
        return Some(
            "leverage-doctor check --fix --unsafe-fixes --diff   (shows the fixes that change what readers do)"
                .into(),
        );
    }
    let first = report
        .diagnostics
        .iter()
        .find(|d| d.severity == Severity::Error)?;
    Some(match first.fix_command() {
        Some(command) => command.to_string(),
        None => format!("leverage-doctor explain {}", first.rule),
    })
}

#[cfg(test)]
mod tests {
    use super::{Here, Where};

    fn at(at: Where) -> Here {
        Here {
            root: "/p".into(),
            at,
        }
    }

    #[test]
    fn paths_open_from_where_the_user_stands() {
        let layer = at(Where::Inside(vec![
            "shared".into(),
            "us-east-1".into(),
            "base-network".into(),
        ]));
        assert_eq!(
            layer.path("shared/us-east-1/base-network/config.tf"),
            "config.tf"
        );
        assert_eq!(
            layer.path("shared/config/backend.tfvars"),
            "../../config/backend.tfvars"
        );
        assert_eq!(
            layer.path("config/common.tfvars"),
            "../../../config/common.tfvars"
        );
        assert_eq!(layer.path("~/.aws/bb/config"), "~/.aws/bb/config");
        assert_eq!(layer.path("/etc/x"), "/etc/x");
        assert_eq!(at(Where::Root).path("build.env"), "build.env");
        assert_eq!(
            at(Where::Outside("~/src/p".into())).path("build.env"),
            "~/src/p/build.env"
        );
        // a folder named like a file's folder further down is not a common part
        let other = at(Where::Inside(vec!["apps-prd".into()]));
        assert_eq!(
            other.path("shared/us-east-1/l/config.tf"),
            "../shared/us-east-1/l/config.tf"
        );
    }
}
