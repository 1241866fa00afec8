//! `check`: read the project and its AWS files, run every rule, report.

use super::{Exit, print, use_color};
use crate::cli::{CheckArgs, FailOn, Format, Global};
use crate::diagnostic::Severity;
use crate::read::live::LiveSettings;
use crate::read::{self, ReadSettings};
use crate::report::{Report, human, json};
use std::io::IsTerminal;
use std::time::Duration;

pub fn run(args: &CheckArgs, global: &Global) -> anyhow::Result<Exit> {
    let settings = ReadSettings {
        path: args.path.clone().unwrap_or_else(|| ".".into()),
        aws_dir: global.aws_dir.clone(),
        all: args.all,
    };
    let mut model = read::load(&settings)?;
    if !args.offline {
        let profiles: Vec<String> = crate::rules::Context::new(&model)
            .used
            .into_keys()
            .collect();
        let ci = std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "false");
        let live = LiveSettings {
            jobs: usize::from(args.jobs),
            timeout: Duration::from_secs(args.timeout),
            mfa_code: args.mfa_code.clone(),
            interactive: !ci && std::io::stdin().is_terminal(),
            progress: !ci && !global.quiet && std::io::stderr().is_terminal(),
        };
        model.live = read::live::probe_all(&model, &profiles, &live);
    }
    let diagnostics = crate::rules::run(&model);
    let fail_on = match args.fail_on {
        FailOn::Error => Severity::Error,
        FailOn::Warning => Severity::Warning,
        FailOn::Info => Severity::Info,
    };
    let report = Report::new(&model, diagnostics, fail_on);
    let text = match global.format {
        Format::Json => json::render(&report),
        Format::Human => human::render(
            &report,
            human::Style {
                color: use_color(global.color),
                verbose: global.verbose,
                quiet: global.quiet,
            },
        ),
    };
    print(&text)?;
    Ok(if report.failed() {
        Exit::Findings
    } else {
        Exit::Clean
    })
}
