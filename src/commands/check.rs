//! `check`: read the project and its AWS files, run every rule, report.

use super::{Exit, print_coloured, print_commands, print_json, use_color};
use crate::cli::{CheckArgs, FailOn, Format, Global};
use crate::diagnostic::Severity;
use crate::read::live::LiveSettings;
use crate::read::{self, ReadSettings};
use crate::report::{Report, github, human, json, junit, sarif};
use std::io::IsTerminal;
use std::mem::ManuallyDrop;
use std::time::Duration;

pub fn run(args: &CheckArgs, global: &Global) -> anyhow::Result<Exit> {
    let settings = ReadSettings {
        all: args.all,
        config: args.config.clone(),
        programs: match (args.offline, args.trust_tf_binary) {
            (true, _) => read::Programs::None,
            (false, false) => read::Programs::OutsideProject,
            (false, true) => read::Programs::TrustProjectBinary,
        },
        ..super::read_settings(args.path.as_ref(), global)
    };
    // Never freed: the process ends with the check, and freeing a 10 000-layer model piece
    // by piece would only delay the exit that returns it all at once.
    let mut model = ManuallyDrop::new(read::load(&settings)?);
    model.after_regen = args.after_regen;
    // What each profile in scope is: once per run, for the live probe, the rules and the report.
    let analysis = ManuallyDrop::new(crate::analysis::Analysis::new(&model));
    if !args.offline {
        read::endpoints::require_valid_env()?;
        let ci = std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "false");
        let live = LiveSettings {
            jobs: usize::from(args.jobs),
            timeout: Duration::from_secs(args.timeout),
            mfa_code: args.mfa_code.clone(),
        };
        let console = super::Terminal::new(
            !ci && std::io::stdin().is_terminal(),
            !ci && !global.quiet && std::io::stderr().is_terminal(),
        );
        model.live = read::live::probe_all(&model, &analysis, &live, &console);
        let plans = crate::rules::token_plan(&crate::rules::Context::new(&model, &analysis));
        model.token_live = read::token_live::check_all(plans, live.timeout, model.now);
    }
    for (flag, ids) in [("--ignore", &args.ignore), ("--select", &args.select)] {
        for id in ids {
            if crate::rules::find(id).is_none() {
                anyhow::bail!("{flag} {id}: no such rule (`leverage-doctor explain` lists them)");
            }
        }
    }
    let found = crate::rules::run_only(&model, &analysis, &args.select);
    let diagnostics = crate::rules::apply_policy(&model, found, &args.ignore);
    if args.fix {
        return fix(args, global, &model, &diagnostics);
    }
    let fail_on = match args.fail_on {
        Some(FailOn::Error) => Severity::Error,
        Some(FailOn::Warning) => Severity::Warning,
        Some(FailOn::Info) => Severity::Info,
        None => model.config.fail_on.unwrap_or(Severity::Error),
    };
    let report = ManuallyDrop::new(Report::new(&model, &analysis, diagnostics, fail_on));
    let colour = use_color(global.color);
    let human = || {
        human::render(
            &report,
            human::Style {
                color: colour,
                verbose: global.verbose,
                quiet: global.quiet,
                width: super::terminal_width(),
                here: model
                    .project
                    .as_ref()
                    .map(|p| super::here(&p.root))
                    .unwrap_or_default(),
            },
        )
    };
    if global.format == Format::Json && args.output.is_none() {
        super::stream_json(|out| json::write(&report, out))?;
        return Ok(exit_for(&report));
    }
    let text = match global.format {
        Format::Json => json::render(&report),
        Format::Sarif => sarif::render(&report),
        Format::Github => github::render(&report),
        Format::Junit => junit::render(&report),
        Format::Human => human(),
    };
    match &args.output {
        Some(file) => {
            let mut aws_dirs: Vec<std::path::PathBuf> = model
                .aws
                .as_ref()
                .map(|a| a.dir.clone())
                .into_iter()
                .collect();
            aws_dirs.extend(read::home_dir().map(|h| h.join(".aws")));
            let saved = match global.format {
                Format::Github => {
                    crate::secrets::escape_controls(&crate::secrets::scrub(&text), true)
                }
                Format::Json | Format::Sarif => crate::secrets::for_json_output(&text),
                _ => crate::secrets::for_output(&text, false),
            };
            crate::write::write_report(file, &saved, &aws_dirs)?;
            print_coloured(&human(), colour)?;
        }
        None => match global.format {
            Format::Github => print_commands(&text)?,
            Format::Human => print_coloured(&text, colour)?,
            Format::Json | Format::Sarif => print_json(&text)?,
            Format::Junit => print_coloured(&text, false)?,
        },
    }
    Ok(exit_for(&report))
}

/// The exit of a check whose report says whether it failed.
fn exit_for(report: &Report) -> Exit {
    if report.failed() {
        Exit::Findings
    } else {
        Exit::Clean
    }
}

