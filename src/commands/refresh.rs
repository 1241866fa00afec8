//! `refresh`: makes the scope ready to run (the work is `keep_alive::renew`'s, shared by `exec`
//! and `credential-process`).

use super::Exit;
use crate::cli::{Global, RefreshArgs};
use crate::keep_alive::renew::{Ready, ensure};
use crate::read::ReadSettings;
use std::time::Duration;

pub fn run(args: &RefreshArgs, global: &Global) -> anyhow::Result<Exit> {
    let settings = ReadSettings {
        all: args.all,
        ..super::read_settings(args.path.as_ref(), global)
    };
    let asker = CodeOrTerminal {
        code: args.mfa_code.clone(),
        terminal: super::Terminal::new(crate::read::interactive(), false),
    };
    let ready = ensure(
        &settings,
        args.min_remaining,
        Duration::from_secs(args.timeout),
        None,
        &asker,
    )?;
    let exit = exit_of(&ready);
    if exit == Exit::Clean {
        crate::say!(
            "ready: every session the scope needs lasts at least {}",
            crate::time::human_duration(crate::time::seconds(args.min_remaining))
        );
    }
    Ok(exit)
}

/// `--mfa-code`, else the terminal (never in CI or without one).
struct CodeOrTerminal {
    code: Option<String>,
    terminal: super::Terminal,
}

impl crate::read::live::Console for CodeOrTerminal {
    fn ask(&self, question: &str) -> Option<String> {
        self.code.clone().or_else(|| self.terminal.ask(question))
    }
    fn progress(&self, _done: usize, _total: usize) {}
}

/// Says what is short; exit 1 when anything is.
pub fn exit_of(ready: &Ready) -> Exit {
    ready.say_short();
    if ready.short.is_empty() {
        Exit::Clean
    } else {
        Exit::Findings
    }
}
