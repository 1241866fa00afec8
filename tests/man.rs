//! `man`: one page per subcommand, each with its options and exit codes; the main page names
//! only pages that exist.

use crate::support::doctor;
use clap::CommandFactory;
use leverage_doctor::cli::Cli;

fn stdout(args: &[&str]) -> String {
    let out = doctor().args(args).output().unwrap();
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// `leverage\-doctor\-check(1)` and the like, as roff writes them.
fn page_refs(roff: &str) -> Vec<String> {
    let plain = roff
        .replace("\\fB", "")
        .replace("\\fR", "")
        .replace("\\-", "-");
    let mut refs: Vec<String> = plain
        .split(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '(' | ')')))
        .filter(|w| w.starts_with("leverage-doctor-") && w.ends_with("(1)"))
        .map(|w| w.trim_end_matches("(1)").to_string())
        .collect();
    refs.sort();
    refs.dedup();
    refs
}

/// Every page the main page names is generated, by `--out-dir` and by `man NAME`; the folder
/// holds nothing else; the main page on stdout is the one written.
#[test]
fn every_page_the_main_page_names_exists() {
    let main = stdout(&["man"]);
    let refs = page_refs(&main);
    let subs: Vec<String> = Cli::command()
        .get_subcommands()
        .filter(|s| !s.is_hide_set())
        .map(|s| format!("leverage-doctor-{}", s.get_name()))
        .collect();
    let mut expected = subs.clone();
    expected.sort();
    assert_eq!(
        refs, expected,
        "the main page names one page per subcommand"
    );
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("man1");
    stdout(&["man", "--out-dir", out.to_str().unwrap()]);
    let mut files: Vec<String> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    files.sort();
    let mut wanted: Vec<String> = refs.iter().map(|r| format!("{r}.1")).collect();
    wanted.push("leverage-doctor.1".into());
    wanted.sort();
    assert_eq!(files, wanted);
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(out.join("leverage-doctor.1"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o644, "pages are for everyone to read");
    assert_eq!(
        std::fs::read_to_string(out.join("leverage-doctor.1")).unwrap(),
        main
    );
    for r in &refs {
        let page = stdout(&["man", r.trim_start_matches("leverage-doctor-")]);
        assert_eq!(
            std::fs::read_to_string(out.join(format!("{r}.1"))).unwrap(),
            page
        );
        assert!(page.contains(&format!(".TH {r} 1")), "{r}");
        // Each names its way back.
        assert!(page_refs(&page).is_empty() && page.contains("\\fBleverage\\-doctor\\fR(1)"));
    }
    let bad = doctor().args(["man", "nope"]).output().unwrap();
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("no subcommand `nope`"));
}

/// Each subcommand's page lists every option it takes and an EXIT STATUS section with 0 and 2
/// (and 1 where the subcommand fails a run).
#[test]
fn each_page_lists_its_options_and_exit_codes() {
    for sub in Cli::command().get_subcommands() {
        let name = sub.get_name();
        let page = stdout(&["man", name]);
        for arg in sub.get_arguments().filter(|a| !a.is_hide_set()) {
            if let Some(long) = arg.get_long() {
                let flag = format!("\\-\\-{}", long.replace('-', "\\-"));
                assert!(page.contains(&flag), "{name}: --{long} is not on its page");
            }
        }
        let status = page
            .split(".SH \"EXIT STATUS\"")
            .nth(1)
            .unwrap_or_else(|| panic!("{name}: no EXIT STATUS"));
        let status = status.split(".SH").next().unwrap_or_default();
        let codes: Vec<&str> = ["0", "1", "2"]
            .into_iter()
            .filter(|c| status.contains(&format!("\\fB{c}\\fR")))
            .collect();
        let fails = matches!(
            name,
            "check"
                | "regen-config"
                | "sso-reset"
                | "sso-login"
                | "status"
                | "refresh"
                | "exec"
                | "credential-process"
        );
        assert_eq!(
            codes,
            if fails {
                vec!["0", "1", "2"]
            } else {
                vec!["0", "2"]
            },
            "{name}"
        );
    }
}
