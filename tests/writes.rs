//! Writes are serialized by a lock, and a writer killed at the worst moment leaves the old file
//! or the new one — never a mix — and the backup intact.

use crate::support::{Case, check_json};
use std::io::{BufRead, BufReader};
use std::time::{Duration, Instant};

/// iam-mfa-healthy plus an account, so that `regen-config --iam` has something to write.
pub fn case_with_change() -> Case {
    let case = Case::new("iam-mfa-healthy");
    let common = case.project().join("config/common.tfvars");
    let text = std::fs::read_to_string(&common).unwrap().replace(
        "accounts = {",
        "accounts = {\n  apps-prd = { email = \"a@example.com\", id = \"666666666666\" }",
    );
    std::fs::write(common, text).unwrap();
    case
}

pub fn regen(case: &Case, pause_ms: Option<u64>) -> std::process::Child {
    let mut cmd = std::process::Command::new(assert_cmd::cargo::cargo_bin("leverage-doctor"));
    cmd.env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", case.home())
        .env("CI", "true")
        .current_dir(case.project())
        .args(["regen-config", "--iam", "--yes"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped());
    if let Some(ms) = pause_ms {
        cmd.env("LEVERAGE_DOCTOR_TEST_PAUSE_BEFORE_RENAME", ms.to_string());
    }
    cmd.spawn().unwrap()
}

pub fn wait_for(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn a_second_writer_waits_for_the_lock() {
    let case = case_with_change();
    let before = std::fs::read_to_string(case.aws().join("config")).unwrap();
    let lock = leverage_doctor::write::FolderLock::acquire(&case.aws()).unwrap();
    let mut child = regen(&case, None);
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let mut said = Vec::new();
    while !said
        .iter()
        .any(|l: &String| l.contains("waiting for another leverage-doctor"))
    {
        said.push(
            rx.recv_timeout(Duration::from_secs(30))
                .expect("the second writer says it waits"),
        );
    }
    assert_eq!(
        std::fs::read_to_string(case.aws().join("config")).unwrap(),
        before,
        "nothing written while locked"
    );
    drop(lock);
    let status = child.wait().unwrap();
    assert!(status.success());
    assert!(
        std::fs::read_to_string(case.aws().join("config"))
            .unwrap()
            .contains("[profile bb-apps-prd-devops]")
    );
}

#[test]
fn killing_the_writer_before_the_rename_leaves_the_old_file_and_the_backup() {
    let case = case_with_change();
    let config = case.aws().join("config");
    let before = std::fs::read(&config).unwrap();
    let mut child = regen(&case, Some(20_000));
    let tmp_exists = || {
        std::fs::read_dir(case.aws())
            .unwrap()
            .flatten()
            .any(|e| e.file_name().to_string_lossy().ends_with(".tmp"))
    };
    wait_for("the temporary file", tmp_exists);
    child.kill().unwrap();
    child.wait().unwrap();
    assert_eq!(
        std::fs::read(&config).unwrap(),
        before,
        "the old file, whole"
    );
    let backup = std::fs::read_dir(case.aws())
        .unwrap()
        .flatten()
        .find(|e| e.file_name().to_string_lossy().starts_with("config.bak-"))
        .expect("backup written before the new file");
    assert_eq!(std::fs::read(backup.path()).unwrap(), before);
    // The next run finishes the job, and clears the killed run's temporary file.
    let status = regen(&case, None).wait().unwrap();
    assert!(status.success());
    assert!(!tmp_exists(), "stale temporary files are cleaned up");
    assert!(
        std::fs::read_to_string(&config)
            .unwrap()
            .contains("[profile bb-apps-prd-devops]")
    );
}

/// `check --fix`: the safe edits (a `[profile x]` header in the credentials file) after a diff,
/// the unsafe ones (a config section without its `profile ` prefix) only with
/// `--unsafe-fixes`; `--diff` writes nothing; every other byte is kept; the findings are gone.
#[test]
fn check_fix_applies_safe_edits_and_unsafe_ones_only_when_asked() {
    let case = Case::new("broken-iam");
    let credentials = case.aws().join("credentials");
    let config = case.aws().join("config");
    let (creds_before, config_before) = (
        std::fs::read_to_string(&credentials).unwrap(),
        std::fs::read_to_string(&config).unwrap(),
    );
    let run = |extra: &[&str]| {
        let out = case
            .cmd("")
            .env("CI", "true")
            .args(["check", "--offline", "--fix"])
            .args(extra)
            .output()
            .unwrap();
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    };
    // The edit is in the JSON report too, with its applicability.
    let (_, r) = check_json(case.cmd("").args(["check", "--offline"]));
    let edits: Vec<(String, String)> = crate::support::diags(&r, "LD204")
        .iter()
        .filter_map(|d| {
            let e = &d["fix"]["edits"][0];
            Some((
                d["fix"]["applicability"].as_str()?.to_string(),
                e["replacement"].as_str()?.to_string(),
            ))
        })
        .collect();
    assert!(
        edits.contains(&("safe".into(), "[bb-extra]".into())),
        "{edits:?}"
    );
    assert!(
        edits.contains(&("unsafe".into(), "[profile bb-orphan]".into())),
        "{edits:?}"
    );
    let shown = run(&["--diff"]);
    assert!(shown.contains("+[bb-extra]"), "{shown}");
    assert!(shown.contains("chmod 600 "), "{shown}");
    assert!(shown.contains("nothing written"), "{shown}");
    assert_eq!(std::fs::read_to_string(&credentials).unwrap(), creds_before);
    // No terminal, no --yes: nothing written.
    let refused = run(&[]);
    assert!(refused.contains("--yes"), "{refused}");
    assert_eq!(std::fs::read_to_string(&credentials).unwrap(), creds_before);
    let safe = run(&["--yes"]);
    assert!(
        safe.contains("unsafe fixes not applied") || safe.contains("unsafe fix not applied"),
        "{safe}"
    );
    let creds_after = std::fs::read_to_string(&credentials).unwrap();
    assert_eq!(
        creds_after,
        creds_before.replace("[profile bb-extra]", "[bb-extra]")
    );
    assert_eq!(std::fs::read_to_string(&config).unwrap(), config_before);
    let (_, r) = check_json(case.cmd("").args(["check", "--offline"]));
    assert!(
        crate::support::diags(&r, "LD204")
            .iter()
            .all(|d| !d["message"].as_str().unwrap().contains("credentials file")),
        "{r:#}"
    );
    // File modes are safe edits too: the cache and the credentials are 0600 now.
    assert!(
        crate::support::diags(&r, "LD208")
            .iter()
            .all(|d| !d["message"].as_str().unwrap().contains("readable by")),
        "{r:#}"
    );
    use std::os::unix::fs::PermissionsExt;
    let cache = case.aws().join("cache/bb-shared-devops");
    assert_eq!(
        std::fs::metadata(&cache).unwrap().permissions().mode() & 0o777,
        0o600
    );
    run(&["--unsafe-fixes", "--yes"]);
    assert_eq!(
        std::fs::read_to_string(&config).unwrap(),
        // …and a misspelt source_profile with one obvious match (LD304).
        config_before
            .replace("[bb-orphan]", "[profile bb-orphan]")
            .replace(
                "source_profile = bb-securty",
                "source_profile = bb-security"
            )
    );
}

/// `check --offline --fix --yes` in `layer`, as a script runs it (no terminal).
fn fix_yes(case: &Case, layer: &str) {
    let out = case
        .cmd(layer)
        .env("CI", "true")
        .args(["check", "--offline", "--fix", "--yes"])
        .output()
        .unwrap();
    assert!(out.status.code().is_some());
}

/// LD103's exact-text header is a safe edit: `check --fix` writes `[profile <p>-sso-<acct>]`
/// the way the Leverage CLI looks it up, and the finding is gone.
#[test]
fn check_fix_normalizes_a_header_the_cli_cannot_find() {
    let case = Case::new("v3-sso-healthy");
    let config = case.aws().join("config");
    let text = std::fs::read_to_string(&config).unwrap();
    std::fs::write(
        &config,
        text.replace("[profile bb-sso-shared]", "[profile  bb-sso-shared]"),
    )
    .unwrap();
    let layer = "shared/us-east-1/base-network";
    let (_, r) = check_json(case.cmd(layer).args(["check", "--offline"]));
    assert_eq!(crate::support::diags(&r, "LD103").len(), 1, "{r:#}");
    fix_yes(&case, layer);
    assert_eq!(std::fs::read_to_string(&config).unwrap(), text);
    let (_, r) = check_json(case.cmd(layer).args(["check", "--offline"]));
    assert!(crate::support::diags(&r, "LD103").is_empty(), "{r:#}");
}

/// LD504 (role credentials marked fresh, no keys): deleting the `expiration` line is the fix
/// and a safe edit; `check --fix` removes that line alone and the finding is gone.
#[test]
fn check_fix_deletes_an_expiration_that_keeps_the_cli_from_refreshing() {
    let case = Case::new("sso-healthy");
    let config = case.aws().join("config");
    let text = std::fs::read_to_string(&config).unwrap();
    let at = (chrono::Utc::now() + chrono::Duration::hours(5)).timestamp_millis();
    std::fs::write(
        &config,
        format!("{text}\n[profile bb-shared-devops]\nexpiration = {at}\n"),
    )
    .unwrap();
    let layer = "shared/us-east-1/base-network";
    let (_, r) = check_json(case.cmd(layer).args(["check", "--offline"]));
    assert_eq!(crate::support::diags(&r, "LD504").len(), 1, "{r:#}");
    fix_yes(&case, layer);
    assert_eq!(
        std::fs::read_to_string(&config).unwrap(),
        format!("{text}\n[profile bb-shared-devops]\n")
    );
    let (_, r) = check_json(case.cmd(layer).args(["check", "--offline"]));
    assert!(crate::support::diags(&r, "LD504").is_empty(), "{r:#}");
}
