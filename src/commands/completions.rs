//! `completions SHELL` and `man`: generated from the clap definitions, never kept by hand.

use super::{Exit, print};
use crate::cli::Cli;
use clap::CommandFactory;
use std::path::Path;

pub fn completions(shell: clap_complete::Shell) -> anyhow::Result<Exit> {
    let mut out = Vec::new();
    clap_complete::generate(shell, &mut Cli::command(), "leverage-doctor", &mut out);
    print(&String::from_utf8_lossy(&out))?;
    Ok(Exit::Clean)
}

/// `man`: the main page on stdout; `man SUBCOMMAND` that subcommand's page; `man --out-dir
/// DIR` every page into DIR (`leverage-doctor.1`, `leverage-doctor-check.1`, …).
pub fn man(command: Option<&str>, out_dir: Option<&Path>) -> anyhow::Result<Exit> {
    let pages = pages()?;
    if let Some(dir) = out_dir {
        crate::write::create_dir_all(dir)?;
        let home_aws: Vec<_> = crate::read::home_dir()
            .map(|h| h.join(".aws"))
            .into_iter()
            .collect();
        for page in &pages {
            let path = dir.join(&page.file);
            crate::write::write_report(&path, &page.roff, &home_aws)?;
            // Pages are for everyone to read (a report is the user's alone).
            crate::write::set_file_mode(&path, 0o644)?;
        }
        crate::say!(
            "{} man pages written to {} (e.g. `man -l {}`)",
            pages.len(),
            crate::read::fs::display_home(dir),
            crate::read::fs::display_home(&dir.join(&pages[0].file))
        );
        return Ok(Exit::Clean);
    }
    let name = command.map_or_else(
        || "leverage-doctor".to_string(),
        |c| format!("leverage-doctor-{c}"),
    );
    let page = pages.iter().find(|p| p.name == name).ok_or_else(|| {
        let known: Vec<&str> = pages[1..]
            .iter()
            .filter_map(|p| p.name.strip_prefix("leverage-doctor-"))
            .collect();
        anyhow::anyhow!(
            "no subcommand `{}`: man pages exist for {}",
            crate::secrets::escape_controls(command.unwrap_or_default(), false),
            known.join(", ")
        )
    })?;
    print(&page.roff)?;
    Ok(Exit::Clean)
}

/// One man page: `leverage-doctor-check`, its file name and its roff.
pub struct Page {
    pub name: String,
    pub file: String,
    pub roff: String,
}

/// The main page first, then one page per subcommand, in the order `--help` lists them.
pub fn pages() -> anyhow::Result<Vec<Page>> {
    // No `help` subcommand: its page would say nothing `--help` does not.
    let mut root = Cli::command().disable_help_subcommand(true);
    // Gives each subcommand its display name (`leverage-doctor-check`) and its usage line
    // (`leverage-doctor check`), as clap_mangen names the pages in the main page.
    root.build();
    let version = root.get_version().unwrap_or_default().to_string();
    let subs: Vec<clap::Command> = root
        .get_subcommands()
        .filter(|s| !s.is_hide_set())
        .cloned()
        .collect();
    let sub_pages: Vec<String> = subs
        .iter()
        .map(|s| format!("leverage-doctor-{}", s.get_name()))
        .collect();
    let mut pages = vec![page(root.clone(), None, &sub_pages, &version)?];
    for sub in subs {
        let name = sub.get_name().to_string();
        pages.push(page(
            sub,
            Some(&name),
            &["leverage-doctor".into()],
            &version,
        )?);
    }
    Ok(pages)
}