/// `check --fix`: the findings' edits to the project's AWS files, shown as a diff, confirmed,
/// written as regen-config writes (lock, re-read, backup, atomic); then the check again.
fn fix(
    args: &CheckArgs,
    global: &Global,
    model: &crate::model::Model,
    diagnostics: &[crate::diagnostic::Diagnostic],
) -> anyhow::Result<Exit> {
    let Some(aws) = model.aws.as_ref() else {
        anyhow::bail!("no project AWS folder to fix: see `leverage-doctor check`");
    };
    let plan = crate::fix::edits::plan(diagnostics, args.unsafe_fixes);
    // The project's AWS files, and the files of the checkout (a misspelt profile in a `.tf`
    // file or backend.tfvars): each edited where it is, never through a link, every other
    // byte kept; the AWS files are written 0600, the checkout's keep their mode, and both
    // lock the AWS folder.
    let mut change = crate::write::Change::in_place(&aws.dir, &aws.dir);
    let root = model.project.as_ref().map(|p| p.root.clone());
    let mut project_change = root
        .as_ref()
        .map(|root| crate::write::Change::in_place_keeping_modes(root, &aws.dir));
    let mut elsewhere = 0;
    for (file, edits) in &plan {
        let source = model.sources.get(*file);
        let target = if source.path.parent() == Some(aws.dir.as_path()) {
            &mut change
        } else {
            match (&mut project_change, &root) {
                (Some(c), Some(root)) if source.path.starts_with(root) => c,
                _ => {
                    elsewhere += edits.len();
                    continue;
                }
            }
        };
        let before = source.text.clone();
        let edits = edits.clone();
        let original = before.clone();
        target.edit(
            source.path.clone(),
            source.display.clone(),
            Some(before),
            // Under the lock, the same edits on the same text; a file changed since is left
            // alone (commit then says so).
            move |now: &str| {
                if now == original {
                    crate::fix::edits::apply(now, &edits).unwrap_or_else(|| now.to_string())
                } else {
                    now.to_string()
                }
            },
        );
    }
    // Permission bits of the project's AWS files (its caches included).
    let modes: Vec<(std::path::PathBuf, String, u32)> = crate::fix::edits::modes(diagnostics)
        .into_iter()
        .map(|(file, mode)| (model.sources.get(file), mode))
        .filter(|(source, _)| source.path.starts_with(&aws.dir))
        .map(|(source, mode)| (source.path.clone(), source.display.clone(), mode))
        .collect();
    let (_, unsafe_count) = crate::fix::edits::counts(diagnostics);
    if elsewhere > 0 {
        crate::say!(
            "{} outside the project and its AWS folder not applied: see their fix lines",
            crate::time::count_of(elsewhere, "fix", "fixes")
        );
    }
    if !args.unsafe_fixes && unsafe_count > 0 {
        crate::say!(
            "{} not applied (they change what readers do): add --unsafe-fixes to apply them too",
            crate::time::count_of(unsafe_count, "unsafe fix", "unsafe fixes")
        );
    }
    let project_change = project_change.filter(|c| !c.is_empty());
    if change.is_empty() && modes.is_empty() && project_change.is_none() {
        crate::say!("nothing to fix automatically");
        return Ok(Exit::Clean);
    }
    let colour = use_color(global.color);
    if let Some(c) = &project_change {
        print_coloured(&c.preview(colour), colour)?;
    }
    print_coloured(&change.preview(colour), colour)?;
    for (_, shown, mode) in &modes {
        crate::commands::print(&format!("chmod {mode:o} {shown}\n"))?;
    }
    if args.diff {
        crate::say!("--diff: nothing written");
        return Ok(Exit::Clean);
    }
    change.check()?;
    if let Some(c) = &project_change {
        c.check()?;
    }
    let write = crate::cli::WriteArgs {
        dry_run: false,
        yes: args.yes,
    };
    if !super::confirm(&write, "Apply these fixes?")? {
        crate::say!("nothing written");
        return Ok(Exit::Clean);
    }
    let mut done = Vec::new();
    if let Some(c) = &project_change {
        done.extend(c.commit(model.now, || {})?);
    }
    if !change.is_empty() {
        done.extend(change.commit(model.now, || {})?);
    }
    if !modes.is_empty() {
        let _lock = crate::write::FolderLock::acquire(&aws.dir)?;
        for (path, shown, mode) in &modes {
            crate::write::set_file_mode(path, *mode)?;
            crate::say!("chmod {mode:o} {shown}");
        }
    }
    for done in done {
        match done {
            crate::write::Done::Written { shown, backup } => crate::say!(
                "fixed {shown}{}",
                backup
                    .map(|b| format!(" (backup: {})", read::display_home(&b)))
                    .unwrap_or_default()
            ),
            crate::write::Done::AlreadyDone { shown } => {
                crate::say!("{shown} changed since it was read: not written; run --fix again")
            }
        }
    }
    crate::say!("checking again:");
    let again = CheckArgs {
        fix: false,
        unsafe_fixes: false,
        diff: false,
        yes: false,
        ..args.clone()
    };
    run(&again, global)
}