fn page(
    cmd: clap::Command,
    sub: Option<&str>,
    see_also: &[String],
    version: &str,
) -> anyhow::Result<Page> {
    let has_subcommands = cmd.get_subcommands().next().is_some();
    let man = clap_mangen::Man::new(cmd).source(format!("leverage-doctor {version}"));
    let file = man.get_filename();
    let name = file.trim_end_matches(".1").to_string();
    let mut out = Vec::new();
    man.render_title(&mut out)?;
    man.render_name_section(&mut out)?;
    man.render_synopsis_section(&mut out)?;
    man.render_description_section(&mut out)?;
    man.render_options_section(&mut out)?;
    if has_subcommands {
        man.render_subcommands_section(&mut out)?;
    }
    let mut roff = String::from_utf8_lossy(&out).into_owned();
    roff.push_str(".SH \"EXIT STATUS\"\n");
    for (code, meaning) in exit_status(sub) {
        roff.push_str(&format!(".TP\n\\fB{code}\\fR\n{}\n", text(meaning)));
    }
    roff.push_str(".SH \"SEE ALSO\"\n");
    let refs: Vec<String> = see_also
        .iter()
        .map(|p| format!("\\fB{}\\fR(1)", text(p)))
        .collect();
    roff.push_str(&refs.join(",\n"));
    roff.push('\n');
    let mut out = Vec::new();
    man.render_version_section(&mut out)?;
    roff.push_str(&String::from_utf8_lossy(&out));
    Ok(Page { name, file, roff })
}

/// What each exit code means for `sub` (None: the tool as a whole), as INTERFACE.md gives
/// them: 1 is "findings" for check, and what fails the run for the others.
fn exit_status(sub: Option<&str>) -> Vec<(u8, &'static str)> {
    const COULD_NOT_RUN: &str = "the doctor could not run: bad arguments, an unreadable path, no project, an internal error (one line on stderr; never a panic)";
    let (clean, failed): (&str, Option<&str>) = match sub {
        None | Some("check") => (
            "no finding at or above the failing severity (--fail-on; default: error)",
            Some("findings at or above the failing severity"),
        ),
        Some("regen-config") => (
            "the config was written (or needed no change, or the write was declined) and the check of it passes; with --check: the file is what regen-config would write",
            Some(
                "with --check: the file differs from what regen-config would write; otherwise the check of the written config found errors",
            ),
        ),
        Some("sso-reset") => (
            "the session was logged out and its files removed (or nothing was there, or the removal was declined)",
            Some("with --login: the sign-in afterwards did not complete"),
        ),
        Some("sso-login") => (
            "signed in: the token Leverage reads was written",
            Some("the sign-in did not complete (denied, expired or timed out)"),
        ),
        Some("status") => (
            "the sessions were listed; with --min-remaining: every session the scope needs has at least that long left",
            Some("with --min-remaining: a session the scope needs is missing or has less left"),
        ),
        Some("refresh") => (
            "every session the scope needs lasts at least --min-remaining (renewed where needed)",
            Some(
                "a sign-in is needed (`leverage aws sso login` or `leverage-doctor sso-login`), a role was refused or has no SSO profile, or a session still has less than --min-remaining left",
            ),
        ),
        Some("exec") => (
            "COMMAND ran and succeeded; otherwise COMMAND's own exit code (128 + N when signal N killed it, 127 when not found, 126 when it could not start)",
            Some("the sessions cannot cover --min-remaining: COMMAND was not started"),
        ),
        Some("env") => ("the exports were printed", None),
        Some("credential-process") => (
            "the credential_process JSON was printed",
            Some("no credentials could be printed (any reason, said on stderr; nothing on stdout)"),
        ),
        Some("explain") => ("the page (or the list) was printed", None),
        Some("completions") => ("the script was printed", None),
        Some("man") => ("the page was printed or the pages written", None),
        Some(_) => ("success", None),
    };
    let mut codes = vec![(0, clean)];
    codes.extend(failed.map(|f| (1, f)));
    codes.push((2, COULD_NOT_RUN));
    codes
}

/// Text for a roff line: backslashes and hyphens escaped, no line starting a request.
fn text(s: &str) -> String {
    let escaped = s.replace('\\', "\\\\").replace('-', "\\-");
    if escaped.starts_with(['.', '\'']) {
        format!("\\&{escaped}")
    } else {
        escaped
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_subcommand_has_its_exit_codes() {
        use clap::CommandFactory;
        for sub in crate::cli::Cli::command().get_subcommands() {
            let codes = super::exit_status(Some(sub.get_name()));
            assert_ne!(codes[0].1, "success", "{}", sub.get_name());
            assert_eq!(codes.last().map(|c| c.0), Some(2));
        }
    }
}
